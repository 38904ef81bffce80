//! Tenancy: the registry of city environments (`platform.cities`), host → city resolution
//! (cached, invalidated on change), provisioning, cloning and dropping of city schemas.

mod registry;
mod resolver;
pub mod theme;

pub mod anonymise;
pub mod provisioning;

pub use registry::{
    CityRow, NewCity, hosts_in_use, insert_city, list_cities, load_city_by_slug, set_status,
};
pub use resolver::Tenants;
pub use theme::Theme;

use serde::{Deserialize, Serialize};

use super::db::Scope;
use super::error::AppError;

/// Production or recette (acceptance) environment of a city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Env {
    Production,
    Recette,
}

impl Env {
    pub fn as_str(self) -> &'static str {
        match self {
            Env::Production => "production",
            Env::Recette => "recette",
        }
    }
}

impl std::str::FromStr for Env {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "production" => Ok(Env::Production),
            "recette" => Ok(Env::Recette),
            other => Err(AppError::invalid(format!(
                "environnement inconnu « {other} » : production ou recette attendu"
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Suspended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspendue",
        }
    }
}

/// A city environment as the rest of the application sees it.
#[derive(Debug, Clone, Serialize)]
pub struct City {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub env: Env,
    pub schema: String,
    /// Identifies the key encrypting this environment's sensitive columns.
    #[serde(skip)]
    pub key_id: String,
    pub status: Status,
    pub theme: Theme,
    pub hosts: Vec<String>,
}

impl City {
    /// The transaction scope of this city for `actor` ("agent:12", "cli:root"...).
    pub fn scope<'a>(&'a self, actor: &'a str) -> Scope<'a> {
        Scope::City {
            schema: &self.schema,
            actor,
        }
    }

    pub fn is_recette(&self) -> bool {
        self.env == Env::Recette
    }
}

/// `^[a-z][a-z0-9_-]{0,40}$`, the slug rule of the CLI and the console.
pub fn validate_slug(slug: &str) -> Result<(), AppError> {
    let bytes = slug.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 41
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-');
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(format!(
            "identifiant de ville invalide « {slug} » : une lettre minuscule puis jusqu'à 40 \
             lettres minuscules, chiffres, « - » ou « _ »"
        )))
    }
}

/// Schema of a city environment: `city_<slug>` with dashes as underscores.
pub fn schema_for(slug: &str) -> String {
    format!("city_{}", slug.replace('-', "_"))
}

/// Normalises and checks a host name (lower case, no port, DNS characters).
pub fn normalise_host(host: &str) -> Result<String, AppError> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let bytes = host.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 253
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-');
    if ok {
        Ok(host)
    } else {
        Err(AppError::invalid(format!(
            "nom d'hôte invalide « {host} » : lettres, chiffres, points et tirets, sans port"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_documented_rule() {
        for ok in [
            "corbas",
            "givors-recette",
            "a",
            "saint_fons2",
            &format!("a{}", "b".repeat(40)),
        ] {
            assert!(validate_slug(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Corbas",
            "1ville",
            "-x",
            "ville!",
            "été",
            &format!("a{}", "b".repeat(41)),
        ] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn schema_names_use_underscores() {
        assert_eq!(schema_for("corbas-recette"), "city_corbas_recette");
        assert!(crate::platform::db::is_valid_schema_name(&schema_for(
            &"a".repeat(41)
        )));
    }

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(
            normalise_host(" Corbas.Localhost. ").unwrap(),
            "corbas.localhost"
        );
        assert!(normalise_host("corbas.localhost:8080").is_err());
        assert!(normalise_host("-corbas").is_err());
        assert!(normalise_host("").is_err());
    }
}
