//! Giving up a booking (cancelled in time, or an absence reported past the delay) and
//! answering a place offered from the waitlist.

use super::*;

/// Cancels a booking of the family's child (`annulation`, in time), or reports an absence
/// past the cancelling delay (`absence`: the booking becomes the activity's late state).
pub(in crate::web::portal) async fn give_up(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    path: web::Path<(i64, i64, String, i64)>,
    CsrfForm(form): CsrfForm<BackForm>,
) -> AppResult<HttpResponse> {
    let (child, activity_id, action, id) = path.into_inner();
    let late = match action.as_str() {
        "annulation" => LateCancellation::Refuse,
        "absence" => LateCancellation::RecordAbsence,
        _ => return Err(AppError::not_found("Cette page n'existe pas.")),
    };
    let (city, mois) = (&city, form.mois.as_str());
    let page = page_for(child, activity_id, mois);
    let account = account_of(&principal)?;
    let settings = scheduling::settings(&state, city).await?;
    let actor = portal_actor(&principal);
    let today = clock::today();
    let outcome = state
        .db
        .run(city.scope(&actor.name.clone()), move |conn| {
            Box::pin(async move {
                let household = household_of(conn, account).await?;
                family::own_child(conn, household, child).await?;
                family::require_bookable(conn, child, activity_id, today).await?;
                let booking = store::view(conn, id).await?;
                if booking.child_id != child || booking.activity_id != activity_id {
                    return Err(AppError::not_found("Réservation introuvable."));
                }
                let activity = model::load(conn, activity_id, &settings).await?;
                let calendar = scheduling::calendar();
                if late == LateCancellation::RecordAbsence {
                    let unit = activity.unit(&booking.unit)?;
                    if calendar.now >= paris_instant(booking.date, unit.starts) {
                        return Err(AppError::invalid(format!(
                            "« {} » a déjà commencé : prévenez directement le service",
                            unit.label
                        )));
                    }
                }
                store::cancel(conn, &activity, &calendar, id, &actor, late).await
            })
        })
        .await;
    match outcome {
        Ok(cancelled) => {
            scheduling::mail_offers(&state, city, &cancelled.offers).await;
            let booking = &cancelled.booking;
            let what = format!("{} du {}", booking.unit_label, day_label(booking.date));
            let message = if booking.state == AttendanceState::CancelledInTime {
                format!("Réservation annulée : {what}. La place est libérée.")
            } else {
                format!(
                    "Absence signalée : {what}. Elle est enregistrée comme « {} ».",
                    booking.state_label
                )
            };
            Ok(flash::redirect(
                &calendar_href(child, activity_id, booking.date),
                &message,
            ))
        }
        Err(error) if correctable(&error) => {
            let problem = Problem::in_calendar(&error);
            again(&state, city, &principal, &csrf, page, problem).await
        }
        Err(error) => Err(error),
    }
}

/// Whether the family accepts the place offered, or gives up its request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accept,
    Withdraw,
}

/// Accepts the place offered (`accepter`), or withdraws the request or declines the place
/// (`retirer`).
pub(in crate::web::portal) async fn answer(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    path: web::Path<(i64, String)>,
    CsrfForm(_form): CsrfForm<BackForm>,
) -> AppResult<HttpResponse> {
    let (id, word) = path.into_inner();
    let answer = match word.as_str() {
        "accepter" => Answer::Accept,
        "retirer" => Answer::Withdraw,
        _ => return Err(AppError::not_found("Cette page n'existe pas.")),
    };
    let city = &city;
    let account = account_of(&principal)?;
    let settings = scheduling::settings(&state, city).await?;
    let actor = portal_actor(&principal);
    let entry = state
        .db
        .run(city.scope(&actor.name.clone()), move |conn| {
            Box::pin(async move {
                let household = household_of(conn, account).await?;
                let entry = family::wait_entry(conn, id).await?;
                family::own_child(conn, household, entry.child_id).await?;
                Ok(entry)
            })
        })
        .await?;
    let (activity_id, child) = (entry.activity_id, entry.child_id);
    let outcome = state
        .db
        .run(city.scope(&actor.name.clone()), move |conn| {
            Box::pin(async move {
                let activity = model::load(conn, activity_id, &settings).await?;
                let calendar = scheduling::calendar();
                match answer {
                    Answer::Accept => store::accept_offer(conn, &activity, &calendar, id, &actor)
                        .await
                        .map(|_| None),
                    Answer::Withdraw => store::withdraw(conn, &activity, &calendar, id, &actor)
                        .await
                        .map(Some),
                }
            })
        })
        .await;
    let what = format!("{} du {}", entry.unit_label, entry.day_label);
    match outcome {
        Ok(offer) => {
            if let Some(Some(offer)) = offer {
                scheduling::mail_offers(&state, city, std::slice::from_ref(&offer)).await;
            }
            let message = match (answer, entry.status.as_str()) {
                (Answer::Accept, _) => format!("Place acceptée : {what} est réservé."),
                (Answer::Withdraw, "offered") => {
                    format!("Place déclinée : {what}. Elle est proposée à la famille suivante.")
                }
                (Answer::Withdraw, _) => {
                    format!("Demande retirée de la liste d'attente : {what}.")
                }
            };
            Ok(flash::redirect(
                &calendar_href(child, activity_id, entry.day),
                &message,
            ))
        }
        Err(error) if correctable(&error) => {
            let page = CalendarPage {
                child,
                activity: activity_id,
                first: entry.day.with_day(1).unwrap_or(entry.day),
            };
            let problem = Problem::in_calendar(&error);
            again(&state, city, &principal, &csrf, page, problem).await
        }
        Err(error) => Err(error),
    }
}
