//! Properties: same input same output, never negative, effective dating.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveTime};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::super::*;
use super::*;

// ---------------------------------------------------------------------------- properties

fn any_state() -> impl Strategy<Value = AttendanceState> {
    use AttendanceState::*;
    prop::sample::select(vec![
        Booked,
        Present,
        AbsentJustified,
        AbsentUnjustified,
        PresentUnbooked,
        CancelledInTime,
        CancelledLate,
    ])
}

fn any_residence() -> impl Strategy<Value = Residence> {
    prop::sample::select(vec![
        Residence::City,
        Residence::OutsideCity,
        Residence::OutsideIntercommunality,
    ])
}

prop_compose! {
    fn any_situation()(
        qf in prop::option::weighted(0.9, 0i64..300_000),
        resources in prop::option::weighted(0.9, 0i64..1_500_000),
        children in 1u8..12,
        aeeh_share in 0u8..3,
        residence in any_residence(),
        ulis in any::<bool>(),
        schooled in any::<bool>(),
        sibling_rank in 1u8..6,
    ) -> FamilySituation {
        let mut options = BTreeSet::new();
        if ulis { options.insert("ulis".to_owned()); }
        if schooled { options.insert("schooled_in_city".to_owned()); }
        FamilySituation {
            family_quotient: qf.map(Cents),
            monthly_resources: resources.map(Cents),
            dependent_children: children,
            aeeh_children: aeeh_share.min(children),
            residence,
            options,
            sibling_rank,
        }
    }
}

