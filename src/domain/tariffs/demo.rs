//! Demonstration tariffs: a plausible grid for every activity of a demo city that has none
//! (QF brackets for school-time activities, the CNAF PSU for crèches, a flat price
//! otherwise), and the city's pricing rules. Idempotent: what exists is kept.

use chrono::NaiveDate;

use super::grids::{self, Authorship, Saved};
use crate::domain::activity::model::{ActivitySummary, summaries};
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

/// Writes a demo grid for every activity without one, and the pricing rules if the city has
/// none; returns how many texts were written. Run in the city's transaction, e.g.
/// `db.run(city.scope("demo"), |conn| Box::pin(async move { seed_demo_tariffs(conn).await }))`.
pub async fn seed_demo_tariffs(conn: &mut Conn) -> AppResult<usize> {
    let mut written = 0;
    // New cities hold the catalogue's empty default: that counts as none.
    let settings = grids::settings_document(conn, NaiveDate::MAX).await?;
    if settings.is_none_or(|d| d.text.trim().is_empty()) {
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
    for activity in summaries(conn, true).await? {
        if grids::current_grid(conn, &activity.code).await?.is_some() {
            continue;
        }
        if let Saved::Recorded(_) =
            grids::save_grid(conn, &activity.code, &demo_grid(&activity), AUTHOR).await?
        {
            written += 1;
        }
    }
    Ok(written)
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
    let outside = "adjustments = [ { id = \"hors-commune\", label = \"Majoration hors commune\", \
                   when = { residences = [\"outside_city\", \"outside_intercommunality\"] }, \
                   effect = { percent = \"30\" } } ]\n";
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
}
