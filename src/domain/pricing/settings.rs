//! City-wide pricing settings: the choices where French cities differ. The caller passes the
//! settings in force on the priced day (settings are effective-dated like everything else).

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::PricingError;
use super::model::AttendanceState;
use super::{Cents, round_half_up_to_cent};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingSettings {
    /// What a QF-bracket rule does when the family has no QF.
    #[serde(default)]
    pub missing_qf: MissingQf,
    /// What a QF-bracket rule does when the QF falls in no bracket (see [`QfGap`]).
    #[serde(default)]
    pub qf_gap: QfGap,
    /// What a rule based on monthly resources (effort rate, PSU) does when they are unknown.
    #[serde(default)]
    pub missing_resources: MissingResources,
    #[serde(default)]
    pub rounding_point: RoundingPoint,
    #[serde(default)]
    pub sibling_order: SiblingOrder,
    /// Attendance states that are billed, unless a grid version overrides them.
    #[serde(default = "default_billed_states")]
    pub billed_states: BTreeSet<AttendanceState>,
    /// The PSU resource ceiling the city applies (never below the CNAF's).
    #[serde(default)]
    pub psu_ceiling: PsuCeiling,
}

impl Default for PricingSettings {
    fn default() -> Self {
        PricingSettings {
            missing_qf: MissingQf::default(),
            qf_gap: QfGap::default(),
            missing_resources: MissingResources::default(),
            rounding_point: RoundingPoint::default(),
            sibling_order: SiblingOrder::default(),
            billed_states: default_billed_states(),
            psu_ceiling: PsuCeiling::default(),
        }
    }
}

/// Booked (as forecast), present, present without booking, unjustified absence and late
/// cancellation are billed; a justified absence and a cancellation in time are not.
pub fn default_billed_states() -> BTreeSet<AttendanceState> {
    use AttendanceState::*;
    BTreeSet::from([
        Booked,
        Present,
        PresentUnbooked,
        AbsentUnjustified,
        CancelledLate,
    ])
}

/// A missing QF never silently takes the dearest bracket: the default refuses to price, and a
/// city that wants a default tariff says which.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingQf {
    /// Pricing fails with [`PricingError::MissingQf`] until the QF is provided.
    #[default]
    Refuse,
    /// The bracket with the highest price (for an effort rate on the QF: the rule's ceiling).
    DearestBracket,
    /// The bracket of this rank (1 = "tranche 1"), e.g. `missing_qf = { bracket = 4 }`.
    Bracket(u8),
}

/// QF brackets are `[min, max]`, both bounds inclusive, in euros and cents, as délibérations
/// write « de 701 à 900 € ». A QF between two brackets (900.50 € between « … à 900 » and « 901
/// à … ») or outside all of them is a gap: refused unless the city chose how to attach it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QfGap {
    #[default]
    Refuse,
    /// The nearest bracket below (as if the QF were truncated to the bracket's bound).
    LowerBracket,
    /// The nearest bracket above.
    UpperBracket,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingResources {
    #[default]
    Refuse,
    /// The highest price: for PSU the resource ceiling in force (the CNAF rule for a family
    /// that does not provide its resources), for an effort rate the rule's ceiling.
    Dearest,
}

/// Where a fraction of a cent is decided. The line amount is always
/// `round_half_up_to_cent(unit_price × quantity)`; this says whether the unit price itself is
/// rounded first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingPoint {
    /// The unit price stays exact (1.548 €/h) and only the line total is rounded.
    #[default]
    LineTotal,
    /// The unit price is rounded to the cent first (1.55 €/h), so the invoice reads
    /// unit price × quantity = amount whenever the quantity is whole.
    UnitPrice,
}

impl RoundingPoint {
    /// The unit price as it will be multiplied by the quantity.
    pub(crate) fn settle_unit_price(self, exact: Decimal) -> Result<Decimal, PricingError> {
        Ok(match self {
            RoundingPoint::LineTotal => exact,
            RoundingPoint::UnitPrice => round_half_up_to_cent(exact)?.to_decimal(),
        })
    }
}

/// How siblings enrolled the same day are ranked for degressive tariffs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiblingOrder {
    /// The eldest is rank 1 (the youngest gets the biggest reduction).
    #[default]
    EldestFirst,
    YoungestFirst,
}

/// The monthly resource ceiling for PSU. The CNAF forbids a lower ceiling than its own but
/// allows a higher one, or none (« déplafonnement »), with the CAF's agreement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PsuCeiling {
    /// The CNAF ceiling of the date.
    #[default]
    Cnaf,
    /// A higher ceiling, e.g. `psu_ceiling = { higher = "10000.00" }`; refused at pricing time
    /// if it is below the CNAF ceiling of the date.
    Higher(Cents),
    /// No ceiling: the effort rate applies to all resources.
    Uncapped,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let settings: PricingSettings = toml::from_str("").unwrap();
        assert_eq!(settings, PricingSettings::default());
        assert_eq!(settings.missing_qf, MissingQf::Refuse);
        assert_eq!(settings.qf_gap, QfGap::Refuse);
        assert_eq!(settings.rounding_point, RoundingPoint::LineTotal);
        assert!(settings.billed_states.contains(&AttendanceState::Booked));
        assert!(
            !settings
                .billed_states
                .contains(&AttendanceState::AbsentJustified)
        );
        assert!(
            !settings
                .billed_states
                .contains(&AttendanceState::CancelledInTime)
        );
        assert_eq!(settings.billed_states.len(), 5);
    }

    #[test]
    fn reads_every_policy_from_toml() {
        let settings: PricingSettings = toml::from_str(
            r#"
            missing_qf = { bracket = 4 }
            qf_gap = "lower_bracket"
            missing_resources = "dearest"
            rounding_point = "unit_price"
            sibling_order = "youngest_first"
            billed_states = ["present", "present_unbooked"]
            psu_ceiling = { higher = "10000.00" }
            "#,
        )
        .unwrap();
        assert_eq!(settings.missing_qf, MissingQf::Bracket(4));
        assert_eq!(settings.qf_gap, QfGap::LowerBracket);
        assert_eq!(settings.psu_ceiling, PsuCeiling::Higher(Cents(1_000_000)));
        assert_eq!(settings.billed_states.len(), 2);
        assert!(toml::from_str::<PricingSettings>("missing_qf = \"dearest\"").is_err());
        assert!(toml::from_str::<PricingSettings>("typo = 1").is_err());
    }

    #[test]
    fn settles_unit_prices_at_the_chosen_point() {
        let exact: Decimal = "1.548".parse().unwrap();
        assert_eq!(RoundingPoint::LineTotal.settle_unit_price(exact), Ok(exact));
        assert_eq!(
            RoundingPoint::UnitPrice.settle_unit_price(exact),
            Ok("1.55".parse().unwrap())
        );
    }
}