prop_compose! {
    fn any_consumption()(
        activity in prop::sample::select(vec!["cantine", "periscolaire_soir", "creche"]),
        days in 0i64..900,
        arrival in 420u32..1080,
        stay in 0u32..660,
        state in any_state(),
        billable in prop::bool::weighted(0.95),
        tariff in prop::sample::select(vec!["resident", "exterieur", "hors_interco"]),
    ) -> Consumption {
        let unit = match activity { "cantine" => "repas", "periscolaire_soir" => "soir", _ => "heure" };
        let clock = |minutes: u32| NaiveTime::from_hms_opt(minutes / 60 % 24, minutes % 60, 0).unwrap();
        Consumption {
            child_id: 1,
            activity: activity.to_owned(),
            unit: unit.to_owned(),
            date: day("2024-09-02") + chrono::Duration::days(days),
            arrival: Some(clock(arrival)),
            departure: Some(clock((arrival + stay).min(1439))),
            closing_time: Some(time("18:30")),
            state,
            billable,
            tariff: Some(tariff.to_owned()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn same_input_same_output(consumption in any_consumption(), situation in any_situation()) {
        let first = price_in_city(&consumption, &situation);
        let again = price_in_city(&consumption.clone(), &situation.clone());
        prop_assert_eq!(first, again);
    }

    #[test]
    fn prices_are_never_negative_and_lines_are_consistent(consumption in any_consumption(), situation in any_situation()) {
        if let Ok(lines) = price_in_city(&consumption, &situation) {
            for line in &lines {
                prop_assert!(!line.amount.is_negative(), "{line:#?}");
                if line.kind() == LineKind::Base {
                    let QuantityBasis::Duration { charged_minutes, per: PricedPer::Hour, .. } =
                        (match &line.basis { LineBasis::Base { quantity, .. } => *quantity, _ => unreachable!() })
                    else {
                        prop_assert_eq!(line.amount, round_half_up_to_cent(line.unit_price * line.quantity).unwrap());
                        continue;
                    };
                    let exact = line.unit_price * Decimal::from(charged_minutes) / Decimal::from(60);
                    prop_assert_eq!(line.amount, round_half_up_to_cent(exact).unwrap());
                }
            }
        }
    }

    #[test]
    fn aids_never_make_a_price_negative(
        amounts in prop::collection::vec((0i64..5_000, 1u32..29, 1i64..4), 0..40),
        percent in 1i64..=100,
        per_line in 1i64..6_000,
        day_cap in prop::option::of(0i64..3_000),
        month_cap in prop::option::of(0i64..20_000),
        family_scope in any::<bool>(),
    ) {
        let lines: Vec<PricedLine> = amounts
            .iter()
            .map(|(cents, d, child)| {
                let consumption = Consumption {
                    child_id: *child,
                    ..meal(&format!("2025-10-{d:02}"))
                };
                let mut line = price_in_city(&consumption, &family(Some("742"))).unwrap().remove(0);
                line.amount = Cents(*cents);
                line
            })
            .collect();
        let scope = if family_scope { CapScope::Family } else { CapScope::Child };
        let aid = |id: &str, amount: AidAmount| Aid {
            id: id.into(),
            label: id.into(),
            funder: Funder::City,
            valid_from: day("2025-01-01"),
            valid_to: None,
            children: Vec::new(),
            activities: Vec::new(),
            line_kinds: vec![LineKind::Base],
            amount,
            cap_per_day: day_cap.map(Cents),
            cap_per_period: month_cap.map(Cents),
            period: AidPeriod::Month,
            cap_scope: scope,
        };
        let aids = [
            aid("pourcentage", AidAmount::Percent(Percent(Decimal::from(percent)))),
            aid("forfait", AidAmount::PerLine(Cents(per_line))),
        ];
        let outcome = apply_aids(lines.clone(), &aids, &AidUsage::default()).unwrap();
        let mut net = Cents::ZERO;
        for line in &outcome.lines {
            if line.kind() == LineKind::Aid {
                prop_assert!(line.amount.is_negative());
                net += line.amount;
            } else {
                prop_assert!(!net.is_negative());
                net = line.amount;
            }
        }
        prop_assert!(!net.is_negative());
        prop_assert_eq!(
            outcome.lines.iter().filter(|l| l.kind() != LineKind::Aid).count(),
            lines.len()
        );
        if let Some(cap) = month_cap {
            for (key, used) in &outcome.usage.0 {
                prop_assert!(used.0 <= cap, "{key:?} used {used:?} over {cap}");
            }
        }
    }

    #[test]
    fn a_version_valid_from_tomorrow_never_prices_today(
        days in 0i64..5_000,
        today_price in 0i64..10_000,
        tomorrow_price in 0i64..10_000,
        state in any_state(),
    ) {
        let today = day("2020-01-01") + chrono::Duration::days(days);
        let tomorrow = today.succ_opt().unwrap();
        let version = |valid_from, valid_to, amount| GridVersion {
            valid_from,
            valid_to,
            billed_states: None,
            rules: vec![TariffRule {
                id: format!("repas-{amount}").into(),
                when: Criteria::default(),
                price: PriceSource::Flat { amount: Cents(amount) },
                quantity: QuantityRule::PerUnit,
                overtime: None,
            }],
            adjustments: Vec::new(),
            surcharges: Vec::new(),
        };
        let future_only = TariffGrid {
            activity: "cantine".into(),
            unit_labels: Default::default(),
            versions: vec![version(tomorrow, None, tomorrow_price)],
        };
        let both = TariffGrid {
            versions: vec![
                version(tomorrow, None, tomorrow_price),
                version(day("2019-01-01"), Some(today), today_price),
            ],
            ..future_only.clone()
        };
        prop_assert!(both.validate().is_ok());
        let settings = PricingSettings {
            billed_states: [state].into(),
            ..PricingSettings::default()
        };
        let bareme = bareme();
        let context = PricingContext { settings: &settings, bareme };
        let on = |date: NaiveDate| Consumption { date, state, ..meal("2020-01-01") };
        let situation = family(None);
        prop_assert!(
            matches!(price(&on(today), &situation, &future_only, &context), Err(PricingError::NoGridInForce { .. })),
            "a version from tomorrow priced today"
        );
        let priced_today = price(&on(today), &situation, &both, &context).unwrap();
        prop_assert_eq!(priced_today[0].amount, Cents(today_price));
        prop_assert_eq!(priced_today[0].rule_id.to_string(), format!("repas-{today_price}"));
        let priced_tomorrow = price(&on(tomorrow), &situation, &both, &context).unwrap();
        prop_assert_eq!(priced_tomorrow[0].amount, Cents(tomorrow_price));
    }
}
