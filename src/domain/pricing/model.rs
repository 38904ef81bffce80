//! What the engine prices (a consumption, for a family situation) and what it returns.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Cents;
use super::explain::LineBasis;
use super::percent::strict_decimal;

/// Attendance state of a consumption when it is priced.
///
/// Which states are billed is a setting ([`super::PricingSettings::billed_states`], overridable
/// per grid version); the default bills `Booked` (pre-billing: the booking is the forecast),
/// `Present`, `PresentUnbooked`, `AbsentUnjustified` and `CancelledLate`, and never bills
/// `AbsentJustified` nor `CancelledInTime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceState {
    Booked,
    Present,
    AbsentJustified,
    AbsentUnjustified,
    PresentUnbooked,
    CancelledInTime,
    CancelledLate,
}

impl AttendanceState {
    pub fn label_fr(self) -> &'static str {
        match self {
            AttendanceState::Booked => "réservé",
            AttendanceState::Present => "présent",
            AttendanceState::AbsentJustified => "absence justifiée",
            AttendanceState::AbsentUnjustified => "absence injustifiée",
            AttendanceState::PresentUnbooked => "présent sans réservation",
            AttendanceState::CancelledInTime => "annulé dans les délais",
            AttendanceState::CancelledLate => "annulé hors délai",
        }
    }
}

/// One thing a child consumed (or booked) on one day: a meal, a morning, some hours of crèche.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consumption {
    pub child_id: i64,
    /// Activity code; must be the activity of the grid that prices it.
    pub activity: String,
    /// Unit code as the city names it: "matin", "apres_midi", "journee", "repas", "soir", "heure"…
    pub unit: String,
    pub date: NaiveDate,
    /// Actual times when present; booked times otherwise (an unjustified absence billed by the
    /// hour is billed on the booked hours).
    #[serde(default)]
    pub arrival: Option<NaiveTime>,
    #[serde(default)]
    pub departure: Option<NaiveTime>,
    /// Closing time of the activity that day, from which overtime (dépassement) is counted.
    #[serde(default)]
    pub closing_time: Option<NaiveTime>,
    pub state: AttendanceState,
    /// False when an agent marked the presence "non facturée": nothing is billed, whatever the
    /// state.
    #[serde(default = "billable_by_default")]
    pub billable: bool,
    /// Tariff code assigned to the enrolment (see [`super::assign_tariff`]); rules may require it.
    #[serde(default)]
    pub tariff: Option<String>,
}

fn billable_by_default() -> bool {
    true
}

/// Where the family lives, relative to the city that prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Residence {
    City,
    OutsideCity,
    OutsideIntercommunality,
}

impl Residence {
    pub fn label_fr(self) -> &'static str {
        match self {
            Residence::City => "domicilié dans la commune",
            Residence::OutsideCity => "domicilié hors commune",
            Residence::OutsideIntercommunality => "domicilié hors intercommunalité",
        }
    }
}

/// The family situation on the day, as seen for the priced child (the sibling rank and the
/// options are the child's own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilySituation {
    /// Quotient familial in euros per month, as known on the day (CAF, MSA or computed by the
    /// city); `None` when the family did not provide it.
    #[serde(default)]
    pub family_quotient: Option<Cents>,
    /// Monthly resources (CNAF definition: yearly N-2 resources / 12) for effort rates and PSU.
    #[serde(default)]
    pub monthly_resources: Option<Cents>,
    /// Dependent children of the household, AEEH children included.
    pub dependent_children: u8,
    /// Children of the household receiving the AEEH (allocation d'éducation de l'enfant
    /// handicapé); each one gives the PSU rate of one more child.
    #[serde(default)]
    pub aeeh_children: u8,
    pub residence: Residence,
    /// The child's school/class options the city's rules test, e.g. "schooled_in_city", "ulis".
    #[serde(default)]
    pub options: BTreeSet<String>,
    /// Rank of the child among the siblings enrolled that day, from 1, in the city's order (see
    /// [`super::sibling_rank`]).
    pub sibling_rank: u8,
}

/// One priced line. Identifiers and labels that come from the configuration are `Arc<str>`:
/// every line shares the city's string instead of copying it (a billing run prices millions of
/// lines). `basis` holds the figures that produced it; [`PricedLine::explanation`]
/// renders them in French, so the text can never disagree with the amount.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PricedLine {
    pub child_id: i64,
    pub date: NaiveDate,
    pub activity: Arc<str>,
    pub unit: String,
    /// Stable id the city wrote for the rule that produced the line (for a QF bracket, the
    /// bracket's id, e.g. "cantine-qf-3").
    pub rule_id: Arc<str>,
    /// Units, hours or time steps, as the explanation states.
    #[serde(with = "strict_decimal")]
    pub quantity: Decimal,
    /// Euros per quantity; whole cents when the city rounds the unit price.
    #[serde(with = "strict_decimal")]
    pub unit_price: Decimal,
    pub amount: Cents,
    pub basis: LineBasis,
}

/// What a line is, derived from its explanation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The price of the consumption itself.
    Base,
    /// A surcharge the city's rules add for an attendance state (late cancellation…).
    Surcharge,
    /// Time past closing (dépassement).
    Overtime,
    /// An aid deducted from another line (negative amount).
    Aid,
}

impl PricedLine {
    pub fn kind(&self) -> LineKind {
        self.basis.kind()
    }
}
