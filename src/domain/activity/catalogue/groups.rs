//! Groups by age band or school level, with their staff ratio.

use super::*;

/// Checks a group; returns it trimmed, its levels without repeats.
pub fn check_group(group: &GroupInput) -> Result<GroupInput, String> {
    let name = required_text(&group.name, "le nom du groupe")?;
    not_negative(group.min_age_months, "l'âge minimum")?;
    not_negative(group.max_age_months, "l'âge maximum")?;
    if let (Some(min), Some(max)) = (group.min_age_months, group.max_age_months)
        && max < min
    {
        return Err(format!(
            "l'âge maximum ({max} mois) est inférieur à l'âge minimum ({min} mois)"
        ));
    }
    if group.children_per_staff.is_some_and(|r| r <= 0) {
        return Err("le taux d'encadrement compte au moins un enfant par adulte".into());
    }
    Ok(GroupInput {
        name,
        levels: check_codes(
            &group.levels,
            super::super::schools::LEVELS,
            "niveau scolaire",
        )?,
        ..group.clone()
    })
}

pub(super) async fn insert_group(
    conn: &mut Conn,
    activity: i64,
    group: &GroupInput,
    sort: i32,
) -> AppResult<i64> {
    diesel::insert_into(activity_groups::table)
        .values((
            activity_groups::activity_id.eq(activity),
            activity_groups::sort.eq(sort),
            group,
        ))
        .returning(activity_groups::id)
        .get_result(conn)
        .await
        .map_err(unique_or(format!(
            "l'activité a déjà un groupe « {} »",
            group.name
        )))
}

pub(super) async fn group_ids(
    conn: &mut Conn,
    activity: i64,
) -> AppResult<Vec<(i64, String, i32)>> {
    Ok(activity_groups::table
        .filter(activity_groups::activity_id.eq(activity))
        .select((
            activity_groups::id,
            activity_groups::name,
            activity_groups::sort,
        ))
        .load(conn)
        .await?)
}

pub async fn add_group(conn: &mut Conn, activity: i64, group: &GroupInput) -> AppResult<i64> {
    require_activity(conn, activity).await?;
    let group = check_group(group).map_err(AppError::invalid)?;
    let sort = group_ids(conn, activity)
        .await?
        .iter()
        .map(|g| g.2 + 1)
        .max()
        .unwrap_or(0);
    insert_group(conn, activity, &group, sort).await
}

pub async fn update_group(
    conn: &mut Conn,
    activity: i64,
    id: i64,
    group: &GroupInput,
) -> AppResult<()> {
    require_activity(conn, activity).await?;
    if !group_ids(conn, activity).await?.iter().any(|g| g.0 == id) {
        return Err(AppError::not_found("Groupe introuvable."));
    }
    let group = check_group(group).map_err(AppError::invalid)?;
    diesel::update(activity_groups::table.find(id))
        .set(&group)
        .execute(conn)
        .await
        .map_err(unique_or(format!(
            "l'activité a déjà un groupe « {} »",
            group.name
        )))?;
    Ok(())
}

/// Removes a group nothing uses yet (no booking, waiting child, enrolment or staff).
pub async fn remove_group(conn: &mut Conn, activity: i64, id: i64) -> AppResult<()> {
    require_activity(conn, activity).await?;
    let groups = group_ids(conn, activity).await?;
    let name = groups
        .iter()
        .find(|g| g.0 == id)
        .map(|g| g.1.clone())
        .ok_or_else(|| AppError::not_found("Groupe introuvable."))?;
    if groups.len() == 1 {
        return Err(AppError::invalid(
            "une activité garde au moins un groupe : ajoutez-en un autre avant de supprimer celui-ci",
        ));
    }
    let used = bookings::table
        .filter(bookings::group_id.eq(id))
        .count()
        .get_result::<i64>(conn)
        .await?
        + waitlist::table
            .filter(waitlist::group_id.eq(id))
            .count()
            .get_result::<i64>(conn)
            .await?
        + enrolments::table
            .filter(enrolments::group_id.eq(id))
            .count()
            .get_result::<i64>(conn)
            .await?
        + staff_assignments::table
            .filter(staff_assignments::group_id.eq(id))
            .count()
            .get_result::<i64>(conn)
            .await?;
    if used > 0 {
        return Err(AppError::invalid(format!(
            "le groupe « {name} » a déjà des inscriptions, des réservations ou du personnel \
             affecté : il ne peut plus être supprimé"
        )));
    }
    diesel::delete(capacities::table.filter(capacities::group_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(slot_counts::table.filter(slot_counts::group_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(activity_groups::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}
