//! The attendance list of a day: the children expected per structure, activity, group or
//! class (one row per booked unit, in the state `booking::store` keeps), what the adults
//! in charge must know of each child (diet, allergies, PAI, who may pick them up), the staff
//! of each group and its supervision ratio.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Integer, Nullable, Text, Time, Timestamptz};
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::ratio::{self, RatioCheck, Staffing, Stay, Window};
use super::staff::StaffMember;
use crate::domain::family::health::{self, DIETS};
use crate::domain::pricing::AttendanceState;
use crate::platform::crypto::CityKey;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

mod choices;
mod watch;
pub use choices::*;
pub use watch::*;

/// Which rows a list or an export holds. Every filter narrows; none: the whole city.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub structure: Option<i64>,
    pub activity: Option<i64>,
    pub group: Option<i64>,
    /// A school class: its pupils' bookings, whatever the activity.
    pub class: Option<i64>,
    /// A unit code.
    pub unit: Option<String>,
    /// Rows cancelled in time too (exports: billing sees every state).
    pub with_cancelled: bool,
}

impl Selection {
    /// The list of one day.
    pub fn day(day: NaiveDate) -> Selection {
        Selection {
            from: day,
            to: day,
            ..Selection::default()
        }
    }
}

/// One booked unit of one child on one day, as the list shows it.
#[derive(Debug, Clone, Serialize, QueryableByName)]
pub struct Row {
    #[diesel(sql_type = BigInt)]
    pub booking_id: i64,
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub child_id: i64,
    #[diesel(sql_type = Text)]
    pub first_name: String,
    #[diesel(sql_type = Text)]
    pub last_name: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub birth_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    pub class_name: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub activity_id: i64,
    #[diesel(sql_type = Text)]
    pub activity: String,
    #[diesel(sql_type = Text)]
    pub activity_code: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub structure_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub structure: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub group_id: i64,
    #[diesel(sql_type = Text)]
    pub group_name: String,
    #[diesel(sql_type = Text)]
    pub unit: String,
    #[diesel(sql_type = Text)]
    pub unit_label: String,
    #[diesel(sql_type = Time)]
    pub unit_starts: NaiveTime,
    #[diesel(sql_type = Time)]
    pub unit_ends: NaiveTime,
    #[diesel(sql_type = Bool)]
    pub hourly: bool,
    #[diesel(sql_type = Text)]
    pub state_code: String,
    #[diesel(sql_type = Nullable<Time>)]
    pub arrival: Option<NaiveTime>,
    #[diesel(sql_type = Nullable<Time>)]
    pub departure: Option<NaiveTime>,
    #[diesel(sql_type = Bool)]
    pub adaptation: bool,
    #[diesel(sql_type = Bool)]
    pub billable: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub meal_choice: Option<String>,
    #[diesel(sql_type = Text)]
    pub origin: String,
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = Text)]
    pub state_by: String,
    #[diesel(sql_type = Timestamptz)]
    pub state_at: DateTime<Utc>,
}

impl Row {
    pub fn state(&self) -> AppResult<AttendanceState> {
        crate::domain::activity::model::parse_state(&self.state_code)
    }

    /// Minutes past the unit's closing time at departure (dépassement), if any.
    pub fn overtime_minutes(&self) -> Option<i64> {
        overtime(self.unit_ends, self.departure)
    }

    /// Minutes between arrival and departure, once both are known.
    pub fn minutes_present(&self) -> Option<i64> {
        match (self.arrival, self.departure) {
            (Some(a), Some(d)) if d >= a => Some((d - a).num_minutes()),
            _ => None,
        }
    }

    fn stay(&self, state: AttendanceState) -> Stay {
        let (from, to) = if ratio::present(state) {
            (
                self.arrival.unwrap_or(self.unit_starts),
                self.departure.unwrap_or(self.unit_ends),
            )
        } else {
            (self.unit_starts, self.unit_ends)
        };
        Stay {
            child: self.child_id,
            from,
            to: to.max(from),
            state,
        }
    }
}

/// Minutes past `closing` at `departure`; `None` when the child left in time (or has not).
pub fn overtime(closing: NaiveTime, departure: Option<NaiveTime>) -> Option<i64> {
    departure
        .filter(|d| *d > closing)
        .map(|d| (d - closing).num_minutes())
}

