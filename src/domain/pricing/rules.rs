//! Tariff rules as a city writes them (TOML or JSON via serde), and their validation.
//!
//! One [`TariffGrid`] per activity holds effective-dated [`GridVersion`]s (one per délibération).
//! In a version:
//! - `rules`: the first [`TariffRule`] whose criteria match gives the base price of the
//!   consumption (list specific rules, e.g. the triple tariff, before general ones);
//! - `adjustments`: every matching [`Adjustment`] then modifies that unit price, in the order
//!   written (residence surcharge, sibling reduction…);
//! - `surcharges`: every matching [`Surcharge`] adds its own line (late cancellation…).
//!
//! Ids are stable strings the city writes ("cantine-qf-3"); each is unique within a version so
//! a priced line's `rule_id` designates exactly one thing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Cents;
use super::criteria::Criteria;
use super::dated::{self, effective_dated};
use super::error::ConfigError;
use super::model::AttendanceState;
use super::percent::Percent;
use super::psu::CareType;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffGrid {
    /// Activity code this grid prices ("cantine", "periscolaire_soir", "creche"…).
    pub activity: Arc<str>,
    /// French labels of unit codes for explanations ("apres_midi" = "après-midi"); a code
    /// without a label is shown as is.
    #[serde(default)]
    pub unit_labels: BTreeMap<String, Arc<str>>,
    pub versions: Vec<GridVersion>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridVersion {
    pub valid_from: NaiveDate,
    /// Last day in force, inclusive; absent = until further notice.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// Replaces the city's billed states for this activity when present.
    #[serde(default)]
    pub billed_states: Option<BTreeSet<AttendanceState>>,
    pub rules: Vec<TariffRule>,
    #[serde(default)]
    pub adjustments: Vec<Adjustment>,
    #[serde(default)]
    pub surcharges: Vec<Surcharge>,
}
effective_dated!(GridVersion);

/// How one kind of consumption is priced: a unit price and a quantity, plus overtime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffRule {
    pub id: Arc<str>,
    #[serde(default)]
    pub when: Criteria,
    pub price: PriceSource,
    #[serde(default)]
    pub quantity: QuantityRule,
    /// Time past the closing time, billed on its own line at its own rate.
    #[serde(default)]
    pub overtime: Option<OvertimeRule>,
}

/// Where the unit price (per unit, per hour or per time step) comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PriceSource {
    /// The same price for everybody.
    Flat { amount: Cents },
    /// A price per QF bracket; brackets are `[min, max]` inclusive, in ascending order.
    QfBrackets { brackets: Vec<QfBracket> },
    /// An effort rate on the QF or on the monthly resources.
    EffortRate(EffortRateRule),
    /// The CNAF PSU hourly rate (crèches), from the barème of the date.
    Psu { care: CareType },
}

/// `clamp(income × rate + adjustment, floor, ceiling)`: the floor and ceiling are the city's
/// minimum and maximum unit prices; the adjustment is a constant of the formula (may be
/// negative).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffortRateRule {
    pub base: IncomeBase,
    pub rate: Percent,
    #[serde(default)]
    pub adjustment: Cents,
    #[serde(default)]
    pub floor: Option<Cents>,
    #[serde(default)]
    pub ceiling: Option<Cents>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QfBracket {
    pub id: Arc<str>,
    pub min: Cents,
    /// Inclusive; absent on the last bracket = no upper bound.
    #[serde(default)]
    pub max: Option<Cents>,
    pub amount: Cents,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncomeBase {
    Qf,
    MonthlyResources,
}

/// How many of the unit price a consumption costs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum QuantityRule {
    /// One unit (a meal, a morning).
    #[default]
    PerUnit,
    /// The time between arrival and departure, counted in steps of `step_minutes` (the
    /// rounding unit), then held between `min_minutes` and `max_minutes`.
    Duration {
        step_minutes: u16,
        #[serde(default)]
        rounding: StepRounding,
        /// Whether the unit price is per hour or per step (slot).
        #[serde(default)]
        per: PricedPer,
        #[serde(default)]
        min_minutes: Option<u16>,
        #[serde(default)]
        max_minutes: Option<u16>,
    },
}

