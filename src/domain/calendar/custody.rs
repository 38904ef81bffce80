//! Custody calendars (garde alternée): which household has a child at a given day or time, so
//! that each unit can be billed to the household in charge.
//!
//! A child's custody is a list of [`CustodyPattern`]s, each valid over a date range and naming
//! the households it involves (at most two in all).
//!
//! # Precedence
//!
//! 1. **Hourly slots** (« le foyer 2 du mercredi 12 h au jeudi 8 h 30 »), when a time is asked,
//!    override the day-level answer. They are suspended on days covered by an explicit date
//!    range (holiday splits usually suspend the weekly rhythm), unless the slot says
//!    `overrides_date_ranges`.
//! 2. **Explicit date ranges** (holiday halves, one-off arrangements) override weekly patterns.
//! 3. **Weekly patterns**: sole custody, alternate weeks, given weekdays (with alternating days).
//!
//! Within a layer, the pattern with the latest `valid_from` wins (a new judgment supersedes an
//! open-ended older one); on a tie, the later one in the list.
//!
//! # Days and times
//!
//! The day-level answer (`time = None`) names the household the child goes to that day: on a
//! handover day, the incoming one. With a time, before the handover time of the incoming
//! pattern the outgoing household (the previous day's) still has the child. Times are Paris
//! wall-clock times; no time-zone arithmetic is involved.
//!
//! # Week parity
//!
//! Alternation counts whole weeks from a reference date ([`week_index`]); ISO week numbers are
//! never used: a 53-week ISO year (2026) followed by week 1 would give two « odd » weeks in a row.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Weekday};
use serde::{Deserialize, Serialize};

use super::error::{CalendarError, fr_date};

/// Id of a household (foyer) in the family module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HouseholdRef(pub i64);

/// When the child changes household on the first day of a new custody period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Handover {
    /// At midnight: the whole day belongs to the incoming household.
    #[default]
    StartOfDay,
    /// At a fixed time.
    At { time: NaiveTime },
    /// At school exit (« à la sortie de l'école »), at the school's usual dismissal time.
    SchoolExit { time: NaiveTime },
}

impl Handover {
    pub fn time(self) -> NaiveTime {
        match self {
            Handover::StartOfDay => NaiveTime::MIN,
            Handover::At { time } | Handover::SchoolExit { time } => time,
        }
    }
}

/// A weekday given to one household every week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayAssignment {
    pub weekday: Weekday,
    pub household: HouseholdRef,
}

/// Weekdays that alternate between two households from week to week (e.g. the weekend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlternatingDays {
    pub days: Vec<Weekday>,
    /// Has the days in the week containing `reference_date`, and every other week.
    pub first: HouseholdRef,
    pub second: HouseholdRef,
    pub reference_date: NaiveDate,
    #[serde(default = "monday")]
    pub week_start: Weekday,
}

/// How often an hourly slot recurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SlotRecurrence {
    #[default]
    EveryWeek,
    /// Only in the week containing `reference_date` and every other week.
    AlternateWeeks {
        reference_date: NaiveDate,
        #[serde(default = "monday")]
        week_start: Weekday,
    },
}

fn monday() -> Weekday {
    Weekday::Mon
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustodyRule {
    /// One household all the time.
    Sole { household: HouseholdRef },
    /// Week A / week B. `reference_date` is any day of a week A; weeks start on `week_start`.
    AlternateWeeks {
        week_a: HouseholdRef,
        week_b: HouseholdRef,
        reference_date: NaiveDate,
        #[serde(default = "monday")]
        week_start: Weekday,
        #[serde(default)]
        handover: Handover,
    },
    /// Fixed weekdays per household, plus optional alternating days.
    Weekdays {
        #[serde(default)]
        days: Vec<DayAssignment>,
        #[serde(default)]
        alternating: Option<AlternatingDays>,
        #[serde(default)]
        handover: Handover,
    },
    /// The pattern's whole validity range (which must have an end) goes to one household.
    DateRange {
        household: HouseholdRef,
        #[serde(default)]
        handover: Handover,
    },
    /// A weekly slot from `start_day start_time` to `end_day end_time` (possibly crossing days
    /// and the end of the week).
    HourlySlot {
        household: HouseholdRef,
        start_day: Weekday,
        start_time: NaiveTime,
        end_day: Weekday,
        end_time: NaiveTime,
        #[serde(default)]
        recurrence: SlotRecurrence,
        #[serde(default)]
        overrides_date_ranges: bool,
    },
}

/// A custody rule valid from `valid_from` to `valid_to` (inclusive; open-ended if `None`).
/// Stored as JSON: `{"valid_from": "2026-09-01", "type": "alternate_weeks", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyPattern {
    pub valid_from: NaiveDate,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(flatten)]
    pub rule: CustodyRule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Weekly,
    Explicit,
    Slot,
}