const ROW_SELECT: &str = "
    SELECT b.id AS booking_id, b.day, b.child_id, p.first_name, p.last_name, p.birth_date,
           (SELECT nullif(h.class_name, '') FROM school_history h WHERE h.child_id = b.child_id
             ORDER BY h.school_year DESC LIMIT 1) AS class_name,
           b.activity_id, a.name AS activity, a.code AS activity_code, a.structure_id,
           s.name AS structure, b.group_id, g.name AS group_name,
           u.code AS unit, u.label AS unit_label, u.starts AS unit_starts, u.ends AS unit_ends,
           u.hourly, b.state AS state_code, b.arrival, b.departure, b.adaptation, b.billable,
           b.meal_choice, b.origin, b.reason, b.state_by, b.state_at
      FROM bookings b
      JOIN persons p ON p.id = b.child_id
      JOIN activities a ON a.id = b.activity_id
      LEFT JOIN structures s ON s.id = a.structure_id
      JOIN activity_groups g ON g.id = b.group_id
      JOIN activity_units u ON u.id = b.unit_id
     WHERE b.day BETWEEN $1 AND $2
       AND ($3::bigint IS NULL OR a.structure_id = $3)
       AND ($4::bigint IS NULL OR b.activity_id = $4)
       AND ($5::bigint IS NULL OR b.group_id = $5)
       AND ($6::bigint IS NULL OR b.child_id IN (SELECT h.child_id FROM school_history h
                                                   WHERE h.class_id = $6))
       AND ($7::text IS NULL OR u.code = $7)
       AND ($8 OR b.state <> 'cancelled_in_time')
     ORDER BY b.day, a.name, a.id, g.sort, g.id, p.last_name, p.first_name, b.child_id,
              u.starts, u.sort";

/// The rows of `selection`, by day, activity, group, child and unit.
pub async fn rows(conn: &mut Conn, selection: &Selection) -> AppResult<Vec<Row>> {
    Ok(diesel::sql_query(ROW_SELECT)
        .bind::<Date, _>(selection.from)
        .bind::<Date, _>(selection.to)
        .bind::<Nullable<BigInt>, _>(selection.structure)
        .bind::<Nullable<BigInt>, _>(selection.activity)
        .bind::<Nullable<BigInt>, _>(selection.group)
        .bind::<Nullable<BigInt>, _>(selection.class)
        .bind::<Nullable<Text>, _>(selection.unit.as_deref())
        .bind::<Bool, _>(selection.with_cancelled)
        .load(conn)
        .await?)
}

/// A group of an activity, with where it belongs (for permissions and headings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, QueryableByName)]
pub struct GroupMeta {
    #[diesel(sql_type = BigInt)]
    pub group_id: i64,
    #[diesel(sql_type = Text)]
    pub group_name: String,
    #[diesel(sql_type = Nullable<Integer>)]
    pub children_per_staff: Option<i32>,
    #[diesel(sql_type = BigInt)]
    pub activity_id: i64,
    #[diesel(sql_type = Text)]
    pub activity: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub structure_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub structure: Option<String>,
}

const GROUP_SELECT: &str = "
    SELECT g.id AS group_id, g.name AS group_name, g.children_per_staff, a.id AS activity_id,
           a.name AS activity, a.structure_id, s.name AS structure
      FROM activity_groups g
      JOIN activities a ON a.id = g.activity_id
      LEFT JOIN structures s ON s.id = a.structure_id";

/// The groups of the selection's structure, activity or group (active activities).
pub async fn groups(conn: &mut Conn, selection: &Selection) -> AppResult<Vec<GroupMeta>> {
    Ok(diesel::sql_query(format!(
        "{GROUP_SELECT}
          WHERE a.active
            AND ($1::bigint IS NULL OR a.structure_id = $1)
            AND ($2::bigint IS NULL OR a.id = $2)
            AND ($3::bigint IS NULL OR g.id = $3)
          ORDER BY a.name, a.id, g.sort, g.id"
    ))
    .bind::<Nullable<BigInt>, _>(selection.structure)
    .bind::<Nullable<BigInt>, _>(selection.activity)
    .bind::<Nullable<BigInt>, _>(selection.group)
    .load(conn)
    .await?)
}

