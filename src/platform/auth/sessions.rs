//! Server-side sessions of a city (agents and families): the cookie carries a random
//! token, the table its SHA-256. A new session at every sign-in (no fixation), idle and
//! absolute expiry from the city's settings.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::sessions;
use super::tokens::{new_token, token_hash};
use crate::platform::db::Conn;
use crate::platform::error::AppResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Agent,
    Family,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Family => "family",
        }
    }
}

pub struct NewSession<'a> {
    pub kind: Kind,
    pub subject_id: Option<i64>,
    pub label: &'a str,
    pub break_glass: bool,
    pub id_token: Option<&'a str>,
    pub lifetime: Duration,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub subject_id: Option<i64>,
    pub subject_label: String,
    pub break_glass: bool,
    pub id_token: Option<String>,
    pub expires_at: chrono::DateTime<Utc>,
}

/// Whether a session (just closed, say) had not expired yet.
pub fn was_live(session: &Session) -> bool {
    session.expires_at > Utc::now()
}

/// Opens a session; returns the token for the cookie.
pub async fn open(conn: &mut Conn, new: NewSession<'_>) -> AppResult<String> {
    let token = new_token();
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash(&token)),
            sessions::kind.eq(new.kind.as_str()),
            sessions::subject_id.eq(new.subject_id),
            sessions::subject_label.eq(new.label),
            sessions::break_glass.eq(new.break_glass),
            sessions::id_token.eq(new.id_token),
            sessions::expires_at.eq(Utc::now() + new.lifetime),
        ))
        .execute(conn)
        .await?;
    Ok(token)
}

/// How stale `last_seen_at` may get before a request writes it again: reading a session
/// costs no write on most requests, and the idle timeout stays exact to within this.
const TOUCH_EVERY: Duration = Duration::seconds(30);

/// The live session of `token`, whose idle timer restarts; `None` once idle too long or
/// past its absolute expiry.
pub async fn touch(
    conn: &mut Conn,
    token: &str,
    kind: Kind,
    idle: Duration,
) -> AppResult<Option<Session>> {
    let now = Utc::now();
    let hash = token_hash(token);
    let live = sessions::table
        .filter(sessions::token_hash.eq(&hash))
        .filter(sessions::kind.eq(kind.as_str()))
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::last_seen_at.gt(now - idle))
        .select((Session::as_select(), sessions::last_seen_at))
        .first::<(Session, chrono::DateTime<Utc>)>(conn)
        .await
        .optional()?;
    let Some((session, last_seen)) = live else {
        return Ok(None);
    };
    if last_seen < now - TOUCH_EVERY {
        diesel::update(sessions::table.filter(sessions::token_hash.eq(&hash)))
            .set(sessions::last_seen_at.eq(now))
            .execute(conn)
            .await?;
    }
    Ok(Some(session))
}

/// Ends a session; returns it (its ID token serves the provider's logout).
pub async fn close(conn: &mut Conn, token: &str) -> AppResult<Option<Session>> {
    Ok(
        diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash(token))))
            .returning(Session::as_returning())
            .get_result(conn)
            .await
            .optional()?,
    )
}

/// Ends every session of a subject (password changed, account disabled).
pub async fn close_all(conn: &mut Conn, kind: Kind, subject_id: i64) -> AppResult<()> {
    diesel::delete(
        sessions::table
            .filter(sessions::kind.eq(kind.as_str()))
            .filter(sessions::subject_id.eq(subject_id)),
    )
    .execute(conn)
    .await?;
    Ok(())
}
