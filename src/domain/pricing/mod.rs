//! Pricing engine: pure functions over plain structs, no I/O.
//!
//! - [`price`] prices one consumption for the family situation of the day with the city's
//!   [`TariffGrid`] of the activity, its [`PricingSettings`] and the CNAF [`Bareme`];
//! - [`apply_aids`] deducts a family's aids from a month of priced lines (caps need the month);
//! - [`psu_hourly_rate`] answers `GET /api/v1/pricing/psu`;
//! - [`assign_tariff`] picks an enrolment's tariff from the city's criteria;
//! - [`simulate_month`] prices a typical week over a month for a quote;
//! - [`sibling_rank`] ranks the siblings enrolled on a day for degressive tariffs.
//!
//! Every [`PricedLine`] carries the rule id and the figures that produced it;
//! [`PricedLine::explanation`] says them in French.

mod aids;
mod assign;
mod city;
mod criteria;
mod dated;
mod duration;
mod engine;
mod error;
mod explain;
mod model;
mod percent;
mod psu;
mod rules;
mod settings;
mod siblings;
mod simulate;
mod unit_price;

#[cfg(test)]
mod tests;

// Money lives beside this module (`domain::money` in the main project); children reach it
// through these imports only.
use super::money;
use super::money::{Cents, round_half_up_to_cent};

pub use aids::{
    Aid, AidAmount, AidCap, AidPeriod, AidUsage, AidsOutcome, CapScope, Funder, UsageKey,
    apply_aids, validate_aids,
};
pub use assign::{AssignedTariff, AssignmentRule, assign_tariff, validate_assignment_rules};
pub use city::CityPricing;
pub use criteria::Criteria;
pub use dated::EffectiveDated;
pub use engine::{PricingContext, price};
pub use error::{ConfigError, PricingError};
/// « 742 € », « 1 234,50 € »: QF bounds and thresholds without « ,00 » (shared with the
/// tariff editor's plain-French rendering).
pub(crate) use explain::euros_compact;
pub use explain::{
    AppliedAdjustment, BracketChoice, DurationLimit, LineBasis, PriceBasis, PriceLimit,
    QuantityBasis,
};
pub use model::{AttendanceState, Consumption, FamilySituation, LineKind, PricedLine, Residence};
pub use percent::Percent;
pub use psu::{
    Bareme, CareType, EffortRateTable, PsuFigures, PsuRate, PsuRequest, RateRow, ResourceLimits,
    SHIPPED_BAREME_TOML, psu_hourly_rate,
};
pub use rules::{
    Adjustment, AdjustmentEffect, EffortRateRule, GridVersion, IncomeBase, OvertimeRule,
    PriceSource, PricedPer, QfBracket, QuantityRule, StepRounding, Surcharge, SurchargeCharge,
    TariffGrid, TariffRule,
};
pub use settings::{
    MissingQf, MissingResources, PricingSettings, PsuCeiling, QfGap, RoundingPoint, SiblingOrder,
    default_billed_states,
};
pub use siblings::{EnrolledChild, sibling_rank};
pub use simulate::{MonthPlan, PlannedSlot, Quote, TypicalWeek, simulate_month};
