//! Withdrawals and the enrolment waitlist: places offered with a deadline, expired.

use super::*;

/// A place offered from the enrolment waitlist (mailed by the caller after commit).
#[derive(Debug, Clone, Serialize)]
pub struct EnrolmentOffer {
    pub enrolment: EnrolmentView,
    pub deadline: DateTime<Utc>,
    pub emails: Vec<String>,
}

/// The family or the city withdraws the request; an admitted child leaves (ended the day
/// before `leaving`). A freed place goes to the best-ranked waitlisted request.
pub async fn withdraw(
    conn: &mut Conn,
    id: i64,
    leaving: NaiveDate,
    by: &str,
    now: DateTime<Utc>,
) -> AppResult<(EnrolmentView, Option<EnrolmentOffer>)> {
    let current = get(conn, id).await?;
    let freed = matches!(current.status.as_str(), "admitted" | "offered");
    let view = if current.status == "admitted" {
        let ends = leaving.pred_opt().unwrap_or(leaving).max(current.starts);
        diesel::update(enrolments::table.find(id))
            .set(enrolments::ends.eq(ends))
            .execute(conn)
            .await?;
        move_status(conn, id, &["admitted"], "ended", by).await?
    } else {
        move_status(
            conn,
            id,
            &[
                "requested",
                "incomplete",
                "commission",
                "accepted",
                "waitlisted",
                "offered",
                "other_proposed",
                "appealed",
            ],
            "withdrawn",
            by,
        )
        .await?
    };
    super::super::tasks::close(conn, "enrolment_offer", id, by).await?;
    let offer = if freed {
        offer_next(conn, current.activity_id, now).await?
    } else {
        None
    };
    Ok((view, offer))
}

/// Offers a place to the best-ranked waitlisted request of the activity.
pub async fn offer_next(
    conn: &mut Conn,
    activity: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<EnrolmentOffer>> {
    let next = list(
        conn,
        &Filter {
            activity_id: Some(activity),
            status: Some("waitlisted".into()),
            ..Default::default()
        },
        1,
    )
    .await?;
    let Some(next) = next.into_iter().next() else {
        return Ok(None);
    };
    let hours: i32 = activities::table
        .find(activity)
        .select(activities::offer_hours)
        .first(conn)
        .await?;
    let deadline = now + TimeDelta::hours(i64::from(hours));
    diesel::update(enrolments::table.find(next.id))
        .set((
            enrolments::status.eq("offered"),
            enrolments::offer_deadline.eq(deadline),
        ))
        .execute(conn)
        .await?;
    super::super::tasks::open(
        conn,
        "enrolment_offer",
        next.id,
        &format!(
            "Place proposée à {} pour « {} » (inscription n° {}), réponse attendue avant le {}",
            next.child_name,
            next.activity,
            next.number,
            deadline
                .with_timezone(&chrono_tz::Europe::Paris)
                .format("%d/%m/%Y à %H:%M")
        ),
        &format!("/agent/inscriptions/{}", next.id),
        Some(deadline),
    )
    .await?;
    let emails = crate::domain::family::dossier::guardian_emails(conn, next.child_id).await?;
    Ok(Some(EnrolmentOffer {
        enrolment: get(conn, next.id).await?,
        deadline,
        emails,
    }))
}

/// Offers not answered in time: withdrawn, and the place offered to the next request.
pub async fn expire_offers(conn: &mut Conn, now: DateTime<Utc>) -> AppResult<Vec<EnrolmentOffer>> {
    let expired: Vec<(i64, i64)> = enrolments::table
        .filter(enrolments::status.eq("offered"))
        .filter(enrolments::offer_deadline.le(now))
        .select((enrolments::id, enrolments::activity_id))
        // Two servers sweeping together expire each offer once.
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    let mut offers = Vec::new();
    for (id, activity) in expired {
        move_status(conn, id, &["offered"], "withdrawn", "système").await?;
        super::super::tasks::close(conn, "enrolment_offer", id, "système").await?;
        offers.extend(offer_next(conn, activity, now).await?);
    }
    Ok(offers)
}
