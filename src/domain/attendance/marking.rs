//! Marking the list: one child (through `booking::store::record_attendance`), a whole
//! group at once (« tous présents »), a child there without booking.

use chrono::{NaiveDate, NaiveTime};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Date, Nullable, Text};
use diesel_async::RunQueryDsl;

use crate::domain::activity::model::Activity;
use crate::domain::booking::state::Mark;
use crate::domain::booking::store::{self, AttendanceEntry, BookingView};
use crate::domain::calendar::{SchoolCalendar, is_open};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

fn fr_date(day: NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

/// A presence is recorded on the day or after, never ahead.
fn not_ahead(day: NaiveDate, today: NaiveDate) -> AppResult<()> {
    if day > today {
        return Err(AppError::invalid(format!(
            "le {} est à venir : une présence se pointe le jour même ou après",
            fr_date(day)
        )));
    }
    Ok(())
}

/// Records `entry` on booking `id` of `activity` (absences may be noted ahead, presences
/// not).
pub async fn mark(
    conn: &mut Conn,
    activity: &Activity,
    id: i64,
    entry: AttendanceEntry,
    today: NaiveDate,
    by: &str,
) -> AppResult<BookingView> {
    let booking = store::view(conn, id).await?;
    if entry.mark == Some(Mark::Present) || entry.arrival.is_some() || entry.departure.is_some() {
        not_ahead(booking.date, today)?;
    }
    store::record_attendance(conn, activity, id, entry, by).await
}

/// Marks present every child of `group` still « réservé » on `day` (in `unit` only, if
/// given); those already marked keep their mark. Returns how many were marked.
pub async fn all_present(
    conn: &mut Conn,
    activity: &Activity,
    group: i64,
    day: NaiveDate,
    unit: Option<&str>,
    today: NaiveDate,
    by: &str,
) -> AppResult<usize> {
    not_ahead(day, today)?;
    activity.group(group)?;
    if let Some(code) = unit {
        activity.unit(code)?;
    }
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let ids: Vec<Id> = diesel::sql_query(
        "SELECT b.id FROM bookings b JOIN activity_units u ON u.id = b.unit_id
          WHERE b.activity_id = $1 AND b.group_id = $2 AND b.day = $3 AND b.state = 'booked'
            AND ($4::text IS NULL OR u.code = $4)
          ORDER BY b.id FOR UPDATE OF b",
    )
    .bind::<BigInt, _>(activity.id)
    .bind::<BigInt, _>(group)
    .bind::<Date, _>(day)
    .bind::<Nullable<Text>, _>(unit)
    .load(conn)
    .await?;
    for Id { id } in &ids {
        store::record_attendance(
            conn,
            activity,
            *id,
            AttendanceEntry {
                mark: Some(Mark::Present),
                ..AttendanceEntry::default()
            },
            by,
        )
        .await?;
    }
    Ok(ids.len())
}

/// A child of this city present without booking, added to the list on an open day: a
/// « présent sans réservation » row that billing sees.
#[allow(clippy::too_many_arguments)]
pub async fn add_unbooked(
    conn: &mut Conn,
    activity: &Activity,
    school: &SchoolCalendar,
    child: i64,
    unit: &str,
    day: NaiveDate,
    arrival: Option<NaiveTime>,
    today: NaiveDate,
    by: &str,
) -> AppResult<BookingView> {
    store::require_child(conn, child).await?;
    not_ahead(day, today)?;
    let open = is_open(&activity.opening, school, day)
        .map_err(|error| AppError::invalid(error.to_string()))?;
    if !open {
        return Err(AppError::invalid(format!(
            "« {} » est fermé le {} : aucun enfant ne peut y être pointé",
            activity.name,
            fr_date(day)
        )));
    }
    store::add_unbooked(conn, activity, child, unit, day, arrival, by).await
}
