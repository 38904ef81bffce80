//! Accounts that sign in: agents (back-office) and family accounts (portal). Both kinds
//! share their sign-in, password and link logic here; their tables differ in a few
//! columns only.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::schema::{agents, family_accounts, password_links};
use super::sessions::Kind;
use super::tokens::{new_token, token_hash};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::Agent => "agents",
            Kind::Family => "family_accounts",
        }
    }
}

/// What sign-in and session checks need of an account, whatever its kind.
#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct Account {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub login: String,
    #[diesel(sql_type = Text)]
    pub display_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    #[serde(skip)]
    #[diesel(sql_type = Nullable<Text>)]
    pub password_hash: Option<String>,
    #[diesel(sql_type = Bool)]
    pub must_change_password: bool,
    #[diesel(sql_type = Bool)]
    pub active: bool,
    /// The Casbin profile of a family account (agents hold profiles in agent_profiles).
    #[diesel(sql_type = Nullable<Text>)]
    pub profile_id: Option<String>,
}

fn select(kind: Kind) -> String {
    let profile = match kind {
        Kind::Agent => "NULL::text",
        Kind::Family => "profile_id",
    };
    format!(
        "SELECT id, login, display_name, email::text AS email, password_hash, must_change_password,
                active, {profile} AS profile_id FROM {}",
        kind.table()
    )
}

/// The account with this login (families may also sign in with their e-mail).
pub async fn by_login(conn: &mut Conn, kind: Kind, login: &str) -> AppResult<Option<Account>> {
    let login = login.trim().to_lowercase();
    let condition = match kind {
        Kind::Agent => "login = $1",
        Kind::Family => "login = $1 OR lower(email) = $1",
    };
    let mut accounts: Vec<Account> = diesel::sql_query(format!(
        "{} WHERE {condition} ORDER BY id LIMIT 2",
        select(kind)
    ))
    .bind::<Text, _>(&login)
    .load(conn)
    .await?;
    // An e-mail shared by two family accounts identifies neither.
    Ok(if accounts.len() == 1 {
        accounts.pop()
    } else {
        None
    })
}

pub async fn by_id(conn: &mut Conn, kind: Kind, id: i64) -> AppResult<Option<Account>> {
    Ok(diesel::sql_query(format!("{} WHERE id = $1", select(kind)))
        .bind::<BigInt, _>(id)
        .get_result(conn)
        .await
        .optional()?)
}

pub async fn set_password(
    conn: &mut Conn,
    kind: Kind,
    id: i64,
    hash: &str,
    must_change: bool,
) -> AppResult<()> {
    diesel::sql_query(format!(
        "UPDATE {} SET password_hash = $1, must_change_password = $2 WHERE id = $3",
        kind.table()
    ))
    .bind::<Text, _>(hash)
    .bind::<Bool, _>(must_change)
    .bind::<BigInt, _>(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn record_login(conn: &mut Conn, kind: Kind, id: i64) -> AppResult<()> {
    diesel::sql_query(format!(
        "UPDATE {} SET last_login_at = now() WHERE id = $1",
        kind.table()
    ))
    .bind::<BigInt, _>(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A single-use link (first password or reset), valid `hours`; returns its token.
pub async fn new_password_link(
    conn: &mut Conn,
    kind: Kind,
    id: i64,
    hours: i64,
) -> AppResult<String> {
    let token = new_token();
    diesel::insert_into(password_links::table)
        .values((
            password_links::token_hash.eq(token_hash(&token)),
            password_links::account_kind.eq(kind.as_str()),
            password_links::account_id.eq(id),
            password_links::expires_at.eq(Utc::now() + Duration::hours(hours)),
        ))
        .execute(conn)
        .await?;
    Ok(token)
}

/// The account a link is for, if the link is unused and not expired (it is not spent).
pub async fn link_account(conn: &mut Conn, token: &str) -> AppResult<Option<(Kind, i64)>> {
    let found: Option<(String, i64)> = password_links::table
        .filter(password_links::token_hash.eq(token_hash(token)))
        .filter(password_links::used_at.is_null())
        .filter(password_links::expires_at.gt(Utc::now()))
        .select((password_links::account_kind, password_links::account_id))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(kind, id)| {
        (
            if kind == "agent" {
                Kind::Agent
            } else {
                Kind::Family
            },
            id,
        )
    }))
}

/// Spends a link and every other pending link of the same account.
pub async fn spend_links(conn: &mut Conn, kind: Kind, id: i64) -> AppResult<()> {
    diesel::update(
        password_links::table
            .filter(password_links::account_kind.eq(kind.as_str()))
            .filter(password_links::account_id.eq(id))
            .filter(password_links::used_at.is_null()),
    )
    .set(password_links::used_at.eq(Utc::now()))
    .execute(conn)
    .await?;
    Ok(())
}

// ---- agents ----

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = agents)]
pub struct AgentRow {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub oidc_subject: Option<String>,
    pub active: bool,
    pub last_login_at: Option<chrono::DateTime<Utc>>,
}

pub struct NewAgent<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub oidc_subject: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub must_change_password: bool,
}

