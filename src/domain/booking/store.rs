//! Bookings in the database: book, cancel, waitlist and its offers, availability.
//!
//! Places are counted per level in `slot_counts` (activity level with group 0, the child's
//! group, the structure for the day). Taking a place is ONE statement per level,
//! `INSERT … ON CONFLICT DO UPDATE SET taken = taken + 1 WHERE taken < places`, which locks
//! the counter row and re-reads its latest version: under any concurrency the last place
//! goes to one booker and the others find no row updated. Levels are always taken in the
//! same order (activity, group, structure) so that concurrent bookings cannot deadlock.
//! A counter holds the place-holding bookings (every state but « annulé dans les délais »)
//! and the places offered from the waitlist, not yet answered.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Integer, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::capacity::{Level, places, remaining};
use super::state::{self, holds_place};
use crate::domain::activity::model::{Activity, WhenFull, age_months};
use crate::domain::calendar::paris::paris_instant;
use crate::domain::calendar::{NoticeContext, SchoolCalendar, deadline, is_open};
use crate::domain::pricing::AttendanceState;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// Where a booking comes from (kept on the row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Portal,
    Agent,
    Api,
    Mass,
    Attendance,
    Waitlist,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Portal => "portal",
            Origin::Agent => "agent",
            Origin::Api => "api",
            Origin::Mass => "mass",
            Origin::Attendance => "attendance",
            Origin::Waitlist => "waitlist",
        }
    }
}

/// Who acts, and whether they may go past a notice delay (agents, with a reason).
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub origin: Origin,
    /// An agent's reason to book or cancel past the notice delay (audited on the row).
    pub override_reason: Option<String>,
}

pub struct BookRequest {
    pub child_id: i64,
    pub unit: String,
    pub day: NaiveDate,
    pub meal_choice: Option<String>,
}

/// Une réservation : un enfant, une unité, un jour, et son état (réservé, présent, absent…).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BookingView {
    pub id: i64,
    pub child_id: i64,
    pub activity_id: i64,
    pub activity: String,
    pub group_id: i64,
    /// Code de l'unité.
    pub unit: String,
    pub unit_label: String,
    #[schema(value_type = String, example = "2026-12-07")]
    pub date: NaiveDate,
    /// `booked`, `present`, `absent_justified`, `absent_unjustified`, `present_unbooked`,
    /// `cancelled_in_time` ou `cancelled_late`.
    #[schema(value_type = String, example = "booked")]
    pub state: AttendanceState,
    pub state_label: &'static str,
    pub meal_choice: Option<String>,
    #[schema(value_type = Option<String>)]
    pub arrival: Option<NaiveTime>,
    #[schema(value_type = Option<String>)]
    pub departure: Option<NaiveTime>,
    pub billable: bool,
    pub origin: String,
    pub reason: String,
}

/// The outcome of a booking request.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Booked {
    Booked { booking: Box<BookingView> },
    Waitlisted { waitlist_id: i64, position: i64 },
}

/// A place offered from the waitlist: who to tell, until when.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub waitlist_id: i64,
    pub child_id: i64,
    pub child_name: String,
    pub activity: String,
    pub unit_label: String,
    pub date: NaiveDate,
    pub deadline: DateTime<Utc>,
    pub emails: Vec<String>,
}

/// What the calendar needs to evaluate openings and notice delays.
pub struct Calendar<'a> {
    pub school: &'a SchoolCalendar,
    pub now: DateTime<Utc>,
}

fn fr_date(day: NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

fn fr_instant(instant: DateTime<Utc>) -> String {
    instant
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

pub(crate) fn calendar_error(error: crate::domain::calendar::CalendarError) -> AppError {
    AppError::invalid(error.to_string())
}

/// The deadline of `rule` for `unit_start` on `day`; the unit's start when there is no rule.
fn notice_deadline(
    rule: Option<&crate::domain::calendar::NoticeRule>,
    day: NaiveDate,
    unit_start: NaiveTime,
) -> AppResult<DateTime<Utc>> {
    match rule {
        Some(rule) => {
            deadline(rule, day, unit_start, &NoticeContext::default()).map_err(calendar_error)
        }
        None => Ok(paris_instant(day, unit_start)),
    }
}

/// One counter: (structure, activity, group, unit, day).
#[derive(Debug, Clone, Copy)]
struct Counter {
    structure: i64,
    activity: i64,
    group: i64,
    unit: i64,
    day: NaiveDate,
}

/// Takes a place on `counter` if `limit` allows; false when full.
async fn take(conn: &mut Conn, counter: Counter, limit: Option<i32>) -> AppResult<bool> {
    if limit == Some(0) {
        return Ok(false);
    }
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = Integer)]
        #[allow(dead_code)]
        taken: i32,
    }
    let taken: Option<Taken> = diesel::sql_query(
        "INSERT INTO slot_counts AS c (structure_id, activity_id, group_id, unit_id, day, taken)
         VALUES ($1, $2, $3, $4, $5, 1)
         ON CONFLICT (structure_id, activity_id, group_id, unit_id, day)
         DO UPDATE SET taken = c.taken + 1 WHERE $6::integer IS NULL OR c.taken < $6
         RETURNING c.taken",
    )
    .bind::<BigInt, _>(counter.structure)
    .bind::<BigInt, _>(counter.activity)
    .bind::<BigInt, _>(counter.group)
    .bind::<BigInt, _>(counter.unit)
    .bind::<Date, _>(counter.day)
    .bind::<Nullable<Integer>, _>(limit)
    .get_result(conn)
    .await
    .optional()?;
    Ok(taken.is_some())
}

