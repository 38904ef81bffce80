//! Every route is declared in one table with what it needs (`Need`); the guard wrapped
//! around each route authenticates the caller (agent or family session cookie, API
//! bearer token, SITIV console session) and asks Casbin before the handler runs. A route
//! cannot be registered without a need, and `tests/identity.rs` walks the whole table
//! against every default profile.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, HttpMessage, HttpRequest, Route, web};
use serde_json::json;

use super::State;
use super::faces::Face;
use crate::domain::settings::CATALOGUE;
use crate::platform::audit::{self, Event};
use crate::platform::auth::accounts;
use crate::platform::auth::api_clients;
use crate::platform::auth::authz::{ANYWHERE, Action};
use crate::platform::auth::sessions::{self, Kind};
use crate::platform::clock;
use crate::platform::db::Scope;
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;

pub const AGENT_COOKIE: &str = "marelle_agent";
pub const FAMILY_COOKIE: &str = "marelle_famille";
pub const ADMIN_COOKIE: &str = "marelle_admin";

/// The object whose writes change permissions (agents, profiles, holdings).
const PERMISSIONS_OBJECT: &str = "agents";

/// What a route requires of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Anyone (sign-in pages, the portal's public pages).
    Public,
    /// A signed-in agent allowed `action` on `object` somewhere in the city (the handler
    /// narrows it to the object's population).
    Agent(&'static str, Action),
    /// Any signed-in agent (dashboard, own password).
    AnyAgent,
    /// A signed-in family account whose profile allows `action` on `object`.
    Family(&'static str, Action),
    /// Any signed-in family account (own password, sign-out).
    AnyFamily,
    /// An API client whose scopes allow `action` on `object`.
    Api(&'static str, Action),
    /// Any API client of the city.
    AnyApi,
    /// A signed-in SITIV administrator (admin host).
    Sitiv,
}

/// One declared route.
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub need: Need,
    route: Route,
}

/// The table every face fills.
#[derive(Default)]
pub struct Routes(Vec<RouteDef>);

impl Routes {
    fn add<F, Args>(
        &mut self,
        method: Method,
        path: &'static str,
        need: Need,
        handler: F,
    ) -> &mut Self
    where
        F: actix_web::Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        let route = web::route()
            .method(method.clone())
            .to(handler)
            .wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
                guard(need, req, next)
            }));
        self.0.push(RouteDef {
            method,
            path,
            need,
            route,
        });
        self
    }

    pub fn get<F, Args>(&mut self, path: &'static str, need: Need, handler: F) -> &mut Self
    where
        F: actix_web::Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        self.add(Method::GET, path, need, handler)
    }

    pub fn post<F, Args>(&mut self, path: &'static str, need: Need, handler: F) -> &mut Self
    where
        F: actix_web::Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        self.add(Method::POST, path, need, handler)
    }

    pub fn delete<F, Args>(&mut self, path: &'static str, need: Need, handler: F) -> &mut Self
    where
        F: actix_web::Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        self.add(Method::DELETE, path, need, handler)
    }

    pub fn patch<F, Args>(&mut self, path: &'static str, need: Need, handler: F) -> &mut Self
    where
        F: actix_web::Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        self.add(Method::PATCH, path, need, handler)
    }

    /// (method, path, need) of every route, for the permission matrix test.
    pub fn list(&self) -> Vec<(Method, &'static str, Need)> {
        self.0
            .iter()
            .map(|d| (d.method.clone(), d.path, d.need))
            .collect()
    }

    /// Registers every route, one actix resource per path.
    pub fn register(self, cfg: &mut web::ServiceConfig) {
        let mut by_path: Vec<(&'static str, Vec<Route>)> = Vec::new();
        for def in self.0 {
            match by_path.iter_mut().find(|(path, _)| *path == def.path) {
                Some((_, routes)) => routes.push(def.route),
                None => by_path.push((def.path, vec![def.route])),
            }
        }
        for (path, routes) in by_path {
            let mut resource = web::resource(path);
            for route in routes {
                resource = resource.route(route);
            }
            cfg.service(resource);
        }
    }
}

/// Who is calling, once authenticated.
#[derive(Clone, Debug)]
pub enum Principal {
    Agent {
        id: Option<i64>,
        label: String,
        /// A SITIV administrator's break-glass session (city_admin rights, audited).
        break_glass: bool,
        must_change_password: bool,
    },
    Family {
        id: i64,
        label: String,
        profile: String,
        must_change_password: bool,
    },
    Api {
        id: i64,
        name: String,
        scopes: Vec<String>,
    },
    Sitiv {
        name: String,
    },
}

/// Profile used as the Casbin subject of a break-glass session.
const BREAK_GLASS_PROFILE: &str = "city_admin";

