//! Engine tests over the example city (`data/examples/ville-exemple.toml`): every rule kind at
//! its boundaries (`rules`), aids and quotes (`month`), and the properties the issue asks for
//! (`properties`). This file holds the shared fixtures.

mod month;
mod properties;
mod rules;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveTime};

use super::*;

const CITY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/examples/ville-exemple.toml"
));

/// Parsed once: property tests price thousands of consumptions.
fn city() -> &'static CityPricing {
    static CITY_PRICING: OnceLock<CityPricing> = OnceLock::new();
    CITY_PRICING
        .get_or_init(|| CityPricing::from_toml_str(CITY).expect("the example city must load"))
}

fn bareme() -> &'static Bareme {
    static BAREME: OnceLock<Bareme> = OnceLock::new();
    BAREME.get_or_init(|| Bareme::shipped().expect("the shipped barème must load"))
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn time(text: &str) -> NaiveTime {
    text.parse().unwrap()
}

fn euros(text: &str) -> Cents {
    Cents::parse_euros(text).unwrap()
}

/// A resident family with one child, rank 1.
fn family(qf: Option<&str>) -> FamilySituation {
    FamilySituation {
        family_quotient: qf.map(euros),
        monthly_resources: None,
        dependent_children: 1,
        aeeh_children: 0,
        residence: Residence::City,
        options: BTreeSet::new(),
        sibling_rank: 1,
    }
}

fn consumption(activity: &str, unit: &str, date: &str) -> Consumption {
    Consumption {
        child_id: 1,
        activity: activity.to_owned(),
        unit: unit.to_owned(),
        date: day(date),
        arrival: None,
        departure: None,
        closing_time: None,
        state: AttendanceState::Present,
        billable: true,
        tariff: Some("resident".to_owned()),
    }
}

fn meal(date: &str) -> Consumption {
    consumption("cantine", "repas", date)
}

fn evening(date: &str, arrival: &str, departure: &str) -> Consumption {
    Consumption {
        arrival: Some(time(arrival)),
        departure: Some(time(departure)),
        closing_time: Some(time("18:30")),
        ..consumption("periscolaire_soir", "soir", date)
    }
}

fn creche(date: &str, arrival: &str, departure: &str) -> Consumption {
    Consumption {
        arrival: Some(time(arrival)),
        departure: Some(time(departure)),
        ..consumption("creche", "heure", date)
    }
}

fn price_with(
    settings: &PricingSettings,
    consumption: &Consumption,
    situation: &FamilySituation,
) -> Result<Vec<PricedLine>, PricingError> {
    let city = city();
    let grid = city
        .grid(&consumption.activity)
        .expect("grid of the example city");
    let context = PricingContext {
        settings,
        bareme: bareme(),
    };
    price(consumption, situation, grid, &context)
}

fn price_in_city(
    consumption: &Consumption,
    situation: &FamilySituation,
) -> Result<Vec<PricedLine>, PricingError> {
    price_with(&city().settings, consumption, situation)
}

/// The single base line of a consumption.
fn base(consumption: &Consumption, situation: &FamilySituation) -> PricedLine {
    let lines = price_in_city(consumption, situation).unwrap();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    lines.into_iter().next().unwrap()
}

fn settings_with(change: impl FnOnce(&mut PricingSettings)) -> PricingSettings {
    let mut settings = city().settings.clone();
    change(&mut settings);
    settings
}

/// The example family as the `sibling_rank`-th of three children.
fn rank(sibling_rank: u8) -> FamilySituation {
    FamilySituation {
        sibling_rank,
        dependent_children: 3,
        ..family(Some("742"))
    }
}
