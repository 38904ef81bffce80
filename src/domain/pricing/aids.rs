//! Aids (city, CCAS, département, CAF, employer) deducted line by line, within caps.
//!
//! Caps per day and per period need to know what was already granted, so aids are applied as
//! a pure fold over a family's lines of a month, in chronological order: call [`apply_aids`]
//! once per family and month with all its lines. Usage of caps that span months (a CCAS grant
//! of 100 € for the school year) is carried in and out as [`AidUsage`].

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::dated::{EffectiveDated, check_periods, effective_dated};
use super::error::{ConfigError, PricingError};
use super::explain::LineBasis;
use super::model::{LineKind, PricedLine};
use super::percent::Percent;
use super::{Cents, round_half_up_to_cent};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Funder {
    City,
    Ccas,
    Departement,
    Caf,
    Employer,
}

impl Funder {
    pub fn label_fr(self) -> &'static str {
        match self {
            Funder::City => "Aide de la ville",
            Funder::Ccas => "Aide du CCAS",
            Funder::Departement => "Aide du département",
            Funder::Caf => "Aide de la CAF",
            Funder::Employer => "Aide de l'employeur",
        }
    }
}

/// An aid granted to a family (the caller passes the aids the family is entitled to).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aid {
    pub id: Arc<str>,
    pub label: Arc<str>,
    pub funder: Funder,
    pub valid_from: NaiveDate,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// Children it was granted for; empty = every child of the family.
    #[serde(default)]
    pub children: Vec<i64>,
    /// Activity codes it applies to; empty = all.
    #[serde(default)]
    pub activities: Vec<String>,
    /// Kinds of lines it reduces; by default the price itself, not surcharges nor overtime.
    #[serde(default = "base_lines_only")]
    pub line_kinds: Vec<LineKind>,
    pub amount: AidAmount,
    #[serde(default)]
    pub cap_per_day: Option<Cents>,
    #[serde(default)]
    pub cap_per_period: Option<Cents>,
    #[serde(default)]
    pub period: AidPeriod,
    /// Whether the caps count per child or for the whole family.
    #[serde(default)]
    pub cap_scope: CapScope,
}
effective_dated!(Aid);

fn base_lines_only() -> Vec<LineKind> {
    vec![LineKind::Base]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AidAmount {
    /// `{ percent = "50" }` of the line amount.
    Percent(Percent),
    /// `{ per_unit = "1.00" }` per unit of the line's quantity (per meal, per hour).
    PerUnit(Cents),
    /// `{ per_line = "2.00" }` per line.
    PerLine(Cents),
}

/// The period of `cap_per_period`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AidPeriod {
    /// Calendar month.
    #[default]
    Month,
    /// The aid's whole validity (a yearly grant).
    Validity,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapScope {
    #[default]
    Child,
    Family,
}

/// What limited an aid below its computed amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AidCap {
    /// The line (after earlier aids) was cheaper than the aid: an aid never makes a price
    /// negative.
    LineAmount,
    Day,
    Period(AidPeriod),
}

impl AidCap {
    pub fn reason_fr(self) -> &'static str {
        match self {
            AidCap::LineAmount => "pour ne pas dépasser le montant de la prestation",
            AidCap::Day => "par le plafond journalier",
            AidCap::Period(AidPeriod::Month) => "par le plafond mensuel",
            AidCap::Period(AidPeriod::Validity) => "par le plafond de la période d'attribution",
        }
    }
}

/// Amounts already granted, per aid, cap scope and period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AidUsage(pub BTreeMap<UsageKey, Cents>);

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UsageKey {
    pub aid_id: Arc<str>,
    /// `None` when the aid's caps count for the whole family.
    pub child_id: Option<i64>,
    /// First day of the period: the first of the month, or the aid's `valid_from`.
    pub period_start: NaiveDate,
}

/// The lines with each aid line right after the line it reduces, and the updated usage.
#[derive(Clone, Debug, PartialEq)]
pub struct AidsOutcome {
    pub lines: Vec<PricedLine>,
    pub usage: AidUsage,
}

impl Aid {
    fn covers(&self, line: &PricedLine) -> bool {
        line.amount.is_positive()
            && self.in_force_on(line.date)
            && self.line_kinds.contains(&line.kind())
            && (self.children.is_empty() || self.children.contains(&line.child_id))
            && (self.activities.is_empty() || self.activities.iter().any(|a| **a == *line.activity))
    }

