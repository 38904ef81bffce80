//! Configuration: `marelle.toml` (or the file named by `MARELLE_CONFIG`) overlaid by
//! `MARELLE_*` environment variables (`MARELLE_PG__PORT` for nested keys).

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// PostgreSQL URL of the application role. When absent, the embedded cluster under
    /// `pg.data_dir` is used (see `marelle db url`).
    pub database_url: Option<String>,
    /// Address `marelle serve` listens on.
    pub bind: String,
    /// Host name of the SITIV console (`/admin/`).
    pub admin_host: String,
    /// Bootstrap password of the SITIV console until identities exist.
    pub admin_password: Option<String>,
    /// Connections in the request pool.
    pub pool_size: usize,
    /// Web workers; 0 means one per core.
    pub workers: usize,
    /// Cookies carry the `Secure` flag (browsers accept it on http://*.localhost too).
    pub secure_cookies: bool,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Working data: embedded cluster, keys, caches.
    pub var_dir: PathBuf,
    /// Pieces justificatives, one folder per city.
    pub documents_dir: PathBuf,
    /// Generated editions (PDF, exports), one folder per city.
    pub generated_dir: PathBuf,
    /// Dumps taken before a city is dropped and by `ops/backup`.
    pub backups_dir: PathBuf,
    /// `default/` plus one folder per city slug: theme.css, logo, templates overrides.
    pub themes_dir: PathBuf,
    /// Exported paramétrage, `tenants/<slug>/`.
    pub tenants_dir: PathBuf,
    /// Master key (64 hex characters) from which every city's data key is derived; created
    /// on first use. Back it up apart from the database: without it encrypted data is lost.
    pub master_key_file: PathBuf,
    /// Recette environments send every mail here instead of real people.
    pub recette_mail_catchall: String,
    pub pg: PgConfig,
    pub smtp: SmtpConfig,
}

/// The mail relay (the customer's is Alinto).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpConfig {
    /// Relay host; empty disables sending (messages are logged, not sent).
    pub host: String,
    pub port: u16,
    /// `none` (loopback relays only), `starttls` or `tls`.
    pub tls: String,
    pub user: String,
    pub password: String,
    /// Address of the sender; the display name is the city's.
    pub from: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: String::new(),
            port: 25,
            tls: "starttls".into(),
            user: String::new(),
            password: String::new(),
            from: "ne-pas-repondre@sitiv.invalid".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PgConfig {
    /// Data directory of the embedded cluster.
    pub data_dir: PathBuf,
    /// TCP port on 127.0.0.1 (not 5432, to stay clear of a system cluster).
    pub port: u16,
    /// Throwaway cluster: no fsync (tests only, never for real data).
    pub unsafe_fast: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            bind: "127.0.0.1:8080".into(),
            admin_host: "admin.localhost".into(),
            admin_password: None,
            pool_size: 16,
            workers: 0,
            secure_cookies: true,
            log_format: "text".into(),
            var_dir: "var".into(),
            documents_dir: "var/documents".into(),
            generated_dir: "var/generated".into(),
            backups_dir: "var/backups".into(),
            themes_dir: "themes".into(),
            tenants_dir: "tenants".into(),
            master_key_file: "var/master.key".into(),
            recette_mail_catchall: "recette@sitiv.invalid".into(),
            pg: PgConfig::default(),
            smtp: SmtpConfig::default(),
        }
    }
}

impl Default for PgConfig {
    fn default() -> Self {
        PgConfig {
            data_dir: "var/pg".into(),
            port: 54320,
            unsafe_fast: false,
        }
    }
}

impl Config {
    /// Loads defaults, then the TOML file if present, then `MARELLE_*` variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("MARELLE_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("marelle.toml"));
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("MARELLE_").split("__").ignore(&["config"]))
            .extract()
            .map_err(|e| anyhow::anyhow!("configuration invalide ({}) : {e}", file.display()))?;
        Ok(config)
    }
}
