//! The activity catalogue (ACT-01, ACT-02, ACT-04, ACT-06): structures, activities created
//! from their kind's template then edited, their units, groups, capacities, opening
//! calendar, notice delays, registration periods and commission criteria.
//!
//! Every change is checked first and refused with a French message; the caller's
//! transaction makes it all-or-nothing. The checks that need no database are pure functions
//! (`check_*`, [`template`], `describe_*`), tested below.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DbError};
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::commission::{self, Criterion};
use super::model::{self, Group, Unit};
use super::population::Population;
use super::schema::{
    activities, activity_groups, activity_units, bookings, capacities, commission_criteria,
    enrolments, registration_periods, schools, slot_counts, staff_assignments, structures,
    waitlist,
};
use crate::domain::calendar::paris::paris_local;
use crate::domain::calendar::{
    DayCount, HolidayKind, NoticeRule, NoticeUnit, OpeningCalendar, OpeningRule, Zone,
};
use crate::domain::family::documents;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// Kinds of structures, with their French labels.
pub const STRUCTURE_KINDS: &[(&str, &str)] = &[
    ("school", "Groupe scolaire"),
    ("leisure_centre", "Centre de loisirs"),
    ("nursery", "Crèche (EAJE)"),
    ("restaurant", "Restaurant scolaire"),
    ("sports_hall", "Équipement sportif"),
    ("cultural", "Équipement culturel"),
    ("youth", "Espace jeunesse"),
    ("seniors", "Structure pour seniors"),
    ("other", "Autre"),
];

/// Dossier facts a request may need (incomplete-file detection).
pub const FACTS: &[(&str, &str)] = &[
    ("family_quotient", "Quotient familial"),
    ("health_sheet", "Fiche sanitaire"),
    ("authorisations", "Autorisations (sortie, photo, soins)"),
    ("emergency_contact", "Personne à prévenir en cas d'urgence"),
    ("bank_mandate", "Mandat de prélèvement SEPA"),
];

/// What a cancellation after the delay becomes.
pub const LATE_ABSENCES: &[(&str, &str)] = &[
    ("absent_unjustified", "une absence injustifiée"),
    ("absent_justified", "une absence justifiée"),
    ("cancelled_late", "une annulation tardive"),
];

/// What a family sees when a unit is full.
pub const WHEN_FULL: &[(&str, &str)] = &[
    ("greyed", "l'unité apparaît complète (grisée)"),
    (
        "waitlist",
        "la famille peut demander une place en liste d'attente",
    ),
];

/// Weekdays with their form codes and French names.
pub const WEEKDAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "mon", "lundi"),
    (Weekday::Tue, "tue", "mardi"),
    (Weekday::Wed, "wed", "mercredi"),
    (Weekday::Thu, "thu", "jeudi"),
    (Weekday::Fri, "fri", "vendredi"),
    (Weekday::Sat, "sat", "samedi"),
    (Weekday::Sun, "sun", "dimanche"),
];

/// School holidays with their form codes.
pub const HOLIDAY_KINDS: [(HolidayKind, &str); 6] = [
    (HolidayKind::AllSaints, "all_saints"),
    (HolidayKind::Christmas, "christmas"),
    (HolidayKind::Winter, "winter"),
    (HolidayKind::Spring, "spring"),
    (HolidayKind::AscensionBridge, "ascension_bridge"),
    (HolidayKind::Summer, "summer"),
];

pub fn label_of<'a>(list: &[(&'a str, &'a str)], code: &'a str) -> &'a str {
    list.iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
}

fn known(list: &[(&str, &str)], code: &str) -> bool {
    list.iter().any(|(c, _)| *c == code)
}

/// A unique index refused the row: the French `message` instead of an internal error.
pub(super) fn unique_or(message: String) -> impl FnOnce(DbError) -> AppError {
    move |error| match error {
        DbError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            AppError::conflict(message)
        }
        other => other.into(),
    }
}

fn required_text(text: &str, what: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{what} est obligatoire"));
    }
    Ok(text.to_string())
}

fn not_negative(value: Option<i32>, what: &str) -> Result<(), String> {
    match value {
        Some(v) if v < 0 => Err(format!("{what} ne peut pas être négatif")),
        _ => Ok(()),
    }
}

mod calendar;
mod general;
mod groups;
mod periods;
mod places;
mod sites;
mod templates;
mod units;
mod view;

pub use calendar::*;
pub use general::*;
pub use groups::*;
pub use periods::*;
pub use places::*;
pub use sites::*;
pub use templates::*;
pub use units::*;
pub use view::*;

#[cfg(test)]
mod tests {
    use super::*;

    fn siblings(units: &[UnitInput]) -> Vec<Sibling> {
        siblings_of(units, "")
    }

    #[test]
    fn every_kind_template_is_consistent() {
        for (kind, _) in model::KINDS {
            let t = template(kind);
            assert!(!t.units.is_empty() && !t.groups.is_empty(), "{kind}");
            for unit in &t.units {
                let others = siblings_of(&t.units, &unit.code);
                assert_eq!(check_unit(unit, &others).as_ref(), Ok(unit), "{kind}");
            }
            for group in &t.groups {
                assert_eq!(check_group(group).as_ref(), Ok(group), "{kind}");
            }
            OpeningCalendar {
                zone: Zone::A,
                rules: t.opening.clone(),
            }
            .validate()
            .unwrap();
            for notice in t.booking_notice.iter().chain(&t.cancel_notice) {
                notice.validate().unwrap();
            }
        }
    }

