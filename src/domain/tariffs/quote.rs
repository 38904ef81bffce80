//! The tariff simulation (devis, FAM-15): a household (or a hypothetical situation), the
//! units it would book each week, priced over a month with the city's grids and the CNAF
//! barème, each line with its explanation. The pricing is the pure engine's
//! ([`simulate_month`]); this module gathers the household's facts and shapes the result.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde::Serialize;

use crate::domain::activity::model::CitySettings;
use crate::domain::calendar::public_holidays;
use crate::domain::family::dossier::{self, HouseholdView, Visibility};
use crate::domain::money::Cents;
use crate::domain::pricing::{
    Bareme, FamilySituation, MonthPlan, PlannedSlot, PricingContext, PricingError, PricingSettings,
    Residence, TariffGrid, TypicalWeek, simulate_month,
};
use crate::platform::db::Conn;
use crate::platform::error::AppResult;

/// What pricing needs to know of a household on a day.
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdFacts {
    /// QF in force on the day, when the reader may see incomes and one is recorded.
    pub family_quotient: Option<Cents>,
    pub monthly_resources: Option<Cents>,
    pub dependent_children: u8,
    pub residence: Residence,
    pub residence_label: &'static str,
    /// Whether an income record was found (and could be read) for the day.
    pub income_found: bool,
}

/// The household's dossier and its pricing facts on `day`. Incomes are read only when
/// `incomes_visible` (the caller's right to read them); otherwise the QF stays unknown and
/// the agent types a hypothetical one.
pub async fn household_facts(
    conn: &mut Conn,
    household: i64,
    day: NaiveDate,
    city_name: &str,
    incomes_visible: bool,
) -> AppResult<(HouseholdView, HouseholdFacts)> {
    let visibility = Visibility {
        income: incomes_visible,
        ..Visibility::default()
    };
    let view = dossier::household(conn, household, day, visibility).await?;
    let settings = CitySettings::read(conn, city_name).await?;
    let residence = settings.residence(view.address.as_ref().map(|a| a.town.as_str()));
    let income = view.incomes.as_ref().and_then(|incomes| {
        incomes
            .iter()
            .find(|i| i.valid_from <= day && i.valid_to.is_none_or(|to| day <= to))
            .cloned()
    });
    let children = u8::try_from(view.children.len()).unwrap_or(u8::MAX);
    let facts = HouseholdFacts {
        family_quotient: income
            .as_ref()
            .and_then(|i| i.family_quotient)
            .map(|qf| Cents::from_euros(i64::from(qf))),
        monthly_resources: income.as_ref().and_then(|i| i.monthly_resources).map(Cents),
        dependent_children: income
            .as_ref()
            .and_then(|i| u8::try_from(i.dependent_children).ok())
            .unwrap_or(children),
        residence,
        residence_label: residence.label_fr(),
        income_found: income.is_some(),
    };
    Ok((view, facts))
}

/// A unit the child would attend on a weekday, with its times (the unit's opening hours).
#[derive(Debug, Clone)]
pub struct PlannedUnit {
    pub activity: String,
    pub activity_name: String,
    pub unit: String,
    pub unit_label: String,
    pub weekday: Weekday,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
}

