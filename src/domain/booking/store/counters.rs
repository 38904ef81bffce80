//! Place counters per level: taken in one locking statement, given back.

use diesel::sql_types::Array;

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

/// Takes a place on every counter whose limit allows it, in one statement that locks the
/// counter rows in the order given; returns the counters taken (a counter left out is full).
async fn take(conn: &mut Conn, levels: &[(Counter, Option<i32>)]) -> AppResult<Vec<Counter>> {
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = BigInt)]
        structure_id: i64,
        #[diesel(sql_type = BigInt)]
        activity_id: i64,
        #[diesel(sql_type = BigInt)]
        group_id: i64,
        #[diesel(sql_type = BigInt)]
        unit_id: i64,
        #[diesel(sql_type = Date)]
        day: NaiveDate,
    }
    let column = |field: fn(&Counter) -> i64| -> Vec<i64> {
        levels.iter().map(|(counter, _)| field(counter)).collect()
    };
    let taken: Vec<Taken> = diesel::sql_query(
        "WITH wanted AS (
              SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                                   $5::date[], $6::integer[])
                       WITH ORDINALITY AS w(structure_id, activity_id, group_id, unit_id, day, places, n))
         INSERT INTO slot_counts AS c (structure_id, activity_id, group_id, unit_id, day, taken)
         SELECT structure_id, activity_id, group_id, unit_id, day, 1 FROM wanted ORDER BY n
         ON CONFLICT (structure_id, activity_id, group_id, unit_id, day)
         DO UPDATE SET taken = c.taken + 1
          WHERE c.taken < (SELECT coalesce(w.places, c.taken + 1) FROM wanted w
                            WHERE (w.structure_id, w.activity_id, w.group_id, w.unit_id, w.day)
                                = (c.structure_id, c.activity_id, c.group_id, c.unit_id, c.day))
         RETURNING c.structure_id, c.activity_id, c.group_id, c.unit_id, c.day",
    )
    .bind::<Array<BigInt>, _>(column(|c| c.structure))
    .bind::<Array<BigInt>, _>(column(|c| c.activity))
    .bind::<Array<BigInt>, _>(column(|c| c.group))
    .bind::<Array<BigInt>, _>(column(|c| c.unit))
    .bind::<Array<Date>, _>(levels.iter().map(|(c, _)| c.day).collect::<Vec<_>>())
    .bind::<Array<Nullable<Integer>>, _>(levels.iter().map(|(_, limit)| *limit).collect::<Vec<_>>())
    .load(conn)
    .await?;
    Ok(taken
        .into_iter()
        .map(|t| Counter {
            structure: t.structure_id,
            activity: t.activity_id,
            group: t.group_id,
            unit: t.unit_id,
            day: t.day,
        })
        .collect())
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
    if levels.iter().any(|(_, limit)| *limit == Some(0)) {
        return Ok(false);
    }
    let taken = take(conn, levels).await?;
    if taken.len() == levels.len() {
        return Ok(true);
    }
    for counter in taken {
        give_back(conn, counter).await?;
    }
    Ok(false)
}

/// Counts a presence without booking: the child is there, whatever the capacity says.
pub(super) async fn force_places(
    conn: &mut Conn,
    levels: &[(Counter, Option<i32>)],
) -> AppResult<()> {
    let unlimited: Vec<(Counter, Option<i32>)> = levels.iter().map(|(c, _)| (*c, None)).collect();
    take(conn, &unlimited).await?;
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
