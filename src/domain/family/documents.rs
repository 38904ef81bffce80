//! Pièces justificatives: PDF, PNG or JPEG (checked by their first bytes, not their name),
//! size and count limited by the city's settings, stored once under the documents folder
//! (`<documents_dir>/<city schema>/<yyyy>/<sha256>.<ext>`) and reused; served only after a
//! permission check.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::schema::documents;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// Kinds of documents (the city's usual pieces).
pub const KINDS: &[(&str, &str)] = &[
    ("livret_famille", "Livret de famille"),
    ("vaccinations", "Pages vaccinations du carnet de santé"),
    ("avis_imposition", "Avis d'imposition"),
    ("justificatif_domicile", "Justificatif de domicile"),
    ("attestation_caf", "Attestation CAF (quotient familial)"),
    ("certificat_medical", "Certificat médical"),
    ("jugement", "Jugement (garde, autorité parentale)"),
    ("pai", "Projet d'accueil individualisé"),
    ("photo", "Photo de l'enfant"),
    ("autre", "Autre pièce"),
];

/// The three formats accepted, recognised by their signature.
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"%PDF-") {
        Some(("application/pdf", "pdf"))
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.starts_with(b"\xFF\xD8\xFF") {
        Some(("image/jpeg", "jpg"))
    } else {
        None
    }
}

/// Limits from the city's settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_count: i64,
}

/// Where a document is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Household(i64),
    Person(i64),
}

pub struct Upload<'a> {
    pub owner: Owner,
    pub household: i64,
    pub kind: &'a str,
    pub title: &'a str,
    pub file_name: &'a str,
    pub valid_until: Option<NaiveDate>,
    pub bytes: &'a [u8],
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    pub id: i64,
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    pub kind: String,
    pub title: String,
    pub file_name: String,
    pub mime: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_path: String,
    pub valid_until: Option<NaiveDate>,
    pub uploaded_by: String,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
}

/// Checks and stores an upload (file first, then its row; the file is content-addressed so
/// a row that fails to commit leaves at worst an orphan file, never a row without file).
pub async fn store(
    conn: &mut Conn,
    root: &Path,
    author: &str,
    limits: Limits,
    upload: Upload<'_>,
) -> AppResult<i64> {
    let (mime, extension) = sniff(upload.bytes).ok_or_else(|| {
        AppError::invalid("format refusé : seuls les fichiers PDF, PNG et JPEG sont acceptés")
    })?;
    if upload.bytes.len() as u64 > limits.max_bytes {
        return Err(AppError::invalid(format!(
            "fichier trop volumineux ({} Mo) : {} Mo au plus",
            upload.bytes.len().div_ceil(1024 * 1024),
            limits.max_bytes / (1024 * 1024)
        )));
    }
    if !KINDS.iter().any(|(k, _)| *k == upload.kind) {
        return Err(AppError::invalid(format!(
            "type de pièce inconnu « {} »",
            upload.kind
        )));
    }
    let held: i64 = documents::table
        .filter(owned_by(upload.household))
        .count()
        .get_result(conn)
        .await?;
    if held >= limits.max_count {
        return Err(AppError::invalid(format!(
            "cette famille a déjà {held} pièces : {} au plus",
            limits.max_count
        )));
    }
    let digest = hex::encode(Sha256::digest(upload.bytes));
    let relative = format!("{}/{digest}.{extension}", chrono::Utc::now().format("%Y"));
    let path = root.join(&relative);
    if !path.exists() {
        write_file(&path, upload.bytes).await?;
    }
    let (household, person) = match upload.owner {
        Owner::Household(h) => (Some(h), None),
        Owner::Person(p) => (None, Some(p)),
    };
    let title = if upload.title.trim().is_empty() {
        upload.file_name
    } else {
        upload.title.trim()
    };
    Ok(diesel::insert_into(documents::table)
        .values((
            documents::household_id.eq(household),
            documents::person_id.eq(person),
            documents::kind.eq(upload.kind),
            documents::title.eq(title),
            documents::file_name.eq(sanitise(upload.file_name)),
            documents::mime.eq(mime),
            documents::size_bytes.eq(upload.bytes.len() as i64),
            documents::sha256.eq(&digest),
            documents::storage_path.eq(&relative),
            documents::valid_until.eq(upload.valid_until),
            documents::uploaded_by.eq(author),
        ))
        .returning(documents::id)
        .get_result(conn)
        .await?)
}

/// Documents of the household or of one of its adults or children.
fn owned_by(
    household: i64,
) -> Box<dyn BoxableExpression<documents::table, Pg, SqlType = Nullable<Bool>>> {
    use super::schema::{child_links, household_members};
    let adults = household_members::table
        .filter(household_members::household_id.eq(household))
        .select(household_members::person_id.nullable());
    let children = child_links::table
        .filter(child_links::household_id.eq(household))
        .select(child_links::child_id.nullable());
    Box::new(
        documents::household_id
            .eq(household)
            .or(documents::person_id.eq_any(adults))
            .or(documents::person_id.eq_any(children)),
    )
}

async fn write_file(path: &Path, bytes: &[u8]) -> AppResult<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(parent)
        .await
        .map_err(AppError::internal)?;
    // Written aside then renamed: a crash never leaves a half file under the final name.
    let partial = path.with_extension("partiel");
    tokio::fs::write(&partial, bytes)
        .await
        .map_err(AppError::internal)?;
    tokio::fs::rename(&partial, path)
        .await
        .map_err(AppError::internal)
}

fn sanitise(name: &str) -> String {
    let base = Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("document");
    base.chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/'))
        .take(120)
        .collect()
}

pub async fn get(conn: &mut Conn, id: i64) -> AppResult<DocumentRow> {
    documents::table
        .find(id)
        .select(DocumentRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Document introuvable."))
}

/// The file of a document, its SHA-256 checked.
pub async fn read(root: &Path, row: &DocumentRow) -> AppResult<Vec<u8>> {
    let path: PathBuf = root.join(&row.storage_path);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("document {} : {e}", path.display())))?;
    if hex::encode(Sha256::digest(&bytes)) != row.sha256 {
        return Err(AppError::internal(anyhow::anyhow!(
            "document {} altéré",
            row.id
        )));
    }
    Ok(bytes)
}

/// Documents of the household and its members, newest first.
pub async fn of_household(conn: &mut Conn, household: i64) -> AppResult<Vec<DocumentRow>> {
    Ok(documents::table
        .filter(owned_by(household))
        .order(documents::uploaded_at.desc())
        .select(DocumentRow::as_select())
        .load(conn)
        .await?)
}

/// Documents whose validity ends within `days` days (or already ended), soonest first.
pub async fn expiring(conn: &mut Conn, today: NaiveDate, days: u64) -> AppResult<Vec<DocumentRow>> {
    let horizon = today
        .checked_add_days(chrono::Days::new(days))
        .unwrap_or(today);
    Ok(documents::table
        .filter(documents::valid_until.le(horizon))
        .order(documents::valid_until.asc())
        .limit(500)
        .select(DocumentRow::as_select())
        .load(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_their_signature_not_their_name() {
        assert_eq!(sniff(b"%PDF-1.7\n...").unwrap().0, "application/pdf");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0").unwrap().0, "image/png");
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0").unwrap().0, "image/jpeg");
        assert!(sniff(b"MZ\x90\0 executable renamed .pdf").is_none());
        assert!(sniff(b"<html>").is_none());
        assert_eq!(sanitise("../../etc/passwd"), "passwd");
        assert_eq!(sanitise("avis d'impôt 2025.pdf"), "avis d'impôt 2025.pdf");
    }
}
