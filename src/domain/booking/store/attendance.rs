//! Attendance marks on booked rows, and presences without booking.

use super::*;

/// What an agent records for one booked unit on the attendance list.
#[derive(Debug, Clone, Default)]
pub struct AttendanceEntry {
    pub mark: Option<state::Mark>,
    pub arrival: Option<NaiveTime>,
    pub departure: Option<NaiveTime>,
    pub adaptation: Option<bool>,
    pub billable: Option<bool>,
    pub reason: Option<String>,
}

/// Records attendance on booking `id` (state, times, adaptation, « non facturé »). A row
/// cancelled in time that is marked present becomes a presence without booking and takes
/// its place back, whatever the capacity: the child is there.
pub async fn record_attendance(
    conn: &mut Conn,
    activity: &Activity,
    id: i64,
    entry: AttendanceEntry,
    by: &str,
) -> AppResult<BookingView> {
    use crate::domain::activity::schema::bookings;
    // Locked first: two agents marking one row at once apply one after the other (a row
    // cancelled in time that both mark present takes its place back once).
    bookings::table
        .find(id)
        .select(bookings::id)
        .for_update()
        .first::<i64>(conn)
        .await
        .optional()?;
    let booking = view(conn, id).await?;
    if booking.activity_id != activity.id {
        return Err(AppError::not_found("Réservation introuvable."));
    }
    let unit = activity.unit(&booking.unit)?;
    let new_state = match entry.mark {
        Some(mark) => state::mark(booking.state, mark)?,
        None => booking.state,
    };
    let arrival = entry.arrival.or(booking.arrival);
    let departure = entry.departure.or(booking.departure);
    if let (Some(a), Some(d)) = (arrival, departure)
        && d < a
    {
        return Err(AppError::invalid(
            "l'heure de départ précède l'heure d'arrivée",
        ));
    }
    if !holds_place(booking.state) && holds_place(new_state) {
        let levels = counters(
            conn,
            activity,
            booking.group_id,
            unit.id,
            booking.date,
            booking.child_id,
            id,
        )
        .await?;
        force_places(conn, &levels).await?;
    }
    diesel::update(bookings::table.find(id))
        .set((
            bookings::state.eq(state::code(new_state)),
            bookings::arrival.eq(arrival),
            bookings::departure.eq(departure),
            bookings::state_at.eq(diesel::dsl::now),
            bookings::state_by.eq(by),
        ))
        .execute(conn)
        .await?;
    if let Some(adaptation) = entry.adaptation {
        diesel::update(bookings::table.find(id))
            .set(bookings::adaptation.eq(adaptation))
            .execute(conn)
            .await?;
    }
    if let Some(billable) = entry.billable {
        diesel::update(bookings::table.find(id))
            .set(bookings::billable.eq(billable))
            .execute(conn)
            .await?;
    }
    if let Some(reason) = entry.reason.filter(|r| !r.trim().is_empty()) {
        diesel::update(bookings::table.find(id))
            .set(bookings::reason.eq(reason.trim()))
            .execute(conn)
            .await?;
    }
    view(conn, id).await
}

/// A child present without booking, added on the spot: a « présent sans réservation » row
/// that billing will see. Capacity does not refuse a child who is there.
pub async fn add_unbooked(
    conn: &mut Conn,
    activity: &Activity,
    child: i64,
    unit: &str,
    day: NaiveDate,
    arrival: Option<NaiveTime>,
    by: &str,
) -> AppResult<BookingView> {
    let unit = activity.unit(unit)?;
    let group = match group_of(conn, activity, child, day).await {
        Ok(group) => group,
        // A child who is not enrolled may still be there (an emergency): first group.
        Err(AppError::Invalid(_)) => activity.group_for(None, None)?.id,
        Err(other) => return Err(other),
    };
    let id = upsert_booking(
        conn,
        &NewBooking {
            child,
            activity: activity.id,
            group,
            unit: unit.id,
            day,
            state: AttendanceState::PresentUnbooked,
            meal_choice: None,
            origin: Origin::Attendance,
            reason: "",
            by,
        },
    )
    .await?
    .ok_or_else(|| {
        AppError::conflict("cet enfant est déjà sur la liste pour cette unité : pointez-le")
    })?;
    let levels = counters(conn, activity, group, unit.id, day, child, id).await?;
    force_places(conn, &levels).await?;
    if arrival.is_some() {
        use crate::domain::activity::schema::bookings;
        diesel::update(bookings::table.find(id))
            .set(bookings::arrival.eq(arrival))
            .execute(conn)
            .await?;
    }
    view(conn, id).await
}

/// Recounts every counter of the activity from the rows (bookings holding a place and
/// offers pending): what the counters must always equal. Used by tests and `marelle` checks.
pub async fn recount(
    conn: &mut Conn,
    activity: i64,
) -> AppResult<Vec<(i64, i64, NaiveDate, i32, i64)>> {
    #[derive(QueryableByName)]
    struct Drift {
        #[diesel(sql_type = BigInt)]
        group_id: i64,
        #[diesel(sql_type = BigInt)]
        unit_id: i64,
        #[diesel(sql_type = Date)]
        day: NaiveDate,
        #[diesel(sql_type = Integer)]
        taken: i32,
        #[diesel(sql_type = BigInt)]
        actual: i64,
    }
    let drifts: Vec<Drift> = diesel::sql_query(
        "WITH held AS (
             SELECT group_id, unit_id, day FROM bookings
              WHERE activity_id = $1 AND state <> 'cancelled_in_time'
             UNION ALL
             SELECT group_id, unit_id, day FROM waitlist WHERE activity_id = $1 AND status = 'offered'),
         actual AS (
             SELECT group_id, unit_id, day, count(*) AS n FROM held GROUP BY GROUPING SETS
                 ((group_id, unit_id, day), (unit_id, day)))
         SELECT coalesce(c.group_id, a.group_id, 0) AS group_id,
                coalesce(c.unit_id, a.unit_id) AS unit_id, coalesce(c.day, a.day) AS day,
                coalesce(c.taken, 0) AS taken, coalesce(a.n, 0) AS actual
           FROM (SELECT * FROM slot_counts WHERE structure_id = 0 AND activity_id = $1) c
           FULL JOIN (SELECT coalesce(group_id, 0) AS group_id, unit_id, day, n FROM actual) a
             ON a.group_id = c.group_id AND a.unit_id = c.unit_id AND a.day = c.day
          WHERE coalesce(c.taken, 0) <> coalesce(a.n, 0)",
    )
    .bind::<BigInt, _>(activity)
    .load(conn)
    .await?;
    Ok(drifts
        .into_iter()
        .map(|d| (d.group_id, d.unit_id, d.day, d.taken, d.actual))
        .collect())
}
