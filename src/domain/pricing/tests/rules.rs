//! Every rule kind at its boundaries.

use rust_decimal::Decimal;

use super::super::*;
use super::*;

// ---------------------------------------------------------------------------- QF brackets

#[test]
fn qf_in_a_bracket_explains_itself() {
    let line = base(&meal("2024-10-07"), &family(Some("742")));
    assert_eq!(&*line.rule_id, "cantine-qf-3");
    assert_eq!(line.amount, Cents(384));
    assert_eq!(line.quantity, Decimal::ONE);
    assert_eq!(line.kind(), LineKind::Base);
    assert_eq!(
        line.explanation(),
        "QF 742\u{a0}€ dans la tranche 3 (701\u{a0}€ à 900\u{a0}€) : 3,84\u{a0}€ × 1 repas = 3,84\u{a0}€"
    );
}

#[test]
fn qf_bracket_bounds_are_inclusive() {
    let bracket = |qf: &str| {
        base(&meal("2024-10-07"), &family(Some(qf)))
            .rule_id
            .to_string()
    };
    assert_eq!(bracket("0"), "cantine-qf-1");
    assert_eq!(bracket("500"), "cantine-qf-1");
    assert_eq!(bracket("501"), "cantine-qf-2");
    assert_eq!(bracket("700"), "cantine-qf-2");
    assert_eq!(bracket("701"), "cantine-qf-3");
    assert_eq!(bracket("900"), "cantine-qf-3");
    assert_eq!(bracket("901"), "cantine-qf-4");
    assert_eq!(bracket("1200"), "cantine-qf-4");
    assert_eq!(bracket("1201"), "cantine-qf-5");
    assert_eq!(bracket("99999"), "cantine-qf-5");
}

#[test]
fn a_qf_in_a_gap_follows_the_city_setting() {
    let in_gap = family(Some("900.50"));
    // The example city attaches gaps to the bracket below.
    let line = base(&meal("2024-10-07"), &in_gap);
    assert_eq!(&*line.rule_id, "cantine-qf-3");
    assert!(line.explanation().starts_with(
        "QF 900,50\u{a0}€ entre deux tranches, rattaché à la tranche inférieure selon le paramétrage de la ville : tranche 3"
    ));
    let upper = settings_with(|s| s.qf_gap = QfGap::UpperBracket);
    let lines = price_with(&upper, &meal("2024-10-07"), &in_gap).unwrap();
    assert_eq!(&*lines[0].rule_id, "cantine-qf-4");
    let refuse = settings_with(|s| s.qf_gap = QfGap::Refuse);
    assert_eq!(
        price_with(&refuse, &meal("2024-10-07"), &in_gap),
        Err(PricingError::QfOutsideBrackets {
            rule_id: "cantine-qf".to_owned(),
            qf: Cents(90_050),
        })
    );
    // Just above the bound of the first bracket.
    let lines = price_with(&upper, &meal("2024-10-07"), &family(Some("500.01"))).unwrap();
    assert_eq!(&*lines[0].rule_id, "cantine-qf-2");
}

#[test]
fn a_qf_below_every_bracket_has_no_lower_bracket() {
    let mut city = city().clone();
    let grid = city
        .grids
        .iter_mut()
        .find(|g| &*g.activity == "cantine")
        .unwrap();
    let PriceSource::QfBrackets { brackets } = &mut grid.versions[0].rules[2].price else {
        panic!("the example's third cantine rule has QF brackets")
    };
    brackets[0].min = euros("100");
    let bareme = bareme();
    let qf_50 = family(Some("50"));
    let try_with = |gap: QfGap| {
        let settings = PricingSettings {
            qf_gap: gap,
            ..city.settings.clone()
        };
        let context = PricingContext {
            settings: &settings,
            bareme,
        };
        price(&meal("2024-10-07"), &qf_50, grid, &context).map(|lines| lines[0].rule_id.to_string())
    };
    assert!(matches!(
        try_with(QfGap::LowerBracket),
        Err(PricingError::QfOutsideBrackets { .. })
    ));
    assert_eq!(try_with(QfGap::UpperBracket), Ok("cantine-qf-1".to_owned()));
}

