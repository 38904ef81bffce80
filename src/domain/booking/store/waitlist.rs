//! Cancellation, the waitlist and its offers.

use super::*;

/// How a late cancellation is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LateCancellation {
    /// Families and the API: refused, the delay has passed.
    Refuse,
    /// Agents: recorded as the activity's late state (an absence), unless they override.
    RecordAbsence,
}

/// The outcome of a cancellation: the new state, and the places offered to the waitlist.
#[derive(Debug, Clone, Serialize)]
pub struct Cancelled {
    pub booking: BookingView,
    pub offers: Vec<Offer>,
}

/// Cancels booking `id`. In time, the place is freed and offered to the waitlist.
pub async fn cancel(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    id: i64,
    actor: &Actor,
    late: LateCancellation,
) -> AppResult<Cancelled> {
    let booking = view(conn, id).await?;
    if booking.activity_id != activity.id {
        return Err(AppError::not_found("Réservation introuvable."));
    }
    let unit = activity.unit(&booking.unit)?;
    let held = held_units(conn, activity, booking.child_id, booking.date, 0).await?;
    let held: Vec<&str> = held.iter().map(String::as_str).collect();
    activity
        .unit_set()
        .check_cancellation(&held, &unit.code)
        .map_err(|conflict| AppError::invalid(conflict.to_string()))?;
    let limit = notice_deadline(activity.cancel_notice.as_ref(), booking.date, unit.starts)?;
    let in_time = calendar.now < limit;
    let (new_state, reason) = if in_time {
        (
            state::cancel(booking.state, true, activity.late_cancellation)?,
            String::new(),
        )
    } else if late == LateCancellation::Refuse {
        return Err(AppError::invalid(format!(
            "le délai d'annulation est dépassé depuis le {} : signalez l'absence au service",
            fr_instant(limit)
        )));
    } else if let Ok(reason) = check_reason(actor, "d'annulation", limit) {
        (
            state::cancel(booking.state, true, activity.late_cancellation)?,
            reason,
        )
    } else {
        (
            state::cancel(booking.state, false, activity.late_cancellation)?,
            String::new(),
        )
    };
    set_state(conn, id, new_state, &reason, &actor.name).await?;
    let mut offers = Vec::new();
    if holds_place(booking.state) && !holds_place(new_state) {
        give_back_places(
            conn,
            activity,
            booking.group_id,
            unit.id,
            booking.date,
            booking.child_id,
            id,
        )
        .await?;
        offers.extend(offer_next(conn, activity, calendar, unit.id, booking.date).await?);
    }
    Ok(Cancelled {
        booking: view(conn, id).await?,
        offers,
    })
}

