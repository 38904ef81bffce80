//! Cross-city machinery. Knows nothing of families or invoices.

pub mod admin_sessions;
pub mod admins;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod logging;
pub mod mail;
pub mod notify;
pub mod pgcluster;
pub mod schema;
pub mod settings;
pub mod templates;
pub mod tenancy;