async fn give_back(conn: &mut Conn, counter: Counter) -> AppResult<()> {
    diesel::sql_query(
        "UPDATE slot_counts SET taken = taken - 1
          WHERE structure_id = $1 AND activity_id = $2 AND group_id = $3 AND unit_id = $4
            AND day = $5 AND taken > 0",
    )
    .bind::<BigInt, _>(counter.structure)
    .bind::<BigInt, _>(counter.activity)
    .bind::<BigInt, _>(counter.group)
    .bind::<BigInt, _>(counter.unit)
    .bind::<Date, _>(counter.day)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the child already holds a place that day in the structure (other than `except`):
/// the structure counts children, not units.
async fn holds_structure_place(
    conn: &mut Conn,
    structure: i64,
    child: i64,
    day: NaiveDate,
    except: i64,
) -> AppResult<bool> {
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = Bool)]
        held: bool,
    }
    let held: Held = diesel::sql_query(
        "SELECT EXISTS (
            SELECT 1 FROM bookings b JOIN activities a ON a.id = b.activity_id
             WHERE b.child_id = $1 AND b.day = $2 AND a.structure_id = $3
               AND b.state <> 'cancelled_in_time' AND b.id <> $4
            UNION ALL
            SELECT 1 FROM waitlist w JOIN activities a ON a.id = w.activity_id
             WHERE w.child_id = $1 AND w.day = $2 AND a.structure_id = $3 AND w.status = 'offered'
               AND w.id <> $4) AS held",
    )
    .bind::<BigInt, _>(child)
    .bind::<Date, _>(day)
    .bind::<BigInt, _>(structure)
    .bind::<BigInt, _>(except)
    .get_result(conn)
    .await?;
    Ok(held.held)
}

/// The counters a place of `unit` in `group` on `day` uses, with their limits, in locking
/// order. `except` is the booking or waitlist row the place is for (structure check).
async fn counters(
    conn: &mut Conn,
    activity: &Activity,
    group: i64,
    unit: i64,
    day: NaiveDate,
    child: i64,
    except: i64,
) -> AppResult<Vec<(Counter, Option<i32>)>> {
    let at = |group| Counter {
        structure: 0,
        activity: activity.id,
        group,
        unit,
        day,
    };
    let mut list = vec![
        (
            at(Level::Activity.counter_group()),
            places(&activity.capacities, Level::Activity, unit, day),
        ),
        (
            at(group),
            places(&activity.capacities, Level::Group(group), unit, day),
        ),
    ];
    if let (Some(structure), Some(limit)) = (activity.structure_id, activity.structure_capacity)
        && !holds_structure_place(conn, structure, child, day, except).await?
    {
        list.push((
            Counter {
                structure,
                activity: 0,
                group: 0,
                unit: 0,
                day,
            },
            Some(limit),
        ));
    }
    Ok(list)
}

/// Takes a place at every level, or none: false when one level is full.
async fn take_places(conn: &mut Conn, levels: &[(Counter, Option<i32>)]) -> AppResult<bool> {
    for (index, (counter, limit)) in levels.iter().enumerate() {
        if !take(conn, *counter, *limit).await? {
            for (taken, _) in &levels[..index] {
                give_back(conn, *taken).await?;
            }
            return Ok(false);
        }
    }
    Ok(true)
}

/// Counts a presence without booking: the child is there, whatever the capacity says.
async fn force_places(conn: &mut Conn, levels: &[(Counter, Option<i32>)]) -> AppResult<()> {
    for (counter, _) in levels {
        take(conn, *counter, None).await?;
    }
    Ok(())
}

