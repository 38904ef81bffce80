//! Paramétrage as versioned data (PLT-04). A city's settings are rows of
//! `setting_versions`: key, JSON value, `valid_from`, author, comment. A change is a new
//! row; the value in force on a day is the latest recorded row among those with the
//! greatest `valid_from` not after that day. Defaults are dated [`DEFAULTS_FROM`] so two
//! cities provisioned on different days hold identical defaults.
//!
//! Export writes one TOML file per section (`portal.toml` for `portal.*` keys) under
//! `tenants/<slug>/`; import replays the versions a city does not hold yet, in one
//! transaction, after validating every one of them. Import never deletes history.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use diesel::{ExpressionMethods, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};

use super::error::{AppError, AppResult};

diesel::table! {
    setting_versions (id) {
        id -> BigInt,
        key -> Text,
        value -> Jsonb,
        valid_from -> Date,
        author -> Text,
        comment -> Text,
        recorded_at -> Timestamptz,
    }
}

/// Date of the default versions written at provisioning.
pub const DEFAULTS_FROM: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(date) => date,
    None => panic!("valid date"),
};
pub const DEFAULTS_AUTHOR: &str = "provisionnement";
pub const DEFAULTS_COMMENT: &str = "valeur par défaut";

/// One known setting: its key, a French label, its type (hence its validation) and its
/// default.
///
/// A key ending in `.*` declares a family of settings, one per name (`pricing.grid.*` holds
/// `pricing.grid.cantine`, `pricing.grid.creche`...): each member is validated like the family,
/// none has a default, and the settings in force ([`in_force`]) leave families out (their
/// owner reads them).
#[derive(Clone, Copy)]
pub struct SettingDef {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: SettingKind,
}

/// The type of a setting, with its default.
#[derive(Clone, Copy, Debug)]
pub enum SettingKind {
    /// Text of at most 1,000 characters.
    Text(&'static str),
    Flag(bool),
    /// A whole number within bounds: (default, min, max).
    Number(i64, i64, i64),
    /// An http(s) URL, or empty (not configured).
    Url,
    /// A secret (client secret): never exported to files; empty by default.
    Secret,
    /// One of the listed (value, French label) options: (default, options).
    Choice(&'static str, &'static [(&'static str, &'static str)]),
    /// A text document (a TOML file, say) of at most [`DOCUMENT_MAX_CHARS`] characters, checked
    /// by its owner's function, which answers a French message; empty by default.
    Document(fn(&str) -> Result<(), String>),
}

/// Largest document a [`SettingKind::Document`] holds.
pub const DOCUMENT_MAX_CHARS: usize = 200_000;

/// Names of a family's members: like activity codes.
fn is_member_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=40).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
}

impl SettingDef {
    pub fn default_value(&self) -> serde_json::Value {
        match self.kind {
            SettingKind::Text(text) => serde_json::Value::from(text),
            SettingKind::Flag(flag) => serde_json::Value::from(flag),
            SettingKind::Number(default, _, _) => serde_json::Value::from(default),
            SettingKind::Url | SettingKind::Secret | SettingKind::Document(_) => {
                serde_json::Value::from("")
            }
            SettingKind::Choice(default, _) => serde_json::Value::from(default),
        }
    }

