//! SITIV administrators (platform schema): they run the console and see no city's
//! personal data, except through a break-glass grant (reason, one hour, audited on both
//! sides). Until the first administrator exists, the bootstrap password of the
//! configuration opens the console as `admin`.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::auth::passwords;
use super::db::Conn;
use super::error::{AppError, AppResult};

diesel::table! {
    platform.admins (id) {
        id -> BigInt,
        login -> Text,
        display_name -> Text,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        last_login_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    platform.break_glass (id) {
        id -> BigInt,
        admin -> Text,
        city_id -> BigInt,
        reason -> Text,
        granted_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

/// The administrator these credentials open, if any.
pub async fn authenticate(
    conn: &mut Conn,
    login: &str,
    password: &str,
    bootstrap: Option<&str>,
) -> AppResult<Option<String>> {
    let login = login.trim().to_lowercase();
    let count: i64 = admins::table.count().get_result(conn).await?;
    if count == 0 {
        let bootstrap = bootstrap.unwrap_or_default();
        let matches = !bootstrap.is_empty()
            && login == "admin"
            && super::auth::tokens::constant_time_eq(bootstrap.as_bytes(), password.as_bytes());
        return Ok(matches.then(|| "admin".to_string()));
    }
    let found: Option<(i64, String, bool)> = admins::table
        .filter(admins::login.eq(&login))
        .select((admins::id, admins::password_hash, admins::active))
        .first(conn)
        .await
        .optional()?;
    let verified = passwords::verify(found.as_ref().map(|(_, hash, _)| hash.as_str()), password);
    match found {
        Some((id, _, true)) if verified => {
            diesel::update(admins::table.find(id))
                .set(admins::last_login_at.eq(Utc::now()))
                .execute(conn)
                .await?;
            Ok(Some(login))
        }
        _ => Ok(None),
    }
}

pub async fn create(conn: &mut Conn, login: &str, name: &str, password: &str) -> AppResult<()> {
    let login = super::auth::accounts::normalise_login(login)?;
    passwords::check_policy(password, &login, 12)?;
    let taken: i64 = admins::table
        .filter(admins::login.eq(&login))
        .count()
        .get_result(conn)
        .await?;
    if taken > 0 {
        return Err(AppError::conflict(format!(
            "l'administrateur « {login} » existe déjà"
        )));
    }
    diesel::insert_into(admins::table)
        .values((
            admins::login.eq(&login),
            admins::display_name.eq(name.trim()),
            admins::password_hash.eq(passwords::hash(password)?),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a break-glass grant (one hour) with its reason.
pub async fn grant_break_glass(
    conn: &mut Conn,
    admin: &str,
    city_id: i64,
    reason: &str,
) -> AppResult<()> {
    if reason.trim().chars().count() < 10 {
        return Err(AppError::invalid(
            "indiquez le motif de l'accès d'urgence (10 caractères au moins) : il est tracé",
        ));
    }
    diesel::insert_into(break_glass::table)
        .values((
            break_glass::admin.eq(admin),
            break_glass::city_id.eq(city_id),
            break_glass::reason.eq(reason.trim()),
            break_glass::expires_at.eq(Utc::now() + Duration::hours(1)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
