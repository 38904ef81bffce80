//! The SITIV console on the admin host: list city environments, create a city,
//! suspend/resume it, copy production to recette. Protected by the bootstrap password
//! from the configuration until SITIV identities exist.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::State;
use super::faces::{CsrfToken, Face, random_token};
use super::flash;
use super::forms::{CsrfForm, constant_time_eq};
use super::page::{FaceKind, Layout, html};
use crate::platform::admin_sessions;
use crate::platform::db::Scope;
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::provisioning::{CityRequest, CloneRequest};
use crate::platform::tenancy::{Env, Status, Theme, list_cities};

const SESSION_COOKIE: &str = "marelle_admin";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(cities))
        .route("/connexion", web::get().to(login_page))
        .route("/connexion", web::post().to(login))
        .route("/deconnexion", web::post().to(logout))
        .route("/villes", web::post().to(create_city))
        .route("/villes/{slug}/suspendre", web::post().to(suspend))
        .route("/villes/{slug}/reprendre", web::post().to(resume))
        .route("/villes/{slug}/copier", web::post().to(copy));
}

/// A signed-in SITIV administrator (only on the admin host).
pub struct SitivAdmin {
    pub name: String,
}

impl SitivAdmin {
    fn actor(&self) -> String {
        format!("sitiv:{}", self.name)
    }
}

impl FromRequest for SitivAdmin {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let is_admin_face = matches!(req.extensions().get::<Face>(), Some(Face::Admin));
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let state = req.app_data::<State>().cloned();
        Box::pin(async move {
            if !is_admin_face {
                return Err(AppError::not_found("Cette page n'existe pas."));
            }
            let (Some(token), Some(state)) = (token, state) else {
                return Err(AppError::Unauthorized);
            };
            let name = state
                .db
                .run(Scope::Platform { actor: "system" }, move |conn| {
                    Box::pin(async move { admin_sessions::touch(conn, &token).await })
                })
                .await?;
            name.map(|name| SitivAdmin { name })
                .ok_or(AppError::Unauthorized)
        })
    }
}

fn require_admin_face(req: &HttpRequest) -> AppResult<()> {
    match req.extensions().get::<Face>() {
        Some(Face::Admin) => Ok(()),
        _ => Err(AppError::not_found("Cette page n'existe pas.")),
    }
}

async fn login_page(req: HttpRequest, state: State, csrf: CsrfToken) -> AppResult<HttpResponse> {
    require_admin_face(&req)?;
    let layout = Layout::new("Connexion", FaceKind::Admin, None).csrf(&csrf.0);
    html(&state.templates, &layout, "admin/login", &json!({}))
}

#[derive(Deserialize)]
struct LoginForm {
    password: String,
}

async fn login(
    req: HttpRequest,
    state: State,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    require_admin_face(&req)?;
    let expected = state.config.admin_password.as_deref().unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.password.as_bytes()) {
        // A fixed delay blunts guessing until the identity module adds rate limits.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let error = if expected.is_empty() {
            "Aucun mot de passe d'administration n'est configuré (admin_password dans \
             marelle.toml ou MARELLE_ADMIN_PASSWORD)."
        } else {
            "Mot de passe incorrect."
        };
        let layout = Layout::new("Connexion", FaceKind::Admin, None).csrf(&csrf.0);
        let mut response = html(
            &state.templates,
            &layout,
            "admin/login",
            &json!({ "error": error }),
        )?;
        *response.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
        return Ok(response);
    }
    let token = random_token();
    let session_token = token.clone();
    state
        .db
        .run(
            Scope::Platform {
                actor: "sitiv:admin",
            },
            move |conn| {
                Box::pin(async move { admin_sessions::open(conn, "admin", &session_token).await })
            },
        )
        .await?;
    let cookie = Cookie::build(SESSION_COOKIE, token)
        .path("/admin")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .finish();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/"))
        .cookie(cookie)
        .finish())
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(
    req: HttpRequest,
    state: State,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    require_admin_face(&req)?;
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        let token = cookie.value().to_string();
        state
            .db
            .run(Scope::Platform { actor: "system" }, move |conn| {
                Box::pin(async move { admin_sessions::close(conn, &token).await })
            })
            .await?;
    }
    let mut removal = Cookie::new(SESSION_COOKIE, "");
    removal.set_path("/admin");
    removal.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/connexion"))
        .cookie(removal)
        .finish())
}