/// How a duration that is not a whole number of steps is counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepRounding {
    /// Every started step is due (the usual « toute demi-heure entamée est due »).
    #[default]
    Up,
    /// Half a step or more counts as a step.
    Nearest,
    /// Only complete steps count.
    Down,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PricedPer {
    #[default]
    Hour,
    Step,
}

/// Overtime (dépassement) past the closing time. The time after closing is billed only here;
/// the base line counts the time up to closing. Within the grace period nothing is billed;
/// beyond it the whole overtime is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OvertimeRule {
    pub id: Arc<str>,
    /// Price per started (or rounded, see `rounding`) step of overtime.
    pub amount: Cents,
    pub step_minutes: u16,
    #[serde(default)]
    pub rounding: StepRounding,
    #[serde(default)]
    pub grace_minutes: u16,
}

/// A modification of the unit price for families matching `when`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    pub id: Arc<str>,
    /// French label shown in explanations ("Réduction fratrie").
    pub label: Arc<str>,
    #[serde(default)]
    pub when: Criteria,
    pub effect: AdjustmentEffect,
}

/// Applied to the running unit price; a price never goes below zero through an adjustment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentEffect {
    /// `{ percent = "-10" }`: minus 10 %; `{ percent = "20" }`: plus 20 %.
    Percent(Percent),
    /// `{ amount = "-0.50" }`: per unit of quantity.
    Amount(Cents),
    /// `{ set_price = "2.00" }`: replaces the unit price.
    SetPrice(Cents),
}

/// An extra line for consumptions in given attendance states (unbooked presence, late
/// cancellation, unjustified absence).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Surcharge {
    pub id: Arc<str>,
    pub label: Arc<str>,
    /// Must name at least one state.
    pub when: Criteria,
    pub charge: SurchargeCharge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurchargeCharge {
    /// `{ fixed = "5.00" }` per consumption.
    Fixed(Cents),
    /// `{ percent_of_base = "50" }` of the base line's amount.
    PercentOfBase(Percent),
}

impl TariffGrid {
    pub fn from_toml_str(text: &str) -> Result<TariffGrid, ConfigError> {
        let grid: TariffGrid =
            toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        grid.validate()?;
        Ok(grid)
    }

    /// The version in force on `day`.
    pub fn version_on(&self, day: NaiveDate) -> Option<&GridVersion> {
        dated::in_force_on(&self.versions, day)
    }

    /// French label of a unit code (the code itself when the grid has no label for it).
    pub fn unit_label(&self, unit: &str) -> Arc<str> {
        self.unit_labels
            .get(unit)
            .cloned()
            .unwrap_or_else(|| Arc::from(unit))
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let what = format!("grille « {} »", self.activity);
        if self.versions.is_empty() {
            return Err(ConfigError::invalid(what, "aucune version"));
        }
        dated::check_periods(&self.versions, &what)?;
        self.versions.iter().try_for_each(|v| v.validate(&what))
    }
}

