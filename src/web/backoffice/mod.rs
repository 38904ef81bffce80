//! The back-office of a city's agents, at `/agent/` on the city's host.

mod accounts;
mod activities;
mod agents;
mod attendance;
mod bookings;
mod children;
mod enrolments;
mod families;
mod history;
mod schools;
mod simulation;
mod tariffs;
mod upload;

use actix_web::HttpResponse;
use serde_json::json;

use super::faces::{CsrfToken, CurrentCity};
use super::guard::{Need, Principal, Routes};
use super::page::{FaceKind, Layout, html};
use super::{State, flash};
use crate::platform::auth::authz::{ANYWHERE, Action};
use crate::platform::auth::directory;
use crate::platform::error::AppResult;
use crate::platform::tenancy::City;

pub fn routes(routes: &mut Routes) {
    routes.get("/agent/", Need::AnyAgent, dashboard);
    families::routes(routes);
    children::routes(routes);
    bookings::routes(routes);
    agents::routes(routes);
    accounts::routes(routes);
    history::routes(routes);
    activities::routes(routes);
    schools::routes(routes);
    tariffs::routes(routes);
    enrolments::routes(routes);
    attendance::routes(routes);
}

/// Menu entries: (path, label, object the entry needs to read).
const MENU: &[(&str, &str, &str)] = &[
    ("/agent/", "Tableau de bord", ""),
    ("/agent/familles", "Familles", "families"),
    ("/agent/activites", "Activités", "activities"),
    ("/agent/ecoles", "Écoles", "schools"),
    ("/agent/inscriptions", "Inscriptions", "enrolments"),
    ("/agent/pointage", "Pointage", "attendance"),
    ("/agent/tarifs", "Tarifs", "pricing"),
    (
        "/agent/documents/expirant",
        "Pièces à échéance",
        "documents",
    ),
    ("/agent/comptes/demandes", "Demandes de compte", "accounts"),
    ("/agent/comptes", "Comptes famille", "accounts"),
    ("/agent/agents", "Agents", "agents"),
    ("/agent/profils", "Profils", "agents"),
    ("/agent/historique", "Historique", "audit"),
];

/// The back-office layout: the menu entries this agent may open, and who is signed in.
pub async fn agent_layout<'a>(
    state: &State,
    city: &'a City,
    principal: &'a Principal,
    csrf: &'a CsrfToken,
    title: &'a str,
    current: &str,
) -> AppResult<Layout<'a>> {
    let mut links = Vec::new();
    for (href, label, object) in MENU {
        if object.is_empty()
            || principal
                .may(state, city, object, ANYWHERE, Action::Read)
                .await?
        {
            links.push((*href, *label));
        }
    }
    Ok(Layout::new(title, FaceKind::Agent, Some(city))
        .csrf(&csrf.0)
        .nav(&links, current)
        .user(principal.label(), "/agent/deconnexion"))
}

async fn dashboard(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    req: actix_web::HttpRequest,
) -> AppResult<HttpResponse> {
    let sees_requests = principal
        .may(&state, &city, "accounts", ANYWHERE, Action::Read)
        .await?;
    let pending = if sees_requests {
        state
            .db
            .run(city.scope(&principal.actor()), |conn| {
                Box::pin(async move { Ok(directory::pending_requests(conn).await?.len()) })
            })
            .await?
    } else {
        0
    };
    // Places offered from a waitlist, to follow until the family answers.
    let sees_tasks = principal
        .may(&state, &city, "enrolments", ANYWHERE, Action::Read)
        .await?
        || principal
            .may(&state, &city, "bookings", ANYWHERE, Action::Read)
            .await?;
    let tasks = if sees_tasks {
        state
            .db
            .run(city.scope(&principal.actor()), |conn| {
                Box::pin(async move { crate::domain::activity::tasks::open_tasks(conn, 20).await })
            })
            .await?
    } else {
        Vec::new()
    };
    let message = flash::take(&req);
    let layout = agent_layout(
        &state,
        &city,
        &principal,
        &csrf,
        "Tableau de bord",
        "/agent/",
    )
    .await?
    .flash(message.as_deref());
    let break_glass = matches!(
        principal,
        Principal::Agent {
            break_glass: true,
            ..
        }
    );
    let mut response = html(
        &state.templates,
        &layout,
        "backoffice/dashboard",
        &json!({
            "name": principal.label(),
            "pending_requests": pending,
            "sees_requests": sees_requests,
            "sees_tasks": sees_tasks,
            "tasks": tasks,
            "break_glass": break_glass,
        }),
    )?;
    if message.is_some() {
        flash::clear(&mut response);
    }
    Ok(response)
}
