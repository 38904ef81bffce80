//! The front door: resolves the host to a face (a city or the SITIV console), opens the
//! request's log span (request id, city), hands out the CSRF cookie, and turns error
//! responses into French pages in the city's theme (JSON stays JSON on the API).

use std::future::{Ready, ready};
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use tracing::Instrument;

use super::State;
use super::page::{Layout, render_page};
use crate::platform::error::{AppError, ErrorMessage};
use crate::platform::tenancy::{City, Status};

/// Who a request is for, decided from its host.
#[derive(Clone)]
pub enum Face {
    City(Arc<City>),
    Admin,
    Unknown,
}

pub const CSRF_COOKIE: &str = "marelle_csrf";

/// The CSRF token of this browser (double-submit: cookie and form field must match).
#[derive(Clone)]
pub struct CsrfToken(pub String);

pub async fn faces(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req
        .app_data::<State>()
        .cloned()
        .expect("application state registered");
    let host = request_host(req.request());
    let request_id = new_request_id();
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        city = tracing::field::Empty,
        method = %req.method(),
        path = %req.path(),
    );
    async move {
        let started = Instant::now();
        let face = if host == state.config.admin_host {
            Face::Admin
        } else {
            match state.tenants.by_host(&host).await? {
                Some(city) => Face::City(city),
                None => Face::Unknown,
            }
        };
        if let Face::City(city) = &face {
            tracing::Span::current().record("city", city.slug.as_str());
        }
        let path = req.path().to_string();
        let always_served = path == "/healthz" || path.starts_with("/assets/");
        let (existing_csrf, new_csrf) = match req.cookie(CSRF_COOKIE) {
            Some(cookie) if cookie.value().len() == 43 => (cookie.value().to_string(), None),
            _ => {
                let token = random_token();
                (token.clone(), Some(token))
            }
        };
        req.extensions_mut().insert(CsrfToken(existing_csrf));
        req.extensions_mut().insert(face.clone());

        let refusal = match &face {
            _ if always_served => None,
            Face::Unknown => Some(AppError::not_found(
                "Aucune ville n'est servie à cette adresse. Vérifiez l'adresse saisie.",
            )),
            Face::City(city) if city.status == Status::Suspended => {
                Some(AppError::Unavailable(format!(
                    "Le service de {} est momentanément suspendu. Merci de réessayer plus tard \
                     ou de contacter votre mairie.",
                    city.name
                )))
            }
            _ => None,
        };
        let response = match refusal {
            Some(error) => {
                let (http, _) = req.into_parts();
                let response = actix_web::ResponseError::error_response(&error);
                ServiceResponse::new(http, response)
            }
            None => next.call(req).await?.map_into_boxed_body(),
        };
        let mut response = page_for_error(response, &state, &face);
        if let Some(token) = new_csrf {
            let cookie = Cookie::build(CSRF_COOKIE, token)
                .path("/")
                .http_only(true)
                .secure(state.config.secure_cookies)
                .same_site(SameSite::Strict)
                .finish();
            response.response_mut().add_cookie(&cookie)?;
        }
        if let Ok(value) = header::HeaderValue::from_str(&request_id) {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static("x-request-id"), value);
        }
        security_headers(&mut response);
        tracing::info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "served"
        );
        Ok(response)
    }
    .instrument(span)
    .await
}

/// Error responses of the pages become a themed French page; the API keeps its JSON;
/// an unauthenticated page request goes to the face's sign-in page.
fn page_for_error(
    response: ServiceResponse<BoxBody>,
    state: &State,
    face: &Face,
) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let path = response.request().path().to_string();
    if !status.is_client_error() && !status.is_server_error()
        || path.starts_with("/api/")
        || path == "/healthz"
    {
        return response;
    }
    let message = response
        .response()
        .extensions()
        .get::<ErrorMessage>()
        .map(|m| m.0.clone());
    // A page that needs a signed-in user sends the browser to the face's sign-in page
    // (a sign-in form answering 401 with its own page is left alone).
    if status == StatusCode::UNAUTHORIZED && message.is_some() {
        let login = match face {
            Face::Admin => "/admin/connexion",
            _ if path.starts_with("/agent") => "/agent/connexion",
            _ => "/connexion",
        };
        return response.into_response(
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, login))
                .finish(),
        );
    }
    // Pages we rendered ourselves with an error status (a form shown again with its
    // error) stay as they are; only bare errors get the error page.
    let is_our_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"text/html"));
    if status == StatusCode::UNAUTHORIZED || (message.is_none() && is_our_page) {
        return response;
    }
    let message = message.unwrap_or_else(|| default_message(status).to_string());
    let title = match status {
        StatusCode::NOT_FOUND => "Page introuvable",
        StatusCode::SERVICE_UNAVAILABLE => "Service suspendu",
        StatusCode::FORBIDDEN => "Accès refusé",
        s if s.is_server_error() => "Erreur du service",
        _ => "Demande refusée",
    };
    let city = match face {
        Face::City(city) => Some(city.as_ref()),
        _ => None,
    };
    let layout = Layout::new(title, face_of_path(face, &path), city);
    let body = render_page(
        &state.templates,
        &layout,
        "errors/error",
        &serde_json::json!({ "message": message }),
    );
    match body {
        Ok(html) => response.into_response(
            HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(html),
        ),
        Err(_) => response,
    }
}

fn default_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Cette page n'existe pas.",
        StatusCode::METHOD_NOT_ALLOWED => "Cette action n'est pas possible sur cette page.",
        StatusCode::PAYLOAD_TOO_LARGE => "Les données envoyées sont trop volumineuses.",
        s if s.is_server_error() => {
            "Une erreur interne est survenue ; l'incident a été enregistré."
        }
        _ => "La demande n'a pas pu être traitée.",
    }
}

/// Which face's layout an error page uses.
fn face_of_path(face: &Face, path: &str) -> super::page::FaceKind {
    use super::page::FaceKind;
    match face {
        Face::Admin => FaceKind::Admin,
        _ if path.starts_with("/agent") => FaceKind::Agent,
        _ => FaceKind::Portal,
    }
}

fn security_headers(response: &mut ServiceResponse<BoxBody>) {
    let headers = response.headers_mut();
    let pairs = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in pairs {
        if !headers.contains_key(&name) {
            headers.insert(name, header::HeaderValue::from_static(value));
        }
    }
}

/// Host of the request, lower-cased, without port.
pub fn request_host(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let host = info.host();
    let without_port = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

fn new_request_id() -> String {
    use rand::Rng;
    let bytes: [u8; 8] = rand::rng().random();
    hex::encode(bytes)
}

/// 32 random bytes, URL-safe base64 without padding (43 characters).
pub fn random_token() -> String {
    use base64::Engine;
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The city of a request on a city host; any other face gets "not found".
pub struct CurrentCity(pub Arc<City>);

impl FromRequest for CurrentCity {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(match req.extensions().get::<Face>() {
            Some(Face::City(city)) => Ok(CurrentCity(city.clone())),
            _ => Err(AppError::not_found("Cette page n'existe pas.")),
        })
    }
}

impl FromRequest for CsrfToken {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<CsrfToken>()
                .cloned()
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("CSRF token missing"))),
        )
    }
}
