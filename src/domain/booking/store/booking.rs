//! Booking a unit: the child, its group, the unit rules, the places; the rows as read.

use super::*;

/// What booking a unit needs to know of the child on a day in an activity, read at once:
/// who it is, its admitted enrolment, the units it already holds.
#[derive(QueryableByName)]
pub(super) struct ChildDay {
    #[diesel(sql_type = Nullable<Date>)]
    birth_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    level: Option<String>,
    #[diesel(sql_type = Text)]
    name: String,
    /// Whether an admitted enrolment covers the day.
    #[diesel(sql_type = Bool)]
    enrolled: bool,
    /// The group that enrolment gives, if any.
    #[diesel(sql_type = Nullable<BigInt>)]
    enrolled_group: Option<i64>,
    /// Units held that day in the activity (not cancelled in time), but the row `except`.
    #[diesel(sql_type = diesel::sql_types::Array<BigInt>)]
    held: Vec<i64>,
}

/// 404 unless `child` is a child of this city.
pub async fn require_child(conn: &mut Conn, child: i64) -> AppResult<()> {
    let found = diesel::sql_query("SELECT 1 FROM persons WHERE id = $1 AND kind = 'child'")
        .bind::<BigInt, _>(child)
        .execute(conn)
        .await?;
    if found == 1 {
        Ok(())
    } else {
        Err(AppError::not_found("Enfant introuvable."))
    }
}

/// The child on `day` in `activity`; 404 unless it is a child of this city.
pub(super) async fn child_day(
    conn: &mut Conn,
    activity: &Activity,
    child: i64,
    day: NaiveDate,
    except: i64,
) -> AppResult<ChildDay> {
    diesel::sql_query(
        "SELECT p.birth_date, p.first_name || ' ' || p.last_name AS name,
                (SELECT h.level FROM school_history h WHERE h.child_id = p.id
                  ORDER BY h.school_year DESC LIMIT 1) AS level,
                e.child_id IS NOT NULL AS enrolled, e.group_id AS enrolled_group,
                ARRAY(SELECT b.unit_id FROM bookings b
                       WHERE b.child_id = p.id AND b.day = $3 AND b.activity_id = $2
                         AND b.state <> 'cancelled_in_time' AND b.id <> $4) AS held
           FROM persons p
           LEFT JOIN LATERAL (
                SELECT n.child_id, n.group_id FROM enrolments n
                 WHERE n.child_id = p.id AND n.activity_id = $2 AND n.status = 'admitted'
                   AND n.starts <= $3 AND (n.ends IS NULL OR n.ends >= $3)
                 ORDER BY n.starts DESC LIMIT 1) e ON true
          WHERE p.id = $1 AND p.kind = 'child'",
    )
    .bind::<BigInt, _>(child)
    .bind::<BigInt, _>(activity.id)
    .bind::<Date, _>(day)
    .bind::<BigInt, _>(except)
    .get_result(conn)
    .await
    .optional()?
    .ok_or_else(|| AppError::not_found("Enfant introuvable."))
}

impl ChildDay {
    /// The child's group for a booking on `day`: from the admitted enrolment when the
    /// activity requires one, else by age and level.
    fn group(&self, activity: &Activity, day: NaiveDate) -> AppResult<i64> {
        if activity.requires_enrolment {
            if !self.enrolled {
                return Err(AppError::invalid(format!(
                    "{} n'est pas inscrit(e) à « {} » le {} : l'inscription doit être admise d'abord",
                    self.name,
                    activity.name,
                    fr_date(day)
                )));
            }
            if let Some(group) = self.enrolled_group {
                return Ok(group);
            }
        }
        let age = self.birth_date.map(|birth| age_months(birth, day));
        Ok(activity.group_for(age, self.level.as_deref())?.id)
    }

    /// Codes of the units the child holds.
    fn held_codes(&self, activity: &Activity) -> Vec<String> {
        self.held
            .iter()
            .filter_map(|id| activity.unit_by_id(*id).ok().map(|u| u.code.clone()))
            .collect()
    }
}

/// The child's group for a booking on `day` (see [`ChildDay::group`]).
pub(super) async fn group_of(
    conn: &mut Conn,
    activity: &Activity,
    child: i64,
    day: NaiveDate,
) -> AppResult<i64> {
    child_day(conn, activity, child, day, 0)
        .await?
        .group(activity, day)
}

/// Codes of the units the child holds that day in the activity, except `except`.
pub(super) async fn held_units(
    conn: &mut Conn,
    activity: &Activity,
    child: i64,
    day: NaiveDate,
    except: i64,
) -> AppResult<Vec<String>> {
    Ok(child_day(conn, activity, child, day, except)
        .await?
        .held_codes(activity))
}

pub(super) fn check_reason(actor: &Actor, what: &str, limit: DateTime<Utc>) -> AppResult<String> {
    match actor.override_reason.as_deref().map(str::trim) {
        Some(reason)
            if !reason.is_empty() && matches!(actor.origin, Origin::Agent | Origin::Mass) =>
        {
            Ok(reason.to_string())
        }
        _ => Err(AppError::invalid(format!(
            "le délai {what} est dépassé depuis le {}",
            fr_instant(limit)
        ))),
    }
}