pub(super) async fn set_state(
    conn: &mut Conn,
    id: i64,
    new_state: AttendanceState,
    reason: &str,
    by: &str,
) -> AppResult<()> {
    use crate::domain::activity::schema::bookings;
    diesel::update(bookings::table.find(id))
        .set((
            bookings::state.eq(state::code(new_state)),
            bookings::reason.eq(reason),
            bookings::state_at.eq(diesel::dsl::now),
            bookings::state_by.eq(by),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(QueryableByName)]
pub(super) struct Waiting {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    child_id: i64,
    #[diesel(sql_type = BigInt)]
    group_id: i64,
    #[diesel(sql_type = Text)]
    child_name: String,
}

/// Offers the freed place of `unit` on `day` to the first waiting child whose levels have
/// room: the place is held for them until the deadline, the family is mailed (by the caller,
/// after commit) and a task opens for the agents.
pub async fn offer_next(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    unit: i64,
    day: NaiveDate,
) -> AppResult<Option<Offer>> {
    let unit = activity.unit_by_id(unit)?;
    let start = paris_instant(day, unit.starts);
    if calendar.now >= start {
        return Ok(None);
    }
    let waiting: Vec<Waiting> = diesel::sql_query(
        "SELECT w.id, w.child_id, w.group_id, p.first_name || ' ' || p.last_name AS child_name
           FROM waitlist w JOIN persons p ON p.id = w.child_id
          WHERE w.unit_id = $1 AND w.day = $2 AND w.status = 'waiting'
          ORDER BY w.id
          LIMIT 50
          FOR UPDATE OF w SKIP LOCKED",
    )
    .bind::<BigInt, _>(unit.id)
    .bind::<Date, _>(day)
    .load(conn)
    .await?;
    for entry in waiting {
        let levels = counters(
            conn,
            activity,
            entry.group_id,
            unit.id,
            day,
            entry.child_id,
            entry.id,
        )
        .await?;
        if !take_places(conn, &levels).await? {
            continue;
        }
        let deadline =
            (calendar.now + TimeDelta::hours(i64::from(activity.offer_hours))).min(start);
        diesel::sql_query(
            "UPDATE waitlist SET status = 'offered', offered_at = $2, offer_deadline = $3 WHERE id = $1",
        )
        .bind::<BigInt, _>(entry.id)
        .bind::<Timestamptz, _>(calendar.now)
        .bind::<Timestamptz, _>(deadline)
        .execute(conn)
        .await?;
        let title = format!(
            "Place proposée à {} : {} ({}) le {}, réponse attendue avant le {}",
            entry.child_name,
            activity.name,
            unit.label,
            fr_date(day),
            fr_instant(deadline)
        );
        crate::domain::activity::tasks::open(
            conn,
            "waitlist_offer",
            entry.id,
            &title,
            &format!("/agent/enfants/{}", entry.child_id),
            Some(deadline),
        )
        .await?;
        return Ok(Some(Offer {
            waitlist_id: entry.id,
            child_id: entry.child_id,
            child_name: entry.child_name,
            activity: activity.name.clone(),
            unit_label: unit.label.clone(),
            date: day,
            deadline,
            emails: crate::domain::family::dossier::guardian_emails(conn, entry.child_id).await?,
        }));
    }
    Ok(None)
}

#[derive(QueryableByName)]
pub(super) struct OfferRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    child_id: i64,
    #[diesel(sql_type = BigInt)]
    activity_id: i64,
    #[diesel(sql_type = BigInt)]
    group_id: i64,
    #[diesel(sql_type = BigInt)]
    unit_id: i64,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    offer_deadline: Option<DateTime<Utc>>,
}

pub(super) async fn offer_row(conn: &mut Conn, id: i64) -> AppResult<OfferRow> {
    diesel::sql_query(
        "SELECT id, child_id, activity_id, group_id, unit_id, day, status, offer_deadline
           FROM waitlist WHERE id = $1 FOR UPDATE",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?
    .ok_or_else(|| AppError::not_found("Demande en liste d'attente introuvable."))
}

/// The activity a waitlist entry belongs to (to load it before answering).
pub async fn waitlist_activity(conn: &mut Conn, id: i64) -> AppResult<(i64, i64)> {
    let row = offer_row(conn, id).await?;
    Ok((row.activity_id, row.child_id))
}

pub(super) async fn close_entry(conn: &mut Conn, id: i64, status: &str, by: &str) -> AppResult<()> {
    diesel::sql_query("UPDATE waitlist SET status = $2, answered_at = now() WHERE id = $1")
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(status)
        .execute(conn)
        .await?;
    crate::domain::activity::tasks::close(conn, "waitlist_offer", id, by).await
}

/// The family takes the offered place: it becomes a booking (the place is already held).
pub async fn accept_offer(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    id: i64,
    actor: &Actor,
) -> AppResult<BookingView> {
    let entry = offer_row(conn, id).await?;
    if entry.activity_id != activity.id {
        return Err(AppError::not_found(
            "Demande en liste d'attente introuvable.",
        ));
    }
    match (entry.status.as_str(), entry.offer_deadline) {
        ("offered", Some(deadline)) if calendar.now < deadline => {}
        ("offered", _) => {
            return Err(AppError::invalid(
                "le délai pour accepter cette place est dépassé",
            ));
        }
        _ => {
            return Err(AppError::invalid(
                "aucune place n'est proposée pour cette demande",
            ));
        }
    }
    let unit = activity.unit_by_id(entry.unit_id)?;
    let held = held_units(conn, activity, entry.child_id, entry.day, 0).await?;
    let held: Vec<&str> = held.iter().map(String::as_str).collect();
    activity
        .unit_set()
        .check_booking(&held, &unit.code)
        .map_err(|conflict| AppError::invalid(conflict.to_string()))?;
    let booking = upsert_booking(
        conn,
        &NewBooking {
            child: entry.child_id,
            activity: activity.id,
            group: entry.group_id,
            unit: unit.id,
            day: entry.day,
            state: AttendanceState::Booked,
            meal_choice: None,
            origin: Origin::Waitlist,
            reason: "",
            by: &actor.name,
        },
    )
    .await?
    .ok_or_else(|| AppError::conflict("cette unité est déjà réservée ce jour-là"))?;
    close_entry(conn, id, "accepted", &actor.name).await?;
    view(conn, booking).await
}

/// The family gives up its request (waiting) or the offered place: the place goes to the
/// next one.
pub async fn withdraw(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    id: i64,
    actor: &Actor,
) -> AppResult<Option<Offer>> {
    let entry = offer_row(conn, id).await?;
    if entry.activity_id != activity.id {
        return Err(AppError::not_found(
            "Demande en liste d'attente introuvable.",
        ));
    }
    match entry.status.as_str() {
        "waiting" => {
            close_entry(conn, id, "cancelled", &actor.name).await?;
            Ok(None)
        }
        "offered" => {
            close_entry(conn, id, "declined", &actor.name).await?;
            release_offer(conn, activity, calendar, &entry).await
        }
        _ => Err(AppError::invalid("cette demande est déjà close")),
    }
}

pub(super) async fn release_offer(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    entry: &OfferRow,
) -> AppResult<Option<Offer>> {
    give_back_places(
        conn,
        activity,
        entry.group_id,
        entry.unit_id,
        entry.day,
        entry.child_id,
        entry.id,
    )
    .await?;
    offer_next(conn, activity, calendar, entry.unit_id, entry.day).await
}

/// Offers whose deadline passed: closed as expired, each place offered to the next child.
/// Runs periodically for every city; returns the new offers to mail.
pub async fn expire_offers(
    conn: &mut Conn,
    calendar: &Calendar<'_>,
    settings: &crate::domain::activity::model::CitySettings,
) -> AppResult<Vec<Offer>> {
    #[derive(QueryableByName)]
    struct Expired {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let expired: Vec<Expired> = diesel::sql_query(
        // Locked and skipped when locked: two servers sweeping together expire each offer once.
        "SELECT id FROM waitlist WHERE status = 'offered' AND offer_deadline <= $1 ORDER BY id
           FOR UPDATE SKIP LOCKED",
    )
    .bind::<Timestamptz, _>(calendar.now)
    .load(conn)
    .await?;
    let mut offers = Vec::new();
    for Expired { id } in expired {
        let entry = offer_row(conn, id).await?;
        let activity =
            crate::domain::activity::model::load(conn, entry.activity_id, settings).await?;
        close_entry(conn, id, "expired", "système").await?;
        offers.extend(release_offer(conn, &activity, calendar, &entry).await?);
    }
    Ok(offers)
}