    /// The aid before caps, rounded with the product's one rounding function.
    fn computed_for(&self, line: &PricedLine) -> Result<Cents, PricingError> {
        let exact = match self.amount {
            AidAmount::Percent(percent) => percent.of(line.amount.to_decimal())?,
            AidAmount::PerUnit(amount) => amount
                .to_decimal()
                .checked_mul(line.quantity)
                .ok_or(PricingError::Overflow)?,
            AidAmount::PerLine(amount) => amount.to_decimal(),
        };
        Ok(round_half_up_to_cent(exact)?)
    }

    fn scope(&self, line: &PricedLine) -> Option<i64> {
        match self.cap_scope {
            CapScope::Child => Some(line.child_id),
            CapScope::Family => None,
        }
    }

    fn period_start(&self, day: NaiveDate) -> NaiveDate {
        match self.period {
            AidPeriod::Month => day.with_day(1).unwrap_or(day),
            AidPeriod::Validity => self.valid_from,
        }
    }
}

/// Deducts the aids from the lines. Lines are visited in chronological order (then by child,
/// then as given) so caps are consumed by the earliest days whatever the input order; aids are
/// applied to a line in the order given (list the aids by priority, e.g. CAF before city).
/// An aid never takes a line below zero. The lines are taken by value: they come back, in
/// their order, with the aid lines inserted.
pub fn apply_aids(
    lines: Vec<PricedLine>,
    aids: &[Aid],
    prior_usage: &AidUsage,
) -> Result<AidsOutcome, PricingError> {
    let mut usage = prior_usage.clone();
    let mut daily: BTreeMap<(usize, Option<i64>, NaiveDate), Cents> = BTreeMap::new();
    let mut deductions: Vec<Vec<PricedLine>> = vec![Vec::new(); lines.len()];

    let mut chronological: Vec<usize> = (0..lines.len()).collect();
    chronological.sort_by_key(|&i| (lines[i].date, lines[i].child_id, i));
    for index in chronological {
        let line = &lines[index];
        let mut remaining = line.amount;
        for (aid_index, aid) in aids.iter().enumerate().filter(|(_, aid)| aid.covers(line)) {
            let computed = aid.computed_for(line)?;
            let scope = aid.scope(line);
            let day_key = (aid_index, scope, line.date);
            let period_key = UsageKey {
                aid_id: aid.id.clone(),
                child_id: scope,
                period_start: aid.period_start(line.date),
            };
            let limits = [
                (Some(remaining), AidCap::LineAmount),
                (left(aid.cap_per_day, daily.get(&day_key)), AidCap::Day),
                (
                    left(aid.cap_per_period, usage.0.get(&period_key)),
                    AidCap::Period(aid.period),
                ),
            ];
            let (granted, cap) = limit_aid(computed, &limits);
            if !granted.is_positive() {
                continue;
            }
            *daily.entry(day_key).or_default() += granted;
            *usage.0.entry(period_key).or_default() += granted;
            remaining -= granted;
            deductions[index].push(aid_line(aid, line, computed, granted, cap));
        }
    }

    let mut result =
        Vec::with_capacity(lines.len() + deductions.iter().map(Vec::len).sum::<usize>());
    for (line, aid_lines) in lines.into_iter().zip(deductions) {
        result.push(line);
        result.extend(aid_lines);
    }
    Ok(AidsOutcome {
        lines: result,
        usage,
    })
}

/// What is left under a cap (`None` = no cap).
fn left(cap: Option<Cents>, used: Option<&Cents>) -> Option<Cents> {
    cap.map(|cap| (cap - used.copied().unwrap_or_default()).max(Cents::ZERO))
}

/// The computed aid, lowered to the tightest limit; the first limit that bit is reported.
fn limit_aid(computed: Cents, limits: &[(Option<Cents>, AidCap)]) -> (Cents, Option<AidCap>) {
    limits
        .iter()
        .filter_map(|(limit, cap)| limit.map(|limit| (limit, *cap)))
        .fold((computed, None), |(granted, cap), (limit, reason)| {
            if limit < granted {
                (limit, Some(reason))
            } else {
                (granted, cap)
            }
        })
}

fn aid_line(
    aid: &Aid,
    target: &PricedLine,
    computed: Cents,
    granted: Cents,
    cap: Option<AidCap>,
) -> PricedLine {
    PricedLine {
        child_id: target.child_id,
        date: target.date,
        activity: target.activity.clone(),
        unit: target.unit.clone(),
        rule_id: aid.id.clone(),
        quantity: Decimal::ONE,
        unit_price: (-granted).to_decimal(),
        amount: -granted,
        basis: LineBasis::Aid {
            label: aid.label.clone(),
            funder: aid.funder,
            rule: aid.amount,
            target_rule_id: target.rule_id.clone(),
            target_amount: target.amount,
            computed,
            cap,
        },
    }
}

