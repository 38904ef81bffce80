//! A city's tariff grids and pricing rules as settings (`setting_versions`, so versioned,
//! audited by the table's trigger, and exported/imported with the other settings):
//!
//! - `pricing.grid.<activity code>`: the activity's [`TariffGrid`] as the TOML text the
//!   agent wrote (comments kept). The latest recorded text is the grid; its own versions
//!   (`valid_from`/`valid_to`) say which rules price which day, so a past day keeps its
//!   prices as long as the version that covered it is kept. The row's `valid_from` is the
//!   first day the text covers. An empty text removes the grid (as a new version).
//! - `pricing.settings`: the city's [`PricingSettings`] (missing QF, gaps, rounding point,
//!   sibling order, billed states, PSU ceiling) as TOML, effective-dated like any setting:
//!   the row in force on a day is the latest recorded among those with the greatest
//!   `valid_from` not after it. An empty text means the documented defaults.
//!
//! Every text is validated before it is written (nothing is saved otherwise), with French
//! messages that give the line, the column and the reason.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::bareme::check_city_ceiling;
use super::toml_fr;
use crate::domain::pricing::{Bareme, PricingSettings, TariffGrid};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};
use crate::platform::settings::{SettingDef, SettingKind, setting_versions};

/// Key of a grid: this prefix and the activity code.
pub const GRID_PREFIX: &str = "pricing.grid.";
/// Key of the city's pricing rules.
pub const SETTINGS_KEY: &str = "pricing.settings";

/// The grids in the settings catalogue (`domain::settings::DEFINITIONS`).
pub const GRID_SETTING: SettingDef = SettingDef {
    key: "pricing.grid.*",
    label: "grille tarifaire d'une activité (TOML)",
    kind: SettingKind::Document(check_grid),
};

/// The city's pricing rules in the settings catalogue.
pub const PRICING_SETTING: SettingDef = SettingDef {
    key: "pricing.settings",
    label: "règles de tarification de la ville (TOML)",
    kind: SettingKind::Document(check_settings),
};

/// Validation of a stored or imported grid text (empty: no grid).
pub fn check_grid(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Ok(());
    }
    parse_grid(text).map(|_| ())
}

/// Validation of the city's pricing rules text (empty: the defaults).
pub fn check_settings(text: &str) -> Result<(), String> {
    parse_settings(text).map(|_| ())
}

/// A grid text read and validated, with French errors.
pub fn parse_grid(text: &str) -> Result<TariffGrid, String> {
    let grid: TariffGrid = toml_fr::parse(text)?;
    grid.validate().map_err(|e| e.to_string())?;
    Ok(grid)
}

pub fn parse_settings(text: &str) -> Result<PricingSettings, String> {
    if text.trim().is_empty() {
        return Ok(PricingSettings::default());
    }
    toml_fr::parse(text)
}

/// Activity codes, as the activities table checks them.
pub fn is_activity_code(code: &str) -> bool {
    let bytes = code.as_bytes();
    (1..=40).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
}

pub fn grid_key(code: &str) -> String {
    format!("{GRID_PREFIX}{code}")
}

/// One recorded text (a grid or the pricing rules).
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub id: i64,
    pub key: String,
    pub text: String,
    pub valid_from: NaiveDate,
    pub author: String,
    pub comment: String,
    pub recorded_at: DateTime<Utc>,
}

type Row = (
    i64,
    String,
    serde_json::Value,
    NaiveDate,
    String,
    String,
    DateTime<Utc>,
);

fn document((id, key, value, valid_from, author, comment, recorded_at): Row) -> Document {
    Document {
        id,
        key,
        text: value.as_str().unwrap_or_default().to_string(),
        valid_from,
        author,
        comment,
        recorded_at,
    }
}

macro_rules! document_columns {
    () => {
        (
            setting_versions::id,
            setting_versions::key,
            setting_versions::value,
            setting_versions::valid_from,
            setting_versions::author,
            setting_versions::comment,
            setting_versions::recorded_at,
        )
    };
}

/// Every recorded text of `key`, newest first.
pub async fn history(conn: &mut Conn, key: &str) -> AppResult<Vec<Document>> {
    let rows: Vec<Row> = setting_versions::table
        .filter(setting_versions::key.eq(key))
        .order(setting_versions::id.desc())
        .select(document_columns!())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(document).collect())
}

