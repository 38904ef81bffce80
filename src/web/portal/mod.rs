//! The family portal, at `/` on a city host.

mod bookings;

use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::faces::{CsrfToken, CurrentCity};
use super::forms::CsrfForm;
use super::guard::{Need, Principal, Routes};
use super::page::{FaceKind, Layout, html};
use super::{State, flash};
use crate::domain::family::accounts;
use crate::domain::family::dossier::{self, Visibility};
use crate::domain::family::health::HealthAccess;
use crate::domain::settings;
use crate::platform::auth::authz::Action;
use crate::platform::auth::directory::{self, NewRequest};
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;

pub const NAV: &[(&str, &str)] = &[("/", "Accueil"), ("/connexion", "Se connecter")];
const SIGNED_NAV: &[(&str, &str)] = &[
    ("/", "Accueil"),
    ("/espace", "Mon espace"),
    ("/mon-dossier", "Mon dossier"),
    ("/reservations", "Réservations"),
    ("/inscriptions", "Inscriptions"),
];

pub fn routes(routes: &mut Routes) {
    routes
        .get("/", Need::Public, home)
        .get("/espace", Need::AnyFamily, family_home)
        .get(
            "/mon-dossier",
            Need::Family("portal:dossier", Action::Read),
            dossier_page,
        )
        .get("/demande-de-compte", Need::Public, request_page)
        .post("/demande-de-compte", Need::Public, request_account);
    bookings::routes(routes);
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
            "account_requests": texts.get("portal.account_requests_enabled"),
        }),
    )
}

/// The family's own space once signed in (the dossier, bookings and invoices come here).
async fn family_home(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let message = flash::take(&req);
    let layout =
        family_layout(&city, &principal, &csrf, "Mon espace", "/espace").flash(message.as_deref());
    let mut response = html(
        &state.templates,
        &layout,
        "portal/space",
        &json!({ "name": principal.label() }),
    )?;
    if message.is_some() {
        flash::clear(&mut response);
    }
    Ok(response)
}

/// The family's own dossier (read-only here; changes go through the city).
async fn dossier_page(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
) -> AppResult<HttpResponse> {
    let Principal::Family { id: account, .. } = principal else {
        return Err(AppError::Unauthorized);
    };
    let key = state.keys.city_key(&city.key_id);
    let today = clock::today();
    // A family sees all of its own dossier: incomes, and its children's health sheets.
    let everything = Visibility {
        income: true,
        bank: true,
        health: HealthAccess {
            basic: true,
            medical: true,
            confidential: true,
        },
    };
    let dossier = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                let Some(household) = accounts::household_of_account(conn, account).await? else {
                    return Ok(None);
                };
                let view = dossier::household(conn, household, today, everything).await?;
                let mut children = Vec::new();
                for child in &view.children {
                    children.push(dossier::child(conn, &key, child.id, today, everything).await?);
                }
                Ok(Some((view, children)))
            })
        })
        .await?;
    let layout = family_layout(&city, &principal, &csrf, "Mon dossier", "/mon-dossier");
    let (family, children) = match dossier {
        Some((family, children)) => (Some(family), children),
        None => (None, Vec::new()),
    };
    html(
        &state.templates,
        &layout,
        "portal/dossier",
        &json!({ "family": family, "children": children }),
    )
}

pub fn family_layout<'a>(
    city: &'a City,
    principal: &'a Principal,
    csrf: &'a CsrfToken,
    title: &'a str,
    current: &str,
) -> Layout<'a> {
    Layout::new(title, FaceKind::Portal, Some(city))
        .csrf(&csrf.0)
        .nav(SIGNED_NAV, current)
        .user(principal.label(), "/deconnexion")
}

#[derive(Deserialize, serde::Serialize, Default)]
#[serde(default)]
struct RequestForm {
    last_name: String,
    first_name: String,
    email: String,
    phone: String,
    message: String,
}

async fn request_page(
    state: State,
    CurrentCity(city): CurrentCity,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let message = flash::take(&req);
    let mut response = render_request(
        &state,
        &city,
        &csrf,
        &RequestForm::default(),
        None,
        message.as_deref(),
    )
    .await?;
    if message.is_some() {
        flash::clear(&mut response);
    }
    Ok(response)
}

async fn render_request(
    state: &State,
    city: &City,
    csrf: &CsrfToken,
    form: &RequestForm,
    error: Option<&str>,
    message: Option<&str>,
) -> AppResult<HttpResponse> {
    let texts = state
        .settings
        .in_force(&state.db, city, &settings::CATALOGUE, clock::today())
        .await?;
    let open = texts["portal.account_requests_enabled"]
        .as_bool()
        .unwrap_or(false);
    let layout = Layout::new("Demande de compte", FaceKind::Portal, Some(city))
        .csrf(&csrf.0)
        .nav(NAV, "")
        .flash(message);
    let mut response = html(
        &state.templates,
        &layout,
        "portal/account_request",
        &json!({ "form": form, "error": error, "open": open }),
    )?;
    if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn request_account(
    state: State,
    CurrentCity(city): CurrentCity,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> AppResult<HttpResponse> {
    let texts = state
        .settings
        .in_force(&state.db, &city, &settings::CATALOGUE, clock::today())
        .await?;
    if !texts["portal.account_requests_enabled"]
        .as_bool()
        .unwrap_or(false)
    {
        return Err(AppError::forbidden(
            "Les demandes de compte en ligne sont fermées : adressez-vous à l'accueil de la mairie.",
        ));
    }
    let (last_name, first_name, email, phone, message) = (
        form.last_name.clone(),
        form.first_name.clone(),
        form.email.clone(),
        form.phone.clone(),
        form.message.clone(),
    );
    let outcome = state
        .db
        .run(city.scope("anonyme"), move |conn| {
            Box::pin(async move {
                directory::request_account(
                    conn,
                    NewRequest {
                        last_name: &last_name,
                        first_name: &first_name,
                        email: &email,
                        phone: &phone,
                        message: &message,
                    },
                )
                .await
            })
        })
        .await;
    match outcome {
        Ok(_) => Ok(flash::redirect(
            "/demande-de-compte",
            "Votre demande est enregistrée. Vous recevrez un courriel dès qu'un agent l'aura traitée.",
        )),
        Err(error @ AppError::Invalid(_)) => {
            render_request(&state, &city, &csrf, &form, Some(&error.to_string()), None).await
        }
        Err(other) => Err(other),
    }
}