#[derive(Serialize)]
struct CityLine {
    slug: String,
    name: String,
    env_label: &'static str,
    is_production: bool,
    production: Option<String>,
    hosts: Vec<String>,
    schema: String,
    status: &'static str,
    status_label: &'static str,
    suspended: bool,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
struct CityForm {
    slug: String,
    name: String,
    hosts: String,
    env: String,
    primary: String,
    accent: String,
    address: String,
    phone: String,
    email: String,
}

async fn cities(
    req: HttpRequest,
    state: State,
    admin: SitivAdmin,
    csrf: CsrfToken,
) -> AppResult<HttpResponse> {
    let flash = flash::take(&req);
    let mut response = render_cities(&state, &admin, &csrf, None, None, flash.as_deref()).await?;
    if flash.is_some() {
        flash::clear(&mut response);
    }
    Ok(response)
}

async fn render_cities(
    state: &State,
    admin: &SitivAdmin,
    csrf: &CsrfToken,
    form: Option<&CityForm>,
    error: Option<&str>,
    flash: Option<&str>,
) -> AppResult<HttpResponse> {
    let actor = admin.actor();
    let listed = state
        .db
        .run(Scope::Platform { actor: &actor }, |conn| {
            Box::pin(async move { list_cities(conn).await })
        })
        .await?;
    let lines: Vec<CityLine> = listed
        .into_iter()
        .map(|(city, production)| CityLine {
            env_label: match city.env {
                Env::Production => "Production",
                Env::Recette => "Recette",
            },
            is_production: city.env == Env::Production,
            status: city.status.as_str(),
            status_label: city.status.label(),
            suspended: city.status == Status::Suspended,
            production,
            slug: city.slug,
            name: city.name,
            hosts: city.hosts,
            schema: city.schema,
        })
        .collect();
    let default_theme = Theme::default();
    let blank = CityForm {
        primary: default_theme.primary,
        accent: default_theme.accent,
        ..CityForm::default()
    };
    let form = form.unwrap_or(&blank);
    let port_suffix = state
        .config
        .bind
        .rsplit_once(':')
        .map(|(_, port)| {
            if port == "80" {
                String::new()
            } else {
                format!(":{port}")
            }
        })
        .unwrap_or_default();
    let layout = Layout::new("Villes", FaceKind::Admin, None)
        .csrf(&csrf.0)
        .flash(flash);
    let mut response = html(
        &state.templates,
        &layout,
        "admin/cities",
        &json!({
            "count": lines.len(),
            "cities": lines,
            "form": {
                "slug": form.slug, "name": form.name, "hosts": form.hosts,
                "recette": form.env == "recette", "primary": form.primary, "accent": form.accent,
                "address": form.address, "phone": form.phone, "email": form.email,
            },
            "error": error,
            "port_suffix": port_suffix,
        }),
    )?;
    if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

async fn create_city(
    state: State,
    admin: SitivAdmin,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<CityForm>,
) -> AppResult<HttpResponse> {
    let actor = admin.actor();
    let request = form.env.parse::<Env>().map(|env| CityRequest {
        slug: form.slug.trim().to_string(),
        name: form.name.trim().to_string(),
        env,
        hosts: lines(&form.hosts),
        theme: Theme {
            primary: form.primary.clone(),
            accent: form.accent.clone(),
            address: lines(&form.address),
            phone: form.phone.trim().to_string(),
            email: form.email.trim().to_string(),
            website: String::new(),
        },
    });
    let outcome = match request {
        Ok(request) => state.provisioner(&actor).create(request).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(city) => Ok(flash::redirect(
            "/admin/",
            &format!("La ville « {} » ({}) est créée.", city.name, city.slug),
        )),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            render_cities(
                &state,
                &admin,
                &csrf,
                Some(&form),
                Some(&error.to_string()),
                None,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

async fn suspend(
    state: State,
    admin: SitivAdmin,
    slug: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    change_status(state, admin, &slug, Status::Suspended).await
}

async fn resume(
    state: State,
    admin: SitivAdmin,
    slug: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    change_status(state, admin, &slug, Status::Active).await
}

async fn change_status(
    state: State,
    admin: SitivAdmin,
    slug: &str,
    status: Status,
) -> AppResult<HttpResponse> {
    let actor = admin.actor();
    state.provisioner(&actor).set_status(slug, status).await?;
    let verb = if status == Status::Suspended {
        "suspendue"
    } else {
        "de nouveau active"
    };
    Ok(flash::redirect(
        "/admin/",
        &format!("La ville « {slug} » est {verb}."),
    ))
}

#[derive(Deserialize)]
struct CopyForm {
    to: String,
    host: String,
    anonymise: Option<String>,
}

async fn copy(
    state: State,
    admin: SitivAdmin,
    csrf: CsrfToken,
    slug: web::Path<String>,
    CsrfForm(form): CsrfForm<CopyForm>,
) -> AppResult<HttpResponse> {
    let actor = admin.actor();
    let anonymise = form.anonymise.is_some();
    let request = CloneRequest {
        from: slug.into_inner(),
        to: form.to.trim().to_string(),
        hosts: vec![form.host.trim().to_string()],
        env: Env::Recette,
        anonymise,
    };
    match state.provisioner(&actor).clone_city(request).await {
        Ok(city) => Ok(flash::redirect(
            "/admin/",
            &format!(
                "La recette « {} » est prête{}.",
                city.slug,
                if anonymise {
                    " (données anonymisées)"
                } else {
                    ""
                }
            ),
        )),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::NotFound(_))) => {
            render_cities(&state, &admin, &csrf, None, Some(&error.to_string()), None).await
        }
        Err(other) => Err(other),
    }
}
