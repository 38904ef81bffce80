//! The family portal, at `/` on a city host.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::State;
use super::faces::CurrentCity;
use super::page::{FaceKind, Layout, html};
use crate::domain::settings;
use crate::platform::clock;
use crate::platform::error::AppResult;

pub const NAV: &[(&str, &str)] = &[("/", "Accueil"), ("/connexion", "Se connecter")];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
}

async fn home(state: State, CurrentCity(city): CurrentCity) -> AppResult<HttpResponse> {
    let texts = state
        .settings
        .in_force(&state.db, &city, &settings::CATALOGUE, clock::today())
        .await?;
    let layout = Layout::new("Accueil", FaceKind::Portal, Some(&city)).nav(NAV, "/");
    html(
        &state.templates,
        &layout,
        "portal/home",
        &json!({
            "welcome_message": texts.get("portal.welcome_message"),
            "contact_hours": texts.get("portal.contact_hours"),
        }),
    )
}
