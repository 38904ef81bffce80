//! Sessions of the SITIV console: a random token in an HttpOnly cookie, only its SHA-256
//! in `platform.admin_sessions`; idle and absolute expiry.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use sha2::{Digest, Sha256};

use super::db::Conn;
use super::error::AppResult;
use super::schema::admin_sessions;

const IDLE: Duration = Duration::minutes(30);
const ABSOLUTE: Duration = Duration::hours(8);

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub async fn open(conn: &mut Conn, admin: &str, token: &str) -> AppResult<()> {
    diesel::insert_into(admin_sessions::table)
        .values((
            admin_sessions::token_hash.eq(hash(token)),
            admin_sessions::admin.eq(admin),
            admin_sessions::expires_at.eq(Utc::now() + ABSOLUTE),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The admin of a live session, whose idle timer restarts.
pub async fn touch(conn: &mut Conn, token: &str) -> AppResult<Option<String>> {
    let now = Utc::now();
    Ok(diesel::update(
        admin_sessions::table
            .filter(admin_sessions::token_hash.eq(hash(token)))
            .filter(admin_sessions::expires_at.gt(now))
            .filter(admin_sessions::last_seen_at.gt(now - IDLE)),
    )
    .set(admin_sessions::last_seen_at.eq(now))
    .returning(admin_sessions::admin)
    .get_result(conn)
    .await
    .optional()?)
}

pub async fn close(conn: &mut Conn, token: &str) -> AppResult<()> {
    diesel::delete(admin_sessions::table.filter(admin_sessions::token_hash.eq(hash(token))))
        .execute(conn)
        .await?;
    Ok(())
}
