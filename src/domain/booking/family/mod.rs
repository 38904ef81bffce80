//! What a family sees on the portal around bookings: its own children, the activities each
//! may book, its waitlist entries, and one month of one activity as the family reads it
//! (per day and unit: booked, places left, full, closed, too late...). The booking rules
//! stay in [`super::store`] and [`super::units`]: this module reads and presents, and
//! orders what a family asks for so that the store can take it.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use diesel::OptionalExtension;
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Date, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::state::holds_place;
use super::store::{Availability, BookingView, waitlist_position};
use super::units::UnitConflict;
use crate::domain::activity::facts::child_situation;
use crate::domain::activity::model::{Activity, Unit, WhenFull, age_months, kind_label};
use crate::domain::activity::population::Population;
use crate::domain::calendar::paris::paris_instant;
use crate::domain::calendar::{NoticeContext, NoticeRule, SchoolCalendar, deadline, is_open};
use crate::domain::pricing::AttendanceState;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

mod month_view;
pub use month_view::*;

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

const WEEKDAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];

/// « lundi 7 décembre 2026 ».
pub fn day_label(day: NaiveDate) -> String {
    format!(
        "{} {} {} {}",
        WEEKDAYS[day.weekday().num_days_from_monday() as usize],
        day.day(),
        MONTHS[day.month0() as usize],
        day.year()
    )
}

/// « décembre 2026 ».
pub fn month_label(day: NaiveDate) -> String {
    format!("{} {}", MONTHS[day.month0() as usize], day.year())
}

/// « 05/12/2026 à 18:00 », in Paris time.
pub fn fr_instant(instant: DateTime<Utc>) -> String {
    instant
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

/// A child of the family's household.
#[derive(Debug, Clone, Serialize, QueryableByName)]
pub struct FamilyChild {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub first_name: String,
    #[diesel(sql_type = Text)]
    pub last_name: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub birth_date: Option<NaiveDate>,
}

const CHILDREN: &str = "SELECT p.id, p.first_name, p.last_name, p.birth_date
   FROM child_links l JOIN persons p ON p.id = l.child_id AND p.kind = 'child'
  WHERE l.household_id = $1 AND l.valid_to IS NULL";

/// The children linked to `household` now (a child in shared custody belongs to both).
pub async fn children(conn: &mut Conn, household: i64) -> AppResult<Vec<FamilyChild>> {
    Ok(
        diesel::sql_query(format!("{CHILDREN} ORDER BY p.birth_date NULLS LAST, p.id"))
            .bind::<BigInt, _>(household)
            .load(conn)
            .await?,
    )
}

/// `child` if it is a child of `household` now; 404 otherwise (another family's child, or
/// an id of another city: the same answer).
pub async fn own_child(conn: &mut Conn, household: i64, child: i64) -> AppResult<FamilyChild> {
    diesel::sql_query(format!("{CHILDREN} AND p.id = $2"))
        .bind::<BigInt, _>(household)
        .bind::<BigInt, _>(child)
        .get_result(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Enfant introuvable."))
}

/// Child `child` of the city, whatever its household (the back-office's view); 404 if
/// there is none (an id of another city: the same answer).
pub async fn child(conn: &mut Conn, child: i64) -> AppResult<FamilyChild> {
    diesel::sql_query(
        "SELECT p.id, p.first_name, p.last_name, p.birth_date FROM persons p
          WHERE p.id = $1 AND p.kind = 'child'",
    )
    .bind::<BigInt, _>(child)
    .get_result(conn)
    .await
    .optional()?
    .ok_or_else(|| AppError::not_found("Enfant introuvable."))
}

/// The city's meal choices (`canteen.meal_choices`, comma-separated) from its settings.
pub fn meal_choices(values: &std::collections::BTreeMap<String, serde_json::Value>) -> Vec<String> {
    values
        .get("canteen.meal_choices")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect()
}

/// The meal `chosen` for a booking of `activity`: `None` when the activity offers no choice
/// or none was made, a French refusal when it is not on the city's list.
pub fn meal_choice(
    activity: &Activity,
    meals: &[String],
    chosen: &str,
) -> AppResult<Option<String>> {
    let chosen = chosen.trim();
    if !activity.meal_choice || chosen.is_empty() {
        Ok(None)
    } else if meals.iter().any(|m| m == chosen) {
        Ok(Some(chosen.to_string()))
    } else {
        Err(AppError::invalid(format!(
            "repas « {chosen} » inconnu : choisissez dans la liste"
        )))
    }
}

#[derive(QueryableByName)]
struct BookableRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    structure: Option<String>,
    #[diesel(sql_type = Bool)]
    requires_enrolment: bool,
    #[diesel(sql_type = Text)]
    when_full: String,
    #[diesel(sql_type = Bool)]
    meal_choice: bool,
    #[diesel(sql_type = Nullable<Date>)]
    enrolled_from: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    enrolled_until: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<BigInt>)]
    group_id: Option<i64>,
}