impl Principal {
    /// The Casbin subject.
    pub fn subject(&self) -> String {
        match self {
            Principal::Agent {
                break_glass: true, ..
            } => BREAK_GLASS_PROFILE.to_string(),
            Principal::Agent { id, .. } => format!("agent:{}", id.unwrap_or_default()),
            Principal::Family { profile, .. } => profile.clone(),
            Principal::Api { id, .. } => format!("api:{id}"),
            Principal::Sitiv { name } => format!("sitiv:{name}"),
        }
    }

    /// The author recorded in audit trails.
    pub fn actor(&self) -> String {
        match self {
            Principal::Agent {
                break_glass: true,
                label,
                ..
            } => format!("urgence:{label}"),
            Principal::Agent { id, .. } => format!("agent:{}", id.unwrap_or_default()),
            Principal::Family { id, .. } => format!("famille:{id}"),
            Principal::Api { id, .. } => format!("api:{id}"),
            Principal::Sitiv { name } => format!("sitiv:{name}"),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Principal::Agent { label, .. } | Principal::Family { label, .. } => label,
            Principal::Api { name, .. } | Principal::Sitiv { name } => name,
        }
    }

    /// Checks `action` on `object` within `population` (the object's structure, school,
    /// activity or group, or "city"); a refusal is audited and answered 403.
    pub async fn require(
        &self,
        state: &State,
        city: &City,
        object: &str,
        population: &str,
        action: Action,
    ) -> AppResult<()> {
        let allowed = state
            .authz
            .allows(&state.db, city, &self.subject(), object, population, action)
            .await?;
        if allowed {
            Ok(())
        } else {
            deny(state, city, self, object, population, action).await
        }
    }

    /// Whether the caller may, without refusing (to show or hide parts of a page).
    pub async fn may(
        &self,
        state: &State,
        city: &City,
        object: &str,
        population: &str,
        action: Action,
    ) -> AppResult<bool> {
        state
            .authz
            .allows(&state.db, city, &self.subject(), object, population, action)
            .await
    }
}

async fn deny(
    state: &State,
    city: &City,
    principal: &Principal,
    object: &str,
    population: &str,
    action: Action,
) -> AppResult<()> {
    let actor = principal.actor();
    let detail = json!({ "object": object, "population": population, "action": action.as_str() });
    state
        .db
        .run(city.scope(&actor), |conn| {
            let actor = actor.clone();
            Box::pin(async move {
                audit::record(conn, Event::Denied, &actor, ("permissions", None), detail).await
            })
        })
        .await?;
    Err(AppError::forbidden(
        "Vous n'avez pas les droits nécessaires pour cette action. Demandez-les à \
         l'administrateur de votre ville.",
    ))
}

/// Authenticates and authorises, then runs the handler with the principal in the request.
/// A refusal is answered here as a response (not an error) so that the front door turns
/// it into the face's French page or sign-in redirect.
async fn guard(
    need: Need,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match admit(need, &req).await {
        Ok(Admission::Proceed(principal)) => {
            if let Some(principal) = principal {
                req.extensions_mut().insert(principal);
            }
            let changes_permissions = need == Need::Agent(PERMISSIONS_OBJECT, Action::Write);
            let city = match req.extensions().get::<Face>() {
                Some(Face::City(city)) if changes_permissions => Some(city.clone()),
                _ => None,
            };
            let response = next.call(req).await?.map_into_boxed_body();
            // This server applies a permission change at once (others learn it by NOTIFY).
            if let (Some(city), Some(state)) = (city, response.request().app_data::<State>()) {
                state.authz.invalidate(&city.schema).await;
            }
            Ok(response)
        }
        Ok(Admission::Redirect(target)) => {
            let response = actix_web::HttpResponse::SeeOther()
                .insert_header((actix_web::http::header::LOCATION, target))
                .finish();
            Ok(req.into_response(response))
        }
        Err(error) => Ok(req.error_response(error)),
    }
}

