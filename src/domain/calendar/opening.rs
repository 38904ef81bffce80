//! An activity's opening calendar (calendrier d'ouverture).
//!
//! # Evaluation, in order
//!
//! 1. an **exceptional opening** on the date → open (it overrides closures and public holidays:
//!    that is what it is for);
//! 2. a **closure** covering the date → closed;
//! 3. a **public holiday** → closed;
//! 4. any **base rule** matching the date → open; none → closed.
//!
//! Base rules:
//! - `school_days`: the given weekdays (Mon, Tue, Thu, Fri by default; add Wed for a
//!   4.5-day week) outside the zone's school holidays;
//! - `wednesdays`: Wednesdays outside school holidays (accueil du mercredi);
//! - `holidays`: days of the zone's school holidays on the given weekdays (Mon-Fri by default),
//!   optionally only some holidays (`kinds`, e.g. only the summer);
//! - `weekdays`: the given weekdays all year round.
//!
//! School-holiday days follow [`super::holidays`]: the Saturday of « fin des cours » is not a
//! holiday day. Rules that depend on school holidays need the school calendar to cover the date:
//! [`is_open`] and [`open_days`] fail with a French error otherwise, rather than guess.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::error::{CalendarError, fr_date};
use super::holidays::{HolidayKind, SchoolCalendar, Zone};
use super::public_holidays::is_public_holiday;

fn school_weekdays() -> Vec<Weekday> {
    vec![Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri]
}

fn monday_to_friday() -> Vec<Weekday> {
    vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpeningRule {
    SchoolDays {
        #[serde(default = "school_weekdays")]
        weekdays: Vec<Weekday>,
    },
    Wednesdays,
    Holidays {
        #[serde(default = "monday_to_friday")]
        weekdays: Vec<Weekday>,
        /// Empty: every holiday.
        #[serde(default)]
        kinds: Vec<HolidayKind>,
    },
    Weekdays {
        weekdays: Vec<Weekday>,
    },
    /// Closed from `from` to `to`, inclusive.
    Closure {
        from: NaiveDate,
        to: NaiveDate,
        #[serde(default)]
        label: Option<String>,
    },
    ExceptionalOpening {
        date: NaiveDate,
        #[serde(default)]
        label: Option<String>,
    },
}

impl OpeningRule {
    fn needs_school_calendar(&self) -> bool {
        matches!(
            self,
            OpeningRule::SchoolDays { .. } | OpeningRule::Wednesdays | OpeningRule::Holidays { .. }
        )
    }
}

/// The opening rules of one activity, in the school-holiday zone of its city.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningCalendar {
    pub zone: Zone,
    pub rules: Vec<OpeningRule>,
}

impl OpeningCalendar {
    /// Checks the rules. French messages for the settings screen.
    pub fn validate(&self) -> Result<(), CalendarError> {
        for rule in &self.rules {
            match rule {
                OpeningRule::Closure { from, to, .. } if to < from => {
                    return Err(CalendarError::InvalidOpening(format!(
                        "la fermeture se termine le {} avant de commencer le {}.",
                        fr_date(*to),
                        fr_date(*from)
                    )));
                }
                OpeningRule::SchoolDays { weekdays }
                | OpeningRule::Holidays { weekdays, .. }
                | OpeningRule::Weekdays { weekdays }
                    if weekdays.is_empty() =>
                {
                    return Err(CalendarError::InvalidOpening(
                        "aucun jour de la semaine n'est choisi.".into(),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn needs_school_calendar(&self) -> bool {
        self.rules.iter().any(OpeningRule::needs_school_calendar)
    }
}

/// Whether the activity is open on `date`.
pub fn is_open(
    opening: &OpeningCalendar,
    school: &SchoolCalendar,
    date: NaiveDate,
) -> Result<bool, CalendarError> {
    let rules = &opening.rules;
    if rules
        .iter()
        .any(|r| matches!(r, OpeningRule::ExceptionalOpening { date: d, .. } if *d == date))
    {
        return Ok(true);
    }
    if rules
        .iter()
        .any(|r| matches!(r, OpeningRule::Closure { from, to, .. } if *from <= date && date <= *to))
    {
        return Ok(false);
    }
    if is_public_holiday(date) {
        return Ok(false);
    }
    if opening.needs_school_calendar() {
        school.ensure_covers(date)?;
    }
    let weekday = date.weekday();
    let holiday = school.holiday_on(opening.zone, date);
    Ok(rules.iter().any(|rule| match rule {
        OpeningRule::SchoolDays { weekdays } => holiday.is_none() && weekdays.contains(&weekday),
        OpeningRule::Wednesdays => holiday.is_none() && weekday == Weekday::Wed,
        OpeningRule::Holidays { weekdays, kinds } => holiday.is_some_and(|h| {
            weekdays.contains(&weekday) && (kinds.is_empty() || kinds.contains(&h.kind))
        }),
        OpeningRule::Weekdays { weekdays } => weekdays.contains(&weekday),
        OpeningRule::Closure { .. } | OpeningRule::ExceptionalOpening { .. } => false,
    }))
}

/// The open days from `from` to `to`, inclusive, in order. Empty if `to < from`.
pub fn open_days(
    opening: &OpeningCalendar,
    school: &SchoolCalendar,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<NaiveDate>, CalendarError> {
    let mut days = Vec::new();
    for date in from.iter_days().take_while(|d| *d <= to) {
        if is_open(opening, school, date)? {
            days.push(date);
        }
    }
    Ok(days)
}

#[cfg(test)]
#[path = "opening_tests.rs"]
mod tests;
