//! The month's simulation (devis, FAM-15 / TAR-04) shared by the back-office page, the API
//! (`POST /api/v1/pricing/simulation`) and later the portal: one function gathers what the
//! city knows (the household's QF, resources, dependent children and residence when the
//! caller may read them, the child's school and enrolment tariffs, the household's aids in
//! force, the grids and pricing rules of the month), lays the caller's hypothetical values
//! over it, and prices the typical week with [`quote::quote`] (the pure engine).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde::Serialize;

use super::quote::{self, HouseholdFacts, PlannedUnit, QuoteRequest, QuoteView};
use super::{aids, assignment, grids};
use crate::domain::activity::facts::child_situation;
use crate::domain::activity::model::summaries;
use crate::domain::money::Cents;
use crate::domain::pricing::{Bareme, FamilySituation, PricingError, Residence, assign_tariff};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// Values the caller sets instead of the dossier's (or of the defaults, without a household).
#[derive(Debug, Clone, Default)]
pub struct Hypothesis {
    pub family_quotient: Option<Cents>,
    pub monthly_resources: Option<Cents>,
    pub dependent_children: Option<u8>,
    pub aeeh_children: Option<u8>,
    pub residence: Option<Residence>,
    pub sibling_rank: Option<u8>,
    pub options: Option<BTreeSet<String>>,
    /// A tariff code for every simulated activity (instead of the enrolments').
    pub tariff: Option<String>,
    /// Aids of the city's catalogue to apply (for every child), on top of the household's.
    pub aids: Vec<String>,
}

/// A unit of the typical week.
#[derive(Debug, Clone)]
pub struct WeekSlot {
    pub activity: String,
    pub unit: String,
    pub weekday: Weekday,
    pub arrival: Option<NaiveTime>,
    pub departure: Option<NaiveTime>,
}

#[derive(Debug, Clone)]
pub struct SimulationRequest {
    /// A household of the city, or none for a purely hypothetical family.
    pub household: Option<i64>,
    /// A child of that household (its school, enrolment tariffs and aids).
    pub child: Option<i64>,
    /// Any day of the simulated month.
    pub month: NaiveDate,
    pub hypothesis: Hypothesis,
    pub week: Vec<WeekSlot>,
    /// The caller may read the household's incomes (QF, resources) and aids.
    pub incomes_visible: bool,
}

/// The tariff code an activity was simulated with.
#[derive(Debug, Clone, Serialize)]
pub struct TariffUsed {
    pub activity: String,
    pub tariff: String,
    pub explanation: String,
}

#[derive(Debug, Clone)]
pub struct Simulation {
    pub facts: Option<HouseholdFacts>,
    /// The situation priced (the dossier's with the caller's values laid over it).
    pub situation: FamilySituation,
    pub tariffs: Vec<TariffUsed>,
    /// What the caller should know (aids not applied, and why).
    pub notes: Vec<String>,
    pub quote: QuoteView,
}

/// First and last days of the month of `day`.
pub fn month_bounds(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = day.with_day(1).unwrap_or(day);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    (first, next.pred_opt().unwrap_or(first))
}