pub async fn create_agent(conn: &mut Conn, new: NewAgent<'_>) -> AppResult<i64> {
    let login = normalise_login(new.login)?;
    let taken: i64 = agents::table
        .filter(agents::login.eq(&login))
        .count()
        .get_result(conn)
        .await?;
    if taken > 0 {
        return Err(AppError::conflict(format!(
            "l'identifiant « {login} » est déjà pris"
        )));
    }
    Ok(diesel::insert_into(agents::table)
        .values((
            agents::login.eq(&login),
            agents::display_name.eq(new.display_name.trim()),
            agents::email.eq(new.email),
            agents::oidc_subject.eq(new.oidc_subject),
            agents::password_hash.eq(new.password_hash),
            agents::must_change_password.eq(new.must_change_password),
        ))
        .returning(agents::id)
        .get_result(conn)
        .await?)
}

pub async fn list_agents(conn: &mut Conn) -> AppResult<Vec<AgentRow>> {
    Ok(agents::table
        .order(agents::display_name)
        .select(AgentRow::as_select())
        .load(conn)
        .await?)
}

pub async fn agent_by_subject(conn: &mut Conn, subject: &str) -> AppResult<Option<AgentRow>> {
    Ok(agents::table
        .filter(agents::oidc_subject.eq(subject))
        .select(AgentRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// An agent created beforehand under this login or e-mail, not yet linked to the SSO.
pub async fn agent_to_link(
    conn: &mut Conn,
    login: &str,
    email: Option<&str>,
) -> AppResult<Option<AgentRow>> {
    let email = email.unwrap_or_default().to_lowercase();
    Ok(agents::table
        .filter(agents::oidc_subject.is_null())
        .filter(agents::login.eq(login.to_lowercase()).or(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = ").bind::<Text, _>(email),
        ))
        .select(AgentRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn link_agent_subject(conn: &mut Conn, id: i64, subject: &str) -> AppResult<()> {
    diesel::update(agents::table.find(id))
        .set(agents::oidc_subject.eq(subject))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_agent_active(conn: &mut Conn, id: i64, active: bool) -> AppResult<()> {
    let updated = diesel::update(agents::table.find(id))
        .set(agents::active.eq(active))
        .execute(conn)
        .await?;
    if updated == 0 {
        return Err(AppError::not_found("Agent introuvable."));
    }
    Ok(())
}

// ---- family accounts ----

pub struct NewFamilyAccount<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub profile_id: &'a str,
}

/// Creates a family account with a generated identifier (`famille-<n>`); it receives its
/// first password through a single-use link or a temporary password.
pub async fn create_family_account(
    conn: &mut Conn,
    new: NewFamilyAccount<'_>,
) -> AppResult<(i64, String)> {
    let email = normalise_email(new.email)?;
    let id: i64 = diesel::insert_into(family_accounts::table)
        .values((
            family_accounts::login.eq(format!("tmp-{}", new_token().to_lowercase())),
            family_accounts::email.eq(&email),
            family_accounts::display_name.eq(new.display_name.trim()),
            family_accounts::profile_id.eq(new.profile_id),
        ))
        .returning(family_accounts::id)
        .get_result(conn)
        .await?;
    let login = format!("famille-{id:05}");
    diesel::update(family_accounts::table.find(id))
        .set(family_accounts::login.eq(&login))
        .execute(conn)
        .await?;
    Ok((id, login))
}

pub async fn family_by_franceconnect(
    conn: &mut Conn,
    subject: &str,
    email: Option<&str>,
) -> AppResult<Option<i64>> {
    let linked: Option<i64> = family_accounts::table
        .filter(family_accounts::franceconnect_subject.eq(subject))
        .select(family_accounts::id)
        .first(conn)
        .await
        .optional()?;
    if linked.is_some() {
        return Ok(linked);
    }
    // First FranceConnect sign-in: the account holding the same (verified) e-mail.
    let Some(email) = email else { return Ok(None) };
    let candidates: Vec<i64> = family_accounts::table
        .filter(family_accounts::franceconnect_subject.is_null())
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = ")
                .bind::<Text, _>(email.to_lowercase()),
        )
        .select(family_accounts::id)
        .load(conn)
        .await?;
    match candidates.as_slice() {
        [id] => {
            diesel::update(family_accounts::table.find(*id))
                .set(family_accounts::franceconnect_subject.eq(subject))
                .execute(conn)
                .await?;
            Ok(Some(*id))
        }
        _ => Ok(None),
    }
}

pub fn normalise_login(login: &str) -> AppResult<String> {
    let login = login.trim().to_lowercase();
    let ok = (2..=120).contains(&login.chars().count())
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(login)
    } else {
        Err(AppError::invalid(
            "identifiant invalide : 2 à 120 lettres sans accent, chiffres, « . », « - », « _ » ou « @ »",
        ))
    }
}

pub fn normalise_email(email: &str) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.chars().any(char::is_whitespace)
        && email.len() <= 254;
    if valid {
        Ok(email)
    } else {
        Err(AppError::invalid(format!(
            "adresse de courriel invalide « {email} »"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_and_emails_are_normalised_or_refused_in_french() {
        assert_eq!(normalise_login(" Agnes.Martin ").unwrap(), "agnes.martin");
        assert!(normalise_login("agnès").is_err());
        assert_eq!(
            normalise_email("Parent@Exemple.FR").unwrap(),
            "parent@exemple.fr"
        );
        for bad in [
            "parent",
            "parent@",
            "@exemple.fr",
            "pa rent@exemple.fr",
            "parent@exemple",
        ] {
            assert!(
                normalise_email(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("invalide"),
                "{bad}"
            );
        }
    }
}
