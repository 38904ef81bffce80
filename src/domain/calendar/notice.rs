//! Notice delays (délais de prévenance): until when a family may book or cancel a unit.
//!
//! # Semantics
//!
//! The **deadline** is the first instant at which it is too late: an action at `now` is in time
//! iff `now < deadline` ([`is_within_notice`]). The deadline is never later than the unit's
//! start (booking a unit that has begun is always too late).
//!
//! Delays in **days** are wall-clock, in Europe/Paris:
//! - the deadline day is `amount` days before the service date: calendar days, or working days
//!   counted backwards from the day before the service (the service day itself never counts);
//!   `amount = 0` means the service day itself;
//! - with a `cutoff_time` the deadline is that Paris time on the deadline day
//!   (« 2 jours ouvrés avant, 10 h » for Monday's meal → the previous Thursday 10:00);
//! - without one, the whole deadline day is allowed: the deadline is the following midnight.
//!
//! A day delay never changes length with DST: « la veille à 10 h » is 10:00 on the previous day
//! whether that day lasted 23, 24 or 25 hours.
//!
//! Delays in **hours** are absolute elapsed time: « 48 h » is 48 real hours before the unit's
//! start instant, so across a DST change the Paris wall time of the deadline moves by one hour
//! (Monday 30/03/2026 08:00 minus 48 h = Saturday 28/03 07:00). Rationale: an hour delay is a
//! promise of duration (time to order meals, to plan staff); counting wall-clock hours would give
//! 47 or 49 real hours twice a year, and a day delay already exists for wall-clock rules.
//! With working days, only hours falling on working days are counted (non-working days are
//! skipped whole). A `cutoff_time` on an hour delay moves the deadline back to the latest
//! occurrence of that Paris time at or before the computed instant (« 48 h avant, clôture des
//! demandes à 10 h »).
//!
//! Working days exclude Saturdays, Sundays, French public holidays, the rule's extra excluded
//! weekdays (e.g. Wednesdays when the service office is closed) and the context's extra closed
//! days (e.g. a town hall bridge day).
//!
//! Times that do not exist or exist twice in Paris are resolved by [`paris_instant`].

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::error::CalendarError;
use super::paris::{paris_date, paris_day_start, paris_instant};
use super::public_holidays::is_public_holiday;

/// Largest accepted `amount` for day delays.
pub const MAX_DAYS: u32 = 366;
/// Largest accepted `amount` for hour delays.
pub const MAX_HOURS: u32 = 366 * 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeUnit {
    Days,
    Hours,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DayCount {
    CalendarDays,
    /// Excluding weekends, public holidays, these weekdays and the context's closed days.
    WorkingDays {
        #[serde(default)]
        excluded_weekdays: Vec<Weekday>,
    },
}

/// « `amount` `unit` avant, [à `cutoff_time`] ».
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NoticeRule {
    pub amount: u32,
    pub unit: NoticeUnit,
    pub count: DayCount,
    #[serde(default)]
    pub cutoff_time: Option<NaiveTime>,
}

/// What the calendar knows beyond weekends and public holidays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeContext {
    /// Days that do not count as working days (city closures, bridge days).
    pub extra_non_working_days: BTreeSet<NaiveDate>,
}

impl NoticeRule {
    /// Checks the rule can be evaluated. French message for the settings screen.
    pub fn validate(&self) -> Result<(), CalendarError> {
        let max = match self.unit {
            NoticeUnit::Days => MAX_DAYS,
            NoticeUnit::Hours => MAX_HOURS,
        };
        if self.amount > max {
            let unit = match self.unit {
                NoticeUnit::Days => "jours",
                NoticeUnit::Hours => "heures",
            };
            return Err(CalendarError::InvalidNoticeRule(format!(
                "{} {unit} dépasse le maximum de {max} {unit}.",
                self.amount
            )));
        }
        if let DayCount::WorkingDays { excluded_weekdays } = &self.count {
            let weekdays = [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ];
            if weekdays.iter().all(|w| excluded_weekdays.contains(w)) {
                return Err(CalendarError::InvalidNoticeRule(
                    "tous les jours de la semaine sont exclus : aucun jour ouvré ne reste.".into(),
                ));
            }
        }
        Ok(())
    }

