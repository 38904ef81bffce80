//! Health sheets (fiche sanitaire), in three confidentiality levels, each encrypted with
//! the city's key: basic (diets, allergies, PAI: shown on attendance lists), medical (full
//! sheet), confidential (AEEH/MDPH follow-up). Who reads which level is a permission
//! (`health:basic`, `health:medical`, `health:confidential`).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema::health_sheets;
use crate::platform::crypto::CityKey;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// What every adult in charge of the child must know.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct BasicHealth {
    /// Diet from the city's list: standard, no_meat, no_pork, vegetarian, pai...
    pub diet: String,
    pub allergies: Vec<String>,
    /// Individual care plan (projet d'accueil individualisé).
    pub pai: bool,
    /// What to do, in a few words (shown on attendance lists).
    pub what_to_do: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Vaccination {
    pub name: String,
    pub date: Option<NaiveDate>,
}

/// The full sheet, for medical staff.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MedicalHealth {
    pub illnesses: Vec<String>,
    pub medication: String,
    pub vaccinations: Vec<Vaccination>,
    pub medical_visits: Vec<Vaccination>,
    pub doctor: String,
    pub notes: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ConfidentialHealth {
    pub aeeh: bool,
    pub mdph: bool,
    pub notes: String,
}

/// The levels a reader may see (`None` where not allowed or not filled in).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HealthSheet {
    pub basic: Option<BasicHealth>,
    pub medical: Option<MedicalHealth>,
    pub confidential: Option<ConfidentialHealth>,
}

/// Which levels a reader may see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HealthAccess {
    pub basic: bool,
    pub medical: bool,
    pub confidential: bool,
}

/// Diets a city offers by default (CAN-01 uses the same list).
pub const DIETS: &[(&str, &str)] = &[
    ("standard", "Standard"),
    ("no_meat", "Sans viande"),
    ("no_pork", "Sans porc"),
    ("vegetarian", "Végétarien"),
    ("pai", "PAI alimentaire (panier repas)"),
];

fn context(level: &str, child: i64) -> String {
    format!("health_sheets.{level}:{child}")
}

/// Writes the levels given (others unchanged).
pub async fn save(
    conn: &mut Conn,
    key: &CityKey,
    child: i64,
    sheet: &HealthSheet,
) -> AppResult<()> {
    if let Some(basic) = &sheet.basic
        && !basic.diet.is_empty()
        && !DIETS.iter().any(|(code, _)| *code == basic.diet)
    {
        return Err(AppError::invalid(format!(
            "régime alimentaire inconnu « {} »",
            basic.diet
        )));
    }
    let basic = sheet
        .basic
        .as_ref()
        .map(|v| key.seal_json(&context("basic", child), v))
        .transpose()?;
    let medical = sheet
        .medical
        .as_ref()
        .map(|v| key.seal_json(&context("medical", child), v))
        .transpose()?;
    let confidential = sheet
        .confidential
        .as_ref()
        .map(|v| key.seal_json(&context("confidential", child), v))
        .transpose()?;
    diesel::insert_into(health_sheets::table)
        .values(health_sheets::child_id.eq(child))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let target = health_sheets::table.find(child);
    if let Some(value) = basic {
        diesel::update(target)
            .set(health_sheets::basic_enc.eq(value))
            .execute(conn)
            .await?;
    }
    if let Some(value) = medical {
        diesel::update(target)
            .set(health_sheets::medical_enc.eq(value))
            .execute(conn)
            .await?;
    }
    if let Some(value) = confidential {
        diesel::update(target)
            .set(health_sheets::confidential_enc.eq(value))
            .execute(conn)
            .await?;
    }
    diesel::update(target)
        .set(health_sheets::updated_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// A sealed level, as stored.
type Sealed = Option<Vec<u8>>;
type SealedLevels = (Sealed, Sealed, Sealed);

/// The levels `access` allows, decrypted.
pub async fn load(
    conn: &mut Conn,
    key: &CityKey,
    child: i64,
    access: HealthAccess,
) -> AppResult<HealthSheet> {
    let row: Option<SealedLevels> = health_sheets::table
        .find(child)
        .select((
            health_sheets::basic_enc,
            health_sheets::medical_enc,
            health_sheets::confidential_enc,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((basic, medical, confidential)) = row else {
        return Ok(HealthSheet::default());
    };
    Ok(HealthSheet {
        basic: basic
            .filter(|_| access.basic)
            .map(|b| key.open_json(&context("basic", child), &b))
            .transpose()?,
        medical: medical
            .filter(|_| access.medical)
            .map(|b| key.open_json(&context("medical", child), &b))
            .transpose()?,
        confidential: confidential
            .filter(|_| access.confidential)
            .map(|b| key.open_json(&context("confidential", child), &b))
            .transpose()?,
    })
}

/// The basic level of many children at once (attendance lists, kitchen counts).
pub async fn basic_of(
    conn: &mut Conn,
    key: &CityKey,
    children: &[i64],
) -> AppResult<Vec<(i64, BasicHealth)>> {
    let rows: Vec<(i64, Option<Vec<u8>>)> = health_sheets::table
        .filter(health_sheets::child_id.eq_any(children))
        .select((health_sheets::child_id, health_sheets::basic_enc))
        .load(conn)
        .await?;
    rows.into_iter()
        .filter_map(|(child, sealed)| sealed.map(|s| (child, s)))
        .map(|(child, sealed)| Ok((child, key.open_json(&context("basic", child), &sealed)?)))
        .collect()
}
