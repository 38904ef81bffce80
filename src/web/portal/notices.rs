//! The mails that confirm a family's enrolment request and tell it the decision taken on
//! it (POR-05), in French, with a link to the portal's « Inscriptions ». They are sent once
//! the transaction has committed, as the mails of places offered are (web/scheduling.rs):
//! a mail that cannot be sent is logged, the request or the decision stands.
//!
//! Recipients: the child's guardians, and the portal accounts of the child's households
//! whose profile opens enrolments (a payment-only account hears nothing of them).

use serde_json::{Value, json};

use super::ACTIVITIES;
use crate::domain::activity::enrolment::{EnrolmentNotice, status_label};
use crate::domain::booking::family::{day_label, fr_instant};
use crate::platform::auth::authz::{ANYWHERE, Action};
use crate::platform::tenancy::City;
use crate::web::State;
use crate::web::signin::send_mail;

/// The portal page where the family follows its requests.
const PORTAL_PAGE: &str = "/inscriptions";

/// « à partir du mercredi 14 octobre 2026 », or « du … au … ».
fn period(notice: &EnrolmentNotice) -> String {
    let e = &notice.enrolment;
    match e.ends {
        Some(ends) => format!("du {} au {}", day_label(e.starts), day_label(ends)),
        None => format!("à partir du {}", day_label(e.starts)),
    }
}

/// The addresses to write to, each once (case aside), guardians first.
async fn recipients(state: &State, city: &City, notice: &EnrolmentNotice) -> Vec<String> {
    let mut addresses: Vec<String> = notice.guardian_emails.clone();
    for (email, profile) in &notice.accounts {
        let opens = state
            .authz
            .allows(&state.db, city, profile, ACTIVITIES, ANYWHERE, Action::Read)
            .await;
        match opens {
            Ok(true) => addresses.push(email.clone()),
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(city = %city.slug, ?error, "enrolment mail: rights of an account")
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    addresses
        .into_iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty() && seen.insert(a.to_lowercase()))
        .collect()
}

async fn send_all(
    state: &State,
    city: &City,
    notice: &EnrolmentNotice,
    template: &str,
    data: &Value,
) {
    for to in recipients(state, city, notice).await {
        if let Err(error) = send_mail(state, city, &to, template, data).await {
            // Debug keeps the SMTP cause an internal error's Display hides.
            tracing::warn!(
                city = %city.slug,
                enrolment = notice.enrolment.number,
                ?error,
                "{template}: mail not sent"
            );
        }
    }
}

/// Confirms a request just filed (`origin`: the scheme and host the family used).
pub async fn mail_request_filed(
    state: &State,
    city: &City,
    origin: &str,
    notice: &EnrolmentNotice,
) {
    let e = &notice.enrolment;
    let data = json!({
        "number": e.number,
        "child": e.child_name,
        "activity": e.activity,
        "period": period(notice),
        "week": notice.wished_week,
        "requested_at": fr_instant(e.requested_at),
        "status": status_label(&e.status).to_lowercase(),
        "missing": e.missing.join(", "),
        "link": format!("{origin}{PORTAL_PAGE}"),
    });
    send_all(state, city, notice, "mail/enrolment_received", &data).await;
}

/// Tells the family the decision just recorded: accepted, refused, waitlisted, other place
/// proposed, or admitted. Other statuses are not decisions: nothing is sent.
pub async fn mail_decision(state: &State, city: &City, origin: &str, notice: &EnrolmentNotice) {
    let e = &notice.enrolment;
    let outcome = match e.status.as_str() {
        "accepted" => "acceptée",
        "refused" => "refusée",
        "waitlisted" => "liste d'attente",
        "other_proposed" => "autre accueil proposé",
        "admitted" => "inscription confirmée",
        _ => return,
    };
    let note_label = if matches!(e.status.as_str(), "refused" | "other_proposed") {
        "Motif"
    } else {
        "Précisions du service"
    };
    let mut data = json!({
        "number": e.number,
        "child": e.child_name,
        "activity": e.activity,
        "period": period(notice),
        "outcome": outcome,
        "group": e.group_name,
        "proposed": e.proposed_activity,
        "note": e.decision_note,
        "note_label": note_label,
        "link": format!("{origin}{PORTAL_PAGE}"),
    });
    // The template's paragraph for this decision (`accepted`, `refused`...).
    data[e.status.as_str()] = Value::Bool(true);
    send_all(state, city, notice, "mail/enrolment_decided", &data).await;
}