impl CustodyPattern {
    fn layer(&self) -> Layer {
        match self.rule {
            CustodyRule::Sole { .. }
            | CustodyRule::AlternateWeeks { .. }
            | CustodyRule::Weekdays { .. } => Layer::Weekly,
            CustodyRule::DateRange { .. } => Layer::Explicit,
            CustodyRule::HourlySlot { .. } => Layer::Slot,
        }
    }

    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date <= to)
    }

    fn households(&self) -> Vec<HouseholdRef> {
        match &self.rule {
            CustodyRule::Sole { household }
            | CustodyRule::DateRange { household, .. }
            | CustodyRule::HourlySlot { household, .. } => vec![*household],
            CustodyRule::AlternateWeeks { week_a, week_b, .. } => vec![*week_a, *week_b],
            CustodyRule::Weekdays {
                days, alternating, ..
            } => {
                let mut all: Vec<HouseholdRef> = days.iter().map(|d| d.household).collect();
                if let Some(alt) = alternating {
                    all.extend([alt.first, alt.second]);
                }
                all
            }
        }
    }
}

// ---- week arithmetic ------------------------------------------------------------------------

/// Days from `from` forward to `to` (0..=6).
fn days_from(from: Weekday, to: Weekday) -> u64 {
    u64::from((to.num_days_from_monday() + 7 - from.num_days_from_monday()) % 7)
}

/// The first day of the week (weeks starting on `week_start`) that contains `date`.
pub fn week_start_of(date: NaiveDate, week_start: Weekday) -> NaiveDate {
    date.checked_sub_days(Days::new(days_from(week_start, date.weekday())))
        .unwrap_or(NaiveDate::MIN)
}

/// Whole weeks from the week containing `reference` to the week containing `date` (negative
/// before it). Parity of this number drives every alternation.
pub fn week_index(date: NaiveDate, reference: NaiveDate, week_start: Weekday) -> i64 {
    let days = (week_start_of(date, week_start) - week_start_of(reference, week_start)).num_days();
    days.div_euclid(7)
}

fn is_even_week(date: NaiveDate, reference: NaiveDate, week_start: Weekday) -> bool {
    week_index(date, reference, week_start).rem_euclid(2) == 0
}

// ---- evaluation -----------------------------------------------------------------------------

/// The winning pattern of `layer` valid on `date`: latest `valid_from`, then latest in list.
fn winner(patterns: &[CustodyPattern], layer: Layer, date: NaiveDate) -> Option<&CustodyPattern> {
    patterns
        .iter()
        .enumerate()
        .filter(|(_, p)| p.layer() == layer && p.is_valid_on(date))
        .max_by_key(|(i, p)| (p.valid_from, *i))
        .map(|(_, p)| p)
}

/// A weekly pattern's household on `date`.
fn weekly_household(rule: &CustodyRule, date: NaiveDate) -> Option<HouseholdRef> {
    match rule {
        CustodyRule::Sole { household } => Some(*household),
        CustodyRule::AlternateWeeks {
            week_a,
            week_b,
            reference_date,
            week_start,
            ..
        } => Some(if is_even_week(date, *reference_date, *week_start) {
            *week_a
        } else {
            *week_b
        }),
        CustodyRule::Weekdays {
            days, alternating, ..
        } => {
            let weekday = date.weekday();
            if let Some(a) = days.iter().find(|a| a.weekday == weekday) {
                return Some(a.household);
            }
            let alt = alternating
                .as_ref()
                .filter(|alt| alt.days.contains(&weekday))?;
            Some(if is_even_week(date, alt.reference_date, alt.week_start) {
                alt.first
            } else {
                alt.second
            })
        }
        CustodyRule::DateRange { household, .. } => Some(*household),
        CustodyRule::HourlySlot { .. } => None,
    }
}

