//! Demonstration tariffs: a plausible grid for every activity of a demo city that has none
//! (QF brackets for school-time activities, the CNAF PSU for crèches, a flat price
//! otherwise), the city's pricing rules, a catalogue of aids (CCAS for the canteen, CAF for
//! leisure), aids granted to two households, and assignment rules (resident, outside,
//! outside but schooled in the city, and the « triple tariff »: outside, schooled in the city
//! and in a ULIS class, the demo's « ULIS école » pupil) giving the admitted enrolments their
//! tariff.
//! Idempotent: what exists is kept.

use chrono::{Datelike, NaiveDate};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;

use super::aids::{self, GrantInput};
use super::assignment;
use super::grids::{self, Authorship, Saved};
use crate::domain::activity::model::{ActivitySummary, CitySettings, summaries};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

const AUTHOR: Authorship<'static> = Authorship {
    author: "démonstration",
    comment: "tarifs de démonstration",
};

/// The pricing rules of a demo city: a missing QF is priced at the dearest bracket (the
/// demo's families do not all have one), a QF in a gap goes to the bracket below.
const DEMO_SETTINGS: &str = "\
# Règles de tarification de la ville (démonstration).
missing_qf = \"dearest_bracket\"
qf_gap = \"lower_bracket\"
missing_resources = \"dearest\"
rounding_point = \"unit_price\"
sibling_order = \"eldest_first\"
";

/// Writes a demo grid for every activity without one, the pricing rules, the aid catalogue
/// and assignment rules if the city has none, grants two aids, and assigns their tariff to
/// the admitted enrolments that have none; returns how many texts were written. Run in the
/// city's transaction with its settings (residence), e.g. from `marelle demo`.
pub async fn seed_demo_tariffs(conn: &mut Conn, settings: &CitySettings) -> AppResult<usize> {
    let mut written = 0;
    // New cities hold the catalogue's empty default: that counts as none.
    let existing = grids::settings_document(conn, NaiveDate::MAX).await?;
    if existing.is_none_or(|d| d.text.trim().is_empty()) {
        // A demo city exists from the start of the demo data: rules in force from then.
        let from = NaiveDate::from_ymd_opt(2024, 9, 1).unwrap_or(NaiveDate::MIN);
        // The default PSU ceiling (the CNAF's) needs no barème check.
        let bareme = crate::domain::pricing::Bareme::shipped().map_err(AppError::internal)?;
        if let Saved::Recorded(_) =
            grids::save_settings(conn, DEMO_SETTINGS, from, &bareme, AUTHOR).await?
        {
            written += 1;
        }
    }
    let activities = summaries(conn, true).await?;
    for activity in &activities {
        if grids::current_grid(conn, &activity.code).await?.is_some() {
            continue;
        }
        if let Saved::Recorded(_) =
            grids::save_grid(conn, &activity.code, &demo_grid(activity), AUTHOR).await?
        {
            written += 1;
        }
    }
    if aids::catalogue_document(conn).await?.is_none()
        && let Some(text) = demo_aids(&activities)
        && let Saved::Recorded(_) = aids::save_catalogue(conn, &text, AUTHOR).await?
    {
        written += 1;
    }
    for activity in activities.iter().filter(|a| a.kind != "nursery") {
        if assignment::rules_document(conn, &activity.code)
            .await?
            .is_none()
            && let Saved::Recorded(_) =
                assignment::save_rules(conn, &activity.code, DEMO_ASSIGNMENT, AUTHOR).await?
        {
            written += 1;
        }
        assignment::assign_missing(conn, settings, &activity.code, AUTHOR.author).await?;
    }
    grant_demo_aids(conn).await?;
    Ok(written)
}

