//! Staff planned and present per group and day (ACT-10): who supervises, checked against
//! the group's ratio by [`super::ratio`]. An agent listed on a group's staff for a day
//! takes that group's attendance that day (see the back-office's permission check).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use crate::domain::activity::schema::staff_assignments;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = staff_assignments)]
pub struct StaffMember {
    pub id: i64,
    pub group_id: i64,
    pub day: NaiveDate,
    pub name: String,
    pub agent_id: Option<i64>,
    pub present: bool,
}

/// The staff of `groups` on `day`, by name.
pub async fn of_groups(
    conn: &mut Conn,
    groups: &[i64],
    day: NaiveDate,
) -> AppResult<Vec<StaffMember>> {
    Ok(staff_assignments::table
        .filter(staff_assignments::group_id.eq_any(groups))
        .filter(staff_assignments::day.eq(day))
        .order((staff_assignments::name, staff_assignments::id))
        .select(StaffMember::as_select())
        .load(conn)
        .await?)
}

/// One staff line (404 when it is not this city's).
pub async fn member(conn: &mut Conn, id: i64) -> AppResult<StaffMember> {
    staff_assignments::table
        .find(id)
        .select(StaffMember::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Encadrant introuvable."))
}

/// Whether `agent` is on the staff of `group` on `day`.
pub async fn is_assigned(
    conn: &mut Conn,
    agent: i64,
    group: i64,
    day: NaiveDate,
) -> AppResult<bool> {
    let n: i64 = staff_assignments::table
        .filter(staff_assignments::agent_id.eq(agent))
        .filter(staff_assignments::group_id.eq(group))
        .filter(staff_assignments::day.eq(day))
        .count()
        .get_result(conn)
        .await?;
    Ok(n > 0)
}

/// The groups `agent` is on the staff of on `day`.
pub async fn groups_of_agent(conn: &mut Conn, agent: i64, day: NaiveDate) -> AppResult<Vec<i64>> {
    Ok(staff_assignments::table
        .filter(staff_assignments::agent_id.eq(agent))
        .filter(staff_assignments::day.eq(day))
        .select(staff_assignments::group_id)
        .load(conn)
        .await?)
}

pub struct NewMember {
    pub group: i64,
    pub day: NaiveDate,
    pub name: String,
    pub agent_id: Option<i64>,
    pub present: bool,
}

/// A name for the staff list: trimmed, one line, 1 to 120 characters.
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err("le nom de l'encadrant est obligatoire".into());
    }
    if name.chars().count() > 120 {
        return Err("le nom de l'encadrant dépasse 120 caractères".into());
    }
    Ok(name)
}

/// Adds someone to a group's staff for a day.
pub async fn add(conn: &mut Conn, new: &NewMember) -> AppResult<i64> {
    let name = check_name(&new.name).map_err(AppError::invalid)?;
    let id: Option<i64> = diesel::insert_into(staff_assignments::table)
        .values((
            staff_assignments::group_id.eq(new.group),
            staff_assignments::day.eq(new.day),
            staff_assignments::name.eq(&name),
            staff_assignments::agent_id.eq(new.agent_id),
            staff_assignments::present.eq(new.present),
        ))
        .on_conflict((
            staff_assignments::group_id,
            staff_assignments::day,
            staff_assignments::name,
        ))
        .do_nothing()
        .returning(staff_assignments::id)
        .get_result(conn)
        .await
        .optional()?;
    id.ok_or_else(|| {
        AppError::conflict(format!(
            "« {name} » est déjà dans l'équipe de ce groupe ce jour-là"
        ))
    })
}

pub async fn set_present(conn: &mut Conn, id: i64, present: bool) -> AppResult<()> {
    diesel::update(staff_assignments::table.find(id))
        .set(staff_assignments::present.eq(present))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn remove(conn: &mut Conn, id: i64) -> AppResult<()> {
    diesel::delete(staff_assignments::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_names_are_one_trimmed_line() {
        assert_eq!(check_name("  Inès   Moreau \n").unwrap(), "Inès Moreau");
        assert!(check_name("   ").is_err());
        assert!(check_name(&"x".repeat(121)).is_err());
    }
}
