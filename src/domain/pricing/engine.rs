//! The pricing of one consumption: base line, surcharges, overtime.
//!
//! 1. The grid version in force on the day is the only one consulted.
//! 2. A consumption that is not billable, or whose attendance state is not billed, yields no
//!    line at all.
//! 3. The first rule whose criteria match gives the base unit price (flat, QF bracket, effort
//!    rate, PSU); every matching adjustment then modifies it in order, never below zero.
//! 4. The unit price is rounded to the cent if the city rounds unit prices; the line amount is
//!    `round_half_up_to_cent(unit price × quantity)`.
//! 5. Every matching surcharge adds a line; overtime past closing adds a line.
//!
//! Aids are not applied here: their caps span days, so they are a fold over a month's lines
//! ([`super::apply_aids`]).

use std::sync::Arc;

use rust_decimal::Decimal;

use super::criteria::Subject;
use super::duration::{count_overtime, count_quantity};
use super::error::PricingError;
use super::explain::{AppliedAdjustment, LineBasis, PriceBasis};
use super::model::{Consumption, FamilySituation, PricedLine};
use super::psu::Bareme;
use super::rules::{
    Adjustment, AdjustmentEffect, GridVersion, PriceSource, SurchargeCharge, TariffGrid, TariffRule,
};
use super::settings::PricingSettings;
use super::unit_price::{PriceInputs, base_price};
use super::{Cents, round_half_up_to_cent};

/// What pricing needs besides the grid: the city's settings and the CNAF barème.
#[derive(Clone, Copy, Debug)]
pub struct PricingContext<'a> {
    pub settings: &'a PricingSettings,
    pub bareme: &'a Bareme,
}

/// Prices one consumption. Pure: the same input always gives the same lines.
pub fn price(
    consumption: &Consumption,
    situation: &FamilySituation,
    grid: &TariffGrid,
    context: &PricingContext,
) -> Result<Vec<PricedLine>, PricingError> {
    if *grid.activity != *consumption.activity {
        return Err(PricingError::WrongGrid {
            grid: grid.activity.to_string(),
            activity: consumption.activity.clone(),
        });
    }
    let version = grid
        .version_on(consumption.date)
        .ok_or_else(|| PricingError::NoGridInForce {
            activity: consumption.activity.clone(),
            date: consumption.date,
        })?;
    if !is_billed(consumption, version, context.settings) {
        return Ok(Vec::new());
    }
    let subject = Subject {
        unit: Some(&consumption.unit),
        state: Some(consumption.state),
        tariff: consumption.tariff.as_deref(),
        situation,
    };
    let rule = version
        .rules
        .iter()
        .find(|rule| rule.when.matches(&subject))
        .ok_or_else(|| PricingError::NoRuleApplies {
            activity: consumption.activity.clone(),
            unit: consumption.unit.clone(),
            date: consumption.date,
        })?;
    let lines = LineBuilder { consumption, grid };

    let base = base_line(&lines, situation, version, rule, &subject, context)?;
    let base_amount = base.amount;
    let mut priced = Vec::with_capacity(1);
    priced.push(base);
    for surcharge in version
        .surcharges
        .iter()
        .filter(|s| s.when.matches(&subject))
    {
        let amount = match surcharge.charge {
            SurchargeCharge::Fixed(amount) => amount,
            SurchargeCharge::PercentOfBase(percent) => {
                round_half_up_to_cent(percent.of(base_amount.to_decimal())?)?
            }
        };
        if amount != Cents::ZERO {
            let basis = LineBasis::Surcharge {
                label: Arc::clone(&surcharge.label),
                state: consumption.state,
                charge: surcharge.charge,
                base_amount,
            };
            priced.push(lines.line(
                &surcharge.id,
                Decimal::ONE,
                amount.to_decimal(),
                amount,
                basis,
            ));
        }
    }
    if let (Some(overtime), Some((steps, basis))) =
        (&rule.overtime, count_overtime(rule, consumption)?)
    {
        let quantity = Decimal::from(steps);
        let unit_price = overtime.amount.to_decimal();
        let exact = unit_price
            .checked_mul(quantity)
            .ok_or(PricingError::Overflow)?;
        let amount = round_half_up_to_cent(exact)?;
        priced.push(lines.line(&overtime.id, quantity, unit_price, amount, basis));
    }
    Ok(priced)
}

