//! The commission and decision steps of a request, up to admission.

use super::*;

/// Computes and stores the score of a request (with the commission's own points).
pub async fn score(conn: &mut Conn, settings: &CitySettings, id: i64) -> AppResult<Score> {
    let enrolment = get(conn, id).await?;
    let criteria: Vec<Criterion> = commission_criteria::table
        .filter(commission_criteria::activity_id.eq(enrolment.activity_id))
        .order(commission_criteria::id)
        .select((
            commission_criteria::kind,
            commission_criteria::parameter,
            commission_criteria::weight,
        ))
        .load::<(String, String, i32)>(conn)
        .await?
        .into_iter()
        .map(|(kind, parameter, weight)| Criterion {
            kind,
            parameter,
            weight,
        })
        .collect();
    let facts = commission_facts(conn, settings, &enrolment).await?;
    let score = commission::score(&criteria, &facts, enrolment.bonus_points);
    diesel::update(enrolments::table.find(id))
        .set((
            enrolments::score.eq(score.total),
            enrolments::score_detail.eq(serde_json::to_value(&score).map_err(AppError::internal)?),
        ))
        .execute(conn)
        .await?;
    Ok(score)
}

/// Places a complete request before the commission, scored.
pub async fn to_commission(
    conn: &mut Conn,
    settings: &CitySettings,
    id: i64,
    by: &str,
) -> AppResult<EnrolmentView> {
    let current = get(conn, id).await?;
    if current.status == "incomplete" {
        return Err(AppError::invalid(format!(
            "le dossier est incomplet : {}",
            current.missing.join(", ")
        )));
    }
    move_status(conn, id, &["requested"], "commission", by).await?;
    score(conn, settings, id).await?;
    get(conn, id).await
}

/// The commission's opinion and extra points (recorded before the decision).
pub async fn record_opinion(
    conn: &mut Conn,
    settings: &CitySettings,
    id: i64,
    opinion: &str,
    bonus_points: i32,
) -> AppResult<EnrolmentView> {
    if !(-100..=100).contains(&bonus_points) {
        return Err(AppError::invalid(
            "les points de la commission vont de -100 à 100",
        ));
    }
    diesel::update(enrolments::table.find(id))
        .set((
            enrolments::opinion.eq(opinion.trim()),
            enrolments::bonus_points.eq(bonus_points),
        ))
        .execute(conn)
        .await?;
    score(conn, settings, id).await?;
    get(conn, id).await
}

/// A commission decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Refuse,
    Waitlist,
    ProposeOther(i64),
}

pub async fn decide(
    conn: &mut Conn,
    id: i64,
    decision: Decision,
    note: &str,
    by: &str,
) -> AppResult<EnrolmentView> {
    let (to, from): (&str, &[&str]) = match decision {
        Decision::Accept => (
            "accepted",
            &["requested", "commission", "appealed", "waitlisted"],
        ),
        Decision::Refuse => (
            "refused",
            &[
                "requested",
                "commission",
                "appealed",
                "waitlisted",
                "incomplete",
            ],
        ),
        Decision::Waitlist => ("waitlisted", &["requested", "commission", "appealed"]),
        Decision::ProposeOther(_) => (
            "other_proposed",
            &["requested", "commission", "appealed", "waitlisted"],
        ),
    };
    if matches!(decision, Decision::Refuse | Decision::ProposeOther(_)) && note.trim().is_empty() {
        return Err(AppError::invalid(
            "motivez la décision : la famille en sera informée",
        ));
    }
    let view = move_status(conn, id, from, to, by).await?;
    let proposed = match decision {
        Decision::ProposeOther(other) => {
            if other == view.activity_id {
                return Err(AppError::invalid(
                    "proposez une autre activité que celle demandée",
                ));
            }
            activities::table
                .find(other)
                .select(activities::id)
                .first::<i64>(conn)
                .await
                .optional()?
                .ok_or_else(|| AppError::not_found("Activité proposée introuvable."))?;
            Some(other)
        }
        _ => None,
    };
    diesel::update(enrolments::table.find(id))
        .set((
            enrolments::decision_note.eq(note.trim()),
            enrolments::proposed_activity_id.eq(proposed),
        ))
        .execute(conn)
        .await?;
    get(conn, id).await
}

/// The family contests a refusal or the other place proposed.
pub async fn appeal(conn: &mut Conn, id: i64, reason: &str, by: &str) -> AppResult<EnrolmentView> {
    if reason.trim().len() < 10 {
        return Err(AppError::invalid(
            "expliquez le recours en quelques mots (10 caractères au moins)",
        ));
    }
    move_status(conn, id, &["refused", "other_proposed"], "appealed", by).await?;
    diesel::update(enrolments::table.find(id))
        .set(enrolments::appeal_reason.eq(reason.trim()))
        .execute(conn)
        .await?;
    get(conn, id).await
}

/// Admits the request as it stands (child, household, dates, wished week): in `group`, or
/// the activity's group for the child's age and level; the activity's assignment rules give
/// its tariff (TAR-02).
pub async fn admit(
    conn: &mut Conn,
    settings: &CitySettings,
    id: i64,
    group: Option<i64>,
    by: &str,
) -> AppResult<EnrolmentView> {
    let current = get(conn, id).await?;
    if current.status == "incomplete" {
        return Err(AppError::invalid(format!(
            "le dossier est incomplet : {}",
            current.missing.join(", ")
        )));
    }
    let group = match group {
        Some(group) => activity_groups::table
            .filter(activity_groups::id.eq(group))
            .filter(activity_groups::activity_id.eq(current.activity_id))
            .select(activity_groups::id)
            .first::<i64>(conn)
            .await
            .optional()?
            .ok_or_else(|| AppError::invalid("ce groupe n'appartient pas à l'activité"))?,
        None => {
            group_for_child(conn, current.activity_id, current.child_id, current.starts).await?
        }
    };
    move_status(
        conn,
        id,
        &["requested", "accepted", "offered"],
        "admitted",
        by,
    )
    .await?;
    diesel::update(enrolments::table.find(id))
        .set((
            enrolments::group_id.eq(group),
            enrolments::offer_deadline.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    super::super::tasks::close(conn, "enrolment_offer", id, by).await?;
    crate::domain::tariffs::assignment::assign_at_admission(conn, settings, id, by).await?;
    get(conn, id).await
}

/// The group of `activity` that fits the child's age and level on `day`.
pub(super) async fn group_for_child(
    conn: &mut Conn,
    activity: i64,
    child: i64,
    day: NaiveDate,
) -> AppResult<i64> {
    let situation = child_situation(conn, child, day).await?;
    let groups = super::super::model::groups_of(conn, activity).await?;
    let age = situation.birth_date.map(|b| age_months(b, day));
    super::super::model::pick_group(&groups, age, situation.level.as_deref())
        .map(|g| g.id)
        .ok_or_else(|| AppError::invalid("l'activité n'a aucun groupe"))
}
