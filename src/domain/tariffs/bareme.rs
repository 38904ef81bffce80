//! The CNAF PSU barème as platform reference data (`platform.cnaf_bareme_versions`): every
//! version is a whole barème file, validated before it is written; the latest recorded one is
//! in force. SITIV records a new version each year from its console, without a release. The
//! migration seeds the table with the barème shipped in `data/cnaf/bareme-psu.toml`.
//!
//! Callers run these functions in a platform transaction (`Scope::Platform`): the table is
//! not visible from a city's schema.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::toml_fr;
use crate::domain::pricing::{Bareme, CareType, PsuCeiling, SHIPPED_BAREME_TOML};
use crate::platform::db::{Conn, Db, Scope};
use crate::platform::error::{AppError, AppResult};

diesel::table! {
    platform.cnaf_bareme_versions (id) {
        id -> BigInt,
        content -> Text,
        author -> Text,
        comment -> Text,
        recorded_at -> Timestamptz,
    }
}

use cnaf_bareme_versions as versions;

/// One recorded version, as the console lists it.
#[derive(Debug, Clone, Serialize, Queryable)]
pub struct BaremeVersion {
    pub id: i64,
    pub content: String,
    pub author: String,
    pub comment: String,
    pub recorded_at: DateTime<Utc>,
}

/// The barème in force, parsed once per version (every PSU price needs it).
static PARSED: Mutex<Option<(i64, Arc<Bareme>)>> = Mutex::new(None);

/// The barème in force and the id of its version (0: the shipped file, when the table is
/// empty, which only a hand-emptied table can be).
pub async fn current(conn: &mut Conn) -> AppResult<(i64, Arc<Bareme>)> {
    let latest: Option<i64> = versions::table
        .select(diesel::dsl::max(versions::id))
        .first(conn)
        .await?;
    let Some(id) = latest else {
        let shipped = Bareme::shipped().map_err(AppError::internal)?;
        return Ok((0, Arc::new(shipped)));
    };
    if let Some((cached, bareme)) = PARSED.lock().map_err(poisoned)?.as_ref()
        && *cached == id
    {
        return Ok((id, Arc::clone(bareme)));
    }
    let content: String = versions::table
        .find(id)
        .select(versions::content)
        .first(conn)
        .await?;
    // Validated when recorded; a failure here is a corrupted table.
    let bareme =
        Arc::new(parse(&content).map_err(|e| {
            AppError::internal(anyhow::anyhow!("barème CNAF n° {id} illisible : {e}"))
        })?);
    *PARSED.lock().map_err(poisoned)? = Some((id, Arc::clone(&bareme)));
    Ok((id, bareme))
}

/// [`current`] in its own platform transaction, as `actor`: what a city request (a crèche
/// price, the PSU API, the tariff editor) uses.
pub async fn in_force(db: &Db, actor: &str) -> AppResult<Arc<Bareme>> {
    let (_, bareme) = db
        .run(Scope::Platform { actor }, |conn| {
            Box::pin(async move { current(conn).await })
        })
        .await?;
    Ok(bareme)
}

fn poisoned<T>(_: T) -> AppError {
    AppError::internal(anyhow::anyhow!("cache du barème CNAF inutilisable"))
}

/// Every version, newest first.
pub async fn history(conn: &mut Conn) -> AppResult<Vec<BaremeVersion>> {
    Ok(versions::table
        .order(versions::id.desc())
        .select((
            versions::id,
            versions::content,
            versions::author,
            versions::comment,
            versions::recorded_at,
        ))
        .load(conn)
        .await?)
}

/// A barème file, read and validated, with French errors (line, column, reason).
pub fn parse(text: &str) -> Result<Bareme, String> {
    let bareme: Bareme = toml_fr::parse(text)?;
    bareme.validate().map_err(|e| e.to_string())?;
    Ok(bareme)
}

/// Records a new version after validating it; refuses a file identical to the one in force.
pub async fn record(conn: &mut Conn, content: &str, author: &str, comment: &str) -> AppResult<i64> {
    let content = content.replace("\r\n", "\n");
    if content.trim().is_empty() {
        return Err(AppError::invalid(
            "le barème est vide : collez le fichier TOML complet",
        ));
    }
    parse(&content).map_err(|e| AppError::invalid(format!("barème refusé : {e}")))?;
    let in_force: Option<String> = versions::table
        .order(versions::id.desc())
        .select(versions::content)
        .first(conn)
        .await
        .optional()?;
    if in_force.as_deref() == Some(content.as_str()) {
        return Err(AppError::invalid(
            "ce barème est déjà celui en vigueur : rien n'a été enregistré",
        ));
    }
    Ok(diesel::insert_into(versions::table)
        .values((
            versions::content.eq(&content),
            versions::author.eq(author),
            versions::comment.eq(comment.trim()),
        ))
        .returning(versions::id)
        .get_result(conn)
        .await?)
}

/// Whether the file shipped with this release differs from the version in force (the console
/// then offers to adopt it).
pub fn shipped_differs(in_force: &str) -> bool {
    in_force != SHIPPED_BAREME_TOML
}