/// One group (404 when it is not this city's).
pub async fn group(conn: &mut Conn, id: i64) -> AppResult<GroupMeta> {
    diesel::sql_query(format!("{GROUP_SELECT} WHERE g.id = $1"))
        .bind::<BigInt, _>(id)
        .get_result(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Groupe introuvable."))
}

/// Where a booking belongs: its group, child and day (404 when it is not this city's).
#[derive(Debug, Clone, QueryableByName)]
pub struct BookingPlace {
    #[diesel(sql_type = BigInt)]
    pub booking_id: i64,
    #[diesel(sql_type = BigInt)]
    pub child_id: i64,
    #[diesel(sql_type = Text)]
    pub child_name: String,
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub group_id: i64,
    #[diesel(sql_type = BigInt)]
    pub activity_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub structure_id: Option<i64>,
}

pub async fn booking_place(conn: &mut Conn, id: i64) -> AppResult<BookingPlace> {
    diesel::sql_query(
        "SELECT b.id AS booking_id, b.child_id, p.first_name || ' ' || p.last_name AS child_name,
                b.day, b.group_id, b.activity_id, a.structure_id
           FROM bookings b JOIN activities a ON a.id = b.activity_id
           JOIN persons p ON p.id = b.child_id
          WHERE b.id = $1",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?
    .ok_or_else(|| AppError::not_found("Réservation introuvable."))
}

/// A heading for a list: the structure, activity, group or class it is about (404 when
/// the id is not this city's).
pub async fn heading(conn: &mut Conn, selection: &Selection) -> AppResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Nullable<Text>)]
        name: Option<String>,
    }
    let lookups: [(Option<i64>, &str, &str); 4] = [
        (
            selection.structure,
            "SELECT name FROM structures WHERE id = $1",
            "Structure introuvable.",
        ),
        (
            selection.activity,
            "SELECT name FROM activities WHERE id = $1",
            "Activité introuvable.",
        ),
        (
            selection.group,
            "SELECT name FROM activity_groups WHERE id = $1",
            "Groupe introuvable.",
        ),
        (
            selection.class,
            "SELECT c.name || ' — ' || s.name || CASE WHEN c.teacher <> '' THEN ' (' || c.teacher || ')'
                    ELSE '' END AS name
               FROM school_classes c JOIN schools s ON s.id = c.school_id WHERE c.id = $1",
            "Classe introuvable.",
        ),
    ];
    let mut names = Vec::new();
    for (id, sql, missing) in lookups {
        let Some(id) = id else { continue };
        let found: Option<Name> = diesel::sql_query(sql)
            .bind::<BigInt, _>(id)
            .get_result(conn)
            .await
            .optional()?;
        names.push(
            found
                .and_then(|n| n.name)
                .ok_or_else(|| AppError::not_found(missing))?,
        );
    }
    Ok(names)
}

/// Counts of a group's rows by what the agents still have to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Rows still « réservé »: to mark.
    pub to_mark: u32,
    pub present: u32,
    pub unbooked: u32,
    pub absent: u32,
    /// Cancelled late (the family said so after the delay): to mark if the child came.
    pub cancelled: u32,
    pub rows: u32,
}

impl Counts {
    pub fn of(states: impl IntoIterator<Item = AttendanceState>) -> Counts {
        use AttendanceState::*;
        let mut counts = Counts::default();
        for state in states {
            counts.rows += 1;
            match state {
                Booked => counts.to_mark += 1,
                Present => counts.present += 1,
                PresentUnbooked => {
                    counts.present += 1;
                    counts.unbooked += 1;
                }
                AbsentJustified | AbsentUnjustified => counts.absent += 1,
                CancelledLate | CancelledInTime => counts.cancelled += 1,
            }
        }
        counts
    }
}

/// One group's list on one day.
#[derive(Debug, Clone, Serialize)]
pub struct GroupDay {
    pub group: GroupMeta,
    pub rows: Vec<Row>,
    pub counts: Counts,
    pub staff: Vec<StaffMember>,
    pub staffing: Staffing,
    /// One check per unit of the list (groups with a ratio).
    pub checks: Vec<RatioCheck>,
    pub alert: bool,
}

