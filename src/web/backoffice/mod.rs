//! The back-office of a city's agents, at `/agent/` on the city's host.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::State;
use super::faces::{CsrfToken, CurrentCity};
use super::page::{FaceKind, Layout, html};
use crate::platform::error::AppResult;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(login_page))
        .route("/connexion", web::get().to(login_page));
}

async fn login_page(
    state: State,
    CurrentCity(city): CurrentCity,
    csrf: CsrfToken,
) -> AppResult<HttpResponse> {
    let layout = Layout::new("Connexion", FaceKind::Agent, Some(&city)).csrf(&csrf.0);
    html(&state.templates, &layout, "backoffice/login", &json!({}))
}