fn handover_of(rule: &CustodyRule) -> Handover {
    match rule {
        CustodyRule::AlternateWeeks { handover, .. }
        | CustodyRule::Weekdays { handover, .. }
        | CustodyRule::DateRange { handover, .. } => *handover,
        CustodyRule::Sole { .. } | CustodyRule::HourlySlot { .. } => Handover::StartOfDay,
    }
}

/// Day-level owner and the handover of the pattern that decides it.
fn day_owner(
    patterns: &[CustodyPattern],
    date: NaiveDate,
) -> Option<(Option<HouseholdRef>, Handover)> {
    let p = winner(patterns, Layer::Explicit, date)
        .or_else(|| winner(patterns, Layer::Weekly, date))?;
    Some((weekly_household(&p.rule, date), handover_of(&p.rule)))
}

/// Length of a slot occurrence; `None` for an empty slot (rejected by validation).
fn slot_span(
    start_day: Weekday,
    start_time: NaiveTime,
    end_day: Weekday,
    end_time: NaiveTime,
) -> Option<TimeDelta> {
    let days = i64::try_from(days_from(start_day, end_day)).ok()?;
    let span = TimeDelta::days(days) + (end_time - start_time);
    (span > TimeDelta::zero()).then_some(span)
}

/// Occurrences `[start, end)` of a slot pattern that could touch `date` (starting up to a week
/// before), with their recurrence and validity checked on the occurrence's start day.
fn slot_occurrences(
    p: &CustodyPattern,
    date: NaiveDate,
) -> Vec<(NaiveDateTime, NaiveDateTime, HouseholdRef)> {
    let CustodyRule::HourlySlot {
        household,
        start_day,
        start_time,
        end_day,
        end_time,
        recurrence,
        ..
    } = &p.rule
    else {
        return Vec::new();
    };
    let Some(span) = slot_span(*start_day, *start_time, *end_day, *end_time) else {
        return Vec::new();
    };
    (0..=7u64)
        .filter_map(|back| date.checked_sub_days(Days::new(back)))
        .filter(|s| s.weekday() == *start_day && p.is_valid_on(*s))
        .filter(|s| match recurrence {
            SlotRecurrence::EveryWeek => true,
            SlotRecurrence::AlternateWeeks {
                reference_date,
                week_start,
            } => is_even_week(*s, *reference_date, *week_start),
        })
        .filter_map(|s| {
            let start = s.and_time(*start_time);
            Some((start, start.checked_add_signed(span)?, *household))
        })
        .collect()
}

/// The winning hourly slot covering `date time`, if any.
fn slot_at(patterns: &[CustodyPattern], date: NaiveDate, time: NaiveTime) -> Option<HouseholdRef> {
    let at = date.and_time(time);
    let in_explicit_range = winner(patterns, Layer::Explicit, date).is_some();
    patterns
        .iter()
        .enumerate()
        .filter(|(_, p)| match p.rule {
            CustodyRule::HourlySlot {
                overrides_date_ranges,
                ..
            } => overrides_date_ranges || !in_explicit_range,
            _ => false,
        })
        .filter_map(|(i, p)| {
            slot_occurrences(p, date)
                .into_iter()
                .find(|(start, end, _)| *start <= at && at < *end)
                .map(|(_, _, h)| (p.valid_from, i, h))
        })
        .max_by_key(|(from, i, _)| (*from, *i))
        .map(|(_, _, h)| h)
}

/// The household in charge of the child on `date` (day level) or at `date time`.
/// `None` when no pattern says (no custody information for that day).
pub fn household_on(
    patterns: &[CustodyPattern],
    date: NaiveDate,
    time: Option<NaiveTime>,
) -> Option<HouseholdRef> {
    if let Some(t) = time
        && let Some(h) = slot_at(patterns, date, t)
    {
        return Some(h);
    }
    let (today, handover) = day_owner(patterns, date)?;
    if let Some(t) = time
        && t < handover.time()
        && let Some(yesterday) = date.pred_opt()
        && let Some((Some(previous), _)) = day_owner(patterns, yesterday)
        && today.is_some_and(|h| h != previous)
    {
        return Some(previous);
    }
    today
}

/// A part of a day spent with one household, from `from` to the next segment (or midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CustodySegment {
    pub from: NaiveTime,
    pub household: Option<HouseholdRef>,
}

/// One day of a custody split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustodyDay {
    pub date: NaiveDate,
    /// Day-level answer: the household the child goes to that day.
    pub day_household: Option<HouseholdRef>,
    /// Who has the child when, in order, starting at 00:00, consecutive segments differing.
    pub segments: Vec<CustodySegment>,
}

