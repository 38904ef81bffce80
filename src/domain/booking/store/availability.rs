//! Places left per open day and unit.

use super::*;

/// Les places d'une unité un jour donné.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Availability {
    #[schema(value_type = String, example = "2026-12-07")]
    pub date: NaiveDate,
    /// Code de l'unité.
    pub unit: String,
    /// `null` : pas de limite.
    pub capacity: Option<i32>,
    pub booked: i32,
    pub remaining: Option<i32>,
}

/// Availability of the activity's units on its open days from `from` to `to` (93 days at
/// most): the activity level, narrowed by `group` when given (the family's view).
pub async fn availability(
    conn: &mut Conn,
    activity: &Activity,
    school: &SchoolCalendar,
    from: NaiveDate,
    to: NaiveDate,
    group: Option<i64>,
) -> AppResult<Vec<Availability>> {
    if to < from {
        return Err(AppError::invalid("la date de fin précède la date de début"));
    }
    if (to - from).num_days() > 92 {
        return Err(AppError::invalid(
            "la période demandée dépasse 93 jours : demandez-la en plusieurs fois",
        ));
    }
    let days = crate::domain::calendar::open_days(&activity.opening, school, from, to)
        .map_err(calendar_error)?;
    use crate::domain::activity::schema::slot_counts;
    let counts: Vec<(i64, i64, NaiveDate, i32)> = slot_counts::table
        .filter(slot_counts::structure_id.eq(0))
        .filter(slot_counts::activity_id.eq(activity.id))
        .filter(slot_counts::day.between(from, to))
        .select((
            slot_counts::group_id,
            slot_counts::unit_id,
            slot_counts::day,
            slot_counts::taken,
        ))
        .load(conn)
        .await?;
    let taken = |group: i64, unit: i64, day: NaiveDate| {
        counts
            .iter()
            .find(|(g, u, d, _)| *g == group && *u == unit && *d == day)
            .map_or(0, |c| c.3)
    };
    let mut items = Vec::with_capacity(days.len() * activity.units.len());
    for day in days {
        for unit in &activity.units {
            let activity_places = places(&activity.capacities, Level::Activity, unit.id, day);
            let activity_taken = taken(0, unit.id, day);
            let (capacity, booked) = match group {
                None => (
                    activity_places.or_else(|| {
                        // Only group limits: the activity holds their sum, if all are limited.
                        activity
                            .groups
                            .iter()
                            .map(|g| places(&activity.capacities, Level::Group(g.id), unit.id, day))
                            .sum::<Option<i32>>()
                            .filter(|_| !activity.groups.is_empty())
                    }),
                    activity_taken,
                ),
                Some(group) => {
                    let group_places =
                        places(&activity.capacities, Level::Group(group), unit.id, day);
                    let group_taken = taken(group, unit.id, day);
                    // The tighter level decides what the family may still book.
                    match (activity_places, group_places) {
                        (Some(a), Some(g)) if a - activity_taken < g - group_taken => {
                            (Some(a), activity_taken)
                        }
                        (_, Some(g)) => (Some(g), group_taken),
                        (a, None) => (a, activity_taken),
                    }
                }
            };
            items.push(Availability {
                date: day,
                unit: unit.code.clone(),
                capacity,
                booked,
                remaining: remaining(capacity, booked),
            });
        }
    }
    Ok(items)
}