#[test]
fn a_missing_qf_never_silently_takes_the_dearest_bracket() {
    let no_qf = family(None);
    assert_eq!(
        price_in_city(&meal("2024-10-07"), &no_qf),
        Err(PricingError::MissingQf {
            rule_id: "cantine-qf".to_owned()
        })
    );
    let dearest = settings_with(|s| s.missing_qf = MissingQf::DearestBracket);
    let line = &price_with(&dearest, &meal("2024-10-07"), &no_qf).unwrap()[0];
    assert_eq!((&*line.rule_id, line.amount), ("cantine-qf-5", Cents(530)));
    assert!(line.explanation().starts_with(
        "QF non renseigné : tranche la plus chère appliquée selon le paramétrage de la ville, tranche 5 (1\u{a0}201\u{a0}€ et plus)"
    ));
    let given = settings_with(|s| s.missing_qf = MissingQf::Bracket(2));
    let line = &price_with(&given, &meal("2024-10-07"), &no_qf).unwrap()[0];
    assert_eq!((&*line.rule_id, line.amount), ("cantine-qf-2", Cents(210)));
    let missing_bracket = settings_with(|s| s.missing_qf = MissingQf::Bracket(6));
    assert!(matches!(
        price_with(&missing_bracket, &meal("2024-10-07"), &no_qf),
        Err(PricingError::Misconfigured { .. })
    ));
    // A tariff that does not depend on the QF needs none.
    let outside = Consumption {
        tariff: Some("exterieur".to_owned()),
        ..meal("2024-10-07")
    };
    assert_eq!(base(&outside, &no_qf).amount, Cents(620));
}

#[test]
fn a_negative_qf_is_refused() {
    assert!(matches!(
        price_in_city(&meal("2024-10-07"), &family(Some("-1"))),
        Err(PricingError::NegativeIncome { .. })
    ));
}

// ---------------------------------------------------------------------------- effective dating

#[test]
fn each_day_is_priced_with_the_version_then_in_force() {
    let qf = family(Some("742"));
    assert_eq!(base(&meal("2025-08-31"), &qf).amount, Cents(384));
    assert_eq!(base(&meal("2025-09-01"), &qf).amount, Cents(392));
    assert_eq!(
        price_in_city(&meal("2024-08-31"), &qf),
        Err(PricingError::NoGridInForce {
            activity: "cantine".to_owned(),
            date: day("2024-08-31")
        })
    );
    assert_eq!(
        PricingError::NoGridInForce {
            activity: "cantine".to_owned(),
            date: day("2024-08-31")
        }
        .to_string(),
        "aucune grille tarifaire de l'activité « cantine » n'est en vigueur le 31/08/2024"
    );
}

// ---------------------------------------------------------------------------- residence, triple tariff

#[test]
fn residence_tariffs_and_the_triple_tariff() {
    let city = city();
    let priced = |residence: Residence, options: &[&str]| {
        let situation = FamilySituation {
            residence,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            ..family(Some("742"))
        };
        let assigned = assign_tariff(&city.assignment, &situation, day("2024-09-02")).unwrap();
        let consumption = Consumption {
            tariff: Some(assigned.tariff),
            ..meal("2024-10-07")
        };
        let line = base(&consumption, &situation);
        (line.rule_id.to_string(), line.amount)
    };
    use Residence::*;
    assert_eq!(priced(City, &[]), ("cantine-qf-3".to_owned(), Cents(384)));
    assert_eq!(
        priced(OutsideCity, &[]),
        ("cantine-exterieur".to_owned(), Cents(620))
    );
    assert_eq!(
        priced(OutsideIntercommunality, &[]),
        ("cantine-hors-interco".to_owned(), Cents(710))
    );
    // Living elsewhere + schooled in the city + ULIS: the resident tariff.
    assert_eq!(
        priced(OutsideCity, &["schooled_in_city", "ulis"]),
        ("cantine-qf-3".to_owned(), Cents(384))
    );
    assert_eq!(
        priced(OutsideIntercommunality, &["schooled_in_city", "ulis"]),
        ("cantine-qf-3".to_owned(), Cents(384))
    );
    // Two of the three conditions are not enough.
    assert_eq!(
        priced(OutsideCity, &["ulis"]),
        ("cantine-exterieur".to_owned(), Cents(620))
    );
    assert_eq!(
        priced(OutsideCity, &["schooled_in_city"]),
        ("cantine-exterieur".to_owned(), Cents(620))
    );
}

#[test]
fn an_unknown_tariff_falls_back_to_the_unconditional_rule() {
    let unassigned = Consumption {
        tariff: Some("inconnu".to_owned()),
        ..meal("2024-10-07")
    };
    // The last cantine rule has no condition: any other tariff gets the QF brackets.
    assert_eq!(
        &*base(&unassigned, &family(Some("742"))).rule_id,
        "cantine-qf-3"
    );
}

