//! The audit trail of a city: row changes written by the `audit_row()` trigger, and the
//! security events the application records (sign-ins, failures, denials, break-glass).
//! History screens search it here.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::db::Conn;
use super::error::AppResult;

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamptz,
        user_id -> Text,
        table_name -> Text,
        row_id -> Nullable<Text>,
        op -> Text,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
    }
}

/// Security events kept beside row changes.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    Login,
    LoginFailed,
    Logout,
    Denied,
    BreakGlass,
    /// A family's personal data erased (RGPD right to erasure).
    Erasure,
    /// A family's data exported (RGPD portability).
    Export,
}

impl Event {
    fn op(self) -> &'static str {
        match self {
            Event::Login => "LOGIN",
            Event::LoginFailed => "LOGIN_FAILED",
            Event::Logout => "LOGOUT",
            Event::Denied => "DENIED",
            Event::BreakGlass => "BREAK_GLASS",
            Event::Erasure => "ERASURE",
            Event::Export => "EXPORT",
        }
    }
}

/// Records a security event by `actor` about `subject` (a table and row), with details.
pub async fn record(
    conn: &mut Conn,
    event: Event,
    actor: &str,
    subject: (&str, Option<&str>),
    detail: serde_json::Value,
) -> AppResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::user_id.eq(actor),
            audit_log::table_name.eq(subject.0),
            audit_log::row_id.eq(subject.1),
            audit_log::op.eq(event.op()),
            audit_log::after.eq(detail),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Default, Clone, serde::Deserialize, Serialize)]
#[serde(default)]
pub struct Filter {
    /// Who ("agent:12", or part of it).
    pub user: String,
    pub table: String,
    pub row: String,
    /// Dates as typed in the form (AAAA-MM-JJ), empty for no bound.
    pub from: String,
    pub to: String,
    pub page: i64,
}

fn parse_day(text: &str, what: &str) -> AppResult<Option<NaiveDate>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            super::error::AppError::invalid(format!(
                "date {what} invalide « {text} » : AAAA-MM-JJ attendu"
            ))
        })
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = audit_log)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: String,
    pub table_name: String,
    pub row_id: Option<String>,
    pub op: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub const PAGE_SIZE: i64 = 50;

/// One page of entries matching `filter`, newest first, and whether more follow.
pub async fn search(conn: &mut Conn, filter: &Filter) -> AppResult<(Vec<Entry>, bool)> {
    let mut query = audit_log::table.into_boxed();
    if !filter.user.trim().is_empty() {
        query = query
            .filter(audit_log::user_id.ilike(format!("%{}%", escape_like(filter.user.trim()))));
    }
    if !filter.table.trim().is_empty() {
        query = query.filter(audit_log::table_name.eq(filter.table.trim().to_string()));
    }
    if !filter.row.trim().is_empty() {
        query = query.filter(audit_log::row_id.eq(filter.row.trim().to_string()));
    }
    if let Some(from) = parse_day(&filter.from, "de début")? {
        query = query.filter(audit_log::at.ge(paris_midnight(from)));
    }
    if let Some(to) = parse_day(&filter.to, "de fin")? {
        query = query.filter(audit_log::at.lt(paris_midnight(to + chrono::Duration::days(1))));
    }
    let mut entries: Vec<Entry> = query
        .order(audit_log::id.desc())
        .offset(filter.page.max(0) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
        .select(Entry::as_select())
        .load(conn)
        .await?;
    let more = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    Ok((entries, more))
}

/// The history of one record (for the history panel of every dossier screen).
pub async fn history_of(conn: &mut Conn, table: &str, row: &str) -> AppResult<Vec<Entry>> {
    Ok(audit_log::table
        .filter(audit_log::table_name.eq(table))
        .filter(audit_log::row_id.eq(row))
        .order(audit_log::id.desc())
        .limit(200)
        .select(Entry::as_select())
        .load(conn)
        .await?)
}

fn paris_midnight(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    chrono_tz::Europe::Paris
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
