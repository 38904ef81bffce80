//! Choices offered by the list pages: children to add, activities, classes.

use super::*;

/// Children found by name to add to a list (at most 15).
#[derive(Debug, Clone, Serialize, QueryableByName)]
pub struct ChildChoice {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub first_name: String,
    #[diesel(sql_type = Text)]
    pub last_name: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub birth_date: Option<NaiveDate>,
}

/// Children whose name holds every word of `query` (accents and case ignored).
pub async fn find_children(conn: &mut Conn, query: &str) -> AppResult<Vec<ChildChoice>> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| w.replace(['\\', '%', '_'], ""))
        .filter(|w| !w.is_empty())
        .take(4)
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    Ok(diesel::sql_query(
        "SELECT p.id, p.first_name, p.last_name, p.birth_date FROM persons p
          WHERE p.kind = 'child'
            AND (SELECT bool_and(ext.f_unaccent(lower(p.first_name || ' ' || p.last_name))
                                 LIKE '%' || ext.f_unaccent(lower(w)) || '%')
                   FROM unnest($1::text[]) w)
          ORDER BY p.last_name, p.first_name, p.id LIMIT 15",
    )
    .bind::<Array<Text>, _>(&words)
    .load(conn)
    .await?)
}

/// Children admitted to `activity` on `day` who are not on its list that day: those most
/// likely to turn up without a booking.
pub async fn enrolled_unlisted(
    conn: &mut Conn,
    activity: i64,
    group: Option<i64>,
    day: NaiveDate,
) -> AppResult<Vec<ChildChoice>> {
    Ok(diesel::sql_query(
        "SELECT p.id, p.first_name, p.last_name, p.birth_date
           FROM enrolments e JOIN persons p ON p.id = e.child_id
          WHERE e.activity_id = $1 AND e.status = 'admitted' AND e.starts <= $2
            AND (e.ends IS NULL OR e.ends >= $2)
            AND ($3::bigint IS NULL OR e.group_id IS NULL OR e.group_id = $3)
            AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.child_id = e.child_id
                              AND b.activity_id = $1 AND b.day = $2
                              AND b.state <> 'cancelled_in_time')
          ORDER BY p.last_name, p.first_name, p.id LIMIT 200",
    )
    .bind::<BigInt, _>(activity)
    .bind::<Date, _>(day)
    .bind::<Nullable<BigInt>, _>(group)
    .load(conn)
    .await?)
}

/// Active activities (id, name), to choose a list or an export.
pub async fn activity_choices(conn: &mut Conn) -> AppResult<Vec<(i64, String)>> {
    use crate::domain::activity::schema::activities;
    Ok(activities::table
        .filter(activities::active.eq(true))
        .order((activities::name, activities::id))
        .select((activities::id, activities::name))
        .load(conn)
        .await?)
}

/// Classes of `school_year`, with their school, to choose a class list.
#[derive(Debug, Clone, Serialize, QueryableByName)]
pub struct ClassChoice {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub school: String,
    #[diesel(sql_type = Text)]
    pub teacher: String,
}

pub async fn classes(conn: &mut Conn, school_year: &str) -> AppResult<Vec<ClassChoice>> {
    Ok(diesel::sql_query(
        "SELECT c.id, c.name, s.name AS school, c.teacher
           FROM school_classes c JOIN schools s ON s.id = c.school_id
          WHERE c.school_year = $1 AND s.active
          ORDER BY s.name, c.name, c.id",
    )
    .bind::<Text, _>(school_year)
    .load(conn)
    .await?)
}
