//! Mass enrolment of a school selection (ACT-07).

use super::*;
use crate::domain::tariffs::assignment;

/// Which children mass enrolment selects (ACT-07): a school's pupils of the school year of
/// `starts`, narrowed to a level or a class.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Selection {
    pub school_id: i64,
    pub level: Option<String>,
    pub class_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MassReport {
    pub admitted: usize,
    pub already: usize,
    pub selected: usize,
}

/// Admits every selected child not already enrolled, in one transaction (the caller's),
/// each with the tariff the activity's assignment rules give.
pub async fn mass_enrol(
    conn: &mut Conn,
    settings: &CitySettings,
    activity: i64,
    selection: &Selection,
    starts: NaiveDate,
    ends: Option<NaiveDate>,
    by: &str,
) -> AppResult<MassReport> {
    #[derive(QueryableByName)]
    struct Pupil {
        #[diesel(sql_type = BigInt)]
        child_id: i64,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        enrolled: bool,
    }
    let pupils: Vec<Pupil> = diesel::sql_query(
        "SELECT DISTINCT s.child_id,
                EXISTS (SELECT 1 FROM enrolments e WHERE e.child_id = s.child_id AND e.activity_id = $1
                         AND e.status NOT IN ('refused', 'withdrawn', 'ended')) AS enrolled
           FROM school_history s JOIN persons p ON p.id = s.child_id
          WHERE s.school_id = $2 AND s.school_year = $3
            AND ($4::text IS NULL OR s.level = $4) AND ($5::bigint IS NULL OR s.class_id = $5)
          ORDER BY s.child_id",
    )
    .bind::<BigInt, _>(activity)
    .bind::<BigInt, _>(selection.school_id)
    .bind::<Text, _>(school_year(starts))
    .bind::<diesel::sql_types::Nullable<Text>, _>(selection.level.clone())
    .bind::<diesel::sql_types::Nullable<BigInt>, _>(selection.class_id)
    .load(conn)
    .await?;
    // The tariff rules of the activity, read once for every pupil admitted (TAR-02).
    let code: String = activities::table
        .find(activity)
        .select(activities::code)
        .first(conn)
        .await?;
    let rules = assignment::rules(conn, &code).await?;
    let mut report = MassReport {
        selected: pupils.len(),
        ..Default::default()
    };
    for pupil in pupils {
        if pupil.enrolled {
            report.already += 1;
            continue;
        }
        let situation = child_situation(conn, pupil.child_id, starts).await?;
        let group = group_for_child(conn, activity, pupil.child_id, starts).await?;
        let id: i64 = diesel::insert_into(enrolments::table)
            .values((
                enrolments::child_id.eq(pupil.child_id),
                enrolments::activity_id.eq(activity),
                enrolments::group_id.eq(group),
                enrolments::household_id.eq(situation.household_id),
                enrolments::status.eq("admitted"),
                enrolments::starts.eq(starts),
                enrolments::ends.eq(ends),
                enrolments::origin.eq("mass"),
                enrolments::decided_at.eq(diesel::dsl::now),
                enrolments::decided_by.eq(by),
            ))
            .returning(enrolments::id)
            .get_result(conn)
            .await?;
        if !rules.is_empty() {
            let current = assignment::tariff_of(conn, id).await?;
            assignment::assign_by_rules(conn, settings, &rules, &current, by).await?;
        }
        report.admitted += 1;
    }
    Ok(report)
}
