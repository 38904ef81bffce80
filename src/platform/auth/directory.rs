//! The city admin's management of identities: profiles and their permissions, agents'
//! holdings, family account requests and family accounts. Every change is audited by the
//! tables' triggers and reaches every server's permission cache through NOTIFY.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::accounts::{self, NewFamilyAccount};
use super::schema::{
    account_requests, agent_profiles, family_accounts, profile_permissions, profiles,
};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// Objects a permission may name (see policies/default.csv), with their French labels.
pub const OBJECTS: &[(&str, &str)] = &[
    ("families", "Dossiers familles et enfants"),
    ("family_income", "Ressources et quotient familial"),
    ("bank", "Coordonnées bancaires et mandats"),
    ("documents", "Pièces justificatives"),
    (
        "health:basic",
        "Santé : régimes, allergies, PAI (listes de pointage)",
    ),
    ("health:medical", "Santé : fiche sanitaire complète"),
    ("health:confidential", "Santé : AEEH, MDPH, suivi médical"),
    ("schools", "Écoles et classes"),
    ("activities", "Activités, groupes, capacités"),
    ("enrolments", "Inscriptions et commissions"),
    ("bookings", "Réservations"),
    ("attendance", "Pointage"),
    ("pricing", "Tarifs"),
    ("billing", "Facturation"),
    ("payments", "Encaissements"),
    ("accounts", "Comptes du portail famille"),
    ("agents", "Agents et profils"),
    ("settings", "Paramétrage"),
    ("audit", "Historique"),
    ("reports", "Éditions et statistiques"),
    ("portal:dossier", "Portail : dossier famille"),
    ("portal:activities", "Portail : activités et inscriptions"),
    ("portal:bookings", "Portail : réservations"),
    ("portal:invoices", "Portail : factures"),
    ("portal:payments", "Portail : paiement en ligne"),
    ("portal:documents", "Portail : documents"),
    ("portal:messages", "Portail : messagerie"),
];

pub const ACTIONS: &[(&str, &str)] = &[
    ("read", "lecture"),
    ("write", "écriture"),
    ("process", "traitement"),
];

#[derive(Debug, Clone, Serialize)]
pub struct ProfileView {
    pub id: String,
    pub label: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: Vec<(String, String)>,
}

pub async fn profiles(conn: &mut Conn) -> AppResult<Vec<ProfileView>> {
    let rows: Vec<(String, String, String, bool)> = profiles::table
        .select((
            profiles::id,
            profiles::label,
            profiles::description,
            profiles::builtin,
        ))
        .order(profiles::id)
        .load(conn)
        .await?;
    let permissions: Vec<(String, String, String)> = profile_permissions::table
        .select((
            profile_permissions::profile_id,
            profile_permissions::object,
            profile_permissions::action,
        ))
        .order(profile_permissions::id)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, label, description, builtin)| ProfileView {
            permissions: permissions
                .iter()
                .filter(|(p, _, _)| *p == id)
                .map(|(_, o, a)| (o.clone(), a.clone()))
                .collect(),
            id,
            label,
            description,
            builtin,
        })
        .collect())
}

