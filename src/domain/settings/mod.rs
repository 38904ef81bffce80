//! The catalogue of a city's settings: keys, French labels, defaults, validation. The
//! storage, history and export live in `platform::settings`.

use serde_json::{Value, json};

use crate::platform::settings::{Catalogue, SettingDef};

pub static CATALOGUE: Catalogue = Catalogue(DEFINITIONS);

static DEFINITIONS: &[SettingDef] = &[
    SettingDef {
        key: "portal.welcome_message",
        label: "message d'accueil du portail famille",
        default: || {
            json!(
                "Bienvenue sur votre portail famille : inscriptions, réservations, factures et paiements en ligne."
            )
        },
        validate: short_text,
    },
    SettingDef {
        key: "portal.contact_hours",
        label: "horaires d'accueil du public",
        default: || json!("Accueil du lundi au vendredi, de 8 h 30 à 12 h et de 13 h 30 à 17 h."),
        validate: short_text,
    },
    SettingDef {
        key: "mail.sender_name",
        label: "nom de l'expéditeur des courriels",
        default: || json!("Service enfance"),
        validate: short_text,
    },
];

/// Text of at most 1,000 characters.
fn short_text(value: &Value) -> Result<(), String> {
    match value.as_str() {
        Some(text) if text.chars().count() <= 1_000 => Ok(()),
        Some(_) => Err("texte de 1 000 caractères au plus attendu".into()),
        None => Err("texte attendu".into()),
    }
}

/// Every setting in force on `day` in the current city.
pub async fn in_force(
    conn: &mut crate::platform::db::Conn,
    day: chrono::NaiveDate,
) -> crate::platform::error::AppResult<std::collections::BTreeMap<String, Value>> {
    crate::platform::settings::in_force(conn, &CATALOGUE, day).await
}
