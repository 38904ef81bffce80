//! The family portal, at `/` on a city host.

mod bookings;
pub(crate) mod notices;

use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
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
use crate::platform::auth::authz::{ANYWHERE, Action};
use crate::platform::auth::directory::{self, NewRequest};
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;

pub const NAV: &[(&str, &str)] = &[("/", "Accueil"), ("/connexion", "Se connecter")];

/// The objects of the family profiles (`policies/default.csv`) the portal's pages need.
pub(crate) const DOSSIER: &str = "portal:dossier";
pub(crate) const BOOKINGS: &str = "portal:bookings";
pub(crate) const ACTIVITIES: &str = "portal:activities";

/// The signed-in menu; an entry with an object shows only to accounts whose profile may
/// read it (the others would get a 403 there).
const SIGNED_NAV: &[(&str, &str, Option<&str>)] = &[
    ("/", "Accueil", None),
    ("/espace", "Mon espace", None),
    ("/mon-dossier", "Mon dossier", Some(DOSSIER)),
    ("/reservations", "Réservations", Some(BOOKINGS)),
    ("/inscriptions", "Inscriptions", Some(ACTIVITIES)),
];

pub fn routes(routes: &mut Routes) {
    routes
        .get("/", Need::Public, home)
        .get("/espace", Need::AnyFamily, family_home)
        .get(
            "/mon-dossier",
            Need::Family(DOSSIER, Action::Read),
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
    let rights = PortalRights::of(&state, &city, &principal).await?;
    let layout = rights
        .layout(&city, &principal, &csrf, "Mon espace", "/espace")
        .flash(message.as_deref());
    let mut response = html(
        &state.templates,
        &layout,
        "portal/space",
        &json!({ "name": principal.label(), "rights": rights }),
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
    let layout = portal_layout(
        &state,
        &city,
        &principal,
        &csrf,
        "Mon dossier",
        "/mon-dossier",
    )
    .await?;
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

/// What the signed-in account's profile opens on the portal: the guard's own check
/// (`Principal::may`, on the in-memory authorisation cache), made to show or hide links.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PortalRights {
    pub dossier: bool,
    pub bookings: bool,
    pub activities: bool,
}

impl PortalRights {
    pub async fn of(state: &State, city: &City, principal: &Principal) -> AppResult<PortalRights> {
        let may = |object| principal.may(state, city, object, ANYWHERE, Action::Read);
        Ok(PortalRights {
            dossier: may(DOSSIER).await?,
            bookings: may(BOOKINGS).await?,
            activities: may(ACTIVITIES).await?,
        })
    }

    fn opens(&self, object: Option<&str>) -> bool {
        match object {
            None => true,
            Some(DOSSIER) => self.dossier,
            Some(BOOKINGS) => self.bookings,
            Some(ACTIVITIES) => self.activities,
            Some(_) => false,
        }
    }

    /// The signed-in page frame with the menu these rights open.
    pub fn layout<'a>(
        &self,
        city: &'a City,
        principal: &'a Principal,
        csrf: &'a CsrfToken,
        title: &'a str,
        current: &str,
    ) -> Layout<'a> {
        let links: Vec<(&'static str, &'static str)> = SIGNED_NAV
            .iter()
            .filter(|(_, _, object)| self.opens(*object))
            .map(|(href, label, _)| (*href, *label))
            .collect();
        Layout::new(title, FaceKind::Portal, Some(city))
            .csrf(&csrf.0)
            .nav(&links, current)
            .user(principal.label(), "/deconnexion")
    }
}

/// The frame of a signed-in portal page, its menu limited to what the account may open.
pub async fn portal_layout<'a>(
    state: &State,
    city: &'a City,
    principal: &'a Principal,
    csrf: &'a CsrfToken,
    title: &'a str,
    current: &str,
) -> AppResult<Layout<'a>> {
    Ok(PortalRights::of(state, city, principal)
        .await?
        .layout(city, principal, csrf, title, current))
}

#[derive(Deserialize, Serialize, Default)]
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
