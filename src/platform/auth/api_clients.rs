//! API clients of a city (the GRC, dashboard widgets): a bearer token shown once, kept
//! hashed; its scopes are profile ids.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::{api_clients, profiles};
use super::tokens::{new_token, token_hash};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_clients)]
pub struct ApiClient {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
}

/// Creates a client; returns it and its token (never stored in clear).
pub async fn create(
    conn: &mut Conn,
    name: &str,
    scopes: &[String],
) -> AppResult<(ApiClient, String)> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("le nom du client d'API est obligatoire"));
    }
    if scopes.is_empty() {
        return Err(AppError::invalid(
            "au moins un profil (--scope) est obligatoire",
        ));
    }
    let known: Vec<String> = profiles::table
        .filter(profiles::id.eq_any(scopes))
        .select(profiles::id)
        .load(conn)
        .await?;
    if let Some(unknown) = scopes.iter().find(|s| !known.contains(s)) {
        return Err(AppError::invalid(format!("profil inconnu « {unknown} »")));
    }
    let taken: i64 = api_clients::table
        .filter(api_clients::name.eq(name))
        .count()
        .get_result(conn)
        .await?;
    if taken > 0 {
        return Err(AppError::conflict(format!(
            "un client d'API « {name} » existe déjà"
        )));
    }
    let token = new_token();
    let client = diesel::insert_into(api_clients::table)
        .values((
            api_clients::name.eq(name),
            api_clients::token_hash.eq(token_hash(&token)),
            api_clients::scopes.eq(scopes),
        ))
        .returning(ApiClient::as_returning())
        .get_result(conn)
        .await?;
    Ok((client, token))
}

/// The live client holding `token`.
pub async fn by_token(conn: &mut Conn, token: &str) -> AppResult<Option<ApiClient>> {
    Ok(api_clients::table
        .filter(api_clients::token_hash.eq(token_hash(token)))
        .filter(api_clients::revoked_at.is_null())
        .select(ApiClient::as_select())
        .first(conn)
        .await
        .optional()?)
}