/// Books `request` for the child, or puts it on the waitlist when full and the activity
/// uses one. Errors: closed day, delay passed, not enrolled, unit rules, full (`complet`).
pub async fn book(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    request: BookRequest,
    actor: &Actor,
) -> AppResult<Booked> {
    if !activity.active {
        return Err(AppError::invalid(format!(
            "l'activité « {} » n'est plus proposée",
            activity.name
        )));
    }
    let unit = activity.unit(&request.unit)?;
    let day = request.day;
    if !is_open(&activity.opening, calendar.school, day).map_err(calendar_error)? {
        return Err(AppError::invalid(format!(
            "« {} » est fermé le {}",
            activity.name,
            fr_date(day)
        )));
    }
    let limit = notice_deadline(activity.booking_notice.as_ref(), day, unit.starts)?;
    let mut reason = String::new();
    if calendar.now >= limit {
        reason = check_reason(actor, "de réservation", limit)?;
    }
    let child = child_day(conn, activity, request.child_id, day, 0).await?;
    let group = child.group(activity, day)?;
    let held = child.held_codes(activity);
    let held: Vec<&str> = held.iter().map(String::as_str).collect();
    activity
        .unit_set()
        .check_booking(&held, &unit.code)
        .map_err(|conflict| AppError::invalid(conflict.to_string()))?;
    let meal_choice = if activity.meal_choice {
        request.meal_choice.filter(|m| !m.trim().is_empty())
    } else {
        None
    };
    let levels = counters(conn, activity, group, unit.id, day, request.child_id, 0).await?;
    if !take_places(conn, &levels).await? {
        if activity.when_full == WhenFull::Waitlist {
            return waitlist(conn, activity, request.child_id, group, unit.id, day, actor).await;
        }
        return Err(AppError::Full(format!(
            "« {} » est complet le {} ({})",
            activity.name,
            fr_date(day),
            unit.label
        )));
    }
    let new = NewBooking {
        child: request.child_id,
        activity: activity.id,
        group,
        unit: unit.id,
        day,
        state: AttendanceState::Booked,
        meal_choice: meal_choice.as_deref(),
        origin: actor.origin,
        reason: &reason,
        by: &actor.name,
    };
    let id = upsert_booking(conn, &new).await?.ok_or_else(|| {
        AppError::conflict(format!("« {} » est déjà réservé ce jour-là", unit.label))
    })?;
    // The row is what was just written: no need to read it back.
    Ok(Booked::Booked {
        booking: Box::new(BookingView {
            id,
            child_id: new.child,
            activity_id: activity.id,
            activity: activity.name.clone(),
            group_id: group,
            unit: unit.code.clone(),
            unit_label: unit.label.clone(),
            date: day,
            state: new.state,
            state_label: new.state.label_fr(),
            meal_choice: meal_choice.clone(),
            arrival: None,
            departure: None,
            billable: true,
            origin: new.origin.as_str().to_string(),
            reason: reason.clone(),
        }),
    })
}

pub(super) struct NewBooking<'a> {
    pub(super) child: i64,
    pub(super) activity: i64,
    pub(super) group: i64,
    pub(super) unit: i64,
    pub(super) day: NaiveDate,
    pub(super) state: AttendanceState,
    pub(super) meal_choice: Option<&'a str>,
    pub(super) origin: Origin,
    pub(super) reason: &'a str,
    pub(super) by: &'a str,
}

/// Inserts the booking, or revives the child's cancelled row for that unit and day (one row
/// per child, unit and day). `None` when a live row is already there.
pub(super) async fn upsert_booking(
    conn: &mut Conn,
    new: &NewBooking<'_>,
) -> AppResult<Option<i64>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let id: Option<Id> = diesel::sql_query(
        "INSERT INTO bookings AS b (child_id, activity_id, group_id, unit_id, day, state,
                                    meal_choice, origin, reason, booked_by, state_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         ON CONFLICT (child_id, unit_id, day) DO UPDATE
            SET state = EXCLUDED.state, group_id = EXCLUDED.group_id,
                meal_choice = EXCLUDED.meal_choice, origin = EXCLUDED.origin,
                reason = EXCLUDED.reason, booked_at = now(), booked_by = EXCLUDED.booked_by,
                state_at = now(), state_by = EXCLUDED.state_by, arrival = NULL,
                departure = NULL, document_id = NULL, billable = true, adaptation = false
          WHERE b.state = 'cancelled_in_time'
         RETURNING b.id",
    )
    .bind::<BigInt, _>(new.child)
    .bind::<BigInt, _>(new.activity)
    .bind::<BigInt, _>(new.group)
    .bind::<BigInt, _>(new.unit)
    .bind::<Date, _>(new.day)
    .bind::<Text, _>(state::code(new.state))
    .bind::<Nullable<Text>, _>(new.meal_choice)
    .bind::<Text, _>(new.origin.as_str())
    .bind::<Text, _>(new.reason)
    .bind::<Text, _>(new.by)
    .get_result(conn)
    .await
    .optional()?;
    Ok(id.map(|i| i.id))
}