impl CustodyDay {
    /// The household at `time` that day (for billing a unit by its start time).
    pub fn household_at(&self, time: NaiveTime) -> Option<HouseholdRef> {
        self.segments
            .iter()
            .rev()
            .find(|s| s.from <= time)
            .and_then(|s| s.household)
    }

    /// The household if the child spends the whole day with one household.
    pub fn single_household(&self) -> Option<HouseholdRef> {
        match self.segments.as_slice() {
            [only] => only.household,
            _ => None,
        }
    }
}

/// Per day from `from` to `to` (inclusive), which household has the child, and when.
pub fn split_by_custody(
    patterns: &[CustodyPattern],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<CustodyDay> {
    from.iter_days()
        .take_while(|date| *date <= to)
        .map(|date| {
            let mut cuts = BTreeSet::from([NaiveTime::MIN]);
            if let Some((_, handover)) = day_owner(patterns, date) {
                cuts.insert(handover.time());
            }
            for p in patterns.iter().filter(|p| p.layer() == Layer::Slot) {
                for (start, end, _) in slot_occurrences(p, date) {
                    for edge in [start, end] {
                        if edge.date() == date {
                            cuts.insert(edge.time());
                        }
                    }
                }
            }
            let mut segments: Vec<CustodySegment> = Vec::new();
            for cut in cuts {
                let household = household_on(patterns, date, Some(cut));
                if segments.last().is_none_or(|s| s.household != household) {
                    segments.push(CustodySegment {
                        from: cut,
                        household,
                    });
                }
            }
            CustodyDay {
                date,
                day_household: household_on(patterns, date, None),
                segments,
            }
        })
        .collect()
}

/// Checks a child's patterns. French messages for the family screen.
pub fn validate_patterns(patterns: &[CustodyPattern]) -> Result<(), CalendarError> {
    let bad = |message: String| Err(CalendarError::InvalidCustody(message));
    let mut households = BTreeSet::new();
    for p in patterns {
        households.extend(p.households());
        if let Some(to) = p.valid_to
            && to < p.valid_from
        {
            return bad(format!(
                "la fin de validité ({}) précède le début ({}).",
                fr_date(to),
                fr_date(p.valid_from)
            ));
        }
        match &p.rule {
            CustodyRule::Sole { .. } => {}
            CustodyRule::AlternateWeeks { week_a, week_b, .. } => {
                if week_a == week_b {
                    return bad(
                        "les semaines A et B doivent aller à deux foyers différents.".into(),
                    );
                }
            }
            CustodyRule::Weekdays {
                days, alternating, ..
            } => {
                let mut seen = BTreeSet::new();
                let alternating_days = alternating
                    .as_ref()
                    .map(|a| a.days.as_slice())
                    .unwrap_or(&[]);
                for w in days
                    .iter()
                    .map(|a| a.weekday)
                    .chain(alternating_days.iter().copied())
                {
                    if !seen.insert(w.num_days_from_monday()) {
                        return bad(format!("le jour {} est attribué deux fois.", weekday_fr(w)));
                    }
                }
                if seen.is_empty() {
                    return bad("aucun jour n'est attribué.".into());
                }
                if let Some(a) = alternating
                    && a.first == a.second
                {
                    return bad("les jours alternés doivent aller à deux foyers différents.".into());
                }
            }
            CustodyRule::DateRange { .. } => {
                if p.valid_to.is_none() {
                    return bad("une période explicite doit avoir une date de fin.".into());
                }
            }
            CustodyRule::HourlySlot {
                start_day,
                start_time,
                end_day,
                end_time,
                ..
            } => {
                if slot_span(*start_day, *start_time, *end_day, *end_time).is_none() {
                    return bad("le créneau doit finir après son début.".into());
                }
            }
        }
    }
    if households.len() > 2 {
        return bad("un enfant est rattaché à deux foyers au plus.".into());
    }
    Ok(())
}

/// French weekday name.
pub fn weekday_fr(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "lundi",
        Weekday::Tue => "mardi",
        Weekday::Wed => "mercredi",
        Weekday::Thu => "jeudi",
        Weekday::Fri => "vendredi",
        Weekday::Sat => "samedi",
        Weekday::Sun => "dimanche",
    }
}

#[cfg(test)]
#[path = "custody_tests.rs"]
mod tests;
