//! Cancelling a booking, withdrawing a waitlist request.

use super::*;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CancelForm {
    /// Why the agent cancels past the delay without it becoming an absence.
    motif: String,
    mois: String,
}

/// Cancels a booking of the child. In time: cancelled, the place freed (and offered to the
/// waitlist). Past the delay: the activity's late state (an absence), or cancelled in time
/// with a reason for agents who may override.
pub(super) async fn cancel(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<CancelForm>,
) -> AppResult<HttpResponse> {
    let (child, id) = path.into_inner();
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let (booking, activity) = desk
        .run(move |conn| {
            Box::pin(async move {
                family::child(conn, child).await?;
                let booking = store::view(conn, id).await?;
                if booking.child_id != child {
                    return Err(AppError::not_found("Réservation introuvable."));
                }
                let activity = model::load(conn, booking.activity_id, &settings).await?;
                Ok((booking, activity))
            })
        })
        .await?;
    let places = places(&activity);
    desk.require_in("bookings", &places, Action::Write).await?;
    let at = At {
        child,
        activity: Some(activity.id),
        first: month_start(&form.mois)
            .ok()
            .flatten()
            .unwrap_or_else(|| first_of(booking.date)),
    };
    let now = clock::now();
    let unit = activity.unit(&booking.unit)?;
    let what = format!("{} du {}", booking.unit_label, day_label(booking.date));
    if now >= paris_instant(booking.date, unit.starts) {
        let error = AppError::invalid(format!(
            "{what} a déjà commencé : son état se corrige au pointage"
        ));
        return refuse(&desk, at, "calendrier", &error, None).await;
    }
    let late = now >= notice_limit(activity.cancel_notice.as_ref(), booking.date, unit)?;
    let motif = form.motif.trim().to_string();
    if late && !motif.is_empty() {
        desk.require_in("bookings", &places, Action::Process)
            .await?;
    }
    let actor = Actor {
        name: desk.principal.actor(),
        origin: Origin::Agent,
        override_reason: (late && !motif.is_empty()).then(|| motif.clone()),
    };
    let cancelling = activity.clone();
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let calendar = Calendar {
                    school: scheduling::calendar().school,
                    now,
                };
                store::cancel(
                    conn,
                    &cancelling,
                    &calendar,
                    id,
                    &actor,
                    LateCancellation::RecordAbsence,
                )
                .await
            })
        })
        .await;
    match outcome {
        Ok(cancelled) => {
            scheduling::mail_offers(&desk.state, &desk.city, &cancelled.offers).await;
            let state = cancelled.booking.state;
            let message = if state != AttendanceState::CancelledInTime {
                format!(
                    "Annulation hors délai : {what} est enregistré comme « {} ».",
                    cancelled.booking.state_label
                )
            } else if late {
                format!(
                    "Réservation annulée hors délai avec le motif « {motif} » : {what}. La place est libérée."
                )
            } else {
                format!("Réservation annulée dans les délais : {what}. La place est libérée.")
            };
            Ok(crate::web::flash::redirect(
                &month_href(child, activity.id, booking.date),
                &message,
            ))
        }
        Err(error) if correctable(&error) => refuse(&desk, at, "calendrier", &error, None).await,
        Err(error) => Err(error),
    }
}

/// Withdraws a waitlist request of the child (waiting, or a place offered: it goes to the
/// next child).
pub(super) async fn withdraw(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<CancelForm>,
) -> AppResult<HttpResponse> {
    let (child, id) = path.into_inner();
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let (entry, activity) = desk
        .run(move |conn| {
            Box::pin(async move {
                family::child(conn, child).await?;
                let entry = family::wait_entry(conn, id).await?;
                if entry.child_id != child {
                    return Err(AppError::not_found(
                        "Demande en liste d'attente introuvable.",
                    ));
                }
                let activity = model::load(conn, entry.activity_id, &settings).await?;
                Ok((entry, activity))
            })
        })
        .await?;
    desk.require_in("bookings", &places(&activity), Action::Write)
        .await?;
    let actor = Actor {
        name: desk.principal.actor(),
        origin: Origin::Agent,
        override_reason: None,
    };
    let activity_id = activity.id;
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                store::withdraw(conn, &activity, &scheduling::calendar(), id, &actor).await
            })
        })
        .await;
    let what = format!("{} du {}", entry.unit_label, entry.day_label);
    match outcome {
        Ok(offer) => {
            scheduling::mail_offers(&desk.state, &desk.city, offer.as_slice()).await;
            let message = if entry.status == "offered" {
                format!("Place proposée retirée : {what}. Elle est proposée à l'enfant suivant.")
            } else {
                format!("Demande retirée de la liste d'attente : {what}.")
            };
            Ok(crate::web::flash::redirect(
                &month_href(child, activity_id, entry.day),
                &message,
            ))
        }
        Err(error) if correctable(&error) => {
            let at = At {
                child,
                activity: Some(activity_id),
                first: month_start(&form.mois)
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| first_of(entry.day)),
            };
            refuse(&desk, at, "calendrier", &error, None).await
        }
        Err(error) => Err(error),
    }
}