#[test]
fn a_duration_rule_needs_times() {
    let no_times = consumption("periscolaire_soir", "soir", "2024-10-07");
    assert_eq!(
        price_in_city(&no_times, &family(Some("742"))),
        Err(PricingError::MissingTimes {
            rule_id: "soir-taux-effort".to_owned()
        })
    );
    let reversed = evening("2024-10-07", "18:00", "17:00");
    assert!(matches!(
        price_in_city(&reversed, &family(Some("742"))),
        Err(PricingError::DepartureBeforeArrival { .. })
    ));
}

#[test]
fn a_grid_prices_only_its_activity() {
    let city = city();
    let bareme = bareme();
    let context = PricingContext {
        settings: &city.settings,
        bareme,
    };
    let grid = city.grid("creche").unwrap();
    assert!(matches!(
        price(&meal("2024-10-07"), &family(Some("742")), grid, &context),
        Err(PricingError::WrongGrid { .. })
    ));
}

#[test]
fn no_matching_rule_is_a_clear_error() {
    let mut city = city().clone();
    let grid = city
        .grids
        .iter_mut()
        .find(|g| &*g.activity == "cantine")
        .unwrap();
    grid.versions[0]
        .rules
        .retain(|rule| !rule.when.tariffs.is_empty());
    let bareme = bareme();
    let context = PricingContext {
        settings: &city.settings,
        bareme,
    };
    let error = price(&meal("2024-10-07"), &family(Some("742")), grid, &context).unwrap_err();
    assert_eq!(
        error.to_string(),
        "aucune règle tarifaire de l'activité « cantine » ne s'applique à l'unité « repas » le 07/10/2024 pour cette situation"
    );
}

// ---------------------------------------------------------------------------- siblings, rounding point

#[test]
fn sibling_reductions_by_rank() {
    let amount = |r: u8| base(&meal("2024-10-07"), &rank(r)).amount;
    assert_eq!(amount(1), Cents(384));
    assert_eq!(amount(2), Cents(346)); // 3.84 × 0.9 = 3.456
    assert_eq!(amount(3), Cents(307)); // 3.84 × 0.8 = 3.072
    assert_eq!(amount(4), Cents(307));
    assert_eq!(
        base(&meal("2024-10-07"), &rank(2)).explanation(),
        "QF 742\u{a0}€ dans la tranche 3 (701\u{a0}€ à 900\u{a0}€) : 3,84\u{a0}€ ; Réduction fratrie (2e enfant) (-10\u{a0}%) : 3,456\u{a0}€ ; 3,456\u{a0}€ × 1 repas = 3,46\u{a0}€"
    );
}

#[test]
fn the_rounding_point_is_the_city_choice() {
    let unit_price = settings_with(|s| s.rounding_point = RoundingPoint::UnitPrice);
    let line = &price_with(&unit_price, &meal("2024-10-07"), &rank(2)).unwrap()[0];
    assert_eq!(line.unit_price, "3.46".parse::<Decimal>().unwrap());
    assert_eq!(line.amount, Cents(346));
    assert!(
        line.explanation()
            .contains("3,456\u{a0}€ ; arrondi à 3,46\u{a0}€ ; 3,46\u{a0}€ × 1 repas")
    );
    // Where it matters: 9.5 h of crèche at 1.548 €/h.
    let family = FamilySituation {
        monthly_resources: Some(euros("3000")),
        dependent_children: 2,
        ..family(None)
    };
    let day_in_creche = creche("2025-10-15", "08:00", "17:10");
    let line_total = &price_in_city(&day_in_creche, &family).unwrap()[0];
    assert_eq!(line_total.amount, Cents(1471)); // 1.548 × 9.5 = 14.706
    let rounded_first = &price_with(&unit_price, &day_in_creche, &family).unwrap()[0];
    assert_eq!(rounded_first.amount, Cents(1473)); // 1.55 × 9.5 = 14.725
}

// ---------------------------------------------------------------------------- states, surcharges

#[test]
fn billed_and_unbilled_states() {
    use AttendanceState::*;
    let qf = family(Some("742"));
    let lines = |state: AttendanceState| {
        price_in_city(
            &Consumption {
                state,
                ..meal("2024-10-07")
            },
            &qf,
        )
        .unwrap()
        .iter()
        .map(|l| l.amount.0)
        .collect::<Vec<_>>()
    };
    assert_eq!(lines(Booked), [384]);
    assert_eq!(lines(Present), [384]);
    assert_eq!(lines(AbsentUnjustified), [384]);
    assert_eq!(lines(CancelledLate), [384]);
    assert_eq!(lines(PresentUnbooked), [384, 192]);
    assert!(lines(AbsentJustified).is_empty());
    assert!(lines(CancelledInTime).is_empty());
    let not_billed = Consumption {
        billable: false,
        ..meal("2024-10-07")
    };
    assert!(price_in_city(&not_billed, &qf).unwrap().is_empty());
}