async fn give_back_places(
    conn: &mut Conn,
    activity: &Activity,
    group: i64,
    unit: i64,
    day: NaiveDate,
    child: i64,
    except: i64,
) -> AppResult<()> {
    for (counter, _) in counters(conn, activity, group, unit, day, child, except).await? {
        give_back(conn, counter).await?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct ChildFacts {
    #[diesel(sql_type = Nullable<Date>)]
    birth_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    level: Option<String>,
    #[diesel(sql_type = Text)]
    name: String,
}

/// 404 unless `child` is a child of this city.
pub async fn require_child(conn: &mut Conn, child: i64) -> AppResult<()> {
    child_facts(conn, child).await.map(|_| ())
}

async fn child_facts(conn: &mut Conn, child: i64) -> AppResult<ChildFacts> {
    diesel::sql_query(
        "SELECT p.birth_date, p.first_name || ' ' || p.last_name AS name,
                (SELECT h.level FROM school_history h WHERE h.child_id = p.id
                  ORDER BY h.school_year DESC LIMIT 1) AS level
           FROM persons p WHERE p.id = $1 AND p.kind = 'child'",
    )
    .bind::<BigInt, _>(child)
    .get_result(conn)
    .await
    .optional()?
    .ok_or_else(|| AppError::not_found("Enfant introuvable."))
}

/// The child's group for a booking on `day`: from the admitted enrolment when the activity
/// requires one, else by age and level.
async fn group_of(
    conn: &mut Conn,
    activity: &Activity,
    child: i64,
    day: NaiveDate,
) -> AppResult<i64> {
    let facts = child_facts(conn, child).await?;
    if activity.requires_enrolment {
        #[derive(QueryableByName)]
        struct Enrolled {
            #[diesel(sql_type = Nullable<BigInt>)]
            group_id: Option<i64>,
        }
        let enrolled: Option<Enrolled> = diesel::sql_query(
            "SELECT group_id FROM enrolments
              WHERE child_id = $1 AND activity_id = $2 AND status = 'admitted'
                AND starts <= $3 AND (ends IS NULL OR ends >= $3)
              ORDER BY starts DESC LIMIT 1",
        )
        .bind::<BigInt, _>(child)
        .bind::<BigInt, _>(activity.id)
        .bind::<Date, _>(day)
        .get_result(conn)
        .await
        .optional()?;
        let Some(enrolled) = enrolled else {
            return Err(AppError::invalid(format!(
                "{} n'est pas inscrit(e) à « {} » le {} : l'inscription doit être admise d'abord",
                facts.name,
                activity.name,
                fr_date(day)
            )));
        };
        if let Some(group) = enrolled.group_id {
            return Ok(group);
        }
    }
    let age = facts.birth_date.map(|birth| age_months(birth, day));
    Ok(activity.group_for(age, facts.level.as_deref())?.id)
}

/// Codes of the units the child holds that day in the activity, except `except`.
async fn held_units(
    conn: &mut Conn,
    activity: &Activity,
    child: i64,
    day: NaiveDate,
    except: i64,
) -> AppResult<Vec<String>> {
    use crate::domain::activity::schema::bookings;
    let units: Vec<i64> = bookings::table
        .filter(bookings::child_id.eq(child))
        .filter(bookings::day.eq(day))
        .filter(bookings::activity_id.eq(activity.id))
        .filter(bookings::state.ne("cancelled_in_time"))
        .filter(bookings::id.ne(except))
        .select(bookings::unit_id)
        .load(conn)
        .await?;
    Ok(units
        .into_iter()
        .filter_map(|id| activity.unit_by_id(id).ok().map(|u| u.code.clone()))
        .collect())
}

fn check_reason(actor: &Actor, what: &str, limit: DateTime<Utc>) -> AppResult<String> {
    match actor.override_reason.as_deref().map(str::trim) {
        Some(reason) if !reason.is_empty() && actor.origin == Origin::Agent => {
            Ok(reason.to_string())
        }
        _ => Err(AppError::invalid(format!(
            "le délai {what} est dépassé depuis le {}",
            fr_instant(limit)
        ))),
    }
}

/// Books `request` for the child, or puts it on the waitlist when full and the activity
/// uses one. Errors: closed day, delay passed, not enrolled, unit rules, full (`complet`).
pub async fn book(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    request: BookRequest,
    actor: &Actor,
) -> AppResult<Booked> {
    if !activity.active {
        return Err(AppError::invalid(format!(
            "l'activité « {} » n'est plus proposée",
            activity.name
        )));
    }
    let unit = activity.unit(&request.unit)?;
    let day = request.day;
    if !is_open(&activity.opening, calendar.school, day).map_err(calendar_error)? {
        return Err(AppError::invalid(format!(
            "« {} » est fermé le {}",
            activity.name,
            fr_date(day)
        )));
    }
    let limit = notice_deadline(activity.booking_notice.as_ref(), day, unit.starts)?;
    let mut reason = String::new();
    if calendar.now >= limit {
        reason = check_reason(actor, "de réservation", limit)?;
    }
    let group = group_of(conn, activity, request.child_id, day).await?;
    let held = held_units(conn, activity, request.child_id, day, 0).await?;
    let held: Vec<&str> = held.iter().map(String::as_str).collect();
    activity
        .unit_set()
        .check_booking(&held, &unit.code)
        .map_err(|conflict| AppError::invalid(conflict.to_string()))?;
    let meal_choice = if activity.meal_choice {
        request.meal_choice.filter(|m| !m.trim().is_empty())
    } else {
        None
    };
    let levels = counters(conn, activity, group, unit.id, day, request.child_id, 0).await?;
    if !take_places(conn, &levels).await? {
        if activity.when_full == WhenFull::Waitlist {
            return waitlist(conn, activity, request.child_id, group, unit.id, day, actor).await;
        }
        return Err(AppError::Full(format!(
            "« {} » est complet le {} ({})",
            activity.name,
            fr_date(day),
            unit.label
        )));
    }
    let id = upsert_booking(
        conn,
        NewBooking {
            child: request.child_id,
            activity: activity.id,
            group,
            unit: unit.id,
            day,
            state: AttendanceState::Booked,
            meal_choice: meal_choice.as_deref(),
            origin: actor.origin,
            reason: &reason,
            by: &actor.name,
        },
    )
    .await?
    .ok_or_else(|| AppError::conflict(format!("« {} » est déjà réservé ce jour-là", unit.label)))?;
    Ok(Booked::Booked {
        booking: Box::new(view(conn, id).await?),
    })
}

struct NewBooking<'a> {
    child: i64,
    activity: i64,
    group: i64,
    unit: i64,
    day: NaiveDate,
    state: AttendanceState,
    meal_choice: Option<&'a str>,
    origin: Origin,
    reason: &'a str,
    by: &'a str,
}

/// Inserts the booking, or revives the child's cancelled row for that unit and day (one row
/// per child, unit and day). `None` when a live row is already there.
async fn upsert_booking(conn: &mut Conn, new: NewBooking<'_>) -> AppResult<Option<i64>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let id: Option<Id> = diesel::sql_query(
        "INSERT INTO bookings AS b (child_id, activity_id, group_id, unit_id, day, state,
                                    meal_choice, origin, reason, booked_by, state_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         ON CONFLICT (child_id, unit_id, day) DO UPDATE
            SET state = EXCLUDED.state, group_id = EXCLUDED.group_id,
                meal_choice = EXCLUDED.meal_choice, origin = EXCLUDED.origin,
                reason = EXCLUDED.reason, booked_at = now(), booked_by = EXCLUDED.booked_by,
                state_at = now(), state_by = EXCLUDED.state_by, arrival = NULL,
                departure = NULL, document_id = NULL, billable = true, adaptation = false
          WHERE b.state = 'cancelled_in_time'
         RETURNING b.id",
    )
    .bind::<BigInt, _>(new.child)
    .bind::<BigInt, _>(new.activity)
    .bind::<BigInt, _>(new.group)
    .bind::<BigInt, _>(new.unit)
    .bind::<Date, _>(new.day)
    .bind::<Text, _>(state::code(new.state))
    .bind::<Nullable<Text>, _>(new.meal_choice)
    .bind::<Text, _>(new.origin.as_str())
    .bind::<Text, _>(new.reason)
    .bind::<Text, _>(new.by)
    .get_result(conn)
    .await
    .optional()?;
    Ok(id.map(|i| i.id))
}

