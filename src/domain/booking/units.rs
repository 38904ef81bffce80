//! Unit rules of an activity (ACT-02), pure: which units a child may hold on one day.
//!
//! Each unit names, by code, the units it `includes` (journée = matin + après-midi), the
//! units it `excludes`, and the units it `requires` the same day (repas requires matin and
//! après-midi at a centre). A booked unit counts as every unit it includes.
//!
//! Booking is refused when:
//! - the unit is already covered by a booked unit (the morning of a booked full day);
//! - the unit covers a booked unit (a full day over a booked morning: cancel the morning first);
//! - one of the two excludes the other;
//! - booking it would complete a unit that includes them all (morning + afternoon when a full
//!   day exists): the family is offered that unit instead;
//! - a required unit is not held.
//!
//! Cancelling is refused while another held unit requires the cancelled one.

use std::collections::BTreeSet;
use std::fmt;

/// The rules of one unit, by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRule {
    pub code: String,
    pub label: String,
    pub includes: Vec<String>,
    pub excludes: Vec<String>,
    pub requires: Vec<String>,
}

/// Why a unit cannot be booked or cancelled; the French text names the units by label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitConflict {
    AlreadyBooked { unit: String },
    CoveredBy { unit: String, by: String },
    Covers { unit: String, booked: String },
    Excluded { unit: String, by: String },
    TakeInstead { units: Vec<String>, instead: String },
    Requires { unit: String, missing: Vec<String> },
    RequiredBy { unit: String, by: String },
    Unknown { unit: String },
}

impl fmt::Display for UnitConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitConflict::AlreadyBooked { unit } => {
                write!(f, "« {unit} » est déjà réservé ce jour-là")
            }
            UnitConflict::CoveredBy { unit, by } => {
                write!(
                    f,
                    "« {unit} » est déjà compris dans « {by} », réservé ce jour-là"
                )
            }
            UnitConflict::Covers { unit, booked } => write!(
                f,
                "« {unit} » comprend « {booked} », déjà réservé : annulez d'abord « {booked} »"
            ),
            UnitConflict::Excluded { unit, by } => {
                write!(
                    f,
                    "« {unit} » ne peut pas être réservé avec « {by} » le même jour"
                )
            }
            UnitConflict::TakeInstead { units, instead } => write!(
                f,
                "{} le même jour forment « {instead} » : réservez « {instead} »",
                quoted_list(units)
            ),
            UnitConflict::Requires { unit, missing } => write!(
                f,
                "« {unit} » nécessite aussi {} le même jour",
                quoted_list(missing)
            ),
            UnitConflict::RequiredBy { unit, by } => write!(
                f,
                "« {unit} » ne peut pas être annulé seul : « {by} » le nécessite ; annulez d'abord « {by} »"
            ),
            UnitConflict::Unknown { unit } => {
                write!(f, "unité « {unit} » inconnue pour cette activité")
            }
        }
    }
}

fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("« {i} »")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} et {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// The units of one activity.
#[derive(Debug, Clone, Default)]
pub struct UnitSet {
    units: Vec<UnitRule>,
}

impl UnitSet {
    pub fn new(units: Vec<UnitRule>) -> UnitSet {
        UnitSet { units }
    }

    fn get(&self, code: &str) -> Option<&UnitRule> {
        self.units.iter().find(|u| u.code == code)
    }

    fn label(&self, code: &str) -> String {
        self.get(code)
            .map_or_else(|| code.to_string(), |u| u.label.clone())
    }

    fn labels(&self, codes: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<String> {
        codes.into_iter().map(|c| self.label(c.as_ref())).collect()
    }

    /// The codes `held` covers: themselves and what they include.
    fn covered<'a>(&'a self, held: &[&'a str]) -> BTreeSet<&'a str> {
        let mut covered: BTreeSet<&str> = held.iter().copied().collect();
        for code in held {
            if let Some(unit) = self.get(code) {
                covered.extend(unit.includes.iter().map(String::as_str));
            }
        }
        covered
    }

    /// Whether `requested` may be booked on a day where the child holds `held`.
    pub fn check_booking(&self, held: &[&str], requested: &str) -> Result<(), UnitConflict> {
        let Some(unit) = self.get(requested) else {
            return Err(UnitConflict::Unknown {
                unit: requested.to_string(),
            });
        };
        if held.contains(&requested) {
            return Err(UnitConflict::AlreadyBooked {
                unit: unit.label.clone(),
            });
        }
        for code in held {
            let Some(other) = self.get(code) else {
                continue;
            };
            if other.includes.iter().any(|c| c == requested) {
                return Err(UnitConflict::CoveredBy {
                    unit: unit.label.clone(),
                    by: other.label.clone(),
                });
            }
            if unit.includes.iter().any(|c| c == code) {
                return Err(UnitConflict::Covers {
                    unit: unit.label.clone(),
                    booked: other.label.clone(),
                });
            }
            if unit.excludes.iter().any(|c| c == code)
                || other.excludes.iter().any(|c| c == requested)
            {
                return Err(UnitConflict::Excluded {
                    unit: unit.label.clone(),
                    by: other.label.clone(),
                });
            }
        }
        let mut after: Vec<&str> = held.to_vec();
        after.push(requested);
        let covered = self.covered(&after);
        for whole in &self.units {
            let completes = !whole.includes.is_empty()
                && whole.code != requested
                && !held.contains(&whole.code.as_str())
                && whole.includes.iter().any(|c| c == requested)
                && whole.includes.iter().all(|c| covered.contains(c.as_str()));
            if completes {
                return Err(UnitConflict::TakeInstead {
                    units: self.labels(&whole.includes),
                    instead: whole.label.clone(),
                });
            }
        }
        let missing: Vec<&String> = unit
            .requires
            .iter()
            .filter(|c| !covered.contains(c.as_str()))
            .collect();
        if !missing.is_empty() {
            return Err(UnitConflict::Requires {
                unit: unit.label.clone(),
                missing: self.labels(missing),
            });
        }
        Ok(())
    }

    /// Whether `cancelled` may be given up on a day where the child holds `held`.
    pub fn check_cancellation(&self, held: &[&str], cancelled: &str) -> Result<(), UnitConflict> {
        let rest: Vec<&str> = held.iter().copied().filter(|c| *c != cancelled).collect();
        let covered = self.covered(&rest);
        for code in &rest {
            let Some(other) = self.get(code) else {
                continue;
            };
            if other.requires.iter().any(|c| !covered.contains(c.as_str())) {
                return Err(UnitConflict::RequiredBy {
                    unit: self.label(cancelled),
                    by: other.label.clone(),
                });
            }
        }
        Ok(())
    }

    /// A day's wished units in an order that books cleanly: units completing a whole are
    /// replaced by it (matin + après-midi → journée), required units come first.
    pub fn normalise(&self, wished: &[&str]) -> Vec<String> {
        let mut wanted: BTreeSet<&str> = wished.iter().copied().collect();
        for whole in &self.units {
            if !whole.includes.is_empty()
                && whole.includes.iter().all(|c| wanted.contains(c.as_str()))
            {
                for part in &whole.includes {
                    wanted.remove(part.as_str());
                }
                wanted.insert(whole.code.as_str());
            }
        }
        let mut ordered: Vec<&str> = wanted.into_iter().collect();
        ordered.sort_by_key(|code| {
            (
                self.get(code).is_some_and(|u| !u.requires.is_empty()),
                self.position(code),
            )
        });
        ordered.into_iter().map(str::to_string).collect()
    }

    fn position(&self, code: &str) -> usize {
        self.units
            .iter()
            .position(|u| u.code == code)
            .unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(
        code: &str,
        label: &str,
        includes: &[&str],
        excludes: &[&str],
        requires: &[&str],
    ) -> UnitRule {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        UnitRule {
            code: code.into(),
            label: label.into(),
            includes: owned(includes),
            excludes: owned(excludes),
            requires: owned(requires),
        }
    }

    /// A leisure centre: morning, afternoon, full day, a meal needing the whole day, and a
    /// "sortie" excluded with the afternoon.
    fn centre() -> UnitSet {
        UnitSet::new(vec![
            unit("matin", "Matin", &[], &[], &[]),
            unit("apres_midi", "Après-midi", &[], &[], &[]),
            unit("journee", "Journée", &["matin", "apres_midi"], &[], &[]),
            unit("repas", "Repas", &[], &[], &["matin", "apres_midi"]),
            unit("sortie", "Sortie", &[], &["apres_midi"], &[]),
        ])
    }

    #[test]
    fn a_single_unit_on_a_free_day_is_accepted() {
        assert_eq!(centre().check_booking(&[], "matin"), Ok(()));
        assert_eq!(centre().check_booking(&[], "journee"), Ok(()));
    }

    #[test]
    fn morning_then_afternoon_is_refused_and_the_full_day_offered() {
        let refused = centre()
            .check_booking(&["matin"], "apres_midi")
            .unwrap_err();
        assert_eq!(
            refused,
            UnitConflict::TakeInstead {
                units: vec!["Matin".into(), "Après-midi".into()],
                instead: "Journée".into()
            }
        );
        assert_eq!(
            refused.to_string(),
            "« Matin » et « Après-midi » le même jour forment « Journée » : réservez « Journée »"
        );
    }

    #[test]
    fn a_unit_covered_by_a_booked_whole_is_refused() {
        let refused = centre().check_booking(&["journee"], "matin").unwrap_err();
        assert!(matches!(refused, UnitConflict::CoveredBy { .. }));
        assert!(
            refused
                .to_string()
                .contains("déjà compris dans « Journée »")
        );
    }

    #[test]
    fn a_whole_over_a_booked_part_is_refused() {
        let refused = centre().check_booking(&["matin"], "journee").unwrap_err();
        assert!(matches!(refused, UnitConflict::Covers { .. }));
    }

    #[test]
    fn exclusions_apply_both_ways() {
        assert!(matches!(
            centre().check_booking(&["apres_midi"], "sortie"),
            Err(UnitConflict::Excluded { .. })
        ));
        assert!(matches!(
            centre().check_booking(&["sortie"], "apres_midi"),
            Err(UnitConflict::Excluded { .. })
        ));
        assert_eq!(centre().check_booking(&["sortie"], "matin"), Ok(()));
    }

    #[test]
    fn a_meal_requires_the_whole_day_held_directly_or_through_the_full_day() {
        let refused = centre().check_booking(&["matin"], "repas").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "« Repas » nécessite aussi « Après-midi » le même jour"
        );
        assert_eq!(centre().check_booking(&["journee"], "repas"), Ok(()));
    }

    #[test]
    fn a_required_unit_cannot_be_cancelled_under_its_dependant() {
        let refused = centre()
            .check_cancellation(&["journee", "repas"], "journee")
            .unwrap_err();
        assert!(matches!(refused, UnitConflict::RequiredBy { .. }));
        assert_eq!(
            centre().check_cancellation(&["journee", "repas"], "repas"),
            Ok(())
        );
        assert_eq!(centre().check_cancellation(&["matin"], "matin"), Ok(()));
    }

    #[test]
    fn the_same_unit_twice_and_unknown_units_are_refused() {
        assert!(matches!(
            centre().check_booking(&["matin"], "matin"),
            Err(UnitConflict::AlreadyBooked { .. })
        ));
        assert!(matches!(
            centre().check_booking(&[], "soir"),
            Err(UnitConflict::Unknown { .. })
        ));
    }

    #[test]
    fn a_wished_day_is_normalised_into_bookable_order() {
        let set = centre();
        assert_eq!(
            set.normalise(&["repas", "apres_midi", "matin"]),
            vec!["journee", "repas"]
        );
        assert_eq!(set.normalise(&["matin"]), vec!["matin"]);
        // Booking the normalised list one by one always succeeds.
        let day = set.normalise(&["repas", "matin", "apres_midi"]);
        let mut held: Vec<&str> = Vec::new();
        for code in &day {
            assert_eq!(
                set.check_booking(&held, code),
                Ok(()),
                "{code} after {held:?}"
            );
            held.push(code);
        }
    }

    #[test]
    fn a_canteen_with_one_unit_has_no_rule_to_trip() {
        let canteen = UnitSet::new(vec![unit("repas", "Repas", &[], &[], &[])]);
        assert_eq!(canteen.check_booking(&[], "repas"), Ok(()));
        assert_eq!(canteen.check_cancellation(&["repas"], "repas"), Ok(()));
    }
}