#[test]
fn a_grid_version_may_override_the_billed_states() {
    let mut city = city().clone();
    let grid = city
        .grids
        .iter_mut()
        .find(|g| &*g.activity == "cantine")
        .unwrap();
    grid.versions[0].billed_states = Some([AttendanceState::Present].into());
    let bareme = bareme();
    let context = PricingContext {
        settings: &city.settings,
        bareme,
    };
    let booked = Consumption {
        state: AttendanceState::Booked,
        ..meal("2024-10-07")
    };
    assert!(
        price(&booked, &family(Some("742")), grid, &context)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn surcharges_add_their_own_lines() {
    let qf = family(Some("742"));
    let unbooked = Consumption {
        state: AttendanceState::PresentUnbooked,
        ..meal("2024-10-07")
    };
    let lines = price_in_city(&unbooked, &qf).unwrap();
    assert_eq!(&*lines[1].rule_id, "cantine-sans-reservation");
    assert_eq!(lines[1].kind(), LineKind::Surcharge);
    assert_eq!(
        lines[1].explanation(),
        "Majoration repas non réservé (présent sans réservation) : 50\u{a0}% de 3,84\u{a0}€ = 1,92\u{a0}€"
    );
    let late = Consumption {
        state: AttendanceState::CancelledLate,
        ..meal("2025-10-06")
    };
    let lines = price_in_city(&late, &qf).unwrap();
    assert_eq!(
        lines.iter().map(|l| l.amount.0).collect::<Vec<_>>(),
        [392, 100]
    );
    assert_eq!(
        lines[1].explanation(),
        "Pénalité d'annulation hors délai (annulé hors délai) : 1,00\u{a0}€"
    );
}

// ---------------------------------------------------------------------------- effort rate per hour, overtime

#[test]
fn effort_rate_per_started_half_hour() {
    let line = base(
        &evening("2024-10-07", "16:30", "18:00"),
        &family(Some("742")),
    );
    assert_eq!(&*line.rule_id, "soir-taux-effort");
    assert_eq!(line.quantity, "1.5".parse::<Decimal>().unwrap());
    assert_eq!(line.amount, Cents(334)); // 742 × 0.30 % = 2.226 €/h × 1.5 h = 3.339
    assert_eq!(
        line.explanation(),
        "QF 742\u{a0}€ × taux d'effort 0,30\u{a0}% = 2,226\u{a0}€ : 2,226\u{a0}€ × 1,5 h (accueil du soir de 16h30 à 18h00, soit 1 h 30 min, comptée par tranches de 30 min entamées) = 3,34\u{a0}€"
    );
    // One minute more starts a new half-hour.
    assert_eq!(
        base(
            &evening("2024-10-07", "16:30", "18:01"),
            &family(Some("742"))
        )
        .amount,
        Cents(445)
    );
}

#[test]
fn effort_rate_floor_and_ceiling() {
    let hour = |qf: &str| base(&evening("2024-10-07", "17:00", "18:00"), &family(Some(qf)));
    assert_eq!(hour("100").amount, Cents(60)); // 0.30 < 0.60: floor
    assert!(
        hour("100")
            .explanation()
            .contains("porté au prix plancher 0,60\u{a0}€")
    );
    assert_eq!(hour("200").amount, Cents(60)); // exactly the floor
    assert_eq!(hour("1166.66").amount, Cents(350)); // 3.49998 → 3.50
    assert_eq!(hour("2000").amount, Cents(350)); // 6.00 > 3.50: ceiling
    assert!(
        hour("2000")
            .explanation()
            .contains("ramené au prix plafond 3,50\u{a0}€")
    );
}

#[test]
fn effort_rate_with_a_missing_qf() {
    let no_qf = family(None);
    let consumption = evening("2024-10-07", "17:00", "18:00");
    assert!(matches!(
        price_in_city(&consumption, &no_qf),
        Err(PricingError::MissingQf { .. })
    ));
    let dearest = settings_with(|s| s.missing_qf = MissingQf::DearestBracket);
    assert_eq!(
        price_with(&dearest, &consumption, &no_qf).unwrap()[0].amount,
        Cents(350)
    );
}

#[test]
fn adjustments_compound_in_the_written_order() {
    let situation = FamilySituation {
        residence: Residence::OutsideCity,
        sibling_rank: 2,
        ..family(Some("742"))
    };
    let consumption = Consumption {
        tariff: Some("exterieur".to_owned()),
        ..evening("2024-10-07", "17:00", "18:00")
    };
    let line = base(&consumption, &situation);
    // 2.226 × 1.30 = 2.8938, × 0.90 = 2.60442 → 2.60
    assert_eq!(line.amount, Cents(260));
    assert_eq!(line.unit_price, "2.60442".parse::<Decimal>().unwrap());
}

#[test]
fn overtime_after_closing_is_a_separate_line() {
    let lines = price_in_city(
        &evening("2024-10-07", "16:30", "18:52"),
        &family(Some("742")),
    )
    .unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].amount, Cents(445)); // 2 h up to closing × 2.226
    assert_eq!(&*lines[1].rule_id, "soir-depassement");
    assert_eq!(lines[1].kind(), LineKind::Overtime);
    assert_eq!(lines[1].amount, Cents(1000)); // 22 min → 2 started quarters × 5 €
    assert_eq!(
        lines[1].explanation(),
        "Dépassement après la fermeture de 18h30 : départ à 18h52, soit 22 min (au-delà de la tolérance de 5 min), comptée par tranches de 15 min entamées ; 2 × 5,00\u{a0}€ = 10,00\u{a0}€"
    );
    let within_grace = price_in_city(
        &evening("2024-10-07", "16:30", "18:35"),
        &family(Some("742")),
    )
    .unwrap();
    assert_eq!(within_grace.len(), 1);
    let no_closing = Consumption {
        closing_time: None,
        ..evening("2024-10-07", "16:30", "18:52")
    };
    assert!(matches!(
        price_in_city(&no_closing, &family(Some("742"))),
        Err(PricingError::MissingClosingTime { .. })
    ));
}

