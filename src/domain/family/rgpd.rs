//! RGPD: the complete machine-readable export of what the city holds about a family
//! (portability), and the erasure of a family's identity (anonymisation) that keeps what
//! the law requires for accounting (incomes behind past prices; invoices once they exist).

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use super::dossier::{self, Visibility};
use super::health::HealthAccess;
use super::schema::*;
use crate::platform::audit::{self, Event};
use crate::platform::crypto::CityKey;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

fn everything() -> Visibility {
    Visibility {
        income: true,
        bank: true,
        health: HealthAccess {
            basic: true,
            medical: true,
            confidential: true,
        },
    }
}

/// Persons of a household: adults (members) and children (links), now or in the past.
async fn persons_of(conn: &mut Conn, household: i64) -> AppResult<Vec<i64>> {
    let mut ids: Vec<i64> = household_members::table
        .filter(household_members::household_id.eq(household))
        .select(household_members::person_id)
        .load(conn)
        .await?;
    ids.extend(
        child_links::table
            .filter(child_links::household_id.eq(household))
            .select(child_links::child_id)
            .load::<i64>(conn)
            .await?,
    );
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Everything held about a household, as one JSON document.
pub async fn export(
    conn: &mut Conn,
    key: &CityKey,
    household: i64,
    today: NaiveDate,
) -> AppResult<Value> {
    let view = dossier::household(conn, household, today, everything()).await?;
    let mut children = Vec::new();
    for child in &view.children {
        children.push(dossier::child(conn, key, child.id, today, everything()).await?);
    }
    let persons = persons_of(conn, household).await?;
    let documents = super::documents::of_household(conn, household).await?;
    let observations: Vec<(String, String, chrono::DateTime<chrono::Utc>)> = observations::table
        .filter(
            observations::household_id
                .eq(household)
                .or(observations::person_id.eq_any(&persons)),
        )
        .select((
            observations::text,
            observations::author,
            observations::created_at,
        ))
        .load(conn)
        .await?;
    let custom: Vec<(String, Value)> = custom_values::table
        .inner_join(custom_fields::table)
        .filter(
            custom_values::household_id
                .eq(household)
                .or(custom_values::person_id.eq_any(&persons)),
        )
        .select((custom_fields::label, custom_values::value))
        .load(conn)
        .await?;
    // Aids granted to the household (TAR-05), told with their catalogue entry.
    let aid_grants = crate::domain::tariffs::aids::of_household(conn, household, today)
        .await?
        .grants;
    let history: Vec<audit::Entry> = diesel::sql_query(
        "SELECT id, at, user_id, table_name, row_id, op, before, after FROM audit_log
          WHERE (table_name = 'households' AND row_id = $1::text)
             OR (table_name IN ('persons', 'health_sheets', 'custody_calendars') AND row_id = ANY($2))
             OR ((after->>'household_id' = $1::text) OR (before->>'household_id' = $1::text))
          ORDER BY id",
    )
    .bind::<BigInt, _>(household)
    .bind::<Array<Text>, _>(persons.iter().map(i64::to_string).collect::<Vec<_>>())
    .load(conn)
    .await?;
    Ok(json!({
        "format": "marelle-export-famille/1",
        "exported_on": today,
        "household": view,
        "children": children,
        "documents": documents.iter().map(|d| json!({
            "id": d.id, "kind": d.kind, "title": d.title, "file_name": d.file_name, "mime": d.mime,
            "size_bytes": d.size_bytes, "sha256": d.sha256, "valid_until": d.valid_until,
            "uploaded_at": d.uploaded_at, "person_id": d.person_id,
        })).collect::<Vec<_>>(),
        "observations": observations.iter().map(|(text, author, at)| json!({ "text": text, "author": author, "at": at })).collect::<Vec<_>>(),
        "custom_attributes": custom.iter().map(|(label, value)| json!({ "label": label, "value": value })).collect::<Vec<_>>(),
        "aid_grants": aid_grants,
        "history": history,
    }))
}

/// Erases the identity of a household and of the persons who belong to it alone (a child
/// shared with another household keeps its identity there, and leaves this one). Bank
/// details, health sheets, contacts, documents (files included) and observations go;
/// incomes stay (they justify past prices); the audit trail of the erased rows is scrubbed.
pub async fn anonymise(
    conn: &mut Conn,
    household: i64,
    documents_root: &Path,
    actor: &str,
    reason: &str,
) -> AppResult<()> {
    super::store::require_household(conn, household).await?;
    if reason.trim().chars().count() < 5 {
        return Err(AppError::invalid(
            "indiquez le motif de l'effacement (demande de la famille du ...)",
        ));
    }
    let all = persons_of(conn, household).await?;
    // Persons also in another household (a shared child, a re-partnered adult) stay.
    let shared: Vec<i64> = household_members::table
        .filter(household_members::person_id.eq_any(&all))
        .filter(household_members::household_id.ne(household))
        .select(household_members::person_id)
        .load::<i64>(conn)
        .await?
        .into_iter()
        .chain(
            child_links::table
                .filter(child_links::child_id.eq_any(&all))
                .filter(child_links::household_id.ne(household))
                .select(child_links::child_id)
                .load::<i64>(conn)
                .await?,
        )
        .collect();
    let erased: Vec<i64> = all
        .iter()
        .copied()
        .filter(|p| !shared.contains(p))
        .collect();
    let today = crate::platform::clock::today();
    diesel::update(
        child_links::table
            .filter(child_links::household_id.eq(household))
            .filter(child_links::child_id.eq_any(&shared))
            .filter(child_links::valid_to.is_null()),
    )
    .set(child_links::valid_to.eq(today))
    .execute(conn)
    .await?;
    let births: Vec<(i64, Option<NaiveDate>)> = persons::table
        .filter(persons::id.eq_any(&erased))
        .select((persons::id, persons::birth_date))
        .load(conn)
        .await?;
    for (id, birth) in births {
        // The year stays (age statistics); nothing else identifies.
        let year_only = birth.and_then(|b| NaiveDate::from_ymd_opt(b.year(), 1, 1));
        diesel::update(persons::table.find(id))
            .set((
                persons::last_name.eq("ANONYME"),
                persons::first_name.eq(format!("Personne {id}")),
                persons::birth_name.eq(None::<String>),
                persons::birth_date.eq(year_only),
                persons::birth_place.eq(None::<String>),
                persons::email.eq(None::<String>),
                persons::email_pro.eq(None::<String>),
                persons::phone_mobile.eq(None::<String>),
                persons::phone_home.eq(None::<String>),
                persons::phone_work.eq(None::<String>),
                persons::employer.eq(None::<String>),
                persons::photo_document_id.eq(None::<i64>),
            ))
            .execute(conn)
            .await?;
    }
    diesel::update(
        addresses::table.filter(
            addresses::household_id
                .eq(household)
                .or(addresses::person_id.eq_any(&erased)),
        ),
    )
    .set((
        addresses::line1.eq("Adresse effacée"),
        addresses::line2.eq(""),
    ))
    .execute(conn)
    .await?;
    diesel::delete(health_sheets::table.filter(health_sheets::child_id.eq_any(&erased)))
        .execute(conn)
        .await?;
    diesel::delete(custody_calendars::table.filter(custody_calendars::child_id.eq_any(&erased)))
        .execute(conn)
        .await?;
    diesel::delete(
        disability_benefits::table.filter(disability_benefits::child_id.eq_any(&erased)),
    )
    .execute(conn)
    .await?;
    diesel::delete(child_contacts::table.filter(child_contacts::child_id.eq_any(&erased)))
        .execute(conn)
        .await?;
    diesel::delete(
        observations::table.filter(
            observations::household_id
                .eq(household)
                .or(observations::person_id.eq_any(&erased)),
        ),
    )
    .execute(conn)
    .await?;
    diesel::delete(
        custom_values::table.filter(
            custom_values::household_id
                .eq(household)
                .or(custom_values::person_id.eq_any(&erased)),
        ),
    )
    .execute(conn)
    .await?;
    let accounts: Vec<i64> = bank_accounts::table
        .filter(bank_accounts::household_id.eq(household))
        .select(bank_accounts::id)
        .load(conn)
        .await?;
    diesel::update(sepa_mandates::table.filter(sepa_mandates::bank_account_id.eq_any(&accounts)))
        .set(sepa_mandates::status.eq("revoked"))
        .execute(conn)
        .await?;
    diesel::update(bank_accounts::table.filter(bank_accounts::id.eq_any(&accounts)))
        .set((
            bank_accounts::iban_enc.eq(None::<Vec<u8>>),
            bank_accounts::bic_enc.eq(None::<Vec<u8>>),
            bank_accounts::iban_hint.eq(None::<String>),
            bank_accounts::active.eq(false),
        ))
        .execute(conn)
        .await?;
    diesel::update(incomes::table.filter(incomes::household_id.eq(household)))
        .set(incomes::document_id.eq(None::<i64>))
        .execute(conn)
        .await?;
    let files: Vec<(i64, String)> = documents::table
        .filter(
            documents::household_id
                .eq(household)
                .or(documents::person_id.eq_any(&erased)),
        )
        .select((documents::id, documents::storage_path))
        .load(conn)
        .await?;
    let document_ids: Vec<i64> = files.iter().map(|(id, _)| *id).collect();
    diesel::delete(documents::table.filter(documents::id.eq_any(&document_ids)))
        .execute(conn)
        .await?;
    diesel::sql_query(
        "UPDATE family_accounts SET display_name = 'Compte effacé', email = 'efface-' || id || '@invalid',
                password_hash = NULL, franceconnect_subject = NULL, active = false
          WHERE household_id = $1 OR person_id = ANY($2)",
    )
    .bind::<BigInt, _>(household)
    .bind::<Array<BigInt>, _>(&erased)
    .execute(conn)
    .await?;
    diesel::update(households::table.find(household))
        .set((
            households::name.eq("Famille effacée"),
            households::allocataire.eq(None::<String>),
            households::status.eq("archived"),
            households::archive_reason.eq("effacement RGPD"),
            households::anonymised_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    // The trail of the erased rows (including the updates just made) loses its contents.
    diesel::sql_query(
        "UPDATE audit_log SET before = CASE WHEN before IS NULL THEN NULL ELSE '{\"effacé\": true}'::jsonb END,
                              after = CASE WHEN after IS NULL THEN NULL ELSE '{\"effacé\": true}'::jsonb END
          WHERE (table_name = 'households' AND row_id = $1::text)
             OR (table_name IN ('persons', 'health_sheets', 'custody_calendars') AND row_id = ANY($2))
             OR (table_name IN ('addresses', 'child_contacts', 'observations', 'custom_values', 'documents',
                                'bank_accounts', 'disability_benefits', 'family_accounts', 'guardianships',
                                'household_members', 'child_links', 'authorisations', 'school_history')
                 AND (after->>'household_id' = $1::text OR before->>'household_id' = $1::text
                      OR after->>'person_id' = ANY($2) OR before->>'person_id' = ANY($2)
                      OR after->>'child_id' = ANY($2) OR before->>'child_id' = ANY($2)
                      OR after->>'holder_id' = ANY($2) OR before->>'holder_id' = ANY($2)))",
    )
    .bind::<BigInt, _>(household)
    .bind::<Array<Text>, _>(erased.iter().map(i64::to_string).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    audit::record(
        conn,
        Event::Erasure,
        actor,
        ("households", Some(&household.to_string())),
        json!({ "motif": reason.trim(), "personnes": erased.len() }),
    )
    .await?;
    diesel::sql_query("SELECT refresh_household_search($1)")
        .bind::<BigInt, _>(household)
        .execute(conn)
        .await?;
    // Files last: the rows are gone in this transaction; a file shared with another row
    // (same content) stays.
    for (_, path) in files {
        let still_used: i64 = documents::table
            .filter(documents::storage_path.eq(&path))
            .count()
            .get_result(conn)
            .await?;
        if still_used == 0 {
            let _ = tokio::fs::remove_file(documents_root.join(&path)).await;
        }
    }
    Ok(())
}
