//! The daily follow-up notebook (cahier de suivi) of a child in an activity: meals, naps,
//! care, mood, notes for the family, each with its time and author. Entries are added,
//! never edited (the audit trail records each one).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use crate::domain::activity::schema::daily_notes;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// Kinds of entries, with their French labels.
pub const KINDS: &[(&str, &str)] = &[
    ("meal", "Repas"),
    ("nap", "Sieste"),
    ("care", "Soins"),
    ("mood", "Humeur"),
    ("note", "Note"),
];

pub fn kind_label(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, label)| label)
}

/// Longest entry accepted.
pub const MAX_TEXT: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNote {
    pub child: i64,
    pub activity: i64,
    pub day: NaiveDate,
    pub at: Option<NaiveTime>,
    pub kind: String,
    pub text: String,
}

/// A valid entry (kind known, text given and not too long), or why not in French.
pub fn check(note: NewNote) -> Result<NewNote, String> {
    if !KINDS.iter().any(|(k, _)| *k == note.kind) {
        return Err(format!(
            "type d'observation inconnu « {} » (repas, sieste, soins, humeur ou note)",
            note.kind
        ));
    }
    let text = note.text.trim().to_string();
    if text.is_empty() {
        return Err("écrivez l'observation à noter dans le cahier".into());
    }
    if text.chars().count() > MAX_TEXT {
        return Err(format!(
            "l'observation dépasse {MAX_TEXT} caractères : résumez-la"
        ));
    }
    Ok(NewNote { text, ..note })
}

/// Adds an entry by `author`; returns its id.
pub async fn add(conn: &mut Conn, note: NewNote, author: &str) -> AppResult<i64> {
    let note = check(note).map_err(AppError::invalid)?;
    Ok(diesel::insert_into(daily_notes::table)
        .values((
            daily_notes::child_id.eq(note.child),
            daily_notes::activity_id.eq(note.activity),
            daily_notes::day.eq(note.day),
            daily_notes::at.eq(note.at),
            daily_notes::kind.eq(&note.kind),
            daily_notes::text.eq(&note.text),
            daily_notes::author.eq(author),
        ))
        .returning(daily_notes::id)
        .get_result(conn)
        .await?)
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = daily_notes)]
pub struct Note {
    pub id: i64,
    pub at: Option<NaiveTime>,
    pub kind: String,
    pub text: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

/// An entry as the notebook page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct NoteView {
    #[serde(flatten)]
    pub note: Note,
    pub kind_label: String,
    /// « 12:15 », or the time it was written (Paris).
    pub time: String,
}

/// The child's notebook in `activity` on `day`, in time order.
pub async fn of_day(
    conn: &mut Conn,
    child: i64,
    activity: i64,
    day: NaiveDate,
) -> AppResult<Vec<NoteView>> {
    let notes: Vec<Note> = daily_notes::table
        .filter(daily_notes::child_id.eq(child))
        .filter(daily_notes::activity_id.eq(activity))
        .filter(daily_notes::day.eq(day))
        .select(Note::as_select())
        .load(conn)
        .await?;
    let mut views: Vec<NoteView> = notes
        .into_iter()
        .map(|note| {
            let at = note.at.unwrap_or_else(|| {
                note.created_at
                    .with_timezone(&chrono_tz::Europe::Paris)
                    .time()
            });
            NoteView {
                kind_label: kind_label(&note.kind).to_string(),
                time: at.format("%H:%M").to_string(),
                note,
            }
        })
        .collect();
    views.sort_by(|a, b| (&a.time, a.note.id).cmp(&(&b.time, b.note.id)));
    Ok(views)
}

/// How many entries each child has on `day` (in any activity), for the list's links.
pub async fn counts(
    conn: &mut Conn,
    children: &[i64],
    day: NaiveDate,
) -> AppResult<HashMap<(i64, i64), i64>> {
    let rows: Vec<(i64, i64, i64)> = daily_notes::table
        .filter(daily_notes::child_id.eq_any(children))
        .filter(daily_notes::day.eq(day))
        .group_by((daily_notes::child_id, daily_notes::activity_id))
        .select((
            daily_notes::child_id,
            daily_notes::activity_id,
            diesel::dsl::count_star(),
        ))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|(c, a, n)| ((c, a), n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(kind: &str, text: &str) -> NewNote {
        NewNote {
            child: 1,
            activity: 2,
            day: NaiveDate::from_ymd_opt(2026, 9, 14).unwrap(),
            at: None,
            kind: kind.into(),
            text: text.into(),
        }
    }

    #[test]
    fn entries_need_a_known_kind_and_some_text() {
        assert_eq!(
            check(note("nap", "  Sieste de 13 h à 14 h 30 "))
                .unwrap()
                .text,
            "Sieste de 13 h à 14 h 30"
        );
        assert!(
            check(note("bath", "bain"))
                .unwrap_err()
                .contains("inconnu « bath »")
        );
        assert!(check(note("meal", "  ")).is_err());
        assert!(check(note("care", &"é".repeat(MAX_TEXT + 1))).is_err());
        assert!(check(note("care", &"é".repeat(MAX_TEXT))).is_ok());
    }

    #[test]
    fn kinds_read_in_french() {
        assert_eq!(kind_label("meal"), "Repas");
        assert_eq!(kind_label("inconnu"), "inconnu");
    }
}
