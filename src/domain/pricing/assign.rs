//! Automatic assignment of a tariff at enrolment, from criteria the city defines.
//!
//! The city lists assignment rules in priority order ("Extérieur ULIS" before "Extérieur");
//! the first rule in force whose criteria match gives the tariff code stored on the enrolment.
//! Tariff rules may then require that code (`when.tariffs`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::criteria::{Criteria, Subject};
use super::dated::{EffectiveDated, check_periods, effective_dated};
use super::error::{ConfigError, PricingError};
use super::model::FamilySituation;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRule {
    /// Tariff code assigned ("exterieur_ulis").
    pub tariff: String,
    /// French name shown to agents ("Tarif extérieur ULIS").
    pub label: String,
    pub valid_from: NaiveDate,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// Criteria on the family situation (units, states and tariffs cannot match at enrolment).
    #[serde(default)]
    pub when: Criteria,
}
effective_dated!(AssignmentRule);

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssignedTariff {
    pub tariff: String,
    pub explanation: String,
}

/// The tariff of an enrolment starting on `date` for this situation.
pub fn assign_tariff(
    rules: &[AssignmentRule],
    situation: &FamilySituation,
    date: NaiveDate,
) -> Result<AssignedTariff, PricingError> {
    let subject = Subject {
        unit: None,
        state: None,
        tariff: None,
        situation,
    };
    rules
        .iter()
        .find(|rule| rule.in_force_on(date) && rule.when.matches(&subject))
        .map(|rule| AssignedTariff {
            tariff: rule.tariff.clone(),
            explanation: if rule.when == Criteria::default() {
                format!(
                    "Tarif « {} » attribué par défaut (aucun critère particulier)",
                    rule.label
                )
            } else {
                format!(
                    "Tarif « {} » attribué automatiquement : {}",
                    rule.label,
                    rule.when.describe_fr()
                )
            },
        })
        .ok_or(PricingError::NoTariffAssignable { date })
}

/// Refuses rules that could never match at enrolment, and inconsistent periods.
pub fn validate_assignment_rules(rules: &[AssignmentRule]) -> Result<(), ConfigError> {
    for rule in rules {
        let what = format!("attribution du tarif « {} »", rule.tariff);
        check_periods(std::slice::from_ref(rule), &what)?;
        let when = &rule.when;
        if !when.units.is_empty() || !when.states.is_empty() || !when.tariffs.is_empty() {
            return Err(ConfigError::invalid(
                what,
                "les critères d'unité, d'état de présence et de tarif ne s'évaluent pas à l'inscription",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::model::Residence;
    use super::*;

    const RULES: &str = r#"
        [[rules]]
        tariff = "exterieur_ulis"
        label = "Extérieur scolarisé en ULIS"
        valid_from = "2024-09-01"
        when = { residences = ["outside_city", "outside_intercommunality"], with_options = ["schooled_in_city", "ulis"] }

        [[rules]]
        tariff = "hors_interco"
        label = "Hors intercommunalité"
        valid_from = "2024-09-01"
        when = { residences = ["outside_intercommunality"] }

        [[rules]]
        tariff = "exterieur"
        label = "Extérieur"
        valid_from = "2024-09-01"
        when = { residences = ["outside_city"] }

        [[rules]]
        tariff = "resident"
        label = "Résident"
        valid_from = "2024-09-01"
    "#;

    #[derive(Deserialize)]
    struct File {
        rules: Vec<AssignmentRule>,
    }

    fn rules() -> Vec<AssignmentRule> {
        let rules = toml::from_str::<File>(RULES).unwrap().rules;
        validate_assignment_rules(&rules).unwrap();
        rules
    }

    fn situation(residence: Residence, options: &[&str]) -> FamilySituation {
        FamilySituation {
            family_quotient: None,
            monthly_resources: None,
            dependent_children: 1,
            aeeh_children: 0,
            residence,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            sibling_rank: 1,
        }
    }

    fn tariff(residence: Residence, options: &[&str]) -> String {
        assign_tariff(
            &rules(),
            &situation(residence, options),
            "2025-09-01".parse().unwrap(),
        )
        .unwrap()
        .tariff
    }

    #[test]
    fn the_first_matching_rule_wins() {
        use Residence::*;
        assert_eq!(
            tariff(OutsideCity, &["schooled_in_city", "ulis"]),
            "exterieur_ulis"
        );
        assert_eq!(
            tariff(OutsideIntercommunality, &["schooled_in_city", "ulis"]),
            "exterieur_ulis"
        );
        assert_eq!(tariff(OutsideCity, &["schooled_in_city"]), "exterieur");
        assert_eq!(tariff(OutsideIntercommunality, &[]), "hors_interco");
        assert_eq!(tariff(City, &["ulis"]), "resident");
    }

    #[test]
    fn the_catch_all_rule_says_it_is_the_default() {
        let assigned = assign_tariff(
            &rules(),
            &situation(Residence::City, &[]),
            "2025-09-01".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(
            assigned.explanation,
            "Tarif « Résident » attribué par défaut (aucun critère particulier)"
        );
    }

    #[test]
    fn explains_the_assignment() {
        let assigned = assign_tariff(
            &rules(),
            &situation(Residence::OutsideCity, &["schooled_in_city", "ulis"]),
            "2025-09-01".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(
            assigned.explanation,
            "Tarif « Extérieur scolarisé en ULIS » attribué automatiquement : domicilié hors commune ou domicilié hors intercommunalité, avec scolarisation dans une école de la ville et classe ULIS"
        );
    }

    #[test]
    fn no_rule_in_force_is_an_error() {
        let result = assign_tariff(
            &rules(),
            &situation(Residence::City, &[]),
            "2024-08-31".parse().unwrap(),
        );
        assert!(matches!(
            result,
            Err(PricingError::NoTariffAssignable { .. })
        ));
    }

    #[test]
    fn refuses_criteria_that_cannot_be_evaluated_at_enrolment() {
        let mut rules = rules();
        rules[0].when.units = vec!["repas".to_owned()];
        assert!(validate_assignment_rules(&rules).is_err());
    }
}
