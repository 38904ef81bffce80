//! "Why this price?": the figures behind each priced line, and their French rendering.
//!
//! A line keeps the figures, not a sentence: the sentence is rendered on demand by
//! [`PricedLine::explanation`], so it can never disagree with the amounts, and pricing a
//! million consumptions does not format a million sentences nobody reads.

use std::fmt::{self, Write};
use std::sync::Arc;

use chrono::NaiveTime;
use rust_decimal::Decimal;
use serde::Serialize;

use super::Cents;
use super::aids::{AidAmount, AidCap, Funder};
use super::model::{AttendanceState, LineKind, PricedLine};
use super::money::group_thousands;
use super::percent::{Percent, decimal_fr, strict_decimal};
use super::psu::PsuFigures;
use super::rules::{AdjustmentEffect, IncomeBase, PricedPer, StepRounding, SurchargeCharge};

/// The figures that produced a line, by kind of line.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LineBasis {
    Base {
        price: PriceBasis,
        adjustments: Vec<AppliedAdjustment>,
        quantity: QuantityBasis,
        unit_label: Arc<str>,
    },
    Surcharge {
        label: Arc<str>,
        state: AttendanceState,
        charge: SurchargeCharge,
        base_amount: Cents,
    },
    /// Quantity = steps of overtime, unit price = price per step.
    Overtime {
        closing: NaiveTime,
        departure: NaiveTime,
        overtime_minutes: u32,
        grace_minutes: u16,
        step_minutes: u16,
        rounding: StepRounding,
    },
    /// An aid deducted from the line with `target_rule_id` just before it.
    Aid {
        label: Arc<str>,
        funder: Funder,
        rule: AidAmount,
        target_rule_id: Arc<str>,
        target_amount: Cents,
        /// What the aid would have been without caps.
        computed: Cents,
        cap: Option<AidCap>,
    },
}

/// Where the base unit price came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PriceBasis {
    Flat {
        #[serde(with = "strict_decimal")]
        price: Decimal,
    },
    QfBracket {
        /// `None` when the QF was missing and the city's policy chose the bracket.
        qf: Option<Cents>,
        rank: usize,
        min: Cents,
        max: Option<Cents>,
        choice: BracketChoice,
        #[serde(with = "strict_decimal")]
        price: Decimal,
    },
    EffortRate {
        base: IncomeBase,
        /// `None` when the income was missing and the city's policy chose the ceiling.
        income: Option<Cents>,
        rate: Percent,
        adjustment: Cents,
        #[serde(with = "strict_decimal")]
        computed: Decimal,
        limit: Option<PriceLimit>,
        #[serde(with = "strict_decimal")]
        price: Decimal,
    },
    Psu(PsuFigures),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BracketChoice {
    /// The QF is within the bracket's bounds.
    Contains,
    /// The QF fell in a gap; the city attaches it to the bracket below.
    GapToLower,
    /// The QF fell in a gap; the city attaches it to the bracket above.
    GapToUpper,
    /// No QF; the city prices at the dearest bracket.
    MissingQfDearest,
    /// No QF; the city prices at a given bracket.
    MissingQfGiven,
}

/// Which of the city's price limits applied to an effort-rate price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "amount", rename_all = "snake_case")]
pub enum PriceLimit {
    Floor(Cents),
    Ceiling(Cents),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppliedAdjustment {
    pub id: Arc<str>,
    pub label: Arc<str>,
    pub effect: AdjustmentEffect,
    #[serde(with = "strict_decimal")]
    pub price_after: Decimal,
}

/// How the quantity was counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuantityBasis {
    Unit,
    Duration {
        arrival: NaiveTime,
        /// The departure, or the closing time when the time after it is billed as overtime.
        counted_until: NaiveTime,
        actual_minutes: u32,
        charged_minutes: u32,
        step_minutes: u16,
        rounding: StepRounding,
        per: PricedPer,
        limit: Option<DurationLimit>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "minutes", rename_all = "snake_case")]
pub enum DurationLimit {
    Minimum(u16),
    Maximum(u16),
}

