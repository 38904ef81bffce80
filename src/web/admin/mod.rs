//! The SITIV console on the admin host: list city environments, create a city,
//! suspend/resume it, copy production to recette, and open a break-glass access to a
//! city's back-office (reason required, one hour, audited in the platform and the city);
//! publish the CNAF PSU barème of a new year (validated, versioned, audited), which every
//! city's crèche prices and `GET /api/v1/pricing/psu` use at once.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::faces::CsrfToken;
use super::forms::CsrfForm;
use super::guard::{ADMIN_COOKIE, Need, Principal, Routes};
use super::page::{FaceKind, Layout, html};
use super::{State, flash};
use crate::domain::pricing::SHIPPED_BAREME_TOML;
use crate::domain::tariffs::bareme;
use crate::platform::audit::{self, Event};
use crate::platform::auth::sessions::{self, Kind, NewSession};
use crate::platform::auth::{throttle, tokens};
use crate::platform::db::Scope;
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::provisioning::{CityRequest, CloneRequest};
use crate::platform::tenancy::{Env, Status, Theme, list_cities};
use crate::platform::{admin_sessions, admins};

pub fn routes(routes: &mut Routes) {
    routes
        .get("/admin/", Need::Sitiv, cities)
        .get("/admin/connexion", Need::Public, login_page)
        .post("/admin/connexion", Need::Public, login)
        .post("/admin/deconnexion", Need::Sitiv, logout)
        .post("/admin/villes", Need::Sitiv, create_city)
        .post(
            "/admin/villes/{slug}/suspendre",
            Need::Sitiv,
            |s, p, slug, f| change_status(s, p, slug, f, Status::Suspended),
        )
        .post(
            "/admin/villes/{slug}/reprendre",
            Need::Sitiv,
            |s, p, slug, f| change_status(s, p, slug, f, Status::Active),
        )
        .post("/admin/villes/{slug}/copier", Need::Sitiv, copy)
        .post("/admin/villes/{slug}/urgence", Need::Sitiv, break_glass)
        .get("/admin/bareme", Need::Sitiv, bareme_page)
        .post("/admin/bareme", Need::Sitiv, record_bareme);
}

fn admin_layout<'a>(title: &'a str, csrf: &'a CsrfToken) -> Layout<'a> {
    Layout::new(title, FaceKind::Admin, None).csrf(&csrf.0)
}

/// The console's pages once signed in: the menu and who is signed in.
fn console_layout<'a>(
    title: &'a str,
    csrf: &'a CsrfToken,
    principal: &'a Principal,
    current: &str,
) -> Layout<'a> {
    admin_layout(title, csrf)
        .nav(
            &[("/admin/", "Villes"), ("/admin/bareme", "Barème CNAF")],
            current,
        )
        .user(principal.label(), "/admin/deconnexion")
}