/// The week's units with their activity's names and hours; an unknown activity or unit is
/// refused in French.
async fn planned_units(conn: &mut Conn, week: &[WeekSlot]) -> AppResult<Vec<PlannedUnit>> {
    if week.is_empty() {
        return Err(AppError::invalid(
            "indiquez au moins une unité de la semaine type",
        ));
    }
    let activities = summaries(conn, true).await?;
    week.iter()
        .map(|slot| {
            let activity = activities
                .iter()
                .find(|a| a.code == slot.activity)
                .ok_or_else(|| {
                    AppError::invalid(format!("activité « {} » inconnue", slot.activity))
                })?;
            let unit = activity
                .units
                .iter()
                .find(|u| u.code == slot.unit)
                .ok_or_else(|| {
                    AppError::invalid(format!(
                        "unité « {} » inconnue pour l'activité « {} » (unités : {})",
                        slot.unit,
                        activity.name,
                        activity
                            .units
                            .iter()
                            .map(|u| u.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            Ok(PlannedUnit {
                activity: activity.code.clone(),
                activity_name: activity.name.clone(),
                unit: unit.code.clone(),
                unit_label: unit.label.clone(),
                weekday: slot.weekday,
                starts: unit.starts,
                ends: unit.ends,
                arrival: slot.arrival,
                departure: slot.departure,
            })
        })
        .collect()
}

/// Prices the typical week over the month for the household (or the hypothetical family).
/// Bad input and prices the grids cannot give are `Invalid` (French); another city's
/// household or a child of another household is `NotFound`.
pub async fn simulate(
    conn: &mut Conn,
    city_name: &str,
    bareme: &Bareme,
    request: &SimulationRequest,
) -> AppResult<Simulation> {
    let (first, last) = month_bounds(request.month);
    let hypothesis = &request.hypothesis;
    let facts = match request.household {
        Some(household) => Some(
            quote::household_facts(conn, household, first, city_name, request.incomes_visible)
                .await?,
        ),
        None if request.child.is_some() => {
            return Err(AppError::invalid(
                "un enfant se simule avec sa famille : indiquez la famille",
            ));
        }
        None => None,
    };
    if let (Some((view, _)), Some(child)) = (&facts, request.child)
        && !view.children.iter().any(|c| c.id == child)
    {
        return Err(AppError::not_found(
            "Enfant introuvable dans cette famille.",
        ));
    }
    let slots = planned_units(conn, &request.week).await?;
    let codes: Vec<String> = {
        let mut codes: Vec<String> = Vec::new();
        for slot in &slots {
            if !codes.contains(&slot.activity) {
                codes.push(slot.activity.clone());
            }
        }
        codes
    };

    // The situation: the dossier's (or defaults), with the caller's values over it.
    let facts_only = facts.as_ref().map(|(_, f)| f);
    let dependent_children = hypothesis
        .dependent_children
        .or(facts_only.map(|f| f.dependent_children))
        .unwrap_or(1);
    let aeeh_children = hypothesis.aeeh_children.unwrap_or(0);
    if aeeh_children > dependent_children {
        return Err(AppError::invalid(
            "les enfants bénéficiaires de l'AEEH ne peuvent pas dépasser les enfants à charge",
        ));
    }
    let child = match request.child {
        Some(child) => Some(child_situation(conn, child, first).await?),
        None => None,
    };
    // The child's options (city school, ULIS class) as the admission derives them.
    let derived_options = child
        .as_ref()
        .map(assignment::child_options)
        .unwrap_or_default();
    let sibling_rank = match (hypothesis.sibling_rank, &child) {
        (Some(rank), _) => rank.max(1),
        (None, Some(child)) => {
            let activity_id = summaries(conn, true)
                .await?
                .into_iter()
                .find(|a| Some(&a.code) == codes.first())
                .map(|a| a.id);
            match activity_id {
                Some(id) => assignment::rank_in_activity(conn, child, id, first).await?,
                None => 1,
            }
        }
        (None, None) => 1,
    };
    let situation = FamilySituation {
        family_quotient: hypothesis
            .family_quotient
            .or(facts_only.and_then(|f| f.family_quotient)),
        monthly_resources: hypothesis
            .monthly_resources
            .or(facts_only.and_then(|f| f.monthly_resources)),
        dependent_children,
        aeeh_children,
        residence: hypothesis
            .residence
            .or(facts_only.map(|f| f.residence))
            .unwrap_or(Residence::City),
        options: hypothesis.options.clone().unwrap_or(derived_options),
        sibling_rank,
    };

    // Tariff codes: the hypothesis', else the child's admitted enrolments in the month.
    let mut tariffs: Vec<TariffUsed> = Vec::new();
    match (&hypothesis.tariff, request.child) {
        (Some(tariff), _) => {
            for code in &codes {
                tariffs.push(TariffUsed {
                    activity: code.clone(),
                    tariff: tariff.clone(),
                    explanation: "Tarif hypothétique choisi pour la simulation".into(),
                });
            }
        }
        (None, Some(child)) => {
            for enrolment in assignment::admitted_tariffs(conn, child, first, last).await? {
                if let (true, Some(tariff)) =
                    (codes.contains(&enrolment.activity_code), enrolment.tariff)
                    && !tariffs
                        .iter()
                        .any(|t| t.activity == enrolment.activity_code)
                {
                    tariffs.push(TariffUsed {
                        activity: enrolment.activity_code,
                        tariff,
                        explanation: enrolment.tariff_explanation.unwrap_or_default(),
                    });
                }
            }
        }
        (None, None) => {}
    }
    // No tariff known for an activity (no hypothesis, no admitted enrolment): the one its
    // assignment rules would give at admission to the situation priced.
    if hypothesis.tariff.is_none() {
        for code in &codes {
            if tariffs.iter().any(|t| t.activity == *code) {
                continue;
            }
            let rules = assignment::rules(conn, code).await?;
            if let Ok(assigned) = assign_tariff(&rules, &situation, first) {
                tariffs.push(TariffUsed {
                    activity: code.clone(),
                    tariff: assigned.tariff,
                    explanation: format!(
                        "Sans inscription admise, tarif que les règles d'attribution donneraient \
                         à l'admission. {}",
                        assigned.explanation
                    ),
                });
            }
        }
    }

    // Aids: the household's in force (if the caller may see them), then the hypothesis'.
    let mut notes = Vec::new();
    let mut applied = Vec::new();
    if let Some(household) = request.household {
        if request.incomes_visible {
            applied = aids::household_aids(conn, household, first, last).await?;
            if request.child.is_none() && applied.iter().any(|a| !a.children.is_empty()) {
                notes.push(
                    "Des aides de la famille sont attribuées à certains enfants : choisissez \
                     l'enfant pour les appliquer."
                        .to_string(),
                );
            }
        } else if !aids::grants_of(conn, household).await?.is_empty() {
            notes.push(
                "Les aides attribuées à la famille ne sont pas appliquées : vos droits ne \
                 permettent pas de les consulter (revenus de la famille)."
                    .to_string(),
            );
        }
    }
    for aid in aids::catalogue_aids(conn, &hypothesis.aids).await? {
        if !applied.iter().any(|a| a.id == aid.id) {
            applied.push(aid);
        }
    }

    let all_grids = grids::grids(conn).await?;
    let used_grids: Vec<_> = all_grids
        .into_iter()
        .filter(|g| codes.iter().any(|c| **c == *g.activity))
        .collect();
    let settings = grids::settings_on(conn, first).await?;
    let quote_request = QuoteRequest {
        month: first,
        child_id: request.child.unwrap_or(0),
        situation: situation.clone(),
        slots,
        tariffs: tariffs
            .iter()
            .map(|t| (t.activity.clone(), t.tariff.clone()))
            .collect::<BTreeMap<_, _>>(),
        aids: applied,
    };
    let view = quote::quote(&used_grids, &settings, bareme, &quote_request).map_err(|error| {
        let hidden_qf = request.household.is_some()
            && !request.incomes_visible
            && hypothesis.family_quotient.is_none();
        match error {
            PricingError::MissingQf { .. } | PricingError::MissingResources { .. } if hidden_qf => {
                AppError::invalid(format!(
                    "{error} ; vos droits ne permettent pas de lire les revenus de la famille : \
                     indiquez un quotient familial (ou des ressources) hypothétique"
                ))
            }
            other => AppError::invalid(other.to_string()),
        }
    })?;
    Ok(Simulation {
        facts: facts.map(|(_, f)| f),
        situation,
        tariffs,
        notes,
        quote: view,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_bounded() {
        let day = |t: &str| t.parse::<NaiveDate>().unwrap();
        assert_eq!(
            month_bounds(day("2026-02-14")),
            (day("2026-02-01"), day("2026-02-28"))
        );
        assert_eq!(
            month_bounds(day("2026-12-31")),
            (day("2026-12-01"), day("2026-12-31"))
        );
    }
}