impl LineBasis {
    pub fn kind(&self) -> LineKind {
        match self {
            LineBasis::Base { .. } => LineKind::Base,
            LineBasis::Surcharge { .. } => LineKind::Surcharge,
            LineBasis::Overtime { .. } => LineKind::Overtime,
            LineBasis::Aid { .. } => LineKind::Aid,
        }
    }
}

impl PricedLine {
    /// The line in French, with every figure that produced it, e.g.
    /// « QF 742 € dans la tranche 3 (701 € à 900 €) : 3,84 € × 1 repas = 3,84 € ».
    pub fn explanation(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_explanation(&mut text);
        text
    }

    fn write_explanation(&self, out: &mut String) -> fmt::Result {
        match &self.basis {
            LineBasis::Base {
                price,
                adjustments,
                quantity,
                unit_label,
            } => self.write_base(out, price, adjustments, quantity, unit_label),
            LineBasis::Surcharge {
                label,
                state,
                charge,
                base_amount,
            } => match charge {
                SurchargeCharge::Fixed(amount) => {
                    write!(out, "{label} ({}) : {amount}", state.label_fr())
                }
                SurchargeCharge::PercentOfBase(percent) => write!(
                    out,
                    "{label} ({}) : {percent} de {base_amount} = {}",
                    state.label_fr(),
                    self.amount
                ),
            },
            LineBasis::Overtime {
                closing,
                departure,
                overtime_minutes,
                grace_minutes,
                step_minutes,
                rounding,
            } => {
                write!(
                    out,
                    "Dépassement après la fermeture de {} : départ à {}, soit {}",
                    time_fr(*closing),
                    time_fr(*departure),
                    minutes_fr(*overtime_minutes)
                )?;
                if *grace_minutes > 0 {
                    write!(out, " (au-delà de la tolérance de {} min)", grace_minutes)?;
                }
                write!(
                    out,
                    ", {} ; {} × {} = {}",
                    steps_fr(*step_minutes, *rounding),
                    decimal_fr(self.quantity),
                    euros_fr(self.unit_price),
                    self.amount
                )
            }
            LineBasis::Aid {
                label,
                funder,
                rule,
                target_amount,
                computed,
                cap,
                ..
            } => {
                write!(out, "{} « {label} » : ", funder.label_fr())?;
                match rule {
                    AidAmount::Percent(percent) => {
                        write!(out, "{percent} de {target_amount} = {computed}")?
                    }
                    AidAmount::PerUnit(amount) => write!(out, "{amount} par unité = {computed}")?,
                    AidAmount::PerLine(amount) => write!(out, "{amount} par prestation")?,
                }
                if let Some(cap) = cap {
                    write!(out, ", limitée à {} {}", -self.amount, cap.reason_fr())?;
                }
                write!(out, " ; déduit : {}", self.amount)
            }
        }
    }
}

impl PricedLine {
    /// « QF 742 € dans la tranche 3 (701 € à 900 €) : 3,84 € × 1 repas = 3,84 € », or, when the
    /// price went through adjustments or rounding, every step: « … : 3,84 € ; Réduction fratrie
    /// (-10 %) : 3,456 € ; arrondi à 3,46 € ; 3,46 € × 1 repas = 3,46 € ».
    fn write_base(
        &self,
        out: &mut String,
        price: &PriceBasis,
        adjustments: &[AppliedAdjustment],
        quantity: &QuantityBasis,
        unit_label: &str,
    ) -> fmt::Result {
        write_price_basis(out, price)?;
        if adjustments.is_empty() && price.price() == self.unit_price {
            out.push_str(" : ");
        } else {
            write!(out, " : {}", euros_fr(price.price()))?;
            for adjustment in adjustments {
                write!(
                    out,
                    " ; {} ({}) : {}",
                    adjustment.label,
                    effect_fr(adjustment.effect),
                    euros_fr(adjustment.price_after)
                )?;
            }
            let adjusted = adjustments.last().map_or(price.price(), |a| a.price_after);
            if adjusted != self.unit_price {
                write!(out, " ; arrondi à {}", euros_fr(self.unit_price))?;
            }
            out.push_str(" ; ");
        }
        write_quantity(out, self.unit_price, self.quantity, quantity, unit_label)?;
        write!(out, " = {}", self.amount)
    }
}

