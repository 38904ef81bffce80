//! Aids over a month of lines, and the month quote.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

use super::super::*;
use super::*;

// ---------------------------------------------------------------------------- aids and quote

#[test]
fn ccas_aid_over_a_month_of_meals() {
    let city = city();
    let qf = family(Some("742"));
    let lines: Vec<PricedLine> = (1..=31)
        .map(|d| NaiveDate::from_ymd_opt(2024, 10, d).unwrap())
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun | Weekday::Wed))
        .flat_map(|d| price_in_city(&meal(&d.to_string()), &qf).unwrap())
        .collect();
    assert_eq!(lines.len(), 18);
    let outcome = apply_aids(lines, &city.aids, &AidUsage::default()).unwrap();
    let aid_lines: Vec<&PricedLine> = outcome
        .lines
        .iter()
        .filter(|l| l.kind() == LineKind::Aid)
        .collect();
    // 50 % of 3.84 = 1.92 a day (under the 2 € daily cap), until the 30 € monthly cap:
    // 15 × 1.92 = 28.80, then 1.20, then nothing.
    assert_eq!(aid_lines.len(), 16);
    assert!(aid_lines[..15].iter().all(|l| l.amount == Cents(-192)));
    assert_eq!(aid_lines[15].amount, Cents(-120));
    assert_eq!(aid_lines[15].date, day("2024-10-28"));
    assert_eq!(
        aid_lines[15].explanation(),
        "Aide du CCAS « Coup de pouce cantine » : 50\u{a0}% de 3,84\u{a0}€ = 1,92\u{a0}€, limitée à 1,20\u{a0}€ par le plafond mensuel ; déduit : -1,20\u{a0}€"
    );
    let total: Cents = outcome.lines.iter().map(|l| l.amount).sum();
    assert_eq!(total, Cents(18 * 384 - 3000));
}

#[test]
fn a_month_quote_from_a_typical_week() {
    let city = city();
    let bareme = bareme();
    let context = PricingContext {
        settings: &city.settings,
        bareme,
    };
    let slot =
        |weekday: Weekday, activity: &str, unit: &str, times: Option<(&str, &str)>| PlannedSlot {
            weekday,
            activity: activity.to_owned(),
            unit: unit.to_owned(),
            arrival: times.map(|t| time(t.0)),
            departure: times.map(|t| time(t.1)),
            closing_time: times.map(|_| time("18:30")),
        };
    let week = TypicalWeek {
        slots: vec![
            slot(Weekday::Mon, "cantine", "repas", None),
            slot(Weekday::Tue, "cantine", "repas", None),
            slot(Weekday::Thu, "cantine", "repas", None),
            slot(Weekday::Fri, "cantine", "repas", None),
            slot(
                Weekday::Mon,
                "periscolaire_soir",
                "soir",
                Some(("16:30", "18:00")),
            ),
            slot(
                Weekday::Thu,
                "periscolaire_soir",
                "soir",
                Some(("16:30", "18:00")),
            ),
        ],
    };
    let closed = BTreeSet::from([day("2025-11-11")]);
    let plan = MonthPlan {
        child_id: 1,
        month: day("2025-11-20"),
        week: &week,
        closed_days: &closed,
        tariff: Some("resident"),
    };
    let qf = family(Some("742"));
    let quote = simulate_month(&plan, &qf, &city.grids, &[], &context).unwrap();
    // 15 meals × 3.92 + 8 evenings × 3.34 (11 November is closed).
    assert_eq!(quote.lines.len(), 23);
    assert_eq!(quote.total, Cents(15 * 392 + 8 * 334));
    let with_aid = simulate_month(&plan, &qf, &city.grids, &city.aids, &context).unwrap();
    assert_eq!(with_aid.total, Cents(15 * 392 + 8 * 334 - 15 * 196));
    let unknown = TypicalWeek {
        slots: vec![slot(Weekday::Mon, "piscine", "seance", None)],
    };
    let plan = MonthPlan {
        week: &unknown,
        ..plan
    };
    assert!(matches!(
        simulate_month(&plan, &qf, &city.grids, &[], &context),
        Err(PricingError::NoGridInForce { .. })
    ));
}