#[derive(Debug, Clone)]
pub struct QuoteRequest {
    /// Any day of the month.
    pub month: NaiveDate,
    pub child_id: i64,
    pub situation: FamilySituation,
    pub slots: Vec<PlannedUnit>,
    pub tariff: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteLine {
    pub date: String,
    pub activity: String,
    pub unit: String,
    pub explanation: String,
    pub amount: String,
    pub negative: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityTotal {
    pub activity: String,
    pub lines: usize,
    pub amount: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteView {
    /// « janvier 2026 ».
    pub month: String,
    pub lines: Vec<QuoteLine>,
    pub by_activity: Vec<ActivityTotal>,
    pub total: String,
    pub total_cents: i64,
    /// Public holidays of the month left out.
    pub holidays: Vec<String>,
}

const WEEKDAYS: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];

/// Prices the month: every planned weekday of the month but public holidays, as attended.
pub fn quote(
    grids: &[TariffGrid],
    settings: &PricingSettings,
    bareme: &Bareme,
    request: &QuoteRequest,
) -> Result<QuoteView, PricingError> {
    let week = TypicalWeek {
        slots: request
            .slots
            .iter()
            .map(|slot| PlannedSlot {
                weekday: slot.weekday,
                activity: slot.activity.clone(),
                unit: slot.unit.clone(),
                arrival: Some(slot.starts),
                departure: Some(slot.ends),
                closing_time: Some(slot.ends),
            })
            .collect(),
    };
    let month = request.month;
    let holidays: Vec<NaiveDate> = public_holidays(month.year())
        .into_iter()
        .map(|h| h.date)
        .filter(|d| d.month() == month.month())
        .collect();
    let closed: BTreeSet<NaiveDate> = holidays.iter().copied().collect();
    let plan = MonthPlan {
        child_id: request.child_id,
        month,
        week: &week,
        closed_days: &closed,
        tariff: request.tariff.as_deref(),
    };
    let context = PricingContext { settings, bareme };
    let quote = simulate_month(&plan, &request.situation, grids, &[], &context)?;
    let name_of = |code: &str| {
        request
            .slots
            .iter()
            .find(|s| s.activity == code)
            .map_or_else(|| code.to_string(), |s| s.activity_name.clone())
    };
    let unit_of = |activity: &str, unit: &str| {
        request
            .slots
            .iter()
            .find(|s| s.activity == activity && s.unit == unit)
            .map_or_else(|| unit.to_string(), |s| s.unit_label.clone())
    };
    let mut by_activity: Vec<(String, usize, Cents)> = Vec::new();
    let lines = quote
        .lines
        .iter()
        .map(|line| {
            let name = name_of(&line.activity);
            match by_activity.iter_mut().find(|(n, ..)| *n == name) {
                Some((_, count, amount)) => {
                    *count += 1;
                    *amount += line.amount;
                }
                None => by_activity.push((name.clone(), 1, line.amount)),
            }
            QuoteLine {
                date: format!(
                    "{} {}",
                    WEEKDAYS[line.date.weekday().num_days_from_monday() as usize],
                    line.date.format("%d/%m/%Y")
                ),
                activity: name,
                unit: unit_of(&line.activity, &line.unit),
                explanation: line.explanation(),
                amount: line.amount.to_string(),
                negative: line.amount.is_negative(),
            }
        })
        .collect();
    Ok(QuoteView {
        month: crate::domain::booking::family::month_label(month),
        lines,
        by_activity: by_activity
            .into_iter()
            .map(|(activity, lines, amount)| ActivityTotal {
                activity,
                lines,
                amount: amount.to_string(),
            })
            .collect(),
        total: quote.total.to_string(),
        total_cents: quote.total.0,
        holidays: holidays
            .iter()
            .map(|d| d.format("%d/%m/%Y").to_string())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_of_mondays_and_thursdays_at_the_canteen() {
        let grid = TariffGrid::from_toml_str(
            r#"
            activity = "cantine"
            unit_labels = { repas = "repas" }
            [[versions]]
            valid_from = "2025-09-01"
            rules = [ { id = "cantine-qf", price = { kind = "qf_brackets", brackets = [
                { id = "cantine-qf-1", min = "0", max = "700", amount = "1.00" },
                { id = "cantine-qf-2", min = "701", amount = "3.84" },
            ] } } ]
            "#,
        )
        .unwrap();
        let slot = |weekday| PlannedUnit {
            activity: "cantine".into(),
            activity_name: "Cantine".into(),
            unit: "repas".into(),
            unit_label: "Repas".into(),
            weekday,
            starts: NaiveTime::from_hms_opt(11, 30, 0).unwrap(),
            ends: NaiveTime::from_hms_opt(13, 30, 0).unwrap(),
        };
        let request = QuoteRequest {
            // May 2026: Mondays 4, 11, 18, 25 (25 = Whit Monday, a public holiday);
            // Thursdays 7, 14 (Ascension, a public holiday), 21, 28.
            month: "2026-05-15".parse().unwrap(),
            child_id: 7,
            situation: FamilySituation {
                family_quotient: Some(Cents::from_euros(742)),
                monthly_resources: None,
                dependent_children: 2,
                aeeh_children: 0,
                residence: Residence::City,
                options: BTreeSet::new(),
                sibling_rank: 1,
            },
            slots: vec![slot(Weekday::Mon), slot(Weekday::Thu)],
            tariff: None,
        };
        let view = quote(
            &[grid],
            &PricingSettings::default(),
            &Bareme::shipped().unwrap(),
            &request,
        )
        .unwrap();
        assert_eq!(view.month, "mai 2026");
        assert_eq!(view.lines.len(), 6, "{:?}", view.lines);
        assert_eq!(view.total_cents, 6 * 384);
        assert_eq!(view.lines[0].date, "lun. 04/05/2026");
        assert_eq!(view.by_activity[0].lines, 6);
        assert!(view.holidays.contains(&"25/05/2026".to_string()));
        assert!(view.lines[0].explanation.contains("tranche 2"));
    }
}