async fn waitlist(
    conn: &mut Conn,
    activity: &Activity,
    child: i64,
    group: i64,
    unit: i64,
    day: NaiveDate,
    actor: &Actor,
) -> AppResult<Booked> {
    #[derive(QueryableByName)]
    struct Entry {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    // One queue per unit and day, served in arrival order: arrivals are serialised so that
    // each sees those before it (its rank is final when it is told).
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtext('waitlist'), hashtext($1 || ':' || $2))",
    )
    .bind::<Text, _>(unit.to_string())
    .bind::<Text, _>(day.to_string())
    .execute(conn)
    .await?;
    let entry: Option<Entry> = diesel::sql_query(
        "INSERT INTO waitlist (child_id, activity_id, group_id, unit_id, day, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (child_id, unit_id, day) WHERE status IN ('waiting', 'offered') DO NOTHING
         RETURNING id",
    )
    .bind::<BigInt, _>(child)
    .bind::<BigInt, _>(activity.id)
    .bind::<BigInt, _>(group)
    .bind::<BigInt, _>(unit)
    .bind::<Date, _>(day)
    .bind::<Text, _>(&actor.name)
    .get_result(conn)
    .await
    .optional()?;
    let Some(entry) = entry else {
        return Err(AppError::conflict(
            "cette demande est déjà en liste d'attente",
        ));
    };
    Ok(Booked::Waitlisted {
        waitlist_id: entry.id,
        position: waitlist_position(conn, entry.id).await?,
    })
}

/// Rank of a waiting entry among those waiting for the same unit and day (from 1), in
/// arrival order.
pub async fn waitlist_position(conn: &mut Conn, id: i64) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Rank {
        #[diesel(sql_type = BigInt)]
        rank: i64,
    }
    let rank: Rank = diesel::sql_query(
        "SELECT count(*) AS rank FROM waitlist o, waitlist w
          WHERE w.id = $1 AND o.unit_id = w.unit_id AND o.day = w.day
            AND o.status = 'waiting' AND o.id <= w.id",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await?;
    Ok(rank.rank)
}

#[derive(QueryableByName)]
struct BookingRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    child_id: i64,
    #[diesel(sql_type = BigInt)]
    activity_id: i64,
    #[diesel(sql_type = Text)]
    activity: String,
    #[diesel(sql_type = BigInt)]
    group_id: i64,
    #[diesel(sql_type = Text)]
    unit: String,
    #[diesel(sql_type = Text)]
    unit_label: String,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Text>)]
    meal_choice: Option<String>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Time>)]
    arrival: Option<NaiveTime>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Time>)]
    departure: Option<NaiveTime>,
    #[diesel(sql_type = Bool)]
    billable: bool,
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Text)]
    reason: String,
}

const BOOKING_SELECT: &str =
    "SELECT b.id, b.child_id, b.activity_id, a.name AS activity, b.group_id,
        u.code AS unit, u.label AS unit_label, b.day, b.state, b.meal_choice, b.arrival,
        b.departure, b.billable, b.origin, b.reason
   FROM bookings b JOIN activities a ON a.id = b.activity_id
   JOIN activity_units u ON u.id = b.unit_id";

impl BookingRow {
    fn into_view(self) -> AppResult<BookingView> {
        let state = crate::domain::activity::model::parse_state(&self.state)?;
        Ok(BookingView {
            id: self.id,
            child_id: self.child_id,
            activity_id: self.activity_id,
            activity: self.activity,
            group_id: self.group_id,
            unit: self.unit,
            unit_label: self.unit_label,
            date: self.day,
            state,
            state_label: state.label_fr(),
            meal_choice: self.meal_choice,
            arrival: self.arrival,
            departure: self.departure,
            billable: self.billable,
            origin: self.origin,
            reason: self.reason,
        })
    }
}

