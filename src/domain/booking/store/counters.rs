//! Place counters per level: taken in one locking statement, given back.

use super::*;

/// One counter: (structure, activity, group, unit, day).
#[derive(Debug, Clone, Copy)]
pub(super) struct Counter {
    structure: i64,
    activity: i64,
    group: i64,
    unit: i64,
    day: NaiveDate,
}

/// Takes a place on `counter` if `limit` allows; false when full.
pub(super) async fn take(conn: &mut Conn, counter: Counter, limit: Option<i32>) -> AppResult<bool> {
    if limit == Some(0) {
        return Ok(false);
    }
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = Integer)]
        #[allow(dead_code)]
        taken: i32,
    }
    let taken: Option<Taken> = diesel::sql_query(
        "INSERT INTO slot_counts AS c (structure_id, activity_id, group_id, unit_id, day, taken)
         VALUES ($1, $2, $3, $4, $5, 1)
         ON CONFLICT (structure_id, activity_id, group_id, unit_id, day)
         DO UPDATE SET taken = c.taken + 1 WHERE $6::integer IS NULL OR c.taken < $6
         RETURNING c.taken",
    )
    .bind::<BigInt, _>(counter.structure)
    .bind::<BigInt, _>(counter.activity)
    .bind::<BigInt, _>(counter.group)
    .bind::<BigInt, _>(counter.unit)
    .bind::<Date, _>(counter.day)
    .bind::<Nullable<Integer>, _>(limit)
    .get_result(conn)
    .await
    .optional()?;
    Ok(taken.is_some())
}

pub(super) async fn give_back(conn: &mut Conn, counter: Counter) -> AppResult<()> {
    diesel::sql_query(
        "UPDATE slot_counts SET taken = taken - 1
          WHERE structure_id = $1 AND activity_id = $2 AND group_id = $3 AND unit_id = $4
            AND day = $5 AND taken > 0",
    )
    .bind::<BigInt, _>(counter.structure)
    .bind::<BigInt, _>(counter.activity)
    .bind::<BigInt, _>(counter.group)
    .bind::<BigInt, _>(counter.unit)
    .bind::<Date, _>(counter.day)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the child already holds a place that day in the structure (other than `except`):
/// the structure counts children, not units.
pub(super) async fn holds_structure_place(
    conn: &mut Conn,
    structure: i64,
    child: i64,
    day: NaiveDate,
    except: i64,
) -> AppResult<bool> {
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = Bool)]
        held: bool,
    }
    let held: Held = diesel::sql_query(
        "SELECT EXISTS (
            SELECT 1 FROM bookings b JOIN activities a ON a.id = b.activity_id
             WHERE b.child_id = $1 AND b.day = $2 AND a.structure_id = $3
               AND b.state <> 'cancelled_in_time' AND b.id <> $4
            UNION ALL
            SELECT 1 FROM waitlist w JOIN activities a ON a.id = w.activity_id
             WHERE w.child_id = $1 AND w.day = $2 AND a.structure_id = $3 AND w.status = 'offered'
               AND w.id <> $4) AS held",
    )
    .bind::<BigInt, _>(child)
    .bind::<Date, _>(day)
    .bind::<BigInt, _>(structure)
    .bind::<BigInt, _>(except)
    .get_result(conn)
    .await?;
    Ok(held.held)
}

/// The counters a place of `unit` in `group` on `day` uses, with their limits, in locking
/// order. `except` is the booking or waitlist row the place is for (structure check).
pub(super) async fn counters(
    conn: &mut Conn,
    activity: &Activity,
    group: i64,
    unit: i64,
    day: NaiveDate,
    child: i64,
    except: i64,
) -> AppResult<Vec<(Counter, Option<i32>)>> {
    let at = |group| Counter {
        structure: 0,
        activity: activity.id,
        group,
        unit,
        day,
    };
    let mut list = vec![
        (
            at(Level::Activity.counter_group()),
            places(&activity.capacities, Level::Activity, unit, day),
        ),
        (
            at(group),
            places(&activity.capacities, Level::Group(group), unit, day),
        ),
    ];
    if let (Some(structure), Some(limit)) = (activity.structure_id, activity.structure_capacity)
        && !holds_structure_place(conn, structure, child, day, except).await?
    {
        list.push((
            Counter {
                structure,
                activity: 0,
                group: 0,
                unit: 0,
                day,
            },
            Some(limit),
        ));
    }
    Ok(list)
}

/// Takes a place at every level, or none: false when one level is full.
pub(super) async fn take_places(
    conn: &mut Conn,
    levels: &[(Counter, Option<i32>)],
) -> AppResult<bool> {
    for (index, (counter, limit)) in levels.iter().enumerate() {
        if !take(conn, *counter, *limit).await? {
            for (taken, _) in &levels[..index] {
                give_back(conn, *taken).await?;
            }
            return Ok(false);
        }
    }
    Ok(true)
}

/// Counts a presence without booking: the child is there, whatever the capacity says.
pub(super) async fn force_places(
    conn: &mut Conn,
    levels: &[(Counter, Option<i32>)],
) -> AppResult<()> {
    for (counter, _) in levels {
        take(conn, *counter, None).await?;
    }
    Ok(())
}

pub(super) async fn give_back_places(
    conn: &mut Conn,
    activity: &Activity,
    group: i64,
    unit: i64,
    day: NaiveDate,
    child: i64,
    except: i64,
) -> AppResult<()> {
    for (counter, _) in counters(conn, activity, group, unit, day, child, except).await? {
        give_back(conn, counter).await?;
    }
    Ok(())
}
