//! The family dossier (FAM) and the child dossier (ENF): one record per person, households
//! linking adults and children, shared custody without duplicates, incomes, bank details,
//! authorisations, contacts, health sheets, documents, custom attributes; search,
//! homonyms, RGPD export and erasure.

pub mod accounts;
pub mod bank;
pub mod custody;
pub mod demo;
pub mod documents;
pub mod dossier;
pub mod health;
pub mod model;
pub mod rgpd;
pub mod schema;
pub mod search;
pub mod store;