/// The latest recorded text of `key` (None: never written, or emptied).
pub(super) async fn latest(conn: &mut Conn, key: &str) -> AppResult<Option<Document>> {
    let row: Option<Row> = setting_versions::table
        .filter(setting_versions::key.eq(key))
        .order(setting_versions::id.desc())
        .select(document_columns!())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(document).filter(|d| !d.text.trim().is_empty()))
}

/// The current text of the grid of `code` (None: never written, or removed).
pub async fn current_grid(conn: &mut Conn, code: &str) -> AppResult<Option<Document>> {
    latest(conn, &grid_key(code)).await
}

/// The current text of every grid, by activity code.
pub async fn current_grids(conn: &mut Conn) -> AppResult<Vec<(String, Document)>> {
    let rows: Vec<Row> = setting_versions::table
        .filter(setting_versions::key.like(format!("{GRID_PREFIX}%")))
        .distinct_on(setting_versions::key)
        .order((setting_versions::key, setting_versions::id.desc()))
        .select(document_columns!())
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(document)
        .filter(|d| !d.text.trim().is_empty())
        .filter_map(|d| Some((d.key.strip_prefix(GRID_PREFIX)?.to_string(), d)))
        .collect())
}

/// The pricing rules text in force on `day` (None: the defaults).
pub async fn settings_document(conn: &mut Conn, day: NaiveDate) -> AppResult<Option<Document>> {
    let row: Option<Row> = setting_versions::table
        .filter(setting_versions::key.eq(SETTINGS_KEY))
        .filter(setting_versions::valid_from.le(day))
        .order((
            setting_versions::valid_from.desc(),
            setting_versions::id.desc(),
        ))
        .select(document_columns!())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(document))
}

/// The city's pricing rules in force on `day`.
pub async fn settings_on(conn: &mut Conn, day: NaiveDate) -> AppResult<PricingSettings> {
    match settings_document(conn, day).await? {
        Some(doc) => parse_settings(&doc.text).map_err(|e| {
            AppError::invalid(format!(
                "les règles de tarification enregistrées sont invalides : {e}"
            ))
        }),
        None => Ok(PricingSettings::default()),
    }
}

/// The grid of `code`, parsed (None when the city has none).
pub async fn grid(conn: &mut Conn, code: &str) -> AppResult<Option<TariffGrid>> {
    match current_grid(conn, code).await? {
        Some(doc) => Ok(Some(stored_grid(code, &doc)?)),
        None => Ok(None),
    }
}

/// Every grid of the city, parsed.
pub async fn grids(conn: &mut Conn) -> AppResult<Vec<TariffGrid>> {
    current_grids(conn)
        .await?
        .iter()
        .map(|(code, doc)| stored_grid(code, doc))
        .collect()
}

/// A stored grid: validated when written, but an import may bring a grid written for another
/// activity code; both are said plainly.
fn stored_grid(code: &str, doc: &Document) -> AppResult<TariffGrid> {
    let grid = parse_grid(&doc.text).map_err(|e| {
        AppError::invalid(format!(
            "la grille tarifaire enregistrée de l'activité « {code} » est invalide : {e}"
        ))
    })?;
    if &*grid.activity != code {
        return Err(AppError::invalid(format!(
            "la grille enregistrée sous l'activité « {code} » indique activity = « {} »",
            grid.activity
        )));
    }
    Ok(grid)
}

/// What a save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Recorded(i64),
    /// The text is the current one: nothing recorded.
    Unchanged,
}

/// Who records a text, and why.
#[derive(Debug, Clone, Copy)]
pub struct Authorship<'a> {
    pub author: &'a str,
    pub comment: &'a str,
}

/// Validates and records a new text of the grid of `code`; refuses (and writes nothing) a
/// text that does not parse, does not validate, or names another activity.
pub async fn save_grid(
    conn: &mut Conn,
    code: &str,
    text: &str,
    by: Authorship<'_>,
) -> AppResult<Saved> {
    if !is_activity_code(code) {
        return Err(AppError::not_found("Activité introuvable."));
    }
    let text = normalise(text);
    let valid_from = if text.trim().is_empty() {
        crate::platform::clock::today()
    } else {
        let grid =
            parse_grid(&text).map_err(|e| AppError::invalid(format!("grille refusée : {e}")))?;
        if &*grid.activity != code {
            return Err(AppError::invalid(format!(
                "grille refusée : elle doit commencer par activity = \"{code}\" (elle indique « {} »)",
                grid.activity
            )));
        }
        grid.versions
            .iter()
            .map(|v| v.valid_from)
            .min()
            .unwrap_or_else(crate::platform::clock::today)
    };
    record_if_new(conn, &grid_key(code), text, valid_from, by).await
}

