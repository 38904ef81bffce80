//! The tariff simulation (devis, FAM-15): a household (or a hypothetical situation), the
//! units it would book each week, priced over a month with the city's grids and the CNAF
//! barème, each line with its explanation. The pricing is the pure engine's
//! ([`simulate_month`]); this module gathers the household's facts and shapes the result.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::activity::model::CitySettings;
use crate::domain::calendar::public_holidays;
use crate::domain::family::dossier::{self, HouseholdView, Visibility};
use crate::domain::money::Cents;
use crate::domain::pricing::{
    Aid, AidUsage, Bareme, FamilySituation, Funder, LineBasis, LineKind, MonthPlan, PlannedSlot,
    PricedLine, PricingContext, PricingError, PricingSettings, Residence, TariffGrid, TypicalWeek,
    apply_aids, simulate_month,
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

/// A unit the child would attend on a weekday, with the unit's opening hours and, when
/// given, the planned arrival and departure (duration-priced units).
#[derive(Debug, Clone)]
pub struct PlannedUnit {
    pub activity: String,
    pub activity_name: String,
    pub unit: String,
    pub unit_label: String,
    pub weekday: Weekday,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
    /// Arrival and departure; the unit's hours when absent. Overtime counts past `ends`.
    pub arrival: Option<NaiveTime>,
    pub departure: Option<NaiveTime>,
}

#[derive(Debug, Clone)]
pub struct QuoteRequest {
    /// Any day of the month.
    pub month: NaiveDate,
    pub child_id: i64,
    pub situation: FamilySituation,
    pub slots: Vec<PlannedUnit>,
    /// The tariff code of each activity (activity code → tariff), from the child's enrolment
    /// or a hypothesis; rules with `when.tariffs` need it.
    pub tariffs: BTreeMap<String, String>,
    /// The aids deducted, in deduction order.
    pub aids: Vec<Aid>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteLine {
    /// « lun. 04/05/2026 ».
    pub date: String,
    pub day: NaiveDate,
    pub activity: String,
    pub activity_code: String,
    pub unit: String,
    pub unit_code: String,
    /// `base`, `surcharge`, `overtime` or `aid`.
    pub kind: LineKind,
    pub rule_id: String,
    /// Units, hours or steps (`"1"`, `"2.5"`).
    pub quantity: String,
    /// Euros per quantity, decimal string (`"3.84"`).
    pub unit_price: String,
    pub explanation: String,
    /// « 3,84 € ».
    pub amount: String,
    /// `"3.84"`, `"-1.92"`.
    pub amount_euros: String,
    pub negative: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityTotal {
    pub activity: String,
    pub lines: usize,
    pub amount: String,
}

/// What one aid deducted over the month.
#[derive(Debug, Clone, Serialize)]
pub struct AidTotal {
    pub aid_id: String,
    pub label: String,
    pub funder: Funder,
    pub funder_label: &'static str,
    pub lines: usize,
    /// « -5,76 € ».
    pub amount: String,
    /// `"-5.76"`.
    pub amount_euros: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteView {
    /// « janvier 2026 ».
    pub month: String,
    pub lines: Vec<QuoteLine>,
    pub by_activity: Vec<ActivityTotal>,
    pub aids: Vec<AidTotal>,
    pub total: String,
    pub total_euros: String,
    pub total_cents: i64,
    /// Public holidays of the month left out.
    pub holidays: Vec<String>,
    pub holiday_days: Vec<NaiveDate>,
}

const WEEKDAYS: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];

/// A decimal of euros for APIs, two decimals at least: `"3.84"`, `"1.548"`, `"2.50"`.
fn decimal_euros(value: Decimal) -> String {
    let mut value = value.normalize();
    if value.scale() < 2 {
        value.rescale(2);
    }
    value.to_string()
}

/// Prices the month: every planned weekday of the month but public holidays, as attended;
/// each activity with its tariff code, then the aids deducted over all the lines (caps per
/// day and month count every activity).
pub fn quote(
    grids: &[TariffGrid],
    settings: &PricingSettings,
    bareme: &Bareme,
    request: &QuoteRequest,
) -> Result<QuoteView, PricingError> {
    let month = request.month;
    let closed: BTreeSet<NaiveDate> = public_holidays(month.year())
        .into_iter()
        .map(|h| h.date)
        .filter(|d| d.month() == month.month())
        .collect();
    let holidays: Vec<NaiveDate> = closed.iter().copied().collect();
    let context = PricingContext { settings, bareme };
    let mut activities: Vec<&str> = Vec::new();
    for slot in &request.slots {
        if !activities.contains(&slot.activity.as_str()) {
            activities.push(&slot.activity);
        }
    }
    let mut priced = Vec::new();
    for activity in activities {
        let week = TypicalWeek {
            slots: request
                .slots
                .iter()
                .filter(|slot| slot.activity == activity)
                .map(|slot| PlannedSlot {
                    weekday: slot.weekday,
                    activity: slot.activity.clone(),
                    unit: slot.unit.clone(),
                    arrival: Some(slot.arrival.unwrap_or(slot.starts)),
                    departure: Some(slot.departure.unwrap_or(slot.ends)),
                    closing_time: Some(slot.ends),
                })
                .collect(),
        };
        let plan = MonthPlan {
            child_id: request.child_id,
            month,
            week: &week,
            closed_days: &closed,
            tariff: request.tariffs.get(activity).map(String::as_str),
        };
        priced.extend(simulate_month(&plan, &request.situation, grids, &[], &context)?.lines);
    }
    // Day by day across activities (stable: an activity's lines keep their order).
    priced.sort_by_key(|line| line.date);
    let lines = apply_aids(priced, &request.aids, &AidUsage::default())?.lines;
    let total: Cents = lines.iter().map(|line| line.amount).sum();
    Ok(view(request, lines, total, &holidays))
}

/// The priced lines told for the page and the API.
fn view(
    request: &QuoteRequest,
    lines: Vec<PricedLine>,
    total: Cents,
    holidays: &[NaiveDate],
) -> QuoteView {
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
    let mut aids: Vec<(String, usize, Cents, &PricedLine)> = Vec::new();
    let views = lines
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
            if line.kind() == LineKind::Aid {
                match aids.iter_mut().find(|(id, ..)| **id == *line.rule_id) {
                    Some((_, count, amount, _)) => {
                        *count += 1;
                        *amount += line.amount;
                    }
                    None => aids.push((line.rule_id.to_string(), 1, line.amount, line)),
                }
            }
            QuoteLine {
                date: format!(
                    "{} {}",
                    WEEKDAYS[line.date.weekday().num_days_from_monday() as usize],
                    line.date.format("%d/%m/%Y")
                ),
                day: line.date,
                activity: name,
                activity_code: line.activity.to_string(),
                unit: unit_of(&line.activity, &line.unit),
                unit_code: line.unit.clone(),
                kind: line.kind(),
                rule_id: line.rule_id.to_string(),
                quantity: line.quantity.normalize().to_string(),
                unit_price: decimal_euros(line.unit_price),
                explanation: line.explanation(),
                amount: line.amount.to_string(),
                amount_euros: line.amount.to_decimal_euros(),
                negative: line.amount.is_negative(),
            }
        })
        .collect();
    QuoteView {
        month: crate::domain::booking::family::month_label(request.month),
        lines: views,
        by_activity: by_activity
            .into_iter()
            .map(|(activity, lines, amount)| ActivityTotal {
                activity,
                lines,
                amount: amount.to_string(),
            })
            .collect(),
        aids: aids
            .into_iter()
            .map(|(aid_id, lines, amount, first)| {
                let (label, funder) = match &first.basis {
                    LineBasis::Aid { label, funder, .. } => (label.to_string(), *funder),
                    _ => (aid_id.clone(), Funder::City),
                };
                AidTotal {
                    aid_id,
                    label,
                    funder,
                    funder_label: funder.label_fr(),
                    lines,
                    amount: amount.to_string(),
                    amount_euros: amount.to_decimal_euros(),
                }
            })
            .collect(),
        total: total.to_string(),
        total_euros: total.to_decimal_euros(),
        total_cents: total.0,
        holidays: holidays
            .iter()
            .map(|d| d.format("%d/%m/%Y").to_string())
            .collect(),
        holiday_days: holidays.to_vec(),
    }
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
            arrival: None,
            departure: None,
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
            tariffs: BTreeMap::new(),
            aids: Vec::new(),
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

    #[test]
    fn each_activity_gets_its_tariff_and_aids_count_over_the_month() {
        let grid = |activity: &str| {
            TariffGrid::from_toml_str(&format!(
                r#"
                activity = "{activity}"
                [[versions]]
                valid_from = "2025-09-01"
                rules = [
                    {{ id = "{activity}-ext", when = {{ tariffs = ["exterieur"] }}, price = {{ kind = "flat", amount = "5.00" }} }},
                    {{ id = "{activity}-base", price = {{ kind = "flat", amount = "3.00" }} }},
                ]
                "#
            ))
            .unwrap()
        };
        let slot = |activity: &str, weekday| PlannedUnit {
            activity: activity.into(),
            activity_name: activity.to_uppercase(),
            unit: "u".into(),
            unit_label: "U".into(),
            weekday,
            starts: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            ends: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            arrival: None,
            departure: None,
        };
        let aid: Aid = toml::from_str(
            r#"
            id = "ccas"
            label = "Coup de pouce"
            funder = "ccas"
            valid_from = "2025-09-01"
            amount = { per_line = "1.00" }
            cap_per_period = "5.00"
            "#,
        )
        .unwrap();
        let request = QuoteRequest {
            // June 2026: 5 Mondays (1, 8, 15, 22, 29) and 5 Tuesdays, no public holiday.
            month: "2026-06-10".parse().unwrap(),
            child_id: 3,
            situation: FamilySituation {
                family_quotient: None,
                monthly_resources: None,
                dependent_children: 1,
                aeeh_children: 0,
                residence: Residence::City,
                options: BTreeSet::new(),
                sibling_rank: 1,
            },
            slots: vec![slot("a", Weekday::Mon), slot("b", Weekday::Tue)],
            tariffs: BTreeMap::from([("a".to_string(), "exterieur".to_string())]),
            aids: vec![aid],
        };
        let view = quote(
            &[grid("a"), grid("b")],
            &PricingSettings::default(),
            &Bareme::shipped().unwrap(),
            &request,
        )
        .unwrap();
        let base: Vec<&QuoteLine> = view.lines.iter().filter(|l| !l.negative).collect();
        assert_eq!(base.len(), 10);
        assert_eq!(base[0].rule_id, "a-ext", "activity a has the tariff");
        assert_eq!(base[1].rule_id, "b-base", "activity b has none");
        assert_eq!(base[1].day.to_string(), "2026-06-02", "day by day");
        // 5 × 5.00 + 5 × 3.00 = 40.00, minus the aid capped at 5.00 for the month.
        assert_eq!(view.total_euros, "35.00");
        assert_eq!(view.aids.len(), 1);
        assert_eq!(view.aids[0].amount_euros, "-5.00");
        assert_eq!(view.aids[0].lines, 5);
        assert_eq!(view.lines[1].kind, LineKind::Aid);
        assert_eq!(view.lines[1].unit_price, "-1.00");
        assert_eq!(base[0].quantity, "1");
        assert_eq!(base[0].unit_price, "5.00");
    }
}
