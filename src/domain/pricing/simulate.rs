//! Quote: a typical week repeated over a month, priced and totalled (portal simulation, printed
//! quote in the family's synthetic view).

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use super::Cents;
use super::aids::{Aid, AidUsage, apply_aids};
use super::engine::{PricingContext, price};
use super::error::PricingError;
use super::model::{AttendanceState, Consumption, FamilySituation, PricedLine};
use super::rules::TariffGrid;

/// What the child would attend each week.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypicalWeek {
    pub slots: Vec<PlannedSlot>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedSlot {
    pub weekday: Weekday,
    pub activity: String,
    pub unit: String,
    #[serde(default)]
    pub arrival: Option<NaiveTime>,
    #[serde(default)]
    pub departure: Option<NaiveTime>,
    #[serde(default)]
    pub closing_time: Option<NaiveTime>,
}

/// A month of a typical week for one child.
#[derive(Clone, Copy, Debug)]
pub struct MonthPlan<'a> {
    pub child_id: i64,
    /// Any day of the simulated month.
    pub month: NaiveDate,
    pub week: &'a TypicalWeek,
    /// Days without service (public holidays, closures): nothing is planned on them.
    pub closed_days: &'a BTreeSet<NaiveDate>,
    /// Tariff code the enrolment would get.
    pub tariff: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Quote {
    /// Priced lines, aids right after the line they reduce.
    pub lines: Vec<PricedLine>,
    pub total: Cents,
}

/// Prices every planned day of the month as if the child attended as planned (state
/// `Present`), applies the family's aids (without prior usage: a quote does not know what the
/// family already received), and totals.
pub fn simulate_month(
    plan: &MonthPlan,
    situation: &FamilySituation,
    grids: &[TariffGrid],
    aids: &[Aid],
    context: &PricingContext,
) -> Result<Quote, PricingError> {
    let mut lines = Vec::new();
    for consumption in planned_consumptions(plan) {
        let grid = grids
            .iter()
            .find(|grid| *grid.activity == *consumption.activity)
            .ok_or_else(|| PricingError::NoGridInForce {
                activity: consumption.activity.clone(),
                date: consumption.date,
            })?;
        lines.extend(price(&consumption, situation, grid, context)?);
    }
    let lines = apply_aids(lines, aids, &AidUsage::default())?.lines;
    let total = lines.iter().map(|line| line.amount).sum();
    Ok(Quote { lines, total })
}

/// The month's open days in order, with the week's slots of each day.
fn planned_consumptions<'a>(plan: &'a MonthPlan) -> impl Iterator<Item = Consumption> + 'a {
    let first = plan.month.with_day(1).unwrap_or(plan.month);
    first
        .iter_days()
        .take_while(move |day| day.month() == first.month())
        .filter(|day| !plan.closed_days.contains(day))
        .flat_map(move |day| {
            plan.week
                .slots
                .iter()
                .filter(move |slot| slot.weekday == day.weekday())
                .map(move |slot| Consumption {
                    child_id: plan.child_id,
                    activity: slot.activity.clone(),
                    unit: slot.unit.clone(),
                    date: day,
                    arrival: slot.arrival,
                    departure: slot.departure,
                    closing_time: slot.closing_time,
                    state: AttendanceState::Present,
                    billable: true,
                    tariff: plan.tariff.map(str::to_owned),
                })
        })
}