// ---------------------------------------------------------------------------- PSU through the engine

fn creche_family(resources: Option<&str>) -> FamilySituation {
    FamilySituation {
        monthly_resources: resources.map(euros),
        dependent_children: 2,
        ..family(None)
    }
}

#[test]
fn psu_hours_priced_by_started_half_hour() {
    let line = base(
        &creche("2025-10-15", "08:00", "17:10"),
        &creche_family(Some("3000")),
    );
    assert_eq!(&*line.rule_id, "creche-psu");
    assert_eq!(line.quantity, "9.5".parse::<Decimal>().unwrap());
    assert_eq!(line.unit_price, "1.548".parse::<Decimal>().unwrap());
    assert_eq!(line.amount, Cents(1471));
    assert!(line.explanation().starts_with(
        "Barème PSU CNAF (taux 2022, plancher et plafond 2025-09) : accueil collectif"
    ));
    assert!(line.explanation().ends_with(
        "1,548\u{a0}€ × 9,5 h (accueil en crèche de 08h00 à 17h10, soit 9 h 10 min, comptée par tranches de 30 min entamées) = 14,71\u{a0}€"
    ));
}

#[test]
fn psu_with_missing_resources_follows_the_city_setting() {
    let consumption = creche("2025-10-15", "08:00", "09:00");
    assert_eq!(
        price_in_city(&consumption, &creche_family(None)),
        Err(PricingError::MissingResources {
            rule_id: "creche-psu".to_owned()
        })
    );
    let dearest = settings_with(|s| s.missing_resources = MissingResources::Dearest);
    let line = &price_with(&dearest, &consumption, &creche_family(None)).unwrap()[0];
    assert_eq!(line.amount, Cents(439)); // 8 500 × 0.0516 % = 4.386
}

#[test]
fn psu_with_aeeh_and_a_city_ceiling() {
    let aeeh = FamilySituation {
        aeeh_children: 1,
        ..creche_family(Some("9000"))
    };
    let consumption = creche("2025-10-15", "08:00", "09:00");
    // Rate of 3 children (0.0413 %) on the 8 500 € ceiling: 3.5105 → 3.51.
    assert_eq!(base(&consumption, &aeeh).amount, Cents(351));
    let raised = settings_with(|s| s.psu_ceiling = PsuCeiling::Higher(euros("10000")));
    assert_eq!(
        price_with(&raised, &consumption, &aeeh).unwrap()[0].amount,
        Cents(372)
    ); // 3.717
}

#[test]
fn priced_lines_serialise_with_their_figures() {
    let line = base(&meal("2024-10-07"), &rank(2));
    let text = toml::to_string(&line).unwrap();
    assert!(text.contains("amount = \"3.46\""), "{text}");
    assert!(text.contains("unit_price = \"3.456\""), "{text}");
    assert!(text.contains("rule_id = \"cantine-qf-3\""), "{text}");
    assert!(text.contains("kind = \"qf_bracket\""), "{text}");
}
