//! Bookings in the database: book, cancel, waitlist and its offers, availability.
//!
//! Places are counted per level in `slot_counts` (activity level with group 0, the child's
//! group, the structure for the day). Taking a place is ONE statement for all levels,
//! `INSERT … ON CONFLICT DO UPDATE SET taken = taken + 1 WHERE taken < places`, which locks
//! each counter row and re-reads its latest version: under any concurrency the last place
//! goes to one booker and the others find their row not updated (and give back the levels
//! they took). Levels are always locked in the same order (activity, group, structure) so
//! that concurrent bookings cannot deadlock.
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

mod attendance;
mod availability;
mod booking;
mod counters;
mod waitlist;

pub use attendance::*;
pub use availability::*;
pub use booking::*;
use counters::*;
pub use waitlist::*;