/// An activity a child may book: one open to every child, or one the child is admitted to.
#[derive(Debug, Clone, Serialize)]
pub struct BookableActivity {
    pub id: i64,
    pub name: String,
    pub kind_label: String,
    pub structure: Option<String>,
    pub requires_enrolment: bool,
    pub waitlist: bool,
    pub meal_choice: bool,
    /// The admitted enrolment's dates and group, if any.
    pub enrolled_from: Option<NaiveDate>,
    pub enrolled_until: Option<NaiveDate>,
    pub group_id: Option<i64>,
}

/// The activities `child` may book from `today` on (or only `activity`, when given).
pub async fn bookable(
    conn: &mut Conn,
    child: i64,
    today: NaiveDate,
    activity: Option<i64>,
) -> AppResult<Vec<BookableActivity>> {
    let rows: Vec<BookableRow> = diesel::sql_query(
        "SELECT a.id, a.name, a.kind, s.name AS structure, a.requires_enrolment, a.when_full,
                a.meal_choice, e.starts AS enrolled_from, e.ends AS enrolled_until, e.group_id
           FROM activities a
           LEFT JOIN structures s ON s.id = a.structure_id
           LEFT JOIN LATERAL (
                SELECT starts, ends, group_id FROM enrolments
                 WHERE child_id = $1 AND activity_id = a.id AND status = 'admitted'
                   AND (ends IS NULL OR ends >= $2)
                 ORDER BY starts LIMIT 1) e ON true
          WHERE a.active AND (NOT a.requires_enrolment OR e.starts IS NOT NULL)
            AND ($3::bigint IS NULL OR a.id = $3)
          ORDER BY a.name, a.id",
    )
    .bind::<BigInt, _>(child)
    .bind::<Date, _>(today)
    .bind::<Nullable<BigInt>, _>(activity)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| BookableActivity {
            kind_label: kind_label(&r.kind).to_string(),
            id: r.id,
            name: r.name,
            structure: r.structure,
            requires_enrolment: r.requires_enrolment,
            waitlist: r.when_full == "waitlist",
            meal_choice: r.meal_choice,
            enrolled_from: r.enrolled_from,
            enrolled_until: r.enrolled_until,
            group_id: r.group_id,
        })
        .collect())
}

/// `activity` if `child` may book it; 404 otherwise.
pub async fn require_bookable(
    conn: &mut Conn,
    child: i64,
    activity: i64,
    today: NaiveDate,
) -> AppResult<BookableActivity> {
    bookable(conn, child, today, Some(activity))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("Activité introuvable."))
}

/// The child's group in the activity on `day`, for the places the family is shown: the
/// admitted enrolment's group, else the group of its age and level.
pub async fn group_of_child(
    conn: &mut Conn,
    activity: &Activity,
    bookable: &BookableActivity,
    child: i64,
    day: NaiveDate,
) -> AppResult<i64> {
    if let Some(group) = bookable.group_id {
        return Ok(group);
    }
    let situation = child_situation(conn, child, day).await?;
    let age = situation.birth_date.map(|birth| age_months(birth, day));
    Ok(activity.group_for(age, situation.level.as_deref())?.id)
}

#[derive(QueryableByName)]
struct WaitRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    activity_id: i64,
    #[diesel(sql_type = Text)]
    activity: String,
    #[diesel(sql_type = BigInt)]
    child_id: i64,
    #[diesel(sql_type = Text)]
    child_name: String,
    #[diesel(sql_type = BigInt)]
    unit_id: i64,
    #[diesel(sql_type = Text)]
    unit_label: String,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    offer_deadline: Option<DateTime<Utc>>,
}

