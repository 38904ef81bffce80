//! Capacities: permanent values and punctual overrides.

use super::*;

pub struct NewCapacity {
    pub group_id: Option<i64>,
    pub unit_id: Option<i64>,
    /// A punctual override for this day; `None`: a permanent value from `valid_from`.
    pub day: Option<NaiveDate>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub places: i32,
    pub reason: String,
}

/// Adds a permanent capacity or a punctual one (`day`: its dates are that day).
pub async fn add_capacity(conn: &mut Conn, activity: i64, new: &NewCapacity) -> AppResult<i64> {
    require_activity(conn, activity).await?;
    if new.places < 0 {
        return Err(AppError::invalid(
            "le nombre de places ne peut pas être négatif",
        ));
    }
    let (valid_from, valid_to) = match new.day {
        Some(day) => (day, Some(day)),
        None => (new.valid_from, new.valid_to),
    };
    if valid_to.is_some_and(|to| to < valid_from) {
        return Err(AppError::invalid(
            "la capacité doit finir après avoir commencé",
        ));
    }
    if let Some(group) = new.group_id
        && !group_ids(conn, activity)
            .await?
            .iter()
            .any(|g| g.0 == group)
    {
        return Err(AppError::invalid(
            "ce groupe n'appartient pas à cette activité",
        ));
    }
    if let Some(unit) = new.unit_id
        && !unit_rows(conn, activity).await?.iter().any(|u| u.0 == unit)
    {
        return Err(AppError::invalid(
            "cette unité n'appartient pas à cette activité",
        ));
    }
    Ok(diesel::insert_into(capacities::table)
        .values((
            capacities::activity_id.eq(activity),
            capacities::group_id.eq(new.group_id),
            capacities::unit_id.eq(new.unit_id),
            capacities::day.eq(new.day),
            capacities::valid_from.eq(valid_from),
            capacities::valid_to.eq(valid_to),
            capacities::places.eq(new.places),
            capacities::reason.eq(new.reason.trim()),
        ))
        .returning(capacities::id)
        .get_result(conn)
        .await?)
}

/// Ends a permanent capacity on `valid_to` (the last day it applies).
pub async fn end_capacity(
    conn: &mut Conn,
    activity: i64,
    id: i64,
    valid_to: NaiveDate,
) -> AppResult<()> {
    let (day, valid_from): (Option<NaiveDate>, NaiveDate) = capacities::table
        .filter(capacities::id.eq(id))
        .filter(capacities::activity_id.eq(activity))
        .select((capacities::day, capacities::valid_from))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Capacité introuvable."))?;
    if day.is_some() {
        return Err(AppError::invalid(
            "une capacité ponctuelle vaut pour son seul jour : elle ne se termine pas",
        ));
    }
    if valid_to < valid_from {
        return Err(AppError::invalid(format!(
            "la capacité commence le {} : elle ne peut pas finir avant",
            valid_from.format("%d/%m/%Y")
        )));
    }
    diesel::update(capacities::table.find(id))
        .set(capacities::valid_to.eq(valid_to))
        .execute(conn)
        .await?;
    Ok(())
}