/// Assignment rules of a demo activity: the triple tariff (outside families whose child is
/// in a ULIS class of a school of the city) first, then outside families whose child goes to
/// a school of the city, then outside families, then residents.
const DEMO_ASSIGNMENT: &str = "\
# Attribution automatique du tarif à l'inscription (démonstration).
# Triple tarif : domicile hors commune + scolarisé dans la ville + classe ULIS.
[[rules]]
tariff = \"exterieur-ulis\"
label = \"Triple tarif : extérieur scolarisé en classe ULIS de la commune\"
valid_from = \"2024-09-01\"
when = { residences = [\"outside_city\", \"outside_intercommunality\"], with_options = [\"schooled_in_city\", \"ulis\"] }

[[rules]]
tariff = \"exterieur-scolarise\"
label = \"Extérieur scolarisé dans la commune\"
valid_from = \"2024-09-01\"
when = { residences = [\"outside_city\", \"outside_intercommunality\"], with_options = [\"schooled_in_city\"] }

[[rules]]
tariff = \"exterieur\"
label = \"Extérieur\"
valid_from = \"2024-09-01\"
when = { residences = [\"outside_city\", \"outside_intercommunality\"] }

[[rules]]
tariff = \"resident\"
label = \"Résident\"
valid_from = \"2024-09-01\"
";

/// The demo catalogue: the CCAS halves canteen meals (capped), the CAF helps with leisure
/// days, an employer helps with the crèche. None when the city has no such activities.
fn demo_aids(activities: &[ActivitySummary]) -> Option<String> {
    // (activity kinds, id, label, funder, amount and caps), in deduction order.
    const AIDS: [(&[&str], &str, &str, &str, &str); 3] = [
        (
            &["wednesday", "holiday_centre"],
            "caf-loisirs",
            "Aide aux temps libres",
            "caf",
            "amount = { per_line = \"3.00\" }\ncap_per_period = \"60.00\"\nperiod = \"validity\"\n",
        ),
        (
            &["canteen"],
            "ccas-cantine",
            "Coup de pouce cantine",
            "ccas",
            "amount = { percent = \"50\" }\ncap_per_day = \"2.00\"\ncap_per_period = \"30.00\"\n",
        ),
        (
            &["nursery"],
            "employeur-creche",
            "Participation de l'employeur",
            "employer",
            "amount = { percent = \"10\" }\ncap_per_period = \"50.00\"\ncap_scope = \"family\"\n",
        ),
    ];
    let mut text = String::from(
        "# Catalogue des aides de la ville (démonstration), dans l'ordre de déduction.\n",
    );
    let mut any = false;
    for (kinds, id, label, funder, terms) in AIDS {
        let codes: Vec<String> = activities
            .iter()
            .filter(|a| kinds.contains(&a.kind.as_str()))
            .map(|a| format!("\"{}\"", a.code))
            .collect();
        if codes.is_empty() {
            continue;
        }
        any = true;
        text.push_str(&format!(
            "\n[[aids]]\nid = \"{id}\"\nlabel = \"{label}\"\nfunder = \"{funder}\"\n\
             valid_from = \"2024-09-01\"\nactivities = [{}]\n{terms}",
            codes.join(", ")
        ));
    }
    any.then_some(text)
}

/// Two households with children receive an aid each (once): the first the CCAS canteen aid
/// for all its children, the second the CAF leisure aid for its eldest child, for the
/// current school year.
async fn grant_demo_aids(conn: &mut Conn) -> AppResult<()> {
    let catalogue = aids::catalogue(conn).await?;
    if catalogue.is_empty() {
        return Ok(());
    }
    #[derive(QueryableByName)]
    struct Household {
        #[diesel(sql_type = BigInt)]
        household_id: i64,
        #[diesel(sql_type = BigInt)]
        child_id: i64,
    }
    let granted: Vec<Household> =
        diesel::sql_query("SELECT household_id, 0::bigint AS child_id FROM aid_grants LIMIT 1")
            .load(conn)
            .await?;
    if !granted.is_empty() {
        return Ok(());
    }
    let households: Vec<Household> = diesel::sql_query(
        "SELECT DISTINCT ON (l.household_id) l.household_id, l.child_id
           FROM child_links l JOIN persons p ON p.id = l.child_id
          WHERE l.valid_to IS NULL
          ORDER BY l.household_id, p.birth_date NULLS LAST, l.child_id LIMIT 2",
    )
    .load(conn)
    .await?;
    let today = crate::platform::clock::today();
    let year = if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    };
    let from = NaiveDate::from_ymd_opt(year, 9, 1).unwrap_or(today);
    let to = NaiveDate::from_ymd_opt(year + 1, 8, 31);
    let plans = [
        ("ccas-cantine", false, "Commission du CCAS (démonstration)"),
        ("caf-loisirs", true, "Notification CAF (démonstration)"),
    ];
    for (household, (aid, one_child, reason)) in households.iter().zip(plans) {
        if !catalogue.iter().any(|a| &*a.id == aid) {
            continue;
        }
        let input = GrantInput {
            aid_id: aid.to_string(),
            children: if one_child {
                vec![household.child_id]
            } else {
                Vec::new()
            },
            valid_from: from,
            valid_to: to,
            reason: reason.to_string(),
        };
        aids::grant(conn, household.household_id, &input, AUTHOR.author).await?;
    }
    Ok(())
}

/// A grid for `activity` by kind, from 1 September 2024, with a new version each September.
pub fn demo_grid(activity: &ActivitySummary) -> String {
    let code = &activity.code;
    let labels: Vec<String> = activity
        .units
        .iter()
        .map(|u| format!("{} = \"{}\"", u.code, u.label.replace('"', "'")))
        .collect();
    let mut text = format!(
        "# Grille tarifaire de « {} » (démonstration).\nactivity = \"{code}\"\nunit_labels = {{ {} }}\n",
        activity.name.replace('\n', " "),
        labels.join(", ")
    );
    let (rules_2024, rules_2025) = match activity.kind.as_str() {
        "nursery" => (psu_rule(code), psu_rule(code)),
        "canteen" => (
            brackets(code, ["0.90", "2.10", "3.50", "4.60"]),
            brackets(code, ["1.00", "2.30", "3.84", "4.90"]),
        ),
        "morning" | "evening" => (
            brackets(code, ["0.60", "1.10", "1.70", "2.20"]),
            brackets(code, ["0.65", "1.20", "1.80", "2.35"]),
        ),
        "wednesday" | "holiday_centre" => (
            brackets(code, ["4.00", "7.50", "11.00", "15.00"]),
            brackets(code, ["4.20", "7.80", "11.50", "15.60"]),
        ),
        _ => (flat(code, "2.00"), flat(code, "2.10")),
    };
    // Outside families pay 30 % more, except those whose child goes to a school of the city
    // (the tariff assigned at enrolment, see the assignment rules), who pay 15 % more, and
    // those whose child is in a ULIS class of the city (the triple tariff), who pay the
    // residents' price: the line says so.
    let outside = "adjustments = [\n\
                   \x20   { id = \"hors-commune\", label = \"Majoration hors commune\", \
                   when = { residences = [\"outside_city\", \"outside_intercommunality\"], \
                   without_options = [\"schooled_in_city\"] }, effect = { percent = \"30\" } },\n\
                   \x20   { id = \"exterieur-scolarise\", label = \"Majoration extérieur scolarisé dans la commune\", \
                   when = { tariffs = [\"exterieur-scolarise\"] }, effect = { percent = \"15\" } },\n\
                   \x20   { id = \"triple-tarif\", label = \"Triple tarif ULIS, au prix résident\", \
                   when = { tariffs = [\"exterieur-ulis\"] }, effect = { percent = \"0\" } },\n\
                   ]\n";
    let surcharge = "surcharges = [ { id = \"sans-reservation\", label = \"Présence sans réservation\", \
                     when = { states = [\"present_unbooked\"] }, charge = { fixed = \"1.50\" } } ]\n";
    let extra = if activity.kind == "nursery" {
        String::new()
    } else {
        format!("{outside}{surcharge}")
    };
    text.push_str(&format!(
        "\n[[versions]]\nvalid_from = \"2024-09-01\"\nvalid_to = \"2025-08-31\"\n{rules_2024}{extra}"
    ));
    text.push_str(&format!(
        "\n[[versions]]\nvalid_from = \"2025-09-01\"\n{rules_2025}{extra}"
    ));
    text
}

fn brackets(code: &str, amounts: [&str; 4]) -> String {
    let [a, b, c, d] = amounts;
    format!(
        "rules = [ {{ id = \"{code}-qf\", price = {{ kind = \"qf_brackets\", brackets = [\n\
         \x20   {{ id = \"{code}-qf-1\", min = \"0\", max = \"400\", amount = \"{a}\" }},\n\
         \x20   {{ id = \"{code}-qf-2\", min = \"401\", max = \"700\", amount = \"{b}\" }},\n\
         \x20   {{ id = \"{code}-qf-3\", min = \"701\", max = \"1000\", amount = \"{c}\" }},\n\
         \x20   {{ id = \"{code}-qf-4\", min = \"1001\", amount = \"{d}\" }},\n\
         ] }} }} ]\n"
    )
}

fn flat(code: &str, amount: &str) -> String {
    format!(
        "rules = [ {{ id = \"{code}-unique\", price = {{ kind = \"flat\", amount = \"{amount}\" }} }} ]\n"
    )
}

fn psu_rule(code: &str) -> String {
    format!(
        "rules = [ {{ id = \"{code}-psu\", price = {{ kind = \"psu\", care = \"collective\" }}, \
         quantity = {{ kind = \"duration\", step_minutes = 30, rounding = \"up\", per = \"hour\" }} }} ]\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::model::Unit;
    use chrono::NaiveTime;

    fn activity(kind: &str) -> ActivitySummary {
        ActivitySummary {
            id: 1,
            code: format!("demo-{kind}"),
            name: "Activité \"test\"".into(),
            kind: kind.into(),
            kind_label: String::new(),
            structure_id: None,
            structure: None,
            active: true,
            when_full: "greyed".into(),
            requires_enrolment: false,
            units: vec![Unit {
                id: 1,
                code: "repas".into(),
                label: "Repas".into(),
                starts: NaiveTime::from_hms_opt(11, 30, 0).unwrap(),
                ends: NaiveTime::from_hms_opt(13, 30, 0).unwrap(),
                hourly: false,
                includes: vec![],
                excludes: vec![],
                requires: vec![],
            }],
            groups: vec![],
        }
    }

    #[test]
    fn every_kind_gives_a_valid_grid() {
        for kind in ["nursery", "canteen", "morning", "wednesday", "sport"] {
            let text = demo_grid(&activity(kind));
            let grid = grids::parse_grid(&text).unwrap_or_else(|e| panic!("{kind}: {e}\n{text}"));
            assert_eq!(grid.versions.len(), 2);
        }
        assert!(grids::parse_settings(DEMO_SETTINGS).is_ok());
    }

    #[test]
    fn the_triple_tariff_prices_at_the_residents_price_and_says_so() {
        use crate::domain::money::Cents;
        use crate::domain::pricing::{Bareme, FamilySituation, PricingSettings, Residence};
        use std::collections::{BTreeMap, BTreeSet};
        let canteen = activity("canteen");
        let grid = grids::parse_grid(&demo_grid(&canteen)).unwrap();
        let unit = &canteen.units[0];
        let price = |residence, options: &[&str], tariff: Option<&str>| {
            let request = super::super::quote::QuoteRequest {
                month: "2026-01-12".parse().unwrap(),
                child_id: 1,
                situation: FamilySituation {
                    family_quotient: Some(Cents::from_euros(742)),
                    monthly_resources: None,
                    dependent_children: 1,
                    aeeh_children: 0,
                    residence,
                    options: options
                        .iter()
                        .map(|o| o.to_string())
                        .collect::<BTreeSet<_>>(),
                    sibling_rank: 1,
                },
                slots: vec![super::super::quote::PlannedUnit {
                    activity: canteen.code.clone(),
                    activity_name: canteen.name.clone(),
                    unit: unit.code.clone(),
                    unit_label: unit.label.clone(),
                    weekday: chrono::Weekday::Mon,
                    starts: unit.starts,
                    ends: unit.ends,
                    arrival: None,
                    departure: None,
                }],
                tariffs: tariff
                    .map(|t| BTreeMap::from([(canteen.code.clone(), t.to_string())]))
                    .unwrap_or_default(),
                aids: Vec::new(),
            };
            let view = super::super::quote::quote(
                std::slice::from_ref(&grid),
                &PricingSettings::default(),
                &Bareme::shipped().unwrap(),
                &request,
            )
            .unwrap();
            view.lines[0].clone()
        };
        // QF 742 is in bracket 3: 3.84 € for residents, 30 % more outside the city.
        let resident = price(
            Residence::City,
            &["schooled_in_city", "ulis"],
            Some("resident"),
        );
        assert_eq!(resident.amount_euros, "3.84");
        let outside = price(Residence::OutsideCity, &[], Some("exterieur"));
        assert_eq!(outside.amount_euros, "4.99");
        let triple = price(
            Residence::OutsideCity,
            &["schooled_in_city", "ulis"],
            Some("exterieur-ulis"),
        );
        assert_eq!(triple.amount_euros, "3.84", "the residents' price");
        assert!(
            triple
                .explanation
                .contains("Triple tarif ULIS, au prix résident"),
            "{}",
            triple.explanation
        );
    }

    #[test]
    fn demo_aids_and_assignment_rules_are_valid() {
        let all: Vec<ActivitySummary> = ["nursery", "canteen", "wednesday", "sport"]
            .iter()
            .map(|k| activity(k))
            .collect();
        let text = demo_aids(&all).unwrap();
        let catalogue = aids::parse_catalogue(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let ids: Vec<&str> = catalogue.iter().map(|a| &*a.id).collect();
        assert_eq!(ids, ["caf-loisirs", "ccas-cantine", "employeur-creche"]);
        assert!(demo_aids(&[activity("sport")]).is_none());
        let rules = assignment::parse_rules(DEMO_ASSIGNMENT).unwrap();
        assert_eq!(rules.len(), 4);
        assert_eq!(
            rules[0].tariff, "exterieur-ulis",
            "the triple tariff comes first"
        );
    }
}