    #[test]
    fn templates_carry_the_french_defaults() {
        let canteen = template("canteen");
        assert_eq!(canteen.units[0].code, "repas");
        assert!(canteen.meal_choice && !canteen.requires_enrolment);
        assert_eq!(
            describe_notice(canteen.booking_notice.as_ref()),
            "2 jours ouvrés avant, 10 h"
        );
        assert_eq!(
            describe_notice(template("evening").cancel_notice.as_ref()),
            "la veille, 18 h"
        );
        let centre = template("holiday_centre");
        let meal = centre.units.iter().find(|u| u.code == "repas").unwrap();
        assert_eq!(meal.requires, vec!["matin", "apres_midi"]);
        assert_eq!(centre.when_full, "waitlist");
        assert_eq!(
            describe_opening(&centre.opening[0]),
            "Vacances scolaires : du lundi au vendredi"
        );
        let wednesday = template("wednesday");
        let meal = wednesday.units.iter().find(|u| u.code == "repas").unwrap();
        assert_eq!(meal.requires, vec!["matin"]);
        assert_eq!(wednesday.groups[1].max_age_months, Some(143));
        let nursery = template("nursery");
        assert!(nursery.units[0].hourly);
        assert_eq!(nursery.groups[0].children_per_staff, Some(5));
        assert_eq!(
            describe_opening(&template("sport").opening[0]),
            "Toute l'année : mercredi et samedi"
        );
    }

    #[test]
    fn unit_rules_name_other_existing_units_only() {
        let units = template("wednesday").units;
        let mut snack = unit("gouter", "Goûter", (16, 0), (16, 30));
        snack.requires = vec!["apres_midi".into(), " apres_midi ".into(), "".into()];
        assert_eq!(
            check_unit(&snack, &siblings(&units)).unwrap().requires,
            vec!["apres_midi"]
        );
        snack.includes = vec!["inconnu".into()];
        let error = check_unit(&snack, &siblings(&units)).unwrap_err();
        assert!(error.contains("« inconnu » n'est pas une unité"), "{error}");
        snack.includes = vec!["gouter".into()];
        assert!(check_unit(&snack, &siblings(&units)).is_err(), "itself");
        snack.includes = vec!["matin".into()];
        snack.excludes = vec!["matin".into()];
        assert!(
            check_unit(&snack, &siblings(&units))
                .unwrap_err()
                .contains("à la fois")
        );
        let duplicate = unit("matin", "Matin bis", (7, 0), (8, 0));
        assert!(check_unit(&duplicate, &siblings(&units)).is_err());
        let backwards = unit("nuit", "Nuit", (20, 0), (7, 0));
        assert!(
            check_unit(&backwards, &siblings(&units))
                .unwrap_err()
                .contains("finir après")
        );
    }

    #[test]
    fn a_unit_may_not_include_what_includes_it() {
        let units = template("wednesday").units;
        let mut morning = units[0].clone();
        morning.includes = vec!["journee".into()];
        let error = check_unit(&morning, &siblings_of(&units, "matin")).unwrap_err();
        assert_eq!(
            error,
            "ces unités se comprendraient l'une l'autre : Matin → Journée → Matin"
        );
    }

    #[test]
    fn groups_and_populations_check_their_bands() {
        let mut g = group("Petits", Some((48, 36)), Some(8));
        assert!(check_group(&g).unwrap_err().contains("inférieur"));
        g.max_age_months = Some(71);
        g.levels = vec!["PS".into(), "XX".into()];
        assert!(check_group(&g).unwrap_err().contains("« XX »"));
        g.levels = vec!["PS".into(), "PS".into()];
        assert_eq!(check_group(&g).unwrap().levels, vec!["PS"]);
        g.children_per_staff = Some(0);
        assert!(check_group(&g).is_err());
        let population = Population {
            qf_max: Some(-1),
            ..Default::default()
        };
        assert!(check_population(&population).is_err());
    }

    #[test]
    fn criteria_parameters_are_normalised() {
        let qf = Criterion {
            kind: "qf_at_most".into(),
            parameter: " 700 € ".into(),
            weight: 15,
        };
        assert_eq!(check_criterion(&qf).unwrap().parameter, "700");
        let resident = Criterion {
            kind: "resident".into(),
            parameter: "peu importe".into(),
            weight: 50,
        };
        assert_eq!(check_criterion(&resident).unwrap().parameter, "");
        assert!(
            check_criterion(&Criterion {
                weight: 5000,
                ..resident
            })
            .is_err()
        );
    }

    #[test]
    fn notices_and_openings_read_in_french() {
        let rule = NoticeRule {
            amount: 48,
            unit: NoticeUnit::Hours,
            count: DayCount::WorkingDays {
                excluded_weekdays: vec![Weekday::Wed],
            },
            cutoff_time: Some(hm(9, 30)),
        };
        assert_eq!(
            describe_notice(Some(&rule)),
            "48 heures ouvrées avant, clôture à 9 h 30 (hors mercredi)"
        );
        assert_eq!(describe_notice(None), "jusqu'au début de l'unité");
        let closure = OpeningRule::Closure {
            from: "2026-12-24".parse().unwrap(),
            to: "2027-01-01".parse().unwrap(),
            label: Some("Noël".into()),
        };
        assert_eq!(
            describe_opening(&closure),
            "Fermeture du 24/12/2026 au 01/01/2027 (Noël)"
        );
        assert!(check_activity_code("Cantine-Nord").is_ok());
        assert!(check_activity_code("-x").is_err());
        assert!(check_activity_code("cantine été").is_err());
    }
}
