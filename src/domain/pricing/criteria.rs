//! Conditions a city writes on its rules ("hors commune", "classe ULIS", "rang 3 et plus"),
//! shared by tariff rules, adjustments, surcharges and automatic tariff assignment.

use serde::{Deserialize, Serialize};

use super::model::{AttendanceState, FamilySituation, Residence};

/// All listed conditions must hold; an empty list or an absent bound means "any". Unknown keys
/// are refused when loading, so a typo can never turn a condition into "always true".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Criteria {
    pub units: Vec<String>,
    pub states: Vec<AttendanceState>,
    pub residences: Vec<Residence>,
    /// Options the child must all have (e.g. the triple tariff: "schooled_in_city" and "ulis").
    pub with_options: Vec<String>,
    /// Options the child must not have (e.g. exempt ULIS pupils from the outside-city surcharge).
    pub without_options: Vec<String>,
    /// Tariff codes assigned at enrolment.
    pub tariffs: Vec<String>,
    pub sibling_rank_min: Option<u8>,
    pub sibling_rank_max: Option<u8>,
    pub dependent_children_min: Option<u8>,
}

/// What criteria are tested against. Consumption fields are absent at enrolment time, and a
/// criterion on an absent field does not match.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Subject<'a> {
    pub unit: Option<&'a str>,
    pub state: Option<AttendanceState>,
    pub tariff: Option<&'a str>,
    pub situation: &'a FamilySituation,
}

impl Criteria {
    pub(crate) fn matches(&self, subject: &Subject) -> bool {
        let situation = subject.situation;
        listed(&self.units, subject.unit)
            && listed(&self.states, subject.state.as_ref())
            && listed(&self.residences, Some(&situation.residence))
            && listed(&self.tariffs, subject.tariff)
            && self
                .with_options
                .iter()
                .all(|o| situation.options.contains(o))
            && !self
                .without_options
                .iter()
                .any(|o| situation.options.contains(o))
            && self
                .sibling_rank_min
                .is_none_or(|min| situation.sibling_rank >= min)
            && self
                .sibling_rank_max
                .is_none_or(|max| situation.sibling_rank <= max)
            && self
                .dependent_children_min
                .is_none_or(|min| situation.dependent_children >= min)
    }

    /// The conditions in French, for explanations ("domicilié hors commune, options ulis").
    pub fn describe_fr(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.units.is_empty() {
            parts.push(format!("unité {}", self.units.join(" ou ")));
        }
        if !self.states.is_empty() {
            let states: Vec<&str> = self.states.iter().map(|s| s.label_fr()).collect();
            parts.push(states.join(" ou "));
        }
        if !self.residences.is_empty() {
            let places: Vec<&str> = self.residences.iter().map(|r| r.label_fr()).collect();
            parts.push(places.join(" ou "));
        }
        let labels = |options: &[String], joint: &str| -> String {
            let labels: Vec<&str> = options.iter().map(|o| option_label_fr(o)).collect();
            labels.join(joint)
        };
        if !self.with_options.is_empty() {
            parts.push(format!("avec {}", labels(&self.with_options, " et ")));
        }
        if !self.without_options.is_empty() {
            parts.push(format!("sans {}", labels(&self.without_options, " ni ")));
        }
        if !self.tariffs.is_empty() {
            parts.push(format!("tarif {}", self.tariffs.join(" ou ")));
        }
        match (self.sibling_rank_min, self.sibling_rank_max) {
            (Some(min), Some(max)) if min == max => {
                parts.push(format!("rang {min} dans la fratrie"))
            }
            (Some(min), Some(max)) => parts.push(format!("rang {min} à {max} dans la fratrie")),
            (Some(min), None) => parts.push(format!("rang {min} et plus dans la fratrie")),
            (None, Some(max)) => parts.push(format!("rang {max} au plus dans la fratrie")),
            (None, None) => {}
        }
        if let Some(min) = self.dependent_children_min {
            parts.push(format!("{min} enfants à charge ou plus"));
        }
        if parts.is_empty() {
            "sans condition".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// The French label of an option the product derives from the dossier (see
/// `tariffs::assignment::child_options`); a city's own option reads as its code.
pub fn option_label_fr(option: &str) -> &str {
    match option {
        "schooled_in_city" => "scolarisation dans une école de la ville",
        "ulis" => "classe ULIS",
        other => other,
    }
}

/// An empty list accepts anything; otherwise the value must be present and listed.
fn listed<T, U>(allowed: &[T], value: Option<&U>) -> bool
where
    T: PartialEq<U>,
    U: ?Sized,
{
    allowed.is_empty() || value.is_some_and(|value| allowed.iter().any(|a| a == value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn situation() -> FamilySituation {
        FamilySituation {
            family_quotient: None,
            monthly_resources: None,
            dependent_children: 2,
            aeeh_children: 0,
            residence: Residence::OutsideCity,
            options: ["schooled_in_city".to_owned(), "ulis".to_owned()].into(),
            sibling_rank: 2,
        }
    }

    fn subject(situation: &FamilySituation) -> Subject<'_> {
        Subject {
            unit: Some("repas"),
            state: Some(AttendanceState::Present),
            tariff: None,
            situation,
        }
    }

    #[test]
    fn empty_criteria_match_everything() {
        let s = situation();
        assert!(Criteria::default().matches(&subject(&s)));
        assert_eq!(Criteria::default().describe_fr(), "sans condition");
    }

    #[test]
    fn triple_tariff_needs_every_option_and_the_residence() {
        let triple: Criteria = toml::from_str(
            r#"
            residences = ["outside_city", "outside_intercommunality"]
            with_options = ["schooled_in_city", "ulis"]
            "#,
        )
        .unwrap();
        let mut s = situation();
        assert!(triple.matches(&subject(&s)));
        assert_eq!(
            triple.describe_fr(),
            "domicilié hors commune ou domicilié hors intercommunalité, avec scolarisation dans une école de la ville et classe ULIS"
        );
        s.options.remove("ulis");
        assert!(!triple.matches(&subject(&s)));
        s.options.insert("ulis".to_owned());
        s.residence = Residence::City;
        assert!(!triple.matches(&subject(&s)));
    }

    #[test]
    fn excluded_options_and_ranks() {
        let s = situation();
        let not_ulis = Criteria {
            without_options: vec!["ulis".to_owned()],
            ..Criteria::default()
        };
        assert!(!not_ulis.matches(&subject(&s)));
        let third_and_more = Criteria {
            sibling_rank_min: Some(3),
            ..Criteria::default()
        };
        assert!(!third_and_more.matches(&subject(&s)));
        let second = Criteria {
            sibling_rank_min: Some(2),
            sibling_rank_max: Some(2),
            ..Criteria::default()
        };
        assert!(second.matches(&subject(&s)));
        assert_eq!(second.describe_fr(), "rang 2 dans la fratrie");
    }

    #[test]
    fn a_criterion_on_an_absent_field_does_not_match() {
        let s = situation();
        let needs_tariff = Criteria {
            tariffs: vec!["personnel".to_owned()],
            ..Criteria::default()
        };
        assert!(!needs_tariff.matches(&subject(&s)));
        let at_enrolment = Subject {
            unit: None,
            state: None,
            tariff: None,
            situation: &s,
        };
        let needs_unit = Criteria {
            units: vec!["repas".to_owned()],
            ..Criteria::default()
        };
        assert!(!needs_unit.matches(&at_enrolment));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Criteria>("with_option = [\"ulis\"]").is_err());
    }
}