impl PriceBasis {
    /// The unit price this basis produced, before adjustments.
    pub fn price(&self) -> Decimal {
        match self {
            PriceBasis::Flat { price }
            | PriceBasis::QfBracket { price, .. }
            | PriceBasis::EffortRate { price, .. } => *price,
            PriceBasis::Psu(figures) => figures.exact_hourly_rate,
        }
    }
}

fn write_price_basis(out: &mut String, basis: &PriceBasis) -> fmt::Result {
    match basis {
        PriceBasis::Flat { .. } => out.push_str("Tarif unique"),
        PriceBasis::QfBracket {
            qf,
            rank,
            min,
            max,
            choice,
            ..
        } => {
            let bracket = format!("tranche {rank} ({})", bounds_fr(*min, *max));
            let qf = qf.map(euros_compact).unwrap_or_default();
            match choice {
                BracketChoice::Contains => write!(out, "QF {qf} dans la {bracket}")?,
                BracketChoice::GapToLower => write!(
                    out,
                    "QF {qf} entre deux tranches, rattaché à la tranche inférieure selon le paramétrage de la ville : {bracket}"
                )?,
                BracketChoice::GapToUpper => write!(
                    out,
                    "QF {qf} entre deux tranches, rattaché à la tranche supérieure selon le paramétrage de la ville : {bracket}"
                )?,
                BracketChoice::MissingQfDearest => write!(
                    out,
                    "QF non renseigné : tranche la plus chère appliquée selon le paramétrage de la ville, {bracket}"
                )?,
                BracketChoice::MissingQfGiven => write!(
                    out,
                    "QF non renseigné : {bracket} appliquée selon le paramétrage de la ville"
                )?,
            }
        }
        PriceBasis::EffortRate {
            base,
            income,
            rate,
            adjustment,
            computed,
            limit,
            ..
        } => {
            let (name, missing) = match base {
                IncomeBase::Qf => ("QF", "QF non renseigné"),
                IncomeBase::MonthlyResources => (
                    "ressources mensuelles",
                    "ressources mensuelles non renseignées",
                ),
            };
            match income {
                None => write!(
                    out,
                    "{missing} : prix plafond appliqué selon le paramétrage de la ville"
                )?,
                Some(income) => {
                    write!(
                        out,
                        "{name} {} × taux d'effort {rate}",
                        euros_compact(*income)
                    )?;
                    if *adjustment != Cents::ZERO {
                        write!(out, " + ajustement {adjustment}")?;
                    }
                    write!(out, " = {}", euros_fr(*computed))?;
                    match limit {
                        Some(PriceLimit::Floor(floor)) => {
                            write!(out, ", porté au prix plancher {floor}")?
                        }
                        Some(PriceLimit::Ceiling(ceiling)) => {
                            write!(out, ", ramené au prix plafond {ceiling}")?
                        }
                        None => {}
                    }
                }
            }
        }
        PriceBasis::Psu(figures) => write!(out, "{figures}")?,
    }
    Ok(())
}

fn write_quantity(
    out: &mut String,
    unit_price: Decimal,
    quantity: Decimal,
    basis: &QuantityBasis,
    unit_label: &str,
) -> fmt::Result {
    let price = euros_fr(unit_price);
    match basis {
        QuantityBasis::Unit => write!(out, "{price} × {} {unit_label}", decimal_fr(quantity)),
        QuantityBasis::Duration {
            arrival,
            counted_until,
            actual_minutes,
            step_minutes,
            rounding,
            per,
            limit,
            ..
        } => {
            let counted = match per {
                PricedPer::Hour => format!("{} h", decimal_fr(quantity)),
                PricedPer::Step => {
                    format!("{} tranche(s) de {step_minutes} min", decimal_fr(quantity))
                }
            };
            write!(
                out,
                "{price} × {counted} ({unit_label} de {} à {}, soit {}, {}",
                time_fr(*arrival),
                time_fr(*counted_until),
                minutes_fr(*actual_minutes),
                steps_fr(*step_minutes, *rounding)
            )?;
            match limit {
                Some(DurationLimit::Minimum(min)) => {
                    write!(out, ", minimum facturé {}", minutes_fr(u32::from(*min)))?
                }
                Some(DurationLimit::Maximum(max)) => {
                    write!(out, ", maximum facturé {}", minutes_fr(u32::from(*max)))?
                }
                None => {}
            }
            out.push(')');
            Ok(())
        }
    }
}