enum Admission {
    Proceed(Option<Principal>),
    Redirect(&'static str),
}

async fn admit(need: Need, req: &ServiceRequest) -> AppResult<Admission> {
    // The console lives on the admin host only; city pages on city hosts only.
    let face = req.extensions().get::<Face>().cloned();
    let face_fits = match &face {
        _ if req.path() == "/healthz" || req.path().starts_with("/assets/") => true,
        Some(Face::Admin) => req.path().starts_with("/admin"),
        Some(Face::City(_)) => !req.path().starts_with("/admin"),
        _ => false,
    };
    if !face_fits {
        return Err(AppError::not_found("Cette page n'existe pas."));
    }
    if need == Need::Public {
        return Ok(Admission::Proceed(None));
    }
    let state = req.app_data::<State>().cloned().expect("application state");
    let principal = authenticate(&state, face.as_ref(), need, req.request()).await?;
    if let (Some(Face::City(city)), Some((object, action))) = (&face, casbin_need(need)) {
        principal
            .require(&state, city, object, ANYWHERE, action)
            .await?;
    }
    if must_change_password(&principal)
        && !req.path().ends_with("/mot-de-passe")
        && req.method() == Method::GET
    {
        let target = if matches!(principal, Principal::Family { .. }) {
            "/mot-de-passe"
        } else {
            "/agent/mot-de-passe"
        };
        return Ok(Admission::Redirect(target));
    }
    Ok(Admission::Proceed(Some(principal)))
}

fn must_change_password(principal: &Principal) -> bool {
    matches!(
        principal,
        Principal::Agent {
            must_change_password: true,
            ..
        } | Principal::Family {
            must_change_password: true,
            ..
        }
    )
}

fn casbin_need(need: Need) -> Option<(&'static str, Action)> {
    match need {
        Need::Agent(object, action) | Need::Family(object, action) | Need::Api(object, action) => {
            Some((object, action))
        }
        _ => None,
    }
}

async fn authenticate(
    state: &State,
    face: Option<&Face>,
    need: Need,
    req: &HttpRequest,
) -> AppResult<Principal> {
    match (need, face) {
        (Need::Sitiv, Some(Face::Admin)) => {
            let token = req
                .cookie(ADMIN_COOKIE)
                .map(|c| c.value().to_string())
                .ok_or(AppError::Unauthorized)?;
            let name = state
                .db
                .run(Scope::Platform { actor: "system" }, move |conn| {
                    Box::pin(
                        async move { crate::platform::admin_sessions::touch(conn, &token).await },
                    )
                })
                .await?;
            name.map(|name| Principal::Sitiv { name })
                .ok_or(AppError::Unauthorized)
        }
        (Need::Agent(..) | Need::AnyAgent, Some(Face::City(city))) => {
            session_principal(state, city, Kind::Agent, req).await
        }
        (Need::Family(..) | Need::AnyFamily, Some(Face::City(city))) => {
            session_principal(state, city, Kind::Family, req).await
        }
        (Need::Api(..) | Need::AnyApi, Some(Face::City(city))) => {
            api_principal(state, city, req).await
        }
        _ => Err(AppError::not_found("Cette page n'existe pas.")),
    }
}

async fn session_principal(
    state: &State,
    city: &City,
    kind: Kind,
    req: &HttpRequest,
) -> AppResult<Principal> {
    let cookie = if kind == Kind::Agent {
        AGENT_COOKIE
    } else {
        FAMILY_COOKIE
    };
    let token = req
        .cookie(cookie)
        .map(|c| c.value().to_string())
        .ok_or(AppError::Unauthorized)?;
    let settings = state
        .settings
        .in_force(&state.db, city, &CATALOGUE, clock::today())
        .await?;
    let idle = settings["security.session_idle_minutes"]
        .as_i64()
        .unwrap_or(30);
    state
        .db
        .run(city.scope("system"), move |conn| {
            Box::pin(async move {
                let session = sessions::touch(conn, &token, kind, chrono::Duration::minutes(idle))
                    .await?
                    .ok_or(AppError::Unauthorized)?;
                if session.break_glass {
                    return Ok(Principal::Agent {
                        id: None,
                        label: session.subject_label,
                        break_glass: true,
                        must_change_password: false,
                    });
                }
                let id = session.subject_id.ok_or(AppError::Unauthorized)?;
                let account = accounts::by_id(conn, kind, id)
                    .await?
                    .filter(|a| a.active)
                    .ok_or(AppError::Unauthorized)?;
                Ok(match kind {
                    Kind::Agent => Principal::Agent {
                        id: Some(id),
                        label: account.display_name,
                        break_glass: false,
                        must_change_password: account.must_change_password,
                    },
                    Kind::Family => Principal::Family {
                        id,
                        label: account.display_name,
                        profile: account.profile_id.unwrap_or_else(|| "family".into()),
                        must_change_password: account.must_change_password,
                    },
                })
            })
        })
        .await
}

async fn api_principal(state: &State, city: &City, req: &HttpRequest) -> AppResult<Principal> {
    let token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .ok_or(AppError::Unauthorized)?;
    let client = state
        .db
        .run(city.scope("system"), move |conn| {
            Box::pin(async move { api_clients::by_token(conn, &token).await })
        })
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok(Principal::Api {
        id: client.id,
        name: client.name,
        scopes: client.scopes,
    })
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let principal = req.extensions().get::<Principal>().cloned();
        Box::pin(async move { principal.ok_or(AppError::Unauthorized) })
    }
}