pub async fn view(conn: &mut Conn, id: i64) -> AppResult<BookingView> {
    let row: BookingRow = diesel::sql_query(format!("{BOOKING_SELECT} WHERE b.id = $1"))
        .bind::<BigInt, _>(id)
        .get_result(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Réservation introuvable."))?;
    row.into_view()
}

/// A child's bookings from `from` to `to`, in date and unit order.
pub async fn of_child(
    conn: &mut Conn,
    child: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<BookingView>> {
    let rows: Vec<BookingRow> = diesel::sql_query(format!(
        "{BOOKING_SELECT} WHERE b.child_id = $1 AND b.day BETWEEN $2 AND $3
          ORDER BY b.day, u.starts, u.sort"
    ))
    .bind::<BigInt, _>(child)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
    .await?;
    rows.into_iter().map(BookingRow::into_view).collect()
}

/// How a late cancellation is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LateCancellation {
    /// Families and the API: refused, the delay has passed.
    Refuse,
    /// Agents: recorded as the activity's late state (an absence), unless they override.
    RecordAbsence,
}

/// The outcome of a cancellation: the new state, and the places offered to the waitlist.
#[derive(Debug, Clone, Serialize)]
pub struct Cancelled {
    pub booking: BookingView,
    pub offers: Vec<Offer>,
}

/// Cancels booking `id`. In time, the place is freed and offered to the waitlist.
pub async fn cancel(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    id: i64,
    actor: &Actor,
    late: LateCancellation,
) -> AppResult<Cancelled> {
    let booking = view(conn, id).await?;
    if booking.activity_id != activity.id {
        return Err(AppError::not_found("Réservation introuvable."));
    }
    let unit = activity.unit(&booking.unit)?;
    let held = held_units(conn, activity, booking.child_id, booking.date, 0).await?;
    let held: Vec<&str> = held.iter().map(String::as_str).collect();
    activity
        .unit_set()
        .check_cancellation(&held, &unit.code)
        .map_err(|conflict| AppError::invalid(conflict.to_string()))?;
    let limit = notice_deadline(activity.cancel_notice.as_ref(), booking.date, unit.starts)?;
    let in_time = calendar.now < limit;
    let (new_state, reason) = if in_time {
        (
            state::cancel(booking.state, true, activity.late_cancellation)?,
            String::new(),
        )
    } else if late == LateCancellation::Refuse {
        return Err(AppError::invalid(format!(
            "le délai d'annulation est dépassé depuis le {} : signalez l'absence au service",
            fr_instant(limit)
        )));
    } else if let Ok(reason) = check_reason(actor, "d'annulation", limit) {
        (
            state::cancel(booking.state, true, activity.late_cancellation)?,
            reason,
        )
    } else {
        (
            state::cancel(booking.state, false, activity.late_cancellation)?,
            String::new(),
        )
    };
    set_state(conn, id, new_state, &reason, &actor.name).await?;
    let mut offers = Vec::new();
    if holds_place(booking.state) && !holds_place(new_state) {
        give_back_places(
            conn,
            activity,
            booking.group_id,
            unit.id,
            booking.date,
            booking.child_id,
            id,
        )
        .await?;
        offers.extend(offer_next(conn, activity, calendar, unit.id, booking.date).await?);
    }
    Ok(Cancelled {
        booking: view(conn, id).await?,
        offers,
    })
}

async fn set_state(
    conn: &mut Conn,
    id: i64,
    new_state: AttendanceState,
    reason: &str,
    by: &str,
) -> AppResult<()> {
    use crate::domain::activity::schema::bookings;
    diesel::update(bookings::table.find(id))
        .set((
            bookings::state.eq(state::code(new_state)),
            bookings::reason.eq(reason),
            bookings::state_at.eq(diesel::dsl::now),
            bookings::state_by.eq(by),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct Waiting {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    child_id: i64,
    #[diesel(sql_type = BigInt)]
    group_id: i64,
    #[diesel(sql_type = Text)]
    child_name: String,
}

/// Offers the freed place of `unit` on `day` to the first waiting child whose levels have
/// room: the place is held for them until the deadline, the family is mailed (by the caller,
/// after commit) and a task opens for the agents.
pub async fn offer_next(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    unit: i64,
    day: NaiveDate,
) -> AppResult<Option<Offer>> {
    let unit = activity.unit_by_id(unit)?;
    let start = paris_instant(day, unit.starts);
    if calendar.now >= start {
        return Ok(None);
    }
    let waiting: Vec<Waiting> = diesel::sql_query(
        "SELECT w.id, w.child_id, w.group_id, p.first_name || ' ' || p.last_name AS child_name
           FROM waitlist w JOIN persons p ON p.id = w.child_id
          WHERE w.unit_id = $1 AND w.day = $2 AND w.status = 'waiting'
          ORDER BY w.id
          LIMIT 50
          FOR UPDATE OF w SKIP LOCKED",
    )
    .bind::<BigInt, _>(unit.id)
    .bind::<Date, _>(day)
    .load(conn)
    .await?;
    for entry in waiting {
        let levels = counters(
            conn,
            activity,
            entry.group_id,
            unit.id,
            day,
            entry.child_id,
            entry.id,
        )
        .await?;
        if !take_places(conn, &levels).await? {
            continue;
        }
        let deadline =
            (calendar.now + TimeDelta::hours(i64::from(activity.offer_hours))).min(start);
        diesel::sql_query(
            "UPDATE waitlist SET status = 'offered', offered_at = $2, offer_deadline = $3 WHERE id = $1",
        )
        .bind::<BigInt, _>(entry.id)
        .bind::<Timestamptz, _>(calendar.now)
        .bind::<Timestamptz, _>(deadline)
        .execute(conn)
        .await?;
        let title = format!(
            "Place proposée à {} : {} ({}) le {}, réponse attendue avant le {}",
            entry.child_name,
            activity.name,
            unit.label,
            fr_date(day),
            fr_instant(deadline)
        );
        crate::domain::activity::tasks::open(
            conn,
            "waitlist_offer",
            entry.id,
            &title,
            &format!("/agent/enfants/{}", entry.child_id),
            Some(deadline),
        )
        .await?;
        return Ok(Some(Offer {
            waitlist_id: entry.id,
            child_id: entry.child_id,
            child_name: entry.child_name,
            activity: activity.name.clone(),
            unit_label: unit.label.clone(),
            date: day,
            deadline,
            emails: crate::domain::family::dossier::guardian_emails(conn, entry.child_id).await?,
        }));
    }
    Ok(None)
}

#[derive(QueryableByName)]
struct OfferRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    child_id: i64,
    #[diesel(sql_type = BigInt)]
    activity_id: i64,
    #[diesel(sql_type = BigInt)]
    group_id: i64,
    #[diesel(sql_type = BigInt)]
    unit_id: i64,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    offer_deadline: Option<DateTime<Utc>>,
}

async fn offer_row(conn: &mut Conn, id: i64) -> AppResult<OfferRow> {
    diesel::sql_query(
        "SELECT id, child_id, activity_id, group_id, unit_id, day, status, offer_deadline
           FROM waitlist WHERE id = $1 FOR UPDATE",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?
    .ok_or_else(|| AppError::not_found("Demande en liste d'attente introuvable."))
}

/// The activity a waitlist entry belongs to (to load it before answering).
pub async fn waitlist_activity(conn: &mut Conn, id: i64) -> AppResult<(i64, i64)> {
    let row = offer_row(conn, id).await?;
    Ok((row.activity_id, row.child_id))
}

async fn close_entry(conn: &mut Conn, id: i64, status: &str, by: &str) -> AppResult<()> {
    diesel::sql_query("UPDATE waitlist SET status = $2, answered_at = now() WHERE id = $1")
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(status)
        .execute(conn)
        .await?;
    crate::domain::activity::tasks::close(conn, "waitlist_offer", id, by).await
}

/// The family takes the offered place: it becomes a booking (the place is already held).
pub async fn accept_offer(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    id: i64,
    actor: &Actor,
) -> AppResult<BookingView> {
    let entry = offer_row(conn, id).await?;
    if entry.activity_id != activity.id {
        return Err(AppError::not_found(
            "Demande en liste d'attente introuvable.",
        ));
    }
    match (entry.status.as_str(), entry.offer_deadline) {
        ("offered", Some(deadline)) if calendar.now < deadline => {}
        ("offered", _) => {
            return Err(AppError::invalid(
                "le délai pour accepter cette place est dépassé",
            ));
        }
        _ => {
            return Err(AppError::invalid(
                "aucune place n'est proposée pour cette demande",
            ));
        }
    }
    let unit = activity.unit_by_id(entry.unit_id)?;
    let held = held_units(conn, activity, entry.child_id, entry.day, 0).await?;
    let held: Vec<&str> = held.iter().map(String::as_str).collect();
    activity
        .unit_set()
        .check_booking(&held, &unit.code)
        .map_err(|conflict| AppError::invalid(conflict.to_string()))?;
    let booking = upsert_booking(
        conn,
        NewBooking {
            child: entry.child_id,
            activity: activity.id,
            group: entry.group_id,
            unit: unit.id,
            day: entry.day,
            state: AttendanceState::Booked,
            meal_choice: None,
            origin: Origin::Waitlist,
            reason: "",
            by: &actor.name,
        },
    )
    .await?
    .ok_or_else(|| AppError::conflict("cette unité est déjà réservée ce jour-là"))?;
    close_entry(conn, id, "accepted", &actor.name).await?;
    view(conn, booking).await
}

/// The family gives up its request (waiting) or the offered place: the place goes to the
/// next one.
pub async fn withdraw(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    id: i64,
    actor: &Actor,
) -> AppResult<Option<Offer>> {
    let entry = offer_row(conn, id).await?;
    if entry.activity_id != activity.id {
        return Err(AppError::not_found(
            "Demande en liste d'attente introuvable.",
        ));
    }
    match entry.status.as_str() {
        "waiting" => {
            close_entry(conn, id, "cancelled", &actor.name).await?;
            Ok(None)
        }
        "offered" => {
            close_entry(conn, id, "declined", &actor.name).await?;
            release_offer(conn, activity, calendar, &entry).await
        }
        _ => Err(AppError::invalid("cette demande est déjà close")),
    }
}

async fn release_offer(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    entry: &OfferRow,
) -> AppResult<Option<Offer>> {
    give_back_places(
        conn,
        activity,
        entry.group_id,
        entry.unit_id,
        entry.day,
        entry.child_id,
        entry.id,
    )
    .await?;
    offer_next(conn, activity, calendar, entry.unit_id, entry.day).await
}

/// Offers whose deadline passed: closed as expired, each place offered to the next child.
/// Runs periodically for every city; returns the new offers to mail.
pub async fn expire_offers(
    conn: &mut Conn,
    calendar: &Calendar<'_>,
    settings: &crate::domain::activity::model::CitySettings,
) -> AppResult<Vec<Offer>> {
    #[derive(QueryableByName)]
    struct Expired {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let expired: Vec<Expired> = diesel::sql_query(
        // Locked and skipped when locked: two servers sweeping together expire each offer once.
        "SELECT id FROM waitlist WHERE status = 'offered' AND offer_deadline <= $1 ORDER BY id
           FOR UPDATE SKIP LOCKED",
    )
    .bind::<Timestamptz, _>(calendar.now)
    .load(conn)
    .await?;
    let mut offers = Vec::new();
    for Expired { id } in expired {
        let entry = offer_row(conn, id).await?;
        let activity =
            crate::domain::activity::model::load(conn, entry.activity_id, settings).await?;
        close_entry(conn, id, "expired", "système").await?;
        offers.extend(release_offer(conn, &activity, calendar, &entry).await?);
    }
    Ok(offers)
}

/// Les places d'une unité un jour donné.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Availability {
    #[schema(value_type = String, example = "2026-12-07")]
    pub date: NaiveDate,
    /// Code de l'unité.
    pub unit: String,
    /// `null` : pas de limite.
    pub capacity: Option<i32>,
    pub booked: i32,
    pub remaining: Option<i32>,
}

/// Availability of the activity's units on its open days from `from` to `to` (93 days at
/// most): the activity level, narrowed by `group` when given (the family's view).
pub async fn availability(
    conn: &mut Conn,
    activity: &Activity,
    school: &SchoolCalendar,
    from: NaiveDate,
    to: NaiveDate,
    group: Option<i64>,
) -> AppResult<Vec<Availability>> {
    if to < from {
        return Err(AppError::invalid("la date de fin précède la date de début"));
    }
    if (to - from).num_days() > 92 {
        return Err(AppError::invalid(
            "la période demandée dépasse 93 jours : demandez-la en plusieurs fois",
        ));
    }
    let days = crate::domain::calendar::open_days(&activity.opening, school, from, to)
        .map_err(calendar_error)?;
    use crate::domain::activity::schema::slot_counts;
    let counts: Vec<(i64, i64, NaiveDate, i32)> = slot_counts::table
        .filter(slot_counts::structure_id.eq(0))
        .filter(slot_counts::activity_id.eq(activity.id))
        .filter(slot_counts::day.between(from, to))
        .select((
            slot_counts::group_id,
            slot_counts::unit_id,
            slot_counts::day,
            slot_counts::taken,
        ))
        .load(conn)
        .await?;
    let taken = |group: i64, unit: i64, day: NaiveDate| {
        counts
            .iter()
            .find(|(g, u, d, _)| *g == group && *u == unit && *d == day)
            .map_or(0, |c| c.3)
    };
    let mut items = Vec::with_capacity(days.len() * activity.units.len());
    for day in days {
        for unit in &activity.units {
            let activity_places = places(&activity.capacities, Level::Activity, unit.id, day);
            let activity_taken = taken(0, unit.id, day);
            let (capacity, booked) = match group {
                None => (
                    activity_places.or_else(|| {
                        // Only group limits: the activity holds their sum, if all are limited.
                        activity
                            .groups
                            .iter()
                            .map(|g| places(&activity.capacities, Level::Group(g.id), unit.id, day))
                            .sum::<Option<i32>>()
                            .filter(|_| !activity.groups.is_empty())
                    }),
                    activity_taken,
                ),
                Some(group) => {
                    let group_places =
                        places(&activity.capacities, Level::Group(group), unit.id, day);
                    let group_taken = taken(group, unit.id, day);
                    // The tighter level decides what the family may still book.
                    match (activity_places, group_places) {
                        (Some(a), Some(g)) if a - activity_taken < g - group_taken => {
                            (Some(a), activity_taken)
                        }
                        (_, Some(g)) => (Some(g), group_taken),
                        (a, None) => (a, activity_taken),
                    }
                }
            };
            items.push(Availability {
                date: day,
                unit: unit.code.clone(),
                capacity,
                booked,
                remaining: remaining(capacity, booked),
            });
        }
    }
    Ok(items)
}

/// What an agent records for one booked unit on the attendance list.
#[derive(Debug, Clone, Default)]
pub struct AttendanceEntry {
    pub mark: Option<state::Mark>,
    pub arrival: Option<NaiveTime>,
    pub departure: Option<NaiveTime>,
    pub adaptation: Option<bool>,
    pub billable: Option<bool>,
    pub reason: Option<String>,
}

/// Records attendance on booking `id` (state, times, adaptation, « non facturé »). A row
/// cancelled in time that is marked present becomes a presence without booking and takes
/// its place back, whatever the capacity: the child is there.
pub async fn record_attendance(
    conn: &mut Conn,
    activity: &Activity,
    id: i64,
    entry: AttendanceEntry,
    by: &str,
) -> AppResult<BookingView> {
    use crate::domain::activity::schema::bookings;
    // Locked first: two agents marking one row at once apply one after the other (a row
    // cancelled in time that both mark present takes its place back once).
    bookings::table
        .find(id)
        .select(bookings::id)
        .for_update()
        .first::<i64>(conn)
        .await
        .optional()?;
    let booking = view(conn, id).await?;
    if booking.activity_id != activity.id {
        return Err(AppError::not_found("Réservation introuvable."));
    }
    let unit = activity.unit(&booking.unit)?;
    let new_state = match entry.mark {
        Some(mark) => state::mark(booking.state, mark)?,
        None => booking.state,
    };
    let arrival = entry.arrival.or(booking.arrival);
    let departure = entry.departure.or(booking.departure);
    if let (Some(a), Some(d)) = (arrival, departure)
        && d < a
    {
        return Err(AppError::invalid(
            "l'heure de départ précède l'heure d'arrivée",
        ));
    }
    if !holds_place(booking.state) && holds_place(new_state) {
        let levels = counters(
            conn,
            activity,
            booking.group_id,
            unit.id,
            booking.date,
            booking.child_id,
            id,
        )
        .await?;
        force_places(conn, &levels).await?;
    }
    diesel::update(bookings::table.find(id))
        .set((
            bookings::state.eq(state::code(new_state)),
            bookings::arrival.eq(arrival),
            bookings::departure.eq(departure),
            bookings::state_at.eq(diesel::dsl::now),
            bookings::state_by.eq(by),
        ))
        .execute(conn)
        .await?;
    if let Some(adaptation) = entry.adaptation {
        diesel::update(bookings::table.find(id))
            .set(bookings::adaptation.eq(adaptation))
            .execute(conn)
            .await?;
    }
    if let Some(billable) = entry.billable {
        diesel::update(bookings::table.find(id))
            .set(bookings::billable.eq(billable))
            .execute(conn)
            .await?;
    }
    if let Some(reason) = entry.reason.filter(|r| !r.trim().is_empty()) {
        diesel::update(bookings::table.find(id))
            .set(bookings::reason.eq(reason.trim()))
            .execute(conn)
            .await?;
    }
    view(conn, id).await
}

/// A child present without booking, added on the spot: a « présent sans réservation » row
/// that billing will see. Capacity does not refuse a child who is there.
pub async fn add_unbooked(
    conn: &mut Conn,
    activity: &Activity,
    child: i64,
    unit: &str,
    day: NaiveDate,
    arrival: Option<NaiveTime>,
    by: &str,
) -> AppResult<BookingView> {
    let unit = activity.unit(unit)?;
    let group = match group_of(conn, activity, child, day).await {
        Ok(group) => group,
        // A child who is not enrolled may still be there (an emergency): first group.
        Err(AppError::Invalid(_)) => activity.group_for(None, None)?.id,
        Err(other) => return Err(other),
    };
    let id = upsert_booking(
        conn,
        NewBooking {
            child,
            activity: activity.id,
            group,
            unit: unit.id,
            day,
            state: AttendanceState::PresentUnbooked,
            meal_choice: None,
            origin: Origin::Attendance,
            reason: "",
            by,
        },
    )
    .await?
    .ok_or_else(|| {
        AppError::conflict("cet enfant est déjà sur la liste pour cette unité : pointez-le")
    })?;
    let levels = counters(conn, activity, group, unit.id, day, child, id).await?;
    force_places(conn, &levels).await?;
    if arrival.is_some() {
        use crate::domain::activity::schema::bookings;
        diesel::update(bookings::table.find(id))
            .set(bookings::arrival.eq(arrival))
            .execute(conn)
            .await?;
    }
    view(conn, id).await
}

/// Recounts every counter of the activity from the rows (bookings holding a place and
/// offers pending): what the counters must always equal. Used by tests and `marelle` checks.
pub async fn recount(
    conn: &mut Conn,
    activity: i64,
) -> AppResult<Vec<(i64, i64, NaiveDate, i32, i64)>> {
    #[derive(QueryableByName)]
    struct Drift {
        #[diesel(sql_type = BigInt)]
        group_id: i64,
        #[diesel(sql_type = BigInt)]
        unit_id: i64,
        #[diesel(sql_type = Date)]
        day: NaiveDate,
        #[diesel(sql_type = Integer)]
        taken: i32,
        #[diesel(sql_type = BigInt)]
        actual: i64,
    }
    let drifts: Vec<Drift> = diesel::sql_query(
        "WITH held AS (
             SELECT group_id, unit_id, day FROM bookings
              WHERE activity_id = $1 AND state <> 'cancelled_in_time'
             UNION ALL
             SELECT group_id, unit_id, day FROM waitlist WHERE activity_id = $1 AND status = 'offered'),
         actual AS (
             SELECT group_id, unit_id, day, count(*) AS n FROM held GROUP BY GROUPING SETS
                 ((group_id, unit_id, day), (unit_id, day)))
         SELECT coalesce(c.group_id, a.group_id, 0) AS group_id,
                coalesce(c.unit_id, a.unit_id) AS unit_id, coalesce(c.day, a.day) AS day,
                coalesce(c.taken, 0) AS taken, coalesce(a.n, 0) AS actual
           FROM (SELECT * FROM slot_counts WHERE structure_id = 0 AND activity_id = $1) c
           FULL JOIN (SELECT coalesce(group_id, 0) AS group_id, unit_id, day, n FROM actual) a
             ON a.group_id = c.group_id AND a.unit_id = c.unit_id AND a.day = c.day
          WHERE coalesce(c.taken, 0) <> coalesce(a.n, 0)",
    )
    .bind::<BigInt, _>(activity)
    .load(conn)
    .await?;
    Ok(drifts
        .into_iter()
        .map(|d| (d.group_id, d.unit_id, d.day, d.taken, d.actual))
        .collect())
}
