//! Attendance for the demonstration cities: the past month's bookings marked (mostly
//! present, some absences, times and a few overtimes on hourly units), staff on every group
//! with children, crèche notebooks. Run after the demo bookings exist; idempotent (only
//! rows still « réservé » are marked, staff and notes are added once).

use chrono::NaiveDate;
use diesel::sql_types::{Date, Text};
use diesel_async::RunQueryDsl;
use serde::Serialize;

use crate::platform::db::Conn;
use crate::platform::error::AppResult;

/// What the seeding did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Seeded {
    pub marked: usize,
    pub staff: usize,
    pub notes: usize,
}

/// Names of the demonstration staff.
const STAFF: &[&str] = &[
    "Inès Moreau",
    "Julien Petit",
    "Camille Roux",
    "Mehdi Benamar",
    "Laura Girard",
    "Théo Lefebvre",
    "Sarah N'Diaye",
    "Hugo Lambert",
];

/// Marks the bookings of the 30 days before `today`, plans staff from 30 days before to 7
/// days after (today's team is one short on some groups, so the list shows a ratio alert)
/// and writes crèche notebooks for the last week.
pub async fn seed_demo_attendance(conn: &mut Conn, today: NaiveDate) -> AppResult<Seeded> {
    let by = "démonstration";
    // Deterministic by booking id: 1 in 14 unjustified absence, 1 in 20 justified; hourly
    // units get arrival and departure, 1 in 17 leaves 10 minutes past closing.
    let marked = diesel::sql_query(
        "UPDATE bookings b
            SET state = CASE WHEN b.id % 14 = 0 THEN 'absent_unjustified'
                             WHEN b.id % 20 = 0 THEN 'absent_justified' ELSE 'present' END,
                arrival = CASE WHEN u.hourly AND b.id % 14 <> 0 AND b.id % 20 <> 0
                               THEN u.starts + make_interval(mins => (b.id % 6 * 10)::int) END,
                departure = CASE WHEN u.hourly AND b.id % 14 <> 0 AND b.id % 20 <> 0
                                 THEN CASE WHEN b.id % 17 = 0 THEN u.ends + interval '10 minutes'
                                           ELSE u.ends - make_interval(mins => (b.id % 5 * 15)::int) END END,
                reason = CASE WHEN b.id % 14 <> 0 AND b.id % 20 = 0 THEN 'certificat médical'
                              ELSE b.reason END,
                state_at = now(), state_by = $2
           FROM activity_units u
          WHERE u.id = b.unit_id AND b.state = 'booked'
            AND b.day >= $1::date - 30 AND b.day < $1",
    )
    .bind::<Date, _>(today)
    .bind::<Text, _>(by)
    .execute(conn)
    .await?;
    // Staff: enough for the group's ratio (one more for groups without one), from the
    // demonstration names; today, the first group of each activity is one short.
    let names: Vec<String> = STAFF.iter().map(|s| s.to_string()).collect();
    let staff = diesel::sql_query(
        "WITH need AS (
             SELECT b.group_id, b.day,
                    greatest(1, ceil(count(DISTINCT b.child_id)::numeric
                                     / coalesce(g.children_per_staff, 1000)))::int AS n,
                    g.sort = min(g.sort) OVER (PARTITION BY g.activity_id, b.day) AS first
               FROM bookings b JOIN activity_groups g ON g.id = b.group_id
              WHERE b.state <> 'cancelled_in_time'
                AND b.day BETWEEN $1::date - 30 AND $1::date + 7
              GROUP BY b.group_id, b.day, g.children_per_staff, g.activity_id, g.sort)
         INSERT INTO staff_assignments (group_id, day, name, present)
         SELECT need.group_id, need.day,
                ($2::text[])[1 + (need.group_id + k) % cardinality($2::text[])],
                need.day < $1 OR (need.day = $1 AND NOT (need.first AND k = need.n - 1 AND need.n > 1))
           FROM need, generate_series(0, least(need.n, cardinality($2::text[])) - 1) k
         ON CONFLICT (group_id, day, name) DO NOTHING",
    )
    .bind::<Date, _>(today)
    .bind::<diesel::sql_types::Array<Text>, _>(&names)
    .execute(conn)
    .await?;
    let notes = diesel::sql_query(
        "INSERT INTO daily_notes (child_id, activity_id, day, at, kind, text, author)
         SELECT b.child_id, b.activity_id, b.day, n.at, n.kind, n.text, 'Équipe de la crèche'
           FROM (SELECT DISTINCT b.child_id, b.activity_id, b.day
                   FROM bookings b JOIN activities a ON a.id = b.activity_id
                  WHERE a.kind = 'nursery' AND b.state = 'present'
                    AND b.day >= $1::date - 7 AND b.day < $1
                    AND NOT EXISTS (SELECT 1 FROM daily_notes d WHERE d.child_id = b.child_id
                                      AND d.activity_id = b.activity_id AND d.day = b.day)) b
           CROSS JOIN (VALUES (time '11:45', 'meal', 'A bien mangé : tout le plat, la moitié du dessert.'),
                              (time '12:45', 'nap', 'Sieste de 12 h 45 à 14 h 30, calme.'),
                              (time '16:00', 'mood', 'Souriant, a beaucoup joué avec les cubes.'))
                      AS n(at, kind, text)",
    )
    .bind::<Date, _>(today)
    .execute(conn)
    .await?;
    Ok(Seeded {
        marked,
        staff,
        notes,
    })
}
