//! Marelle: childhood services for the cities of the SITIV syndicate.
//!
//! `platform` is the cross-city machinery (tenancy, database, themes, errors);
//! `domain` holds the business areas; `web` the actix handlers; `cli` the commands.

pub mod cli;
pub mod domain;
pub mod platform;
pub mod web;