/// Puts the rows of one day in their groups, with their staff and ratio checks. `groups`
/// are the groups to show even when nobody is expected (a chosen activity's); groups
/// of the rows not listed there come after, in the rows' order.
pub fn assemble(
    groups: Vec<GroupMeta>,
    rows: Vec<Row>,
    staff: Vec<StaffMember>,
) -> AppResult<Vec<GroupDay>> {
    let mut days: Vec<GroupDay> = groups
        .into_iter()
        .map(|group| GroupDay {
            group,
            rows: Vec::new(),
            counts: Counts::default(),
            staff: Vec::new(),
            staffing: Staffing::default(),
            checks: Vec::new(),
            alert: false,
        })
        .collect();
    for row in rows {
        let index = match days.iter().position(|d| d.group.group_id == row.group_id) {
            Some(index) => index,
            None => {
                days.push(GroupDay {
                    group: GroupMeta {
                        group_id: row.group_id,
                        group_name: row.group_name.clone(),
                        children_per_staff: None,
                        activity_id: row.activity_id,
                        activity: row.activity.clone(),
                        structure_id: row.structure_id,
                        structure: row.structure.clone(),
                    },
                    rows: Vec::new(),
                    counts: Counts::default(),
                    staff: Vec::new(),
                    staffing: Staffing::default(),
                    checks: Vec::new(),
                    alert: false,
                });
                days.len() - 1
            }
        };
        days[index].rows.push(row);
    }
    for member in staff {
        if let Some(day) = days
            .iter_mut()
            .find(|d| d.group.group_id == member.group_id)
        {
            day.staff.push(member);
        }
    }
    for day in &mut days {
        let states = day
            .rows
            .iter()
            .map(Row::state)
            .collect::<AppResult<Vec<_>>>()?;
        day.counts = Counts::of(states.iter().copied());
        day.staffing = Staffing {
            planned: day.staff.len() as u32,
            present: day.staff.iter().filter(|s| s.present).count() as u32,
        };
        let stays: Vec<Stay> = day
            .rows
            .iter()
            .zip(&states)
            .map(|(row, state)| row.stay(*state))
            .collect();
        let mut windows: Vec<Window> = Vec::new();
        for row in &day.rows {
            if !windows.iter().any(|w| w.label == row.unit_label) {
                windows.push(Window {
                    label: row.unit_label.clone(),
                    from: row.unit_starts,
                    to: row.unit_ends,
                });
            }
        }
        windows.sort_by_key(|w| (w.from, w.to));
        day.checks = windows
            .iter()
            .filter_map(|w| {
                ratio::check(
                    &w.label,
                    day.group.children_per_staff,
                    ratio::headcount(&stays, w),
                    day.staffing,
                )
            })
            .collect();
        day.alert = day.checks.iter().any(|c| c.alert.is_some());
    }
    Ok(days)
}

/// The list of `selection`'s day (its `from`): the groups with their rows, staff and
/// ratio checks. A chosen activity or group shows even when nobody is expected; otherwise
/// only groups with children or staff that day.
pub async fn day_list(conn: &mut Conn, selection: &Selection) -> AppResult<Vec<GroupDay>> {
    let day = selection.from;
    let rows = rows(conn, selection).await?;
    // A class's pupils go to any activity: every group may be needed.
    let meta = if selection.class.is_some() {
        Selection::day(day)
    } else {
        selection.clone()
    };
    let groups = groups(conn, &meta).await?;
    let mut ids: Vec<i64> = groups
        .iter()
        .map(|g| g.group_id)
        .chain(rows.iter().map(|r| r.group_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let staff = super::staff::of_groups(conn, &ids, day).await?;
    let mut days = assemble(groups, rows, staff)?;
    let chosen = selection.activity.is_some() || selection.group.is_some();
    let whole_groups = selection.class.is_none() && selection.unit.is_none();
    days.retain(|d| !d.rows.is_empty() || (whole_groups && (chosen || !d.staff.is_empty())));
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    #[test]
    fn overtime_counts_the_minutes_past_closing() {
        assert_eq!(overtime(t("18:30"), Some(t("18:42"))), Some(12));
        assert_eq!(overtime(t("18:30"), Some(t("18:30"))), None);
        assert_eq!(overtime(t("18:30"), Some(t("17:00"))), None);
        assert_eq!(overtime(t("18:30"), None), None);
    }

    #[test]
    fn leaving_alone_follows_the_activitys_own_authorisation_first() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 9, d).unwrap();
        assert_eq!(leaves_alone(&[], 4), None);
        assert_eq!(leaves_alone(&[(None, true, day(1))], 4), Some(true));
        assert_eq!(
            leaves_alone(&[(None, true, day(1)), (Some(4), false, day(1))], 4),
            Some(false)
        );
        assert_eq!(
            leaves_alone(&[(None, true, day(1)), (None, false, day(5))], 4),
            Some(false),
            "the latest given wins"
        );
        assert_eq!(leaves_alone(&[(Some(9), false, day(1))], 4), None);
    }

    #[test]
    fn counts_say_what_is_left_to_mark() {
        use AttendanceState::*;
        let counts = Counts::of([
            Booked,
            Booked,
            Present,
            PresentUnbooked,
            AbsentJustified,
            CancelledLate,
        ]);
        assert_eq!(
            counts,
            Counts {
                to_mark: 2,
                present: 2,
                unbooked: 1,
                absent: 1,
                cancelled: 1,
                rows: 6
            }
        );
    }

    #[test]
    fn only_real_flags_are_flagged() {
        assert!(!Watch::default().any());
        assert!(
            !Watch {
                diet: "standard".into(),
                ..Watch::default()
            }
            .any()
        );
        assert!(
            Watch {
                diet: "no_pork".into(),
                ..Watch::default()
            }
            .any()
        );
        assert!(
            Watch {
                allergies: vec!["arachide".into()],
                ..Watch::default()
            }
            .any()
        );
        assert!(!PickUp::default().any());
    }
}