/// Creates a profile (no permissions yet).
pub async fn create_profile(
    conn: &mut Conn,
    id: &str,
    label: &str,
    description: &str,
) -> AppResult<()> {
    let id = id.trim();
    let valid = (2..=41).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(AppError::invalid(
            "identifiant de profil invalide : lettres minuscules, chiffres et « _ »",
        ));
    }
    if label.trim().is_empty() {
        return Err(AppError::invalid("le libellé du profil est obligatoire"));
    }
    let taken: i64 = profiles::table
        .filter(profiles::id.eq(id))
        .count()
        .get_result(conn)
        .await?;
    if taken > 0 {
        return Err(AppError::conflict(format!(
            "le profil « {id} » existe déjà"
        )));
    }
    diesel::insert_into(profiles::table)
        .values((
            profiles::id.eq(id),
            profiles::label.eq(label.trim()),
            profiles::description.eq(description.trim()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the permissions of a profile by `wanted` (object, action) pairs.
pub async fn set_permissions(
    conn: &mut Conn,
    profile: &str,
    wanted: &[(String, String)],
) -> AppResult<()> {
    let exists: i64 = profiles::table
        .filter(profiles::id.eq(profile))
        .count()
        .get_result(conn)
        .await?;
    if exists == 0 {
        return Err(AppError::not_found(format!("profil inconnu « {profile} »")));
    }
    for (object, action) in wanted {
        if !OBJECTS.iter().any(|(o, _)| o == object) || !ACTIONS.iter().any(|(a, _)| a == action) {
            return Err(AppError::invalid(format!(
                "droit inconnu : {object} / {action}"
            )));
        }
    }
    let current: Vec<(i64, String, String)> = profile_permissions::table
        .filter(profile_permissions::profile_id.eq(profile))
        .select((
            profile_permissions::id,
            profile_permissions::object,
            profile_permissions::action,
        ))
        .load(conn)
        .await?;
    // Only the differences are written, so the audit trail shows what really changed.
    let removed: Vec<i64> = current
        .iter()
        .filter(|(_, o, a)| !wanted.iter().any(|(wo, wa)| wo == o && wa == a))
        .map(|(id, _, _)| *id)
        .collect();
    diesel::delete(profile_permissions::table.filter(profile_permissions::id.eq_any(&removed)))
        .execute(conn)
        .await?;
    let added: Vec<_> = wanted
        .iter()
        .filter(|(o, a)| !current.iter().any(|(_, co, ca)| co == o && ca == a))
        .map(|(o, a)| {
            (
                profile_permissions::profile_id.eq(profile),
                profile_permissions::object.eq(o),
                profile_permissions::action.eq(a),
            )
        })
        .collect();
    diesel::insert_into(profile_permissions::table)
        .values(added)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Holding {
    pub id: i64,
    pub agent_id: i64,
    pub profile_id: String,
    pub population: String,
}

pub async fn holdings(conn: &mut Conn) -> AppResult<Vec<Holding>> {
    Ok(agent_profiles::table
        .select((
            agent_profiles::id,
            agent_profiles::agent_id,
            agent_profiles::profile_id,
            agent_profiles::population,
        ))
        .order(agent_profiles::id)
        .load(conn)
        .await?)
}

/// Gives `profile` to an agent over `population` ("city" or "structure:3"...).
pub async fn grant(conn: &mut Conn, agent: i64, profile: &str, population: &str) -> AppResult<()> {
    let population = population.trim();
    let valid = population == "city"
        || population.split_once(':').is_some_and(|(kind, id)| {
            matches!(kind, "structure" | "school" | "activity" | "group")
                && id.parse::<u64>().is_ok()
        });
    if !valid {
        return Err(AppError::invalid(
            "population invalide : « city » (toute la ville) ou « structure:3 », « school:2 », « activity:5 », « group:8 »",
        ));
    }
    let known: i64 = profiles::table
        .filter(profiles::id.eq(profile))
        .count()
        .get_result(conn)
        .await?;
    if known == 0 {
        return Err(AppError::invalid(format!("profil inconnu « {profile} »")));
    }
    accounts::by_id(conn, super::sessions::Kind::Agent, agent)
        .await?
        .ok_or_else(|| AppError::not_found("Agent introuvable."))?;
    diesel::insert_into(agent_profiles::table)
        .values((
            agent_profiles::agent_id.eq(agent),
            agent_profiles::profile_id.eq(profile),
            agent_profiles::population.eq(population),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn revoke(conn: &mut Conn, holding: i64) -> AppResult<()> {
    let removed = diesel::delete(agent_profiles::table.find(holding))
        .execute(conn)
        .await?;
    if removed == 0 {
        return Err(AppError::not_found("Attribution introuvable."));
    }
    Ok(())
}

// ---- family accounts ----

#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = account_requests)]
pub struct AccountRequest {
    pub id: i64,
    pub last_name: String,
    pub first_name: String,
    pub email: String,
    pub phone: String,
    pub message: String,
    pub status: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

pub struct NewRequest<'a> {
    pub last_name: &'a str,
    pub first_name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub message: &'a str,
}

pub async fn request_account(conn: &mut Conn, new: NewRequest<'_>) -> AppResult<i64> {
    if new.last_name.trim().is_empty() || new.first_name.trim().is_empty() {
        return Err(AppError::invalid("le nom et le prénom sont obligatoires"));
    }
    let email = accounts::normalise_email(new.email)?;
    Ok(diesel::insert_into(account_requests::table)
        .values((
            account_requests::last_name.eq(new.last_name.trim()),
            account_requests::first_name.eq(new.first_name.trim()),
            account_requests::email.eq(&email),
            account_requests::phone.eq(new.phone.trim()),
            account_requests::message.eq(new.message.trim()),
        ))
        .returning(account_requests::id)
        .get_result(conn)
        .await?)
}

pub async fn pending_requests(conn: &mut Conn) -> AppResult<Vec<AccountRequest>> {
    Ok(account_requests::table
        .filter(account_requests::status.eq("pending"))
        .order(account_requests::created_at)
        .select(AccountRequest::as_select())
        .load(conn)
        .await?)
}

/// Accepts a pending request: creates the account; returns it (id, login) and the request.
pub async fn accept_request(
    conn: &mut Conn,
    id: i64,
    agent: &str,
) -> AppResult<(i64, String, AccountRequest)> {
    let request = pending(conn, id).await?;
    let (account, login) = accounts::create_family_account(
        conn,
        NewFamilyAccount {
            email: &request.email,
            display_name: &format!("{} {}", request.first_name, request.last_name),
            profile_id: "family",
        },
    )
    .await?;
    diesel::update(account_requests::table.find(id))
        .set((
            account_requests::status.eq("accepted"),
            account_requests::decided_by.eq(agent),
            account_requests::decided_at.eq(Utc::now()),
            account_requests::account_id.eq(account),
        ))
        .execute(conn)
        .await?;
    Ok((account, login, request))
}

pub async fn refuse_request(
    conn: &mut Conn,
    id: i64,
    agent: &str,
    reason: &str,
) -> AppResult<AccountRequest> {
    if reason.trim().len() < 5 {
        return Err(AppError::invalid(
            "indiquez le motif du refus (il est envoyé à la famille)",
        ));
    }
    let request = pending(conn, id).await?;
    diesel::update(account_requests::table.find(id))
        .set((
            account_requests::status.eq("refused"),
            account_requests::reason.eq(reason.trim()),
            account_requests::decided_by.eq(agent),
            account_requests::decided_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(request)
}

async fn pending(conn: &mut Conn, id: i64) -> AppResult<AccountRequest> {
    account_requests::table
        .find(id)
        .filter(account_requests::status.eq("pending"))
        .select(AccountRequest::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Demande introuvable ou déjà traitée."))
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = family_accounts)]
pub struct FamilyAccountRow {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub profile_id: String,
    pub active: bool,
    pub last_login_at: Option<DateTime<Utc>>,
}

pub async fn family_accounts(conn: &mut Conn) -> AppResult<Vec<FamilyAccountRow>> {
    Ok(family_accounts::table
        .order(family_accounts::id.desc())
        .limit(500)
        .select(FamilyAccountRow::as_select())
        .load(conn)
        .await?)
}

/// Profiles a family account may hold (those granting portal objects only).
pub async fn family_profiles(conn: &mut Conn) -> AppResult<Vec<(String, String)>> {
    let all = profiles(conn).await?;
    Ok(all
        .into_iter()
        .filter(|p| {
            !p.permissions.is_empty() && p.permissions.iter().all(|(o, _)| o.starts_with("portal:"))
        })
        .map(|p| (p.id, p.label))
        .collect())
}