impl GridVersion {
    fn validate(&self, grid: &str) -> Result<(), ConfigError> {
        let what = format!("{grid}, version du {}", self.valid_from.format("%d/%m/%Y"));
        if self.rules.is_empty() {
            return Err(ConfigError::invalid(what, "aucune règle tarifaire"));
        }
        let mut ids = BTreeSet::new();
        let mut unique = |id: &str| {
            if id.trim().is_empty() {
                Err(ConfigError::invalid(&what, "identifiant de règle vide"))
            } else if !ids.insert(id.to_owned()) {
                Err(ConfigError::invalid(
                    &what,
                    format!("identifiant « {id} » utilisé deux fois"),
                ))
            } else {
                Ok(())
            }
        };
        for rule in &self.rules {
            unique(&rule.id)?;
            if let PriceSource::QfBrackets { brackets } = &rule.price {
                brackets.iter().try_for_each(|b| unique(&b.id))?;
            }
            if let Some(overtime) = &rule.overtime {
                unique(&overtime.id)?;
            }
        }
        self.adjustments.iter().try_for_each(|a| unique(&a.id))?;
        self.surcharges.iter().try_for_each(|s| unique(&s.id))?;

        for rule in &self.rules {
            let context = format!("{what}, règle « {} »", rule.id);
            rule.price.validate(&context)?;
            rule.quantity.validate(&context)?;
            if let Some(overtime) = &rule.overtime {
                overtime.validate(&context)?;
            }
        }
        self.adjustments
            .iter()
            .try_for_each(|a| a.validate(&what))?;
        self.surcharges.iter().try_for_each(|s| s.validate(&what))
    }
}

impl PriceSource {
    fn validate(&self, what: &str) -> Result<(), ConfigError> {
        match self {
            PriceSource::Flat { amount } => non_negative(what, "prix", *amount),
            PriceSource::QfBrackets { brackets } => validate_brackets(what, brackets),
            PriceSource::EffortRate(rule) => {
                if !rule.rate.is_positive() {
                    return Err(ConfigError::invalid(
                        what,
                        "le taux d'effort doit être positif",
                    ));
                }
                if let Some(floor) = rule.floor {
                    non_negative(what, "prix plancher", floor)?;
                }
                match (rule.floor, rule.ceiling) {
                    (Some(floor), Some(ceiling)) if ceiling < floor => Err(ConfigError::invalid(
                        what,
                        format!("le plafond ({ceiling}) est inférieur au plancher ({floor})"),
                    )),
                    _ => Ok(()),
                }
            }
            PriceSource::Psu { .. } => Ok(()),
        }
    }
}

