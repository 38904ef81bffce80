//! Agents' tasks: work the system hands to people (follow a place offered from a waitlist),
//! each about one subject so that it closes when the subject is settled.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::schema::tasks;
use crate::platform::db::Conn;
use crate::platform::error::AppResult;

pub async fn open(
    conn: &mut Conn,
    kind: &str,
    subject: i64,
    title: &str,
    link: &str,
    due: Option<DateTime<Utc>>,
) -> AppResult<()> {
    diesel::insert_into(tasks::table)
        .values((
            tasks::kind.eq(kind),
            tasks::subject_id.eq(subject),
            tasks::title.eq(title),
            tasks::link.eq(link),
            tasks::due_at.eq(due),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Closes the open tasks about `subject`.
pub async fn close(conn: &mut Conn, kind: &str, subject: i64, by: &str) -> AppResult<()> {
    diesel::update(
        tasks::table
            .filter(tasks::kind.eq(kind))
            .filter(tasks::subject_id.eq(subject))
            .filter(tasks::done_at.is_null()),
    )
    .set((tasks::done_at.eq(diesel::dsl::now), tasks::done_by.eq(by)))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Task {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub link: String,
    pub due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Open tasks, the most urgent first.
pub async fn open_tasks(conn: &mut Conn, limit: i64) -> AppResult<Vec<Task>> {
    Ok(tasks::table
        .filter(tasks::done_at.is_null())
        .order((tasks::due_at.asc().nulls_last(), tasks::id))
        .limit(limit)
        .select((
            tasks::id,
            tasks::kind,
            tasks::title,
            tasks::link,
            tasks::due_at,
            tasks::created_at,
        ))
        .load(conn)
        .await?)
}