pub(super) async fn waitlist(
    conn: &mut Conn,
    activity: &Activity,
    child: i64,
    group: i64,
    unit: i64,
    day: NaiveDate,
    actor: &Actor,
) -> AppResult<Booked> {
    #[derive(QueryableByName)]
    struct Entry {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    // One queue per unit and day, served in arrival order: arrivals are serialised so that
    // each sees those before it (its rank is final when it is told).
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtext('waitlist'), hashtext($1 || ':' || $2))",
    )
    .bind::<Text, _>(unit.to_string())
    .bind::<Text, _>(day.to_string())
    .execute(conn)
    .await?;
    let entry: Option<Entry> = diesel::sql_query(
        "INSERT INTO waitlist (child_id, activity_id, group_id, unit_id, day, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (child_id, unit_id, day) WHERE status IN ('waiting', 'offered') DO NOTHING
         RETURNING id",
    )
    .bind::<BigInt, _>(child)
    .bind::<BigInt, _>(activity.id)
    .bind::<BigInt, _>(group)
    .bind::<BigInt, _>(unit)
    .bind::<Date, _>(day)
    .bind::<Text, _>(&actor.name)
    .get_result(conn)
    .await
    .optional()?;
    let Some(entry) = entry else {
        return Err(AppError::conflict(
            "cette demande est déjà en liste d'attente",
        ));
    };
    Ok(Booked::Waitlisted {
        waitlist_id: entry.id,
        position: waitlist_position(conn, entry.id).await?,
    })
}

/// Rank of a waiting entry among those waiting for the same unit and day (from 1), in
/// arrival order.
pub async fn waitlist_position(conn: &mut Conn, id: i64) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Rank {
        #[diesel(sql_type = BigInt)]
        rank: i64,
    }
    let rank: Rank = diesel::sql_query(
        "SELECT count(*) AS rank FROM waitlist o, waitlist w
          WHERE w.id = $1 AND o.unit_id = w.unit_id AND o.day = w.day
            AND o.status = 'waiting' AND o.id <= w.id",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await?;
    Ok(rank.rank)
}

#[derive(QueryableByName)]
pub(super) struct BookingRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    child_id: i64,
    #[diesel(sql_type = BigInt)]
    activity_id: i64,
    #[diesel(sql_type = Text)]
    activity: String,
    #[diesel(sql_type = BigInt)]
    group_id: i64,
    #[diesel(sql_type = Text)]
    unit: String,
    #[diesel(sql_type = Text)]
    unit_label: String,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Text>)]
    meal_choice: Option<String>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Time>)]
    arrival: Option<NaiveTime>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Time>)]
    departure: Option<NaiveTime>,
    #[diesel(sql_type = Bool)]
    billable: bool,
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Text)]
    reason: String,
}

pub(super) const BOOKING_SELECT: &str =
    "SELECT b.id, b.child_id, b.activity_id, a.name AS activity, b.group_id,
        u.code AS unit, u.label AS unit_label, b.day, b.state, b.meal_choice, b.arrival,
        b.departure, b.billable, b.origin, b.reason
   FROM bookings b JOIN activities a ON a.id = b.activity_id
   JOIN activity_units u ON u.id = b.unit_id";

impl BookingRow {
    fn into_view(self) -> AppResult<BookingView> {
        let state = crate::domain::activity::model::parse_state(&self.state)?;
        Ok(BookingView {
            id: self.id,
            child_id: self.child_id,
            activity_id: self.activity_id,
            activity: self.activity,
            group_id: self.group_id,
            unit: self.unit,
            unit_label: self.unit_label,
            date: self.day,
            state,
            state_label: state.label_fr(),
            meal_choice: self.meal_choice,
            arrival: self.arrival,
            departure: self.departure,
            billable: self.billable,
            origin: self.origin,
            reason: self.reason,
        })
    }
}

pub async fn view(conn: &mut Conn, id: i64) -> AppResult<BookingView> {
    let row: BookingRow = diesel::sql_query(format!("{BOOKING_SELECT} WHERE b.id = $1"))
        .bind::<BigInt, _>(id)
        .get_result(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Réservation introuvable."))?;
    row.into_view()
}

/// A child's bookings from `from` to `to`, in date and unit order.
pub async fn of_child(
    conn: &mut Conn,
    child: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<BookingView>> {
    let rows: Vec<BookingRow> = diesel::sql_query(format!(
        "{BOOKING_SELECT} WHERE b.child_id = $1 AND b.day BETWEEN $2 AND $3
          ORDER BY b.day, u.starts, u.sort"
    ))
    .bind::<BigInt, _>(child)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
    .await?;
    rows.into_iter().map(BookingRow::into_view).collect()
}