    /// A French message when `value` does not fit the setting's type.
    pub fn validate(&self, value: &serde_json::Value) -> Result<(), String> {
        match self.kind {
            SettingKind::Text(_) | SettingKind::Secret => match value.as_str() {
                Some(text) if text.chars().count() <= 1_000 => Ok(()),
                Some(_) => Err("texte de 1 000 caractères au plus attendu".into()),
                None => Err("texte attendu".into()),
            },
            SettingKind::Flag(_) => value
                .as_bool()
                .map(|_| ())
                .ok_or_else(|| "oui/non (true ou false) attendu".into()),
            SettingKind::Number(_, min, max) => match value.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(()),
                _ => Err(format!("nombre entier entre {min} et {max} attendu")),
            },
            SettingKind::Url => match value.as_str() {
                Some("") => Ok(()),
                Some(text)
                    if url::Url::parse(text)
                        .is_ok_and(|u| matches!(u.scheme(), "http" | "https")) =>
                {
                    Ok(())
                }
                _ => Err("adresse http(s) attendue".into()),
            },
            SettingKind::Choice(_, options) => match value.as_str() {
                Some(text) if options.iter().any(|(v, _)| *v == text) => Ok(()),
                _ => Err(format!(
                    "une valeur parmi {} attendue",
                    options
                        .iter()
                        .map(|(v, label)| format!("« {v} » ({label})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            SettingKind::Document(check) => match value.as_str() {
                Some(text) if text.chars().count() <= DOCUMENT_MAX_CHARS => check(text),
                Some(_) => Err(format!(
                    "document de {DOCUMENT_MAX_CHARS} caractères au plus attendu"
                )),
                None => Err("texte attendu".into()),
            },
        }
    }

    /// The family prefix (`"pricing.grid."`) when the key ends in `.*`.
    pub fn family_prefix(&self) -> Option<&'static str> {
        self.key.strip_suffix('*').filter(|p| p.ends_with('.'))
    }

    /// Whether `key` is this setting or a member of this family.
    pub fn covers(&self, key: &str) -> bool {
        match self.family_prefix() {
            Some(prefix) => key.strip_prefix(prefix).is_some_and(is_member_name),
            None => self.key == key,
        }
    }
}

/// The catalogue of settings a city can hold (declared by the domain).
pub struct Catalogue(pub &'static [SettingDef]);

impl Catalogue {
    pub fn get(&self, key: &str) -> AppResult<&SettingDef> {
        self.0
            .iter()
            .find(|def| def.covers(key))
            .ok_or_else(|| AppError::invalid(format!("paramètre inconnu « {key} »")))
    }

    /// Checks a candidate value for `key`.
    pub fn is_secret(&self, key: &str) -> bool {
        self.0
            .iter()
            .any(|def| def.key == key && matches!(def.kind, SettingKind::Secret))
    }

    pub fn check(&self, key: &str, value: &serde_json::Value) -> AppResult<()> {
        let def = self.get(key)?;
        def.validate(value).map_err(|message| {
            AppError::invalid(format!("paramètre « {key} » ({}) : {message}", def.label))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable)]
#[diesel(table_name = setting_versions)]
pub struct Version {
    pub key: String,
    #[serde(with = "toml_date")]
    pub valid_from: NaiveDate,
    pub value: serde_json::Value,
    pub author: String,
    #[serde(default)]
    pub comment: String,
}

/// Dates in the exported files are TOML dates (`valid_from = 2026-09-01`); quoted
/// strings are accepted too, for hand-written files.
mod toml_date {
    use chrono::{Datelike, NaiveDate};
    use serde::{Deserialize, Deserializer, Serializer};
    use toml::value::{Date, Datetime};

    pub fn serialize<S: Serializer>(day: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        let date = Date {
            year: u16::try_from(day.year()).map_err(serde::ser::Error::custom)?,
            month: day.month() as u8,
            day: day.day() as u8,
        };
        serde::Serialize::serialize(
            &Datetime {
                date: Some(date),
                time: None,
                offset: None,
            },
            serializer,
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Date(Datetime),
            Text(String),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::Date(datetime) => datetime.to_string(),
            Raw::Text(text) => text,
        };
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
            serde::de::Error::custom(format!("date invalide « {text} » : AAAA-MM-JJ attendu"))
        })
    }
}

/// Inserts `versions` as they are (callers validate).
pub async fn insert_versions(conn: &mut super::db::Conn, versions: &[Version]) -> AppResult<()> {
    let rows: Vec<_> = versions
        .iter()
        .map(|v| {
            (
                setting_versions::key.eq(&v.key),
                setting_versions::value.eq(&v.value),
                setting_versions::valid_from.eq(v.valid_from),
                setting_versions::author.eq(&v.author),
                setting_versions::comment.eq(&v.comment),
            )
        })
        .collect();
    diesel::insert_into(setting_versions::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// The default version of every setting of the catalogue.
pub fn default_versions(catalogue: &Catalogue) -> Vec<Version> {
    catalogue
        .0
        .iter()
        .filter(|def| def.family_prefix().is_none())
        .map(|def| Version {
            key: def.key.to_string(),
            valid_from: DEFAULTS_FROM,
            value: def.default_value(),
            author: DEFAULTS_AUTHOR.to_string(),
            comment: DEFAULTS_COMMENT.to_string(),
        })
        .collect()
}

/// All versions of the city, in recording order.
pub async fn all_versions(conn: &mut super::db::Conn) -> AppResult<Vec<Version>> {
    Ok(setting_versions::table
        .order((
            setting_versions::key,
            setting_versions::valid_from,
            setting_versions::id,
        ))
        .select(Version::as_select())
        .load(conn)
        .await?)
}

/// The value of each key in force on `day` (catalogue default when the city holds none).
pub async fn in_force(
    conn: &mut super::db::Conn,
    catalogue: &Catalogue,
    day: NaiveDate,
) -> AppResult<BTreeMap<String, serde_json::Value>> {
    Ok(in_force_from(&all_versions(conn).await?, catalogue, day))
}

/// [`in_force`] over versions already loaded, ordered by (key, valid_from, recording).
pub fn in_force_from(
    versions: &[Version],
    catalogue: &Catalogue,
    day: NaiveDate,
) -> BTreeMap<String, serde_json::Value> {
    let mut values: BTreeMap<String, serde_json::Value> = catalogue
        .0
        .iter()
        .filter(|def| def.family_prefix().is_none())
        .map(|def| (def.key.to_string(), def.default_value()))
        .collect();
    // The last applicable version of each key wins.
    for version in versions {
        if version.valid_from <= day && values.contains_key(&version.key) {
            values.insert(version.key.clone(), version.value.clone());
        }
    }
    values
}

/// Every city's settings history, kept in memory: pages read settings without a query.
/// A change anywhere fires `NOTIFY marelle_settings, '<schema>'` (trigger), which drops
/// that city's entry in every server; a short time-to-live covers a missed notification.
#[derive(Clone)]
pub struct SettingsCache {
    versions: moka::future::Cache<String, Arc<Vec<Version>>>,
}

impl Default for SettingsCache {
    fn default() -> Self {
        SettingsCache {
            versions: moka::future::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
        }
    }
}

impl SettingsCache {
    /// The settings in force on `day` in `city`.
    pub async fn in_force(
        &self,
        db: &super::db::Db,
        city: &super::tenancy::City,
        catalogue: &Catalogue,
        day: NaiveDate,
    ) -> AppResult<BTreeMap<String, serde_json::Value>> {
        let loaded = self
            .versions
            .try_get_with(city.schema.clone(), async {
                db.run(city.scope("system"), |conn| {
                    Box::pin(async move { all_versions(conn).await })
                })
                .await
                .map(Arc::new)
            })
            .await
            .map_err(AppError::from_shared)?;
        Ok(in_force_from(&loaded, catalogue, day))
    }

    /// Forgets the settings of the city environment stored in `schema`.
    pub async fn invalidate(&self, schema: &str) {
        self.versions.invalidate(schema).await;
    }

    pub fn invalidate_all(&self) {
        self.versions.invalidate_all();
    }
}

/// Records a new version after validating it.
pub async fn record(
    conn: &mut super::db::Conn,
    catalogue: &Catalogue,
    version: Version,
) -> AppResult<()> {
    catalogue.check(&version.key, &version.value)?;
    insert_versions(conn, std::slice::from_ref(&version)).await
}

/// Export file contents, one per section, keyed by file name (secrets left out).
pub fn export_files(
    catalogue: &Catalogue,
    versions: &[Version],
    header: &str,
) -> AppResult<BTreeMap<String, String>> {
    #[derive(Serialize)]
    struct File<'a> {
        versions: Vec<&'a Version>,
    }
    let mut sections: BTreeMap<String, Vec<&Version>> = BTreeMap::new();
    for version in versions.iter().filter(|v| !catalogue.is_secret(&v.key)) {
        let section = version.key.split('.').next().unwrap_or("general");
        sections
            .entry(format!("{section}.toml"))
            .or_default()
            .push(version);
    }
    sections
        .into_iter()
        .map(|(name, versions)| {
            let body = toml::to_string_pretty(&File { versions }).map_err(AppError::internal)?;
            Ok((name, format!("# {header}\n\n{body}")))
        })
        .collect()
}

/// Parses export files back into versions, with a French error naming the faulty file.
pub fn parse_files(files: &BTreeMap<String, String>) -> AppResult<Vec<Version>> {
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        versions: Vec<Version>,
    }
    let mut all = Vec::new();
    for (name, content) in files {
        let file: File = toml::from_str(content).map_err(|e| {
            AppError::invalid(format!("fichier de paramétrage {name} illisible : {e}"))
        })?;
        all.extend(file.versions);
    }
    Ok(all)
}

/// The versions of `incoming` that `existing` does not hold, after validating them all.
pub fn versions_to_import(
    catalogue: &Catalogue,
    existing: &[Version],
    incoming: Vec<Version>,
) -> AppResult<Vec<Version>> {
    for version in &incoming {
        catalogue.check(&version.key, &version.value)?;
    }
    let mut held: Vec<&Version> = existing.iter().collect();
    let mut new = Vec::new();
    for version in incoming {
        if let Some(pos) = held.iter().position(|v| **v == version) {
            held.remove(pos);
        } else {
            new.push(version);
        }
    }
    Ok(new)
}

/// Reads every `*.toml` file of `dir`.
pub fn read_dir(dir: &Path) -> AppResult<BTreeMap<String, String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        AppError::invalid(format!(
            "dossier de paramétrage {} illisible : {e}",
            dir.display()
        ))
    })?;
    let mut files = BTreeMap::new();
    for entry in entries {
        let path = entry.map_err(AppError::internal)?.path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let content = std::fs::read_to_string(&path).map_err(|e| {
                AppError::invalid(format!("fichier {} illisible : {e}", path.display()))
            })?;
            files.insert(name, content);
        }
    }
    if files.is_empty() {
        return Err(AppError::invalid(format!(
            "aucun fichier .toml de paramétrage dans {}",
            dir.display()
        )));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn version(key: &str, day: (i32, u32, u32), value: serde_json::Value) -> Version {
        Version {
            key: key.into(),
            valid_from: NaiveDate::from_ymd_opt(day.0, day.1, day.2).unwrap(),
            value,
            author: "Agnès Martin".into(),
            comment: "rentrée".into(),
        }
    }

    static DEFS: &[SettingDef] = &[
        SettingDef {
            key: "portal.welcome_message",
            label: "message d'accueil",
            kind: SettingKind::Text("Bienvenue"),
        },
        SettingDef {
            key: "documents.max_count",
            label: "nombre maximal de pièces",
            kind: SettingKind::Number(20, 1, 100),
        },
        SettingDef {
            key: "sso.secret",
            label: "secret",
            kind: SettingKind::Secret,
        },
    ];

    #[test]
    fn export_then_parse_gives_back_the_same_versions() {
        let versions = vec![
            version("documents.max_count", (2000, 1, 1), json!(20)),
            version(
                "portal.welcome_message",
                (2026, 9, 1),
                json!("Bonjour « été » à Corbas"),
            ),
            version("portal.welcome_message", (2026, 9, 1), json!("Bonjour")),
        ];
        let mut with_secret = versions.clone();
        with_secret.push(version("sso.secret", (2026, 1, 1), json!("s3cr3t")));
        let files = export_files(&Catalogue(DEFS), &with_secret, "Corbas").unwrap();
        assert_eq!(files.len(), 2, "one file per section, secrets left out");
        assert!(files["portal.toml"].contains("Bonjour « été » à Corbas"));
        let mut parsed = parse_files(&files).unwrap();
        parsed.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(parsed, versions);
    }

    #[test]
    fn import_skips_what_is_held_and_validates_everything_first() {
        let catalogue = Catalogue(DEFS);
        let held = vec![version("documents.max_count", (2000, 1, 1), json!(20))];
        let incoming = vec![
            version("documents.max_count", (2000, 1, 1), json!(20)),
            version("documents.max_count", (2027, 1, 1), json!(30)),
        ];
        let new = versions_to_import(&catalogue, &held, incoming).unwrap();
        assert_eq!(
            new,
            vec![version("documents.max_count", (2027, 1, 1), json!(30))]
        );

        let bad = vec![
            version("documents.max_count", (2027, 1, 1), json!(30)),
            version("documents.max_count", (2027, 2, 1), json!("trente")),
        ];
        let error = versions_to_import(&catalogue, &held, bad)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("nombre entier entre 1 et 100 attendu"),
            "{error}"
        );
        let unknown = vec![version("inconnu.cle", (2027, 1, 1), json!(1))];
        assert!(versions_to_import(&catalogue, &held, unknown).is_err());
    }

    fn no_tabs(text: &str) -> Result<(), String> {
        if text.contains('\t') {
            Err("tabulation interdite".into())
        } else {
            Ok(())
        }
    }

    static FAMILY: &[SettingDef] = &[SettingDef {
        key: "pricing.grid.*",
        label: "grille tarifaire",
        kind: SettingKind::Document(no_tabs),
    }];

    #[test]
    fn a_family_covers_its_members_and_has_no_default() {
        let catalogue = Catalogue(FAMILY);
        assert!(
            catalogue
                .check("pricing.grid.cantine", &json!("a = 1"))
                .is_ok()
        );
        assert!(catalogue.check("pricing.grid.creche-1", &json!("")).is_ok());
        let refused = catalogue
            .check("pricing.grid.cantine", &json!("a\t= 1"))
            .unwrap_err()
            .to_string();
        assert!(refused.contains("tabulation interdite"), "{refused}");
        assert!(catalogue.check("pricing.grid.cantine", &json!(3)).is_err());
        for key in [
            "pricing.grid.",
            "pricing.grid.Cantine",
            "pricing.grid.a.b",
            "pricing.gridx",
        ] {
            assert!(catalogue.get(key).is_err(), "{key}");
        }
        assert!(default_versions(&catalogue).is_empty());
        let held = [version(
            "pricing.grid.cantine",
            (2026, 9, 1),
            json!("a = 1"),
        )];
        assert!(in_force_from(&held, &catalogue, NaiveDate::MAX).is_empty());
    }

    #[test]
    fn documents_export_readably_and_come_back_identical() {
        let text = "# Cantine\nactivity = \"cantine\"\n[[versions]]\nvalid_from = \"2026-09-01\"\n";
        let versions = vec![version("pricing.grid.cantine", (2026, 9, 1), json!(text))];
        let files = export_files(&Catalogue(FAMILY), &versions, "Corbas").unwrap();
        let file = &files["pricing.toml"];
        assert!(
            file.contains("# Cantine\nactivity = \"cantine\"\n"),
            "{file}"
        );
        assert_eq!(parse_files(&files).unwrap(), versions);
    }
}
