//! A city's whole pricing paramétrage in one reviewable file (`tenants/<city>/tarifs.toml`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::aids::{Aid, validate_aids};
use super::assign::{AssignmentRule, validate_assignment_rules};
use super::error::ConfigError;
use super::rules::TariffGrid;
use super::settings::PricingSettings;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CityPricing {
    #[serde(default)]
    pub settings: PricingSettings,
    /// One grid per activity.
    #[serde(default)]
    pub grids: Vec<TariffGrid>,
    /// The aids the city knows; each family is granted some of them.
    #[serde(default)]
    pub aids: Vec<Aid>,
    /// Automatic tariff assignment at enrolment, in priority order.
    #[serde(default)]
    pub assignment: Vec<AssignmentRule>,
}

impl CityPricing {
    pub fn from_toml_str(text: &str) -> Result<CityPricing, ConfigError> {
        let city: CityPricing =
            toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        city.validate()?;
        Ok(city)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut activities = BTreeSet::new();
        for grid in &self.grids {
            if !activities.insert(&*grid.activity) {
                return Err(ConfigError::invalid(
                    format!("grille « {} »", grid.activity),
                    "deux grilles pour la même activité",
                ));
            }
            grid.validate()?;
        }
        validate_aids(&self.aids)?;
        validate_assignment_rules(&self.assignment)
    }

    pub fn grid(&self, activity: &str) -> Option<&TariffGrid> {
        self.grids.iter().find(|grid| &*grid.activity == activity)
    }
}