async fn login_page(state: State, csrf: CsrfToken) -> AppResult<HttpResponse> {
    html(
        &state.templates,
        &admin_layout("Connexion", &csrf),
        "admin/login",
        &json!({}),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

async fn login(
    state: State,
    req: HttpRequest,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let bootstrap = state.config.admin_password.clone();
    let ip = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let login = if form.login.trim().is_empty() {
        "admin".to_string()
    } else {
        form.login.trim().to_lowercase()
    };
    let outcome = state
        .db
        .run(Scope::Platform { actor: "anonyme" }, move |conn| {
            Box::pin(async move {
                let keys = [format!("sitiv:login:{login}"), format!("sitiv:ip:{ip}")];
                if let throttle::Gate::Locked = throttle::gate(conn, &keys).await? {
                    return Ok(Err(None));
                }
                match admins::authenticate(conn, &login, &form.password, bootstrap.as_deref())
                    .await?
                {
                    Some(name) => {
                        throttle::success(conn, &keys[0]).await?;
                        let token = tokens::new_token();
                        admin_sessions::open(conn, &name, &token).await?;
                        Ok(Ok(token))
                    }
                    None => Ok(Err(Some(throttle::failure(conn, &keys).await?))),
                }
            })
        })
        .await?;
    match outcome {
        Ok(token) => {
            let cookie = Cookie::build(ADMIN_COOKIE, token)
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
        Err(delay) => {
            let error = match delay {
                Some(delay) => {
                    tokio::time::sleep(delay).await;
                    "Identifiant ou mot de passe incorrect."
                }
                None => "Trop de tentatives de connexion : réessayez dans quelques minutes.",
            };
            let mut response = html(
                &state.templates,
                &admin_layout("Connexion", &csrf),
                "admin/login",
                &json!({ "error": error }),
            )?;
            *response.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
            Ok(response)
        }
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(
    state: State,
    req: HttpRequest,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    if let Some(cookie) = req.cookie(ADMIN_COOKIE) {
        let token = cookie.value().to_string();
        state
            .db
            .run(Scope::Platform { actor: "system" }, move |conn| {
                Box::pin(async move { admin_sessions::close(conn, &token).await })
            })
            .await?;
    }
    let mut removal = Cookie::new(ADMIN_COOKIE, "");
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
    state: State,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let message = flash::take(&req);
    let mut response = render_cities(
        &state,
        &principal,
        &csrf,
        &req,
        None,
        None,
        message.as_deref(),
    )
    .await?;
    if message.is_some() {
        flash::clear(&mut response);
    }
    Ok(response)
}

async fn render_cities(
    state: &State,
    principal: &Principal,
    csrf: &CsrfToken,
    req: &HttpRequest,
    form: Option<&CityForm>,
    error: Option<&str>,
    message: Option<&str>,
) -> AppResult<HttpResponse> {
    let actor = principal.actor();
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
    let layout = console_layout("Villes", csrf, principal, "/admin/").flash(message);
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
            "port_suffix": port_suffix(req),
        }),
    )?;
    if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// ":8080" when the console is reached on a port other than the scheme's default.
fn port_suffix(req: &HttpRequest) -> String {
    let info = req.connection_info();
    match info.host().rsplit_once(':') {
        Some((_, port)) if port.bytes().all(|b| b.is_ascii_digit()) => format!(":{port}"),
        _ => String::new(),
    }
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
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<CityForm>,
) -> AppResult<HttpResponse> {
    let actor = principal.actor();
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
                &principal,
                &csrf,
                &req,
                Some(&form),
                Some(&error.to_string()),
                None,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

async fn change_status(
    state: State,
    principal: Principal,
    slug: web::Path<String>,
    _: CsrfForm<Empty>,
    status: Status,
) -> AppResult<HttpResponse> {
    let actor = principal.actor();
    state.provisioner(&actor).set_status(&slug, status).await?;
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
    #[serde(default)]
    to: String,
    #[serde(default)]
    host: String,
    anonymise: Option<String>,
}

async fn copy(
    state: State,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
    slug: web::Path<String>,
    CsrfForm(form): CsrfForm<CopyForm>,
) -> AppResult<HttpResponse> {
    let actor = principal.actor();
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
            render_cities(
                &state,
                &principal,
                &csrf,
                &req,
                None,
                Some(&error.to_string()),
                None,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
struct BreakGlassForm {
    #[serde(default)]
    reason: String,
}

/// Opens a one-hour back-office session in a city for a SITIV administrator: the grant
/// and its reason are recorded in the platform, the access in the city's own history.
async fn break_glass(
    state: State,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
    slug: web::Path<String>,
    CsrfForm(form): CsrfForm<BreakGlassForm>,
) -> AppResult<HttpResponse> {
    let actor = principal.actor();
    let city = state.provisioner(&actor).city(&slug).await?;
    let reason = form.reason.trim().to_string();
    let city_id = city.id;
    let admin = principal.label().to_string();
    let granted = {
        let (admin, reason) = (admin.clone(), reason.clone());
        state
            .db
            .run(Scope::Platform { actor: &actor }, move |conn| {
                Box::pin(
                    async move { admins::grant_break_glass(conn, &admin, city_id, &reason).await },
                )
            })
            .await
    };
    if let Err(error @ AppError::Invalid(_)) = granted {
        return render_cities(
            &state,
            &principal,
            &csrf,
            &req,
            None,
            Some(&error.to_string()),
            None,
        )
        .await;
    }
    granted?;
    let label = format!("{admin} (SITIV, accès d'urgence)");
    let handover = state
        .db
        .run(city.scope(&actor), |conn| {
            let actor = actor.clone();
            Box::pin(async move {
                audit::record(
                    conn,
                    Event::BreakGlass,
                    &actor,
                    ("sessions", None),
                    json!({ "motif": reason }),
                )
                .await?;
                sessions::open(
                    conn,
                    NewSession {
                        kind: Kind::Agent,
                        subject_id: None,
                        label: &label,
                        break_glass: true,
                        id_token: None,
                        lifetime: chrono::Duration::minutes(2),
                    },
                )
                .await
            })
        })
        .await?;
    let scheme = req.connection_info().scheme().to_string();
    let host = city.hosts.first().cloned().unwrap_or_default();
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!(
                "{scheme}://{host}{}/agent/urgence/{handover}",
                port_suffix(&req)
            ),
        ))
        .finish())
}

// ---------------------------------------------------------------------------------------
// The CNAF PSU barème (platform reference data, updated by SITIV each year)

async fn bareme_page(
    state: State,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let message = flash::take(&req);
    let mut response = render_bareme(&state, &principal, &csrf, None, message.as_deref()).await?;
    if message.is_some() {
        flash::clear(&mut response);
    }
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BaremeForm {
    content: String,
    comment: String,
    /// "1": adopt the file shipped with this release.
    shipped: String,
}

async fn render_bareme(
    state: &State,
    principal: &Principal,
    csrf: &CsrfToken,
    refused: Option<(&BaremeForm, String)>,
    message: Option<&str>,
) -> AppResult<HttpResponse> {
    let actor = principal.actor();
    let (history, (in_force_id, in_force)) = state
        .db
        .run(Scope::Platform { actor: &actor }, |conn| {
            Box::pin(
                async move { Ok((bareme::history(conn).await?, bareme::current(conn).await?)) },
            )
        })
        .await?;
    let current = history.iter().find(|v| v.id == in_force_id);
    let shipped_differs = current.is_none_or(|v| bareme::shipped_differs(&v.content));
    let (content, comment, error) = match &refused {
        Some((form, error)) => (
            form.content.clone(),
            form.comment.clone(),
            Some(error.clone()),
        ),
        None => (
            current.map_or_else(|| SHIPPED_BAREME_TOML.to_string(), |v| v.content.clone()),
            String::new(),
            None,
        ),
    };
    let layout = console_layout("Barème CNAF", csrf, principal, "/admin/bareme").flash(message);
    let mut response = html(
        &state.templates,
        &layout,
        "admin/bareme",
        &json!({
            "current": current.map(|v| json!({
                "id": v.id, "author": v.author, "comment": v.comment, "recorded_at": v.recorded_at,
            })),
            "view": bareme::view(&in_force),
            "history": history.iter().map(|v| json!({
                "id": v.id, "author": v.author, "comment": v.comment,
                "recorded_at": v.recorded_at, "content": v.content,
                "in_force": v.id == in_force_id,
            })).collect::<Vec<_>>(),
            "shipped_differs": shipped_differs,
            "content": content,
            "comment": comment,
            "error": error,
        }),
    )?;
    if refused.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// Records a new barème (pasted, or the shipped file) after validating it; a refused file
/// is shown again with the reason, and nothing is written.
async fn record_bareme(
    state: State,
    principal: Principal,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<BaremeForm>,
) -> AppResult<HttpResponse> {
    let actor = principal.actor();
    let author = principal.label().to_string();
    let (content, comment) = if form.shipped == "1" {
        (
            SHIPPED_BAREME_TOML.to_string(),
            "barème livré avec cette version de Marelle".to_string(),
        )
    } else {
        (form.content.clone(), form.comment.clone())
    };
    let recorded = state
        .db
        .run(Scope::Platform { actor: &actor }, move |conn| {
            Box::pin(async move { bareme::record(conn, &content, &author, &comment).await })
        })
        .await;
    match recorded {
        Ok(id) => Ok(flash::redirect(
            "/admin/bareme",
            &format!(
                "Barème CNAF n° {id} enregistré : il s'applique dès maintenant à toutes les villes."
            ),
        )),
        Err(error @ AppError::Invalid(_)) => {
            render_bareme(
                &state,
                &principal,
                &csrf,
                Some((&form, error.to_string())),
                None,
            )
            .await
        }
        Err(other) => Err(other),
    }
}