/// A live waitlist entry of the family: waiting (with its rank) or a place offered.
#[derive(Debug, Clone, Serialize)]
pub struct WaitEntry {
    pub id: i64,
    pub activity_id: i64,
    pub activity: String,
    pub child_id: i64,
    pub child_name: String,
    pub unit_id: i64,
    pub unit_label: String,
    pub day: NaiveDate,
    pub day_label: String,
    /// `waiting` or `offered`.
    pub status: String,
    pub offer_deadline: Option<DateTime<Utc>>,
    pub deadline_label: Option<String>,
    /// Rank among those waiting for the unit that day (waiting entries only).
    pub position: Option<i64>,
}

const WAIT_SELECT: &str =
    "SELECT w.id, w.activity_id, a.name AS activity, w.child_id, p.first_name AS child_name,
            w.unit_id, u.label AS unit_label, w.day, w.status, w.offer_deadline
       FROM waitlist w
       JOIN activities a ON a.id = w.activity_id
       JOIN activity_units u ON u.id = w.unit_id
       JOIN persons p ON p.id = w.child_id";

async fn wait_entries(conn: &mut Conn, rows: Vec<WaitRow>) -> AppResult<Vec<WaitEntry>> {
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let position = if row.status == "waiting" {
            Some(waitlist_position(conn, row.id).await?)
        } else {
            None
        };
        entries.push(WaitEntry {
            day_label: day_label(row.day),
            deadline_label: row.offer_deadline.map(fr_instant),
            id: row.id,
            activity_id: row.activity_id,
            activity: row.activity,
            child_id: row.child_id,
            child_name: row.child_name,
            unit_id: row.unit_id,
            unit_label: row.unit_label,
            day: row.day,
            status: row.status,
            offer_deadline: row.offer_deadline,
            position,
        });
    }
    Ok(entries)
}

/// The live waitlist entries of `children` from `from` to `to` (one activity, or all).
pub async fn waitlist_of(
    conn: &mut Conn,
    children: &[i64],
    activity: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<WaitEntry>> {
    let rows: Vec<WaitRow> = diesel::sql_query(format!(
        "{WAIT_SELECT}
          WHERE w.child_id = ANY($1) AND w.status IN ('waiting', 'offered')
            AND ($2::bigint IS NULL OR w.activity_id = $2) AND w.day BETWEEN $3 AND $4
          ORDER BY w.day, u.starts, w.id"
    ))
    .bind::<Array<BigInt>, _>(children)
    .bind::<Nullable<BigInt>, _>(activity)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
    .await?;
    wait_entries(conn, rows).await
}

/// Waitlist entry `id`, whatever its status; 404 if there is none.
pub async fn wait_entry(conn: &mut Conn, id: i64) -> AppResult<WaitEntry> {
    let rows: Vec<WaitRow> = diesel::sql_query(format!("{WAIT_SELECT} WHERE w.id = $1"))
        .bind::<BigInt, _>(id)
        .load(conn)
        .await?;
    wait_entries(conn, rows)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("Demande en liste d'attente introuvable."))
}

#[derive(QueryableByName)]
struct OpenRow {
    #[diesel(sql_type = BigInt)]
    activity_id: i64,
    #[diesel(sql_type = Text)]
    activity: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    structure: Option<String>,
    #[diesel(sql_type = Text)]
    label: String,
    #[diesel(sql_type = Timestamptz)]
    closes_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    population: serde_json::Value,
}

/// A registration period open now: families may file a pre-enrolment request.
#[derive(Debug, Clone, Serialize)]
pub struct OpenRegistration {
    pub activity_id: i64,
    pub activity: String,
    pub kind_label: String,
    pub structure: Option<String>,
    pub period: String,
    pub closes: String,
    /// Who may register, in words (« résidents, de 3 ans à 11 ans »).
    pub population: String,
}