/// Records `text` as the new version of the document `key` (a grid, assignment rules, the
/// aid catalogue), unless it is the current text.
pub(super) async fn record_if_new(
    conn: &mut Conn,
    key: &str,
    text: String,
    valid_from: NaiveDate,
    by: Authorship<'_>,
) -> AppResult<Saved> {
    let current = latest(conn, key).await?.map(|d| d.text);
    if current.as_deref().unwrap_or("") == text {
        return Ok(Saved::Unchanged);
    }
    record(conn, key, text, valid_from, by).await
}

/// Validates and records the city's pricing rules from `valid_from`; a PSU ceiling below the
/// CNAF ceiling of a period from then on is refused.
pub async fn save_settings(
    conn: &mut Conn,
    text: &str,
    valid_from: NaiveDate,
    bareme: &Bareme,
    by: Authorship<'_>,
) -> AppResult<Saved> {
    let text = normalise(text);
    let settings =
        parse_settings(&text).map_err(|e| AppError::invalid(format!("règles refusées : {e}")))?;
    check_city_ceiling(bareme, settings.psu_ceiling, valid_from)
        .map_err(|e| AppError::invalid(format!("règles refusées : {e}")))?;
    let current = settings_document(conn, NaiveDate::MAX).await?;
    if current.is_some_and(|d| d.text == text && d.valid_from == valid_from) {
        return Ok(Saved::Unchanged);
    }
    record(conn, SETTINGS_KEY, text, valid_from, by).await
}

pub(super) fn normalise(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    if text.trim().is_empty() {
        String::new()
    } else {
        format!("{}\n", text.trim_end())
    }
}

async fn record(
    conn: &mut Conn,
    key: &str,
    text: String,
    valid_from: NaiveDate,
    by: Authorship<'_>,
) -> AppResult<Saved> {
    let id = diesel::insert_into(setting_versions::table)
        .values((
            setting_versions::key.eq(key),
            setting_versions::value.eq(serde_json::Value::String(text)),
            setting_versions::valid_from.eq(valid_from),
            setting_versions::author.eq(by.author),
            setting_versions::comment.eq(by.comment.trim()),
        ))
        .returning(setting_versions::id)
        .get_result(conn)
        .await?;
    Ok(Saved::Recorded(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_texts_are_checked_with_french_messages() {
        assert_eq!(check_grid(""), Ok(()));
        let good = "activity = \"cantine\"\n[[versions]]\nvalid_from = \"2024-09-01\"\nrules = [ { id = \"repas\", price = { kind = \"flat\", amount = \"3.84\" } } ]\n";
        assert_eq!(check_grid(good), Ok(()));
        let error = check_grid(&good.replace("3.84", "-1")).unwrap_err();
        assert!(error.contains("prix négatif"), "{error}");
        let error = check_grid(&good.replace("rules = [", "rulez = [")).unwrap_err();
        assert!(error.contains("« rulez » est inconnu"), "{error}");
    }

    #[test]
    fn settings_texts_default_when_empty() {
        assert_eq!(parse_settings("  \n"), Ok(PricingSettings::default()));
        let error = parse_settings("missing_qf = \"cheapest\"").unwrap_err();
        assert!(error.contains("n'est pas acceptée"), "{error}");
        assert!(check_settings("rounding_point = \"unit_price\"").is_ok());
    }

    #[test]
    fn codes_and_texts() {
        assert!(is_activity_code("cantine"));
        assert!(is_activity_code("accueil-soir_2"));
        assert!(!is_activity_code("Cantine"));
        assert!(!is_activity_code(""));
        assert!(!is_activity_code("{code}"));
        assert_eq!(normalise("a\r\nb  \n\n"), "a\nb\n");
        assert_eq!(normalise("  \n"), "");
    }
}