fn effect_fr(effect: AdjustmentEffect) -> String {
    match effect {
        AdjustmentEffect::Percent(percent) if percent.0.is_sign_negative() => format!("{percent}"),
        AdjustmentEffect::Percent(percent) => format!("+{percent}"),
        AdjustmentEffect::Amount(amount) if amount.is_negative() => format!("{amount} par unité"),
        AdjustmentEffect::Amount(amount) => format!("+{amount} par unité"),
        AdjustmentEffect::SetPrice(price) => format!("prix fixé à {price}"),
    }
}

fn steps_fr(step_minutes: u16, rounding: StepRounding) -> String {
    match rounding {
        StepRounding::Up => format!("comptée par tranches de {step_minutes} min entamées"),
        StepRounding::Nearest => {
            format!("arrondie à la tranche de {step_minutes} min la plus proche")
        }
        StepRounding::Down => format!("comptée par tranches de {step_minutes} min complètes"),
    }
}

/// Euros with at least two decimals, more when the price is exact to a fraction of a cent:
/// `3,84 €`, `1,548 €`, `2 000,00 €`.
pub(crate) fn euros_fr(value: Decimal) -> String {
    let normalized = value.normalize();
    if normalized.scale() <= 2 {
        let cents = normalized.mantissa() * 10_i128.pow(2 - normalized.scale());
        if let Ok(cents) = i64::try_from(cents) {
            return Cents(cents).to_string();
        }
    }
    let sign = if normalized.is_sign_negative() {
        "-"
    } else {
        ""
    };
    let text = normalized.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole = whole
        .parse::<u64>()
        .map_or_else(|_| whole.to_owned(), group_thousands);
    format!("{sign}{whole},{fraction}\u{a0}€")
}

/// Euros without decimals when whole, for QFs and bounds: `742 €`, `900,50 €`.
pub(crate) fn euros_compact(value: Cents) -> String {
    if value.0 % 100 != 0 {
        return value.to_string();
    }
    let sign = if value.is_negative() { "-" } else { "" };
    format!(
        "{sign}{}\u{a0}€",
        group_thousands(value.0.unsigned_abs() / 100)
    )
}

fn bounds_fr(min: Cents, max: Option<Cents>) -> String {
    match max {
        Some(max) => format!("{} à {}", euros_compact(min), euros_compact(max)),
        None => format!("{} et plus", euros_compact(min)),
    }
}

pub(crate) fn time_fr(time: NaiveTime) -> String {
    time.format("%Hh%M").to_string()
}

pub(crate) fn minutes_fr(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_euros_with_cents_or_more() {
        assert_eq!(euros_fr("3.84".parse().unwrap()), "3,84\u{a0}€");
        assert_eq!(euros_fr("3.8".parse().unwrap()), "3,80\u{a0}€");
        assert_eq!(euros_fr("1.548".parse().unwrap()), "1,548\u{a0}€");
        assert_eq!(
            euros_fr("1234.5678".parse().unwrap()),
            "1\u{a0}234,5678\u{a0}€"
        );
        assert_eq!(euros_fr("-0.125".parse().unwrap()), "-0,125\u{a0}€");
        assert_eq!(euros_fr(Decimal::ZERO), "0,00\u{a0}€");
    }

    #[test]
    fn formats_compact_euros_and_times() {
        assert_eq!(euros_compact(Cents(74_200)), "742\u{a0}€");
        assert_eq!(euros_compact(Cents(90_050)), "900,50\u{a0}€");
        assert_eq!(euros_compact(Cents(150_000)), "1\u{a0}500\u{a0}€");
        assert_eq!(euros_compact(Cents(-100)), "-1\u{a0}€");
        assert_eq!(minutes_fr(142), "2 h 22 min");
        assert_eq!(minutes_fr(120), "2 h");
        assert_eq!(minutes_fr(5), "5 min");
        assert_eq!(time_fr(NaiveTime::from_hms_opt(8, 5, 0).unwrap()), "08h05");
    }
}