/// The registration periods open at `now` (one activity, or all), by activity name.
pub async fn open_registrations(
    conn: &mut Conn,
    now: DateTime<Utc>,
    activity: Option<i64>,
) -> AppResult<Vec<OpenRegistration>> {
    let rows: Vec<OpenRow> = diesel::sql_query(
        "SELECT r.activity_id, a.name AS activity, a.kind, s.name AS structure, r.label,
                r.closes_at, r.population
           FROM registration_periods r
           JOIN activities a ON a.id = r.activity_id
           LEFT JOIN structures s ON s.id = a.structure_id
          WHERE a.active AND r.opens_at <= $1 AND $1 < r.closes_at
            AND ($2::bigint IS NULL OR a.id = $2)
          ORDER BY a.name, a.id, r.closes_at",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<Nullable<BigInt>, _>(activity)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| OpenRegistration {
            kind_label: kind_label(&r.kind).to_string(),
            population: serde_json::from_value::<Population>(r.population)
                .map(|p| p.describe())
                .unwrap_or_else(|_| "selon les critères de la ville".into()),
            closes: fr_instant(r.closes_at),
            activity_id: r.activity_id,
            activity: r.activity,
            structure: r.structure,
            period: r.label,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{OpeningCalendar, OpeningRule, Zone};
    use chrono::NaiveTime;

    fn unit(id: i64, code: &str, label: &str, includes: &[&str], requires: &[&str]) -> Unit {
        Unit {
            id,
            code: code.into(),
            label: label.into(),
            starts: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            ends: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            hourly: false,
            includes: includes.iter().map(|s| s.to_string()).collect(),
            excludes: vec![],
            requires: requires.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn centre() -> Activity {
        Activity {
            id: 1,
            code: "centre".into(),
            name: "Centre".into(),
            kind: "wednesday".into(),
            structure_id: None,
            structure_capacity: None,
            opening: OpeningCalendar {
                zone: Zone::A,
                rules: vec![OpeningRule::Weekdays {
                    weekdays: vec![Weekday::Mon, Weekday::Thu],
                }],
            },
            booking_notice: None,
            cancel_notice: None,
            when_full: WhenFull::Greyed,
            late_cancellation: AttendanceState::AbsentUnjustified,
            requires_enrolment: false,
            meal_choice: false,
            offer_hours: 48,
            active: true,
            units: vec![
                unit(1, "matin", "Matin", &[], &[]),
                unit(2, "repas", "Repas", &[], &["matin"]),
                unit(3, "apres_midi", "Après-midi", &[], &[]),
                unit(4, "journee", "Journée", &["matin", "apres_midi"], &[]),
            ],
            groups: vec![],
            capacities: vec![],
        }
    }

    fn codes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn required_units_are_booked_after_what_they_require() {
        assert_eq!(
            plan_day(&centre(), &codes(&["repas", "matin"])).unwrap(),
            codes(&["matin", "repas"])
        );
    }

    #[test]
    fn morning_and_afternoon_are_refused_for_the_full_day() {
        let activity = centre();
        let conflict = plan_day(&activity, &codes(&["matin", "apres_midi"])).unwrap_err();
        assert_eq!(
            conflict.to_string(),
            "« Matin » et « Après-midi » le même jour forment « Journée » : réservez « Journée »"
        );
        assert_eq!(instead_of(&activity, &conflict).unwrap().code, "journee");
        assert!(matches!(
            plan_day(&activity, &codes(&["nuit"])),
            Err(UnitConflict::Unknown { .. })
        ));
    }

    #[test]
    fn a_pattern_keeps_its_weekdays_and_splits_closed_days() {
        let activity = centre();
        let school = crate::domain::calendar::holidays::shipped();
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let (open, closed) = pattern_days(
            &activity,
            school,
            monday,
            monday + chrono::Days::new(13),
            &[Weekday::Mon, Weekday::Tue],
        )
        .unwrap();
        assert_eq!(
            open,
            [monday, monday + chrono::Days::new(7)],
            "Mondays are open"
        );
        assert_eq!(closed.len(), 2, "Tuesdays are closed");
        assert!(pattern_days(&activity, school, monday, monday, &[]).is_err());
        assert!(
            pattern_days(
                &activity,
                school,
                monday,
                monday + chrono::Days::new(400),
                &[Weekday::Mon]
            )
            .is_err()
        );
    }

    #[test]
    fn french_labels() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(day_label(day), "lundi 7 décembre 2026");
        assert_eq!(month_label(day), "décembre 2026");
        assert_eq!(capitalised("été"), "Été");
    }
}