/// Billable, and in a state the grid version (or else the city) bills.
fn is_billed(consumption: &Consumption, version: &GridVersion, settings: &PricingSettings) -> bool {
    let billed_states = version
        .billed_states
        .as_ref()
        .unwrap_or(&settings.billed_states);
    consumption.billable && billed_states.contains(&consumption.state)
}

fn base_line(
    lines: &LineBuilder,
    situation: &FamilySituation,
    version: &GridVersion,
    rule: &TariffRule,
    subject: &Subject,
    context: &PricingContext,
) -> Result<PricedLine, PricingError> {
    let consumption = lines.consumption;
    let inputs = PriceInputs {
        rule_id: &rule.id,
        situation,
        date: consumption.date,
        settings: context.settings,
        bareme: context.bareme,
    };
    let price = base_price(&rule.price, &inputs)?;
    let (adjusted, adjustments) = apply_adjustments(price.price(), &version.adjustments, subject)?;
    let unit_price = context
        .settings
        .rounding_point
        .settle_unit_price(adjusted)?;
    let counted = count_quantity(rule, consumption)?;
    let amount = round_half_up_to_cent(counted.extend(unit_price)?)?;
    let rule_id = line_rule_id(rule, &price);
    let basis = LineBasis::Base {
        price,
        adjustments,
        quantity: counted.basis,
        unit_label: lines.grid.unit_label(&consumption.unit),
    };
    Ok(lines.line(rule_id, counted.quantity, unit_price, amount, basis))
}

/// A QF-bracket line carries the bracket's own id ("cantine-qf-3"), other lines the rule's.
fn line_rule_id<'a>(rule: &'a TariffRule, price: &PriceBasis) -> &'a Arc<str> {
    match (&rule.price, price) {
        (PriceSource::QfBrackets { brackets }, PriceBasis::QfBracket { rank, .. }) => brackets
            .get(rank - 1)
            .map_or(&rule.id, |bracket| &bracket.id),
        _ => &rule.id,
    }
}

/// Applies every matching adjustment in the order the city wrote them, each to the running
/// unit price (so -10 % then +20 % is ×0.9×1.2), never going below zero.
fn apply_adjustments(
    price: Decimal,
    adjustments: &[Adjustment],
    subject: &Subject,
) -> Result<(Decimal, Vec<AppliedAdjustment>), PricingError> {
    let mut current = price;
    let mut applied = Vec::new();
    for adjustment in adjustments.iter().filter(|a| a.when.matches(subject)) {
        current = adjusted_price(current, adjustment.effect)?.max(Decimal::ZERO);
        applied.push(AppliedAdjustment {
            id: Arc::clone(&adjustment.id),
            label: Arc::clone(&adjustment.label),
            effect: adjustment.effect,
            price_after: current,
        });
    }
    Ok((current, applied))
}

fn adjusted_price(price: Decimal, effect: AdjustmentEffect) -> Result<Decimal, PricingError> {
    match effect {
        AdjustmentEffect::Percent(percent) => price.checked_add(percent.of(price)?),
        AdjustmentEffect::Amount(amount) => price.checked_add(amount.to_decimal()),
        AdjustmentEffect::SetPrice(new_price) => Some(new_price.to_decimal()),
    }
    .ok_or(PricingError::Overflow)
}

/// Builds the lines of one consumption priced with one grid.
struct LineBuilder<'a> {
    consumption: &'a Consumption,
    grid: &'a TariffGrid,
}

impl LineBuilder<'_> {
    fn line(
        &self,
        rule_id: &Arc<str>,
        quantity: Decimal,
        unit_price: Decimal,
        amount: Cents,
        basis: LineBasis,
    ) -> PricedLine {
        PricedLine {
            child_id: self.consumption.child_id,
            date: self.consumption.date,
            activity: Arc::clone(&self.grid.activity),
            unit: self.consumption.unit.clone(),
            rule_id: Arc::clone(rule_id),
            quantity,
            unit_price,
            amount,
            basis,
        }
    }
}