/// Checks a family's (or a city's) aid definitions when they are loaded.
pub fn validate_aids(aids: &[Aid]) -> Result<(), ConfigError> {
    let mut ids = std::collections::BTreeSet::new();
    for aid in aids {
        let what = format!("aide « {} »", aid.id);
        if !ids.insert(&*aid.id) {
            return Err(ConfigError::invalid(what, "identifiant utilisé deux fois"));
        }
        check_periods(std::slice::from_ref(aid), &what)?;
        let amount_ok = match aid.amount {
            AidAmount::Percent(percent) => percent.is_positive() && percent.0 <= Decimal::from(100),
            AidAmount::PerUnit(amount) | AidAmount::PerLine(amount) => amount.is_positive(),
        };
        if !amount_ok {
            return Err(ConfigError::invalid(
                what,
                "le montant doit être positif (et un pourcentage d'au plus 100 %)",
            ));
        }
        let caps = [aid.cap_per_day, aid.cap_per_period];
        if caps.iter().flatten().any(|cap| cap.is_negative()) {
            return Err(ConfigError::invalid(
                what,
                "un plafond ne peut pas être négatif",
            ));
        }
        if aid.line_kinds.is_empty() || aid.line_kinds.contains(&LineKind::Aid) {
            return Err(ConfigError::invalid(
                what,
                "une aide s'applique à des prestations (base, majoration, dépassement), pas à une autre aide",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::explain::{PriceBasis, QuantityBasis};
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn meal(child_id: i64, date: &str, cents: i64) -> PricedLine {
        PricedLine {
            child_id,
            date: day(date),
            activity: "cantine".into(),
            unit: "repas".to_owned(),
            rule_id: "cantine-qf-3".into(),
            quantity: Decimal::ONE,
            unit_price: Cents(cents).to_decimal(),
            amount: Cents(cents),
            basis: LineBasis::Base {
                price: PriceBasis::Flat {
                    price: Cents(cents).to_decimal(),
                },
                adjustments: Vec::new(),
                quantity: QuantityBasis::Unit,
                unit_label: "repas".into(),
            },
        }
    }

    fn aid(toml_text: &str) -> Aid {
        let aid: Aid = toml::from_str(&format!(
            "id = \"ccas\"\nlabel = \"Coup de pouce cantine\"\nfunder = \"ccas\"\nvalid_from = \"2025-09-01\"\n{toml_text}"
        ))
        .unwrap();
        validate_aids(std::slice::from_ref(&aid)).unwrap();
        aid
    }

    fn aid_amounts(outcome: &AidsOutcome) -> Vec<i64> {
        outcome
            .lines
            .iter()
            .filter(|l| l.kind() == LineKind::Aid)
            .map(|l| l.amount.0)
            .collect()
    }

    #[test]
    fn deducts_a_percentage_per_line_right_after_it() {
        let lines = [meal(1, "2025-10-06", 384), meal(1, "2025-10-07", 384)];
        let outcome = apply_aids(
            lines.to_vec(),
            &[aid("amount = { percent = \"50\" }")],
            &AidUsage::default(),
        )
        .unwrap();
        let kinds: Vec<LineKind> = outcome.lines.iter().map(PricedLine::kind).collect();
        assert_eq!(
            kinds,
            [LineKind::Base, LineKind::Aid, LineKind::Base, LineKind::Aid]
        );
        assert_eq!(aid_amounts(&outcome), [-192, -192]);
        assert_eq!(
            outcome.lines[1].explanation(),
            "Aide du CCAS « Coup de pouce cantine » : 50\u{a0}% de 3,84\u{a0}€ = 1,92\u{a0}€ ; déduit : -1,92\u{a0}€"
        );
    }

    #[test]
    fn caps_per_day_count_every_line_of_the_day() {
        let lines = [
            meal(1, "2025-10-06", 300),
            meal(1, "2025-10-06", 300),
            meal(2, "2025-10-06", 300),
        ];
        let per_child = aid("amount = { per_line = \"2.00\" }\ncap_per_day = \"3.00\"");
        let outcome = apply_aids(lines.to_vec(), &[per_child], &AidUsage::default()).unwrap();
        assert_eq!(aid_amounts(&outcome), [-200, -100, -200]);
        assert!(
            outcome.lines[3]
                .explanation()
                .contains("limitée à 1,00\u{a0}€ par le plafond journalier")
        );
        let per_family =
            aid("amount = { per_line = \"2.00\" }\ncap_per_day = \"3.00\"\ncap_scope = \"family\"");
        let outcome = apply_aids(lines.to_vec(), &[per_family], &AidUsage::default()).unwrap();
        assert_eq!(aid_amounts(&outcome), [-200, -100]);
    }

    #[test]
    fn caps_per_month_are_consumed_chronologically_whatever_the_input_order() {
        let lines = [
            meal(1, "2025-10-08", 400),
            meal(1, "2025-10-06", 400),
            meal(1, "2025-11-03", 400),
        ];
        let monthly = aid("amount = { per_line = \"3.00\" }\ncap_per_period = \"5.00\"");
        let outcome = apply_aids(lines.to_vec(), &[monthly], &AidUsage::default()).unwrap();
        // Input order is kept; the 6th took 3.00 first, the 8th the 2.00 left; November is new.
        assert_eq!(aid_amounts(&outcome), [-200, -300, -300]);
        let october = UsageKey {
            aid_id: "ccas".into(),
            child_id: Some(1),
            period_start: day("2025-10-01"),
        };
        assert_eq!(outcome.usage.0.get(&october), Some(&Cents(500)));
    }

    #[test]
    fn validity_caps_carry_over_months_through_the_usage() {
        let yearly = aid(
            "amount = { per_line = \"3.00\" }\ncap_per_period = \"10.00\"\nperiod = \"validity\"",
        );
        let key = UsageKey {
            aid_id: "ccas".into(),
            child_id: Some(1),
            period_start: day("2025-09-01"),
        };
        let prior = AidUsage([(key.clone(), Cents(900))].into());
        let outcome = apply_aids(vec![meal(1, "2025-10-06", 400)], &[yearly], &prior).unwrap();
        assert_eq!(aid_amounts(&outcome), [-100]);
        assert_eq!(outcome.usage.0.get(&key), Some(&Cents(1000)));
        assert!(
            outcome.lines[1]
                .explanation()
                .contains("par le plafond de la période d'attribution")
        );
    }

    #[test]
    fn stacked_aids_never_make_a_line_negative() {
        let lines = [meal(1, "2025-10-06", 250)];
        let caf = aid("amount = { per_line = \"2.00\" }");
        let mut city = aid("amount = { percent = \"100\" }");
        city.id = "ville".into();
        city.funder = Funder::City;
        let outcome = apply_aids(lines.to_vec(), &[caf, city], &AidUsage::default()).unwrap();
        assert_eq!(aid_amounts(&outcome), [-200, -50]);
        assert!(
            outcome.lines[2]
                .explanation()
                .contains("limitée à 0,50\u{a0}€ pour ne pas dépasser le montant de la prestation")
        );
        let total: Cents = outcome.lines.iter().map(|l| l.amount).sum();
        assert_eq!(total, Cents::ZERO);
    }

    #[test]
    fn respects_validity_children_activities_and_line_kinds() {
        let lines = [
            meal(1, "2025-08-31", 400),
            meal(2, "2025-09-01", 400),
            meal(1, "2025-09-01", 400),
        ];
        let only_child_1 =
            aid("amount = { per_line = \"1.00\" }\nchildren = [1]\nactivities = [\"cantine\"]");
        let outcome = apply_aids(lines.to_vec(), &[only_child_1], &AidUsage::default()).unwrap();
        assert_eq!(aid_amounts(&outcome), [-100]);
        assert_eq!(outcome.lines.len(), 4);
        let other_activity = aid("amount = { per_line = \"1.00\" }\nactivities = [\"creche\"]");
        let outcome = apply_aids(lines.to_vec(), &[other_activity], &AidUsage::default()).unwrap();
        assert!(aid_amounts(&outcome).is_empty());
    }

    #[test]
    fn per_unit_aids_follow_the_quantity() {
        let mut hours = meal(1, "2025-10-06", 600);
        hours.quantity = Decimal::new(25, 1);
        let per_hour = aid("amount = { per_unit = \"0.50\" }");
        let outcome = apply_aids(vec![hours], &[per_hour], &AidUsage::default()).unwrap();
        assert_eq!(aid_amounts(&outcome), [-125]);
    }

    #[test]
    fn validation_refuses_nonsense() {
        for bad in [
            "amount = { percent = \"150\" }",
            "amount = { percent = \"0\" }",
            "amount = { per_line = \"-1\" }",
            "amount = { per_line = \"1\" }\ncap_per_day = \"-1\"",
            "amount = { per_line = \"1\" }\nline_kinds = [\"aid\"]",
            "amount = { per_line = \"1\" }\nvalid_to = \"2025-08-01\"",
        ] {
            let aid: Aid = toml::from_str(&format!(
                "id = \"x\"\nlabel = \"x\"\nfunder = \"city\"\nvalid_from = \"2025-09-01\"\n{bad}"
            ))
            .unwrap();
            assert!(validate_aids(&[aid]).is_err(), "{bad}");
        }
    }
}