/// Brackets must be in ascending order, not overlap (bounds are inclusive, so a bound may not
/// be shared), and only the last may be open-ended. Gaps are allowed here: what happens to a
/// QF in a gap is the city's `qf_gap` setting.
fn validate_brackets(what: &str, brackets: &[QfBracket]) -> Result<(), ConfigError> {
    if brackets.is_empty() {
        return Err(ConfigError::invalid(what, "aucune tranche de QF"));
    }
    for bracket in brackets {
        let context = format!("{what}, tranche « {} »", bracket.id);
        non_negative(&context, "prix", bracket.amount)?;
        non_negative(&context, "QF minimum", bracket.min)?;
        if bracket.max.is_some_and(|max| max < bracket.min) {
            return Err(ConfigError::invalid(
                context,
                "le QF maximum est inférieur au minimum",
            ));
        }
    }
    for pair in brackets.windows(2) {
        let (lower, upper) = (&pair[0], &pair[1]);
        match lower.max {
            None => {
                return Err(ConfigError::invalid(
                    what,
                    format!(
                        "la tranche « {} » est ouverte mais n'est pas la dernière",
                        lower.id
                    ),
                ));
            }
            Some(max) if max >= upper.min => {
                return Err(ConfigError::invalid(
                    what,
                    format!(
                        "les tranches « {} » et « {} » se chevauchent ou ne sont pas dans l'ordre croissant",
                        lower.id, upper.id
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

impl QuantityRule {
    fn validate(&self, what: &str) -> Result<(), ConfigError> {
        let QuantityRule::Duration {
            step_minutes,
            per,
            min_minutes,
            max_minutes,
            ..
        } = self
        else {
            return Ok(());
        };
        if *step_minutes == 0 {
            return Err(ConfigError::invalid(
                what,
                "le pas de durée doit être d'au moins une minute",
            ));
        }
        if let (Some(min), Some(max)) = (min_minutes, max_minutes)
            && min > max
        {
            return Err(ConfigError::invalid(
                what,
                "la durée minimale dépasse la durée maximale",
            ));
        }
        // Priced per step, a bound must be a whole number of steps or the quantity would be a
        // fraction of a slot.
        let off_step = |bound: &Option<u16>| bound.is_some_and(|b| b % step_minutes != 0);
        if *per == PricedPer::Step && (off_step(min_minutes) || off_step(max_minutes)) {
            return Err(ConfigError::invalid(
                what,
                "les durées minimale et maximale doivent être des multiples du pas",
            ));
        }
        Ok(())
    }
}

impl OvertimeRule {
    fn validate(&self, what: &str) -> Result<(), ConfigError> {
        let context = format!("{what}, dépassement « {} »", self.id);
        if self.step_minutes == 0 {
            return Err(ConfigError::invalid(
                context,
                "le pas doit être d'au moins une minute",
            ));
        }
        non_negative(&context, "prix", self.amount)
    }
}

impl Adjustment {
    fn validate(&self, what: &str) -> Result<(), ConfigError> {
        let context = format!("{what}, ajustement « {} »", self.id);
        match self.effect {
            AdjustmentEffect::SetPrice(price) => non_negative(&context, "prix", price),
            AdjustmentEffect::Percent(percent) if percent.0 < Decimal::from(-100) => Err(
                ConfigError::invalid(context, "une réduction ne peut pas dépasser 100 %"),
            ),
            _ => Ok(()),
        }
    }
}

impl Surcharge {
    fn validate(&self, what: &str) -> Result<(), ConfigError> {
        let context = format!("{what}, majoration « {} »", self.id);
        if self.when.states.is_empty() {
            return Err(ConfigError::invalid(
                context,
                "une majoration doit indiquer les états de présence concernés",
            ));
        }
        match self.charge {
            SurchargeCharge::Fixed(amount) => non_negative(&context, "montant", amount),
            SurchargeCharge::PercentOfBase(percent) if percent.0 < Decimal::ZERO => Err(
                ConfigError::invalid(context, "le pourcentage doit être positif"),
            ),
            SurchargeCharge::PercentOfBase(_) => Ok(()),
        }
    }
}

fn non_negative(what: &str, field: &str, amount: Cents) -> Result<(), ConfigError> {
    if amount.is_negative() {
        Err(ConfigError::invalid(
            what,
            format!("{field} négatif ({amount})"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        activity = "cantine"
        unit_labels = { repas = "repas" }
        [[versions]]
        valid_from = "2024-09-01"
        rules = [ { id = "repas", price = { kind = "flat", amount = "3.84" } } ]
    "#;

    fn grid_with_rules(rules: &str) -> Result<TariffGrid, ConfigError> {
        TariffGrid::from_toml_str(&format!(
            "activity = \"cantine\"\n[[versions]]\nvalid_from = \"2024-09-01\"\n{rules}"
        ))
    }

    #[test]
    fn loads_a_minimal_grid() {
        let grid = TariffGrid::from_toml_str(MINIMAL).unwrap();
        assert_eq!(grid.versions[0].rules[0].quantity, QuantityRule::PerUnit);
        assert_eq!(&*grid.unit_label("repas"), "repas");
        assert_eq!(&*grid.unit_label("goûter"), "goûter");
    }

    #[test]
    fn refuses_unknown_keys_anywhere() {
        let typo = MINIMAL.replace("kind = \"flat\"", "kind = \"flat\", amout = \"1\"");
        assert!(matches!(
            TariffGrid::from_toml_str(&typo),
            Err(ConfigError::Toml(_))
        ));
        let typo = MINIMAL.replace("valid_from", "valid_since");
        assert!(TariffGrid::from_toml_str(&typo).is_err());
        let effort = r#"rules = [ { id = "x", price = { kind = "effort_rate", base = "qf", rate = "0.3", ceilling = "4" } } ]"#;
        assert!(matches!(grid_with_rules(effort), Err(ConfigError::Toml(_))));
        let effort = r#"rules = [ { id = "x", price = { kind = "effort_rate", base = "qf", rate = "0.3", ceiling = "4" } } ]"#;
        assert!(grid_with_rules(effort).is_ok());
    }

    #[test]
    fn refuses_duplicate_ids() {
        let result = grid_with_rules(
            r#"rules = [
                { id = "a", price = { kind = "flat", amount = "1" } },
                { id = "a", price = { kind = "flat", amount = "2" } },
            ]"#,
        );
        assert!(matches!(result, Err(ConfigError::Invalid { .. })));
    }

    #[test]
    fn refuses_overlapping_or_unordered_brackets() {
        let overlapping = r#"rules = [ { id = "qf", price = { kind = "qf_brackets", brackets = [
            { id = "t1", min = "0", max = "700", amount = "1" },
            { id = "t2", min = "700", amount = "2" },
        ] } } ]"#;
        assert!(grid_with_rules(overlapping).is_err());
        let open_in_the_middle = r#"rules = [ { id = "qf", price = { kind = "qf_brackets", brackets = [
            { id = "t1", min = "0", amount = "1" },
            { id = "t2", min = "701", amount = "2" },
        ] } } ]"#;
        assert!(grid_with_rules(open_in_the_middle).is_err());
        let with_gap = r#"rules = [ { id = "qf", price = { kind = "qf_brackets", brackets = [
            { id = "t1", min = "0", max = "700", amount = "1" },
            { id = "t2", min = "701", amount = "2" },
        ] } } ]"#;
        assert!(grid_with_rules(with_gap).is_ok());
    }

    #[test]
    fn refuses_inconsistent_numbers() {
        for rules in [
            r#"rules = [ { id = "x", price = { kind = "flat", amount = "-1" } } ]"#,
            r#"rules = [ { id = "x", price = { kind = "effort_rate", base = "qf", rate = "0" } } ]"#,
            r#"rules = [ { id = "x", price = { kind = "effort_rate", base = "qf", rate = "0.3", floor = "2", ceiling = "1" } } ]"#,
            r#"rules = [ { id = "x", price = { kind = "flat", amount = "1" }, quantity = { kind = "duration", step_minutes = 0 } } ]"#,
            r#"rules = [ { id = "x", price = { kind = "flat", amount = "1" }, quantity = { kind = "duration", step_minutes = 30, per = "step", min_minutes = 45 } } ]"#,
            r#"rules = [ { id = "x", price = { kind = "flat", amount = "1" }, quantity = { kind = "duration", step_minutes = 30, min_minutes = 90, max_minutes = 60 } } ]"#,
            "rules = []",
        ] {
            assert!(grid_with_rules(rules).is_err(), "{rules} must be refused");
        }
    }

    #[test]
    fn refuses_a_surcharge_without_states() {
        let rules = r#"rules = [ { id = "x", price = { kind = "flat", amount = "1" } } ]
            surcharges = [ { id = "s", label = "Majoration", when = {}, charge = { fixed = "1" } } ]"#;
        assert!(grid_with_rules(rules).is_err());
    }

    #[test]
    fn refuses_overlapping_versions() {
        let text = format!(
            "{MINIMAL}\n[[versions]]\nvalid_from = \"2025-09-01\"\nrules = [ {{ id = \"repas\", price = {{ kind = \"flat\", amount = \"4\" }} }} ]"
        );
        assert!(matches!(
            TariffGrid::from_toml_str(&text),
            Err(ConfigError::OverlappingPeriods { .. })
        ));
        let closed = text.replace(
            "valid_from = \"2024-09-01\"",
            "valid_from = \"2024-09-01\"\nvalid_to = \"2025-08-31\"",
        );
        let grid = TariffGrid::from_toml_str(&closed).unwrap();
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        assert_eq!(
            grid.version_on(day("2025-08-31")).unwrap().valid_from,
            day("2024-09-01")
        );
        assert_eq!(
            grid.version_on(day("2025-09-01")).unwrap().valid_from,
            day("2025-09-01")
        );
        assert!(grid.version_on(day("2024-08-31")).is_none());
    }
}