/// A city's PSU ceiling must not be below the CNAF ceiling of any period in force from `day`
/// on (the CNAF forbids a lower ceiling; a higher one or none is allowed with the CAF).
pub fn check_city_ceiling(
    bareme: &Bareme,
    ceiling: PsuCeiling,
    day: NaiveDate,
) -> Result<(), String> {
    let PsuCeiling::Higher(configured) = ceiling else {
        return Ok(());
    };
    for limits in &bareme.resource_limits {
        if limits.valid_to.is_none_or(|to| to >= day) && configured < limits.ceiling {
            return Err(format!(
                "le plafond PSU de la ville ({configured}) est inférieur au plafond CNAF de la période « {} » ({}) : la CNAF ne permet pas de l'abaisser",
                limits.id, limits.ceiling
            ));
        }
    }
    Ok(())
}

/// The barème as the console shows it: periods of floors and ceilings, and effort rates.
#[derive(Debug, Serialize)]
pub struct BaremeView {
    pub limits: Vec<LimitsView>,
    pub rates: Vec<RatesView>,
}

#[derive(Debug, Serialize)]
pub struct LimitsView {
    pub id: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub floor: String,
    pub ceiling: String,
    pub source: String,
}

#[derive(Debug, Serialize)]
pub struct RatesView {
    pub id: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub source: String,
    /// One line per care type: « 1 enfant : 0,0619 % ; 2 enfants : 0,0516 % … ».
    pub care: Vec<(String, String)>,
}

pub fn view(bareme: &Bareme) -> BaremeView {
    let mut limits: Vec<LimitsView> = bareme
        .resource_limits
        .iter()
        .map(|l| LimitsView {
            id: l.id.to_string(),
            valid_from: l.valid_from,
            valid_to: l.valid_to,
            floor: l.floor.to_string(),
            ceiling: l.ceiling.to_string(),
            source: l.source.clone(),
        })
        .collect();
    limits.sort_by_key(|l| std::cmp::Reverse(l.valid_from));
    let mut rates: Vec<RatesView> = bareme
        .effort_rates
        .iter()
        .map(|table| RatesView {
            id: table.id.to_string(),
            valid_from: table.valid_from,
            valid_to: table.valid_to,
            source: table.source.clone(),
            care: [
                (CareType::Collective, &table.collective),
                (CareType::Familial, &table.familial),
                (CareType::Parental, &table.parental),
                (CareType::Micro, &table.micro),
            ]
            .into_iter()
            .map(|(care, rows)| {
                let text = rows
                    .iter()
                    .map(|row| {
                        let plural = if row.children > 1 { "s" } else { "" };
                        format!("{} enfant{plural} : {}", row.children, row.rate)
                    })
                    .collect::<Vec<_>>()
                    .join(" ; ");
                (care.label_fr().to_string(), text)
            })
            .collect(),
        })
        .collect();
    rates.sort_by_key(|r| std::cmp::Reverse(r.valid_from));
    BaremeView { limits, rates }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Cents;

    #[test]
    fn the_migration_seeds_the_shipped_file_byte_for_byte() {
        let migration = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/platform/2026-11-29-000004_cnaf_bareme/up.sql"
        ));
        let seeded = migration
            .split("$bareme$")
            .nth(1)
            .expect("a $bareme$ literal");
        assert_eq!(seeded, SHIPPED_BAREME_TOML);
    }

    #[test]
    fn parse_says_what_is_wrong_in_french() {
        let broken = SHIPPED_BAREME_TOML.replacen("rate = \"0.0516\"", "rate = \"0.0700\"", 1);
        let error = parse(&broken).unwrap_err();
        assert!(error.contains("taux décroissant"), "{error}");
        let float = SHIPPED_BAREME_TOML.replacen("rate = \"0.0619\"", "rate = 0.0619", 1);
        let error = parse(&float).unwrap_err();
        assert!(error.starts_with("ligne "), "{error}");
        assert!(error.contains("entre guillemets"), "{error}");
    }

    #[test]
    fn a_city_ceiling_below_the_cnaf_one_is_refused() {
        let bareme = Bareme::shipped().unwrap();
        let day: NaiveDate = "2026-01-15".parse().unwrap();
        assert!(check_city_ceiling(&bareme, PsuCeiling::Cnaf, day).is_ok());
        assert!(check_city_ceiling(&bareme, PsuCeiling::Uncapped, day).is_ok());
        let high = PsuCeiling::Higher(Cents::from_euros(10_000));
        assert!(check_city_ceiling(&bareme, high, day).is_ok());
        let low = PsuCeiling::Higher(Cents::from_euros(8_000));
        let error = check_city_ceiling(&bareme, low, day).unwrap_err();
        assert!(error.contains("8\u{a0}500,00\u{a0}€"), "{error}");
        // Before September 2024 the ceiling was lower: 8 000 € was allowed then.
        let early: NaiveDate = "2024-01-15".parse().unwrap();
        assert!(
            check_city_ceiling(&bareme, low, early).is_err(),
            "later periods count too"
        );
    }

    #[test]
    fn the_view_lists_every_period_newest_first() {
        let view = view(&Bareme::shipped().unwrap());
        assert!(view.limits.len() >= 5);
        assert!(view.limits[0].valid_from > view.limits[1].valid_from);
        assert_eq!(view.rates[0].care.len(), 4);
        assert!(view.rates[0].care[0].1.starts_with("1 enfant : 0,0619"));
    }
}