    /// Whether `date` counts as a working day for this rule (always true for calendar days).
    pub fn is_counted_day(&self, date: NaiveDate, ctx: &NoticeContext) -> bool {
        match &self.count {
            DayCount::CalendarDays => true,
            DayCount::WorkingDays { excluded_weekdays } => {
                let weekday = date.weekday();
                !matches!(weekday, Weekday::Sat | Weekday::Sun)
                    && !excluded_weekdays.contains(&weekday)
                    && !is_public_holiday(date)
                    && !ctx.extra_non_working_days.contains(&date)
            }
        }
    }

    /// The `amount`-th counted day before `service_date` (the service day itself for 0).
    fn deadline_day(
        &self,
        service_date: NaiveDate,
        ctx: &NoticeContext,
    ) -> Result<NaiveDate, CalendarError> {
        let mut day = service_date;
        let mut counted = 0;
        while counted < self.amount {
            day = day.pred_opt().ok_or(CalendarError::OutOfRange)?;
            if self.is_counted_day(day, ctx) {
                counted += 1;
            }
        }
        Ok(day)
    }

    /// `start` minus `amount` hours, skipping the hours of non-counted days.
    fn minus_hours(
        &self,
        start: DateTime<Utc>,
        ctx: &NoticeContext,
    ) -> Result<DateTime<Utc>, CalendarError> {
        let mut remaining = TimeDelta::hours(i64::from(self.amount));
        if matches!(self.count, DayCount::CalendarDays) {
            return start
                .checked_sub_signed(remaining)
                .ok_or(CalendarError::OutOfRange);
        }
        if remaining.is_zero() {
            return Ok(start);
        }
        let mut cursor = start;
        let mut day = paris_date(start);
        loop {
            let day_start = paris_day_start(day);
            if self.is_counted_day(day, ctx) {
                let available = cursor - day_start;
                if remaining <= available {
                    return Ok(cursor - remaining);
                }
                remaining -= available;
            }
            cursor = day_start;
            day = day.pred_opt().ok_or(CalendarError::OutOfRange)?;
        }
    }
}

/// The latest Paris `time` at or before `instant`.
fn latest_cutoff(instant: DateTime<Utc>, time: NaiveTime) -> Result<DateTime<Utc>, CalendarError> {
    let day = paris_date(instant);
    let same_day = paris_instant(day, time);
    if same_day <= instant {
        Ok(same_day)
    } else {
        let before = day.pred_opt().ok_or(CalendarError::OutOfRange)?;
        Ok(paris_instant(before, time))
    }
}

/// First instant at which booking/cancelling the unit starting at `service_start_time` (Paris)
/// on `service_date` is too late. See the module documentation for the semantics.
pub fn deadline(
    rule: &NoticeRule,
    service_date: NaiveDate,
    service_start_time: NaiveTime,
    ctx: &NoticeContext,
) -> Result<DateTime<Utc>, CalendarError> {
    rule.validate()?;
    let start = paris_instant(service_date, service_start_time);
    let computed = match rule.unit {
        NoticeUnit::Days => {
            let day = rule.deadline_day(service_date, ctx)?;
            match rule.cutoff_time {
                Some(cutoff) => paris_instant(day, cutoff),
                None => {
                    let next = day
                        .checked_add_days(Days::new(1))
                        .ok_or(CalendarError::OutOfRange)?;
                    paris_day_start(next)
                }
            }
        }
        NoticeUnit::Hours => {
            let instant = rule.minus_hours(start, ctx)?;
            match rule.cutoff_time {
                Some(cutoff) => latest_cutoff(instant, cutoff)?,
                None => instant,
            }
        }
    };
    Ok(computed.min(start))
}

/// Whether an action at `now` respects the notice delay (« dans les délais »): `now < deadline`.
pub fn is_within_notice(
    now: DateTime<Utc>,
    rule: &NoticeRule,
    service_date: NaiveDate,
    service_start_time: NaiveTime,
    ctx: &NoticeContext,
) -> Result<bool, CalendarError> {
    Ok(now < deadline(rule, service_date, service_start_time, ctx)?)
}

#[cfg(test)]
#[path = "notice_tests.rs"]
mod tests;
