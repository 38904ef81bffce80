//! Signing in and out, for agents (`/agent/...`) and families (`/...`): one code path,
//! two configurations. Local passwords (argon2id, throttled), OpenID Connect (the city's
//! IdP for agents, FranceConnect for families), forced password change, reset links by
//! e-mail, and the break-glass entry of SITIV administrators.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::faces::{CsrfToken, CurrentCity};
use super::forms::CsrfForm;
use super::guard::{AGENT_COOKIE, FAMILY_COOKIE, Need, Principal, Routes};
use super::page::{FaceKind, Layout, html};
use super::{State, flash};
use crate::domain::settings::CATALOGUE;
use crate::platform::audit::{self, Event};
use crate::platform::auth::accounts::{self, Account, NewAgent};
use crate::platform::auth::oidc::{self, Identity, Provider};
use crate::platform::auth::sessions::{self, Kind, NewSession};
use crate::platform::auth::{passwords, throttle};
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::platform::mail::Mail;
use crate::platform::tenancy::City;

mod password;
mod sso;

use password::*;
use sso::*;

/// The two sign-in faces.
struct Door {
    kind: Kind,
    /// Path prefix: "/agent" or "".
    base: &'static str,
    cookie: &'static str,
    face: FaceKind,
    template: &'static str,
    /// Where a signed-in user lands.
    home: &'static str,
    /// Settings prefix of the OpenID Connect provider.
    sso: &'static str,
}

const AGENTS: Door = Door {
    kind: Kind::Agent,
    base: "/agent",
    cookie: AGENT_COOKIE,
    face: FaceKind::Agent,
    template: "backoffice/login",
    home: "/agent/",
    sso: "sso.agents",
};

const FAMILIES: Door = Door {
    kind: Kind::Family,
    base: "",
    cookie: FAMILY_COOKIE,
    face: FaceKind::Portal,
    template: "portal/login",
    home: "/espace",
    sso: "sso.families",
};

pub fn routes(routes: &mut Routes) {
    routes
        .get("/agent/connexion", Need::Public, |s, c, t, r| {
            login_page(&AGENTS, s, c, t, r)
        })
        .post("/agent/connexion", Need::Public, |s, c, t, r, f| {
            login(&AGENTS, s, c, t, r, f)
        })
        .post("/agent/deconnexion", Need::AnyAgent, |s, c, r, f| {
            logout(&AGENTS, s, c, r, f)
        })
        .get("/agent/mot-de-passe", Need::AnyAgent, |s, c, t, p| {
            password_page(&AGENTS, s, c, t, p)
        })
        .post("/agent/mot-de-passe", Need::AnyAgent, |s, c, t, p, f| {
            change_password(&AGENTS, s, c, t, p, f)
        })
        .get("/agent/mot-de-passe-oublie", Need::Public, |s, c, t| {
            forgot_page(&AGENTS, s, c, t)
        })
        .post("/agent/mot-de-passe-oublie", Need::Public, |s, c, t, f| {
            forgot(&AGENTS, s, c, t, f)
        })
        .get(
            "/agent/nouveau-mot-de-passe/{token}",
            Need::Public,
            |s, c, t, k| link_page(&AGENTS, s, c, t, k),
        )
        .post(
            "/agent/nouveau-mot-de-passe/{token}",
            Need::Public,
            |s, c, t, k, f| use_link(&AGENTS, s, c, t, k, f),
        )
        .get("/agent/sso", Need::Public, |s, c, r| {
            sso_start(&AGENTS, s, c, r)
        })
        .get("/agent/sso/retour", Need::Public, |s, c, r, q| {
            sso_return(&AGENTS, s, c, r, q)
        })
        .get("/agent/urgence/{token}", Need::Public, break_glass_entry)
        .get("/connexion", Need::Public, |s, c, t, r| {
            login_page(&FAMILIES, s, c, t, r)
        })
        .post("/connexion", Need::Public, |s, c, t, r, f| {
            login(&FAMILIES, s, c, t, r, f)
        })
        .post("/deconnexion", Need::AnyFamily, |s, c, r, f| {
            logout(&FAMILIES, s, c, r, f)
        })
        .get("/mot-de-passe", Need::AnyFamily, |s, c, t, p| {
            password_page(&FAMILIES, s, c, t, p)
        })
        .post("/mot-de-passe", Need::AnyFamily, |s, c, t, p, f| {
            change_password(&FAMILIES, s, c, t, p, f)
        })
        .get("/mot-de-passe-oublie", Need::Public, |s, c, t| {
            forgot_page(&FAMILIES, s, c, t)
        })
        .post("/mot-de-passe-oublie", Need::Public, |s, c, t, f| {
            forgot(&FAMILIES, s, c, t, f)
        })
        .get(
            "/nouveau-mot-de-passe/{token}",
            Need::Public,
            |s, c, t, k| link_page(&FAMILIES, s, c, t, k),
        )
        .post(
            "/nouveau-mot-de-passe/{token}",
            Need::Public,
            |s, c, t, k, f| use_link(&FAMILIES, s, c, t, k, f),
        )
        .get("/franceconnect", Need::Public, |s, c, r| {
            sso_start(&FAMILIES, s, c, r)
        })
        .get("/franceconnect/retour", Need::Public, |s, c, r, q| {
            sso_return(&FAMILIES, s, c, r, q)
        });
}

async fn city_settings(
    state: &State,
    city: &City,
) -> AppResult<std::collections::BTreeMap<String, Value>> {
    state
        .settings
        .in_force(&state.db, city, &CATALOGUE, clock::today())
        .await
}

fn text(settings: &std::collections::BTreeMap<String, Value>, key: &str) -> String {
    settings
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn flag(settings: &std::collections::BTreeMap<String, Value>, key: &str) -> bool {
    settings.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The city's provider for this door, if configured and enabled.
fn provider(door: &Door, settings: &std::collections::BTreeMap<String, Value>) -> Option<Provider> {
    let key = |name: &str| format!("{}.{name}", door.sso);
    if !flag(settings, &key("enabled")) || text(settings, &key("issuer")).is_empty() {
        return None;
    }
    let acr = text(settings, &key("acr"));
    Some(Provider {
        issuer: text(settings, &key("issuer")),
        client_id: text(settings, &key("client_id")),
        client_secret: text(settings, &key("client_secret")),
        scopes: text(settings, &key("scopes"))
            .split_whitespace()
            .map(String::from)
            .collect(),
        acr: (door.kind == Kind::Family && !acr.is_empty()).then_some(acr),
    })
}

fn layout<'a>(door: &Door, title: &'a str, city: &'a City, csrf: &'a CsrfToken) -> Layout<'a> {
    Layout::new(title, door.face, Some(city)).csrf(&csrf.0)
}

#[derive(Deserialize)]
struct LoginQuery {
    #[serde(default)]
    au_revoir: Option<String>,
}

async fn login_page(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let settings = city_settings(&state, &city).await?;
    let goodbye = web::Query::<LoginQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.au_revoir.clone())
        .map(|_| "Vous êtes déconnecté.");
    let flash = flash::take(&req);
    render_login(
        door,
        &state,
        &city,
        &csrf,
        &settings,
        "",
        None,
        flash.as_deref().or(goodbye),
    )
}

#[allow(clippy::too_many_arguments)]
fn render_login(
    door: &Door,
    state: &State,
    city: &City,
    csrf: &CsrfToken,
    settings: &std::collections::BTreeMap<String, Value>,
    login: &str,
    error: Option<&str>,
    flash_message: Option<&str>,
) -> AppResult<HttpResponse> {
    let local = door.kind == Kind::Family || flag(settings, "security.local_accounts_enabled");
    let layout = layout(door, "Connexion", city, csrf).flash(flash_message);
    let mut response = html(
        &state.templates,
        &layout,
        door.template,
        &json!({
            "local": local,
            "sso": provider(door, settings).is_some(),
            "sso_label": text(settings, "sso.agents.label"),
            "account_requests": flag(settings, "portal.account_requests_enabled"),
            "login": login,
            "error": error,
        }),
    )?;
    if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
    }
    if flash_message.is_some() {
        flash::clear(&mut response);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

/// What a sign-in attempt led to.
enum Attempt {
    Signed(String),
    Refused(std::time::Duration),
    Locked,
}

const GENERIC_REFUSAL: &str = "Identifiant ou mot de passe incorrect.";
const LOCKED: &str = "Trop de tentatives de connexion : réessayez dans quelques minutes.";

async fn login(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    csrf: CsrfToken,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let settings = city_settings(&state, &city).await?;
    if door.kind == Kind::Agent && !flag(&settings, "security.local_accounts_enabled") {
        return render_login(
            door,
            &state,
            &city,
            &csrf,
            &settings,
            &form.login,
            Some("Les comptes locaux sont désactivés : utilisez la connexion unique."),
            None,
        );
    }
    let ip = client_address(&req);
    let lifetime = chrono::Duration::hours(
        settings["security.session_absolute_hours"]
            .as_i64()
            .unwrap_or(10),
    );
    let kind = door.kind;
    let login = form.login.trim().to_lowercase();
    let password = form.password;
    let attempt_login = login.clone();
    let attempt = state
        .db
        .run(city.scope("anonyme"), move |conn| {
            Box::pin(async move {
                let keys = [
                    format!("{}:login:{attempt_login}", kind.as_str()),
                    format!("{}:ip:{ip}", kind.as_str()),
                ];
                if let throttle::Gate::Locked = throttle::gate(conn, &keys).await? {
                    return Ok(Attempt::Locked);
                }
                let account = accounts::by_login(conn, kind, &attempt_login).await?;
                let verified = passwords::verify(
                    account.as_ref().and_then(|a| a.password_hash.as_deref()),
                    &password,
                );
                match account.filter(|a| verified && a.active) {
                    Some(account) => {
                        throttle::success(conn, &keys[0]).await?;
                        let token = open_session(
                            conn,
                            kind,
                            &account,
                            None,
                            lifetime,
                            json!({ "méthode": "mot de passe", "adresse": ip }),
                        )
                        .await?;
                        Ok(Attempt::Signed(token))
                    }
                    None => {
                        let delay = throttle::failure(conn, &keys).await?;
                        audit::record(
                            conn,
                            Event::LoginFailed,
                            "anonyme",
                            (kind_table(kind), None),
                            json!({ "identifiant": attempt_login, "adresse": ip }),
                        )
                        .await?;
                        Ok(Attempt::Refused(delay))
                    }
                }
            })
        })
        .await?;
    match attempt {
        Attempt::Signed(token) => Ok(signed_in(door, &state, token, door.home)),
        Attempt::Refused(delay) => {
            tokio::time::sleep(delay).await;
            render_login(
                door,
                &state,
                &city,
                &csrf,
                &settings,
                &login,
                Some(GENERIC_REFUSAL),
                None,
            )
        }
        Attempt::Locked => {
            let mut response = render_login(
                door,
                &state,
                &city,
                &csrf,
                &settings,
                &login,
                Some(LOCKED),
                None,
            )?;
            *response.status_mut() = actix_web::http::StatusCode::TOO_MANY_REQUESTS;
            Ok(response)
        }
    }
}

fn kind_table(kind: Kind) -> &'static str {
    match kind {
        Kind::Agent => "agents",
        Kind::Family => "family_accounts",
    }
}

/// Opens a fresh session (a new token at every sign-in: no fixation) and audits it.
async fn open_session(
    conn: &mut crate::platform::db::Conn,
    kind: Kind,
    account: &Account,
    id_token: Option<&str>,
    lifetime: chrono::Duration,
    detail: Value,
) -> AppResult<String> {
    let token = sessions::open(
        conn,
        NewSession {
            kind,
            subject_id: Some(account.id),
            label: &account.display_name,
            break_glass: false,
            id_token,
            lifetime,
        },
    )
    .await?;
    accounts::record_login(conn, kind, account.id).await?;
    let actor = format!(
        "{}:{}",
        if kind == Kind::Agent {
            "agent"
        } else {
            "famille"
        },
        account.id
    );
    audit::record(
        conn,
        Event::Login,
        &actor,
        (kind_table(kind), Some(&account.id.to_string())),
        detail,
    )
    .await?;
    Ok(token)
}

fn session_cookie(door: &Door, state: &State, token: String) -> Cookie<'static> {
    Cookie::build(door.cookie, token)
        .path(if door.kind == Kind::Agent {
            "/agent"
        } else {
            "/"
        })
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .finish()
}

fn signed_in(door: &Door, state: &State, token: String, to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .cookie(session_cookie(door, state, token))
        .finish()
}

fn removal(door: &Door) -> Cookie<'static> {
    let mut cookie = Cookie::new(door.cookie, "");
    cookie.set_path(if door.kind == Kind::Agent {
        "/agent"
    } else {
        "/"
    });
    cookie.make_removal();
    cookie
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    req: HttpRequest,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let token = req
        .cookie(door.cookie)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let closed = state
        .db
        .run(city.scope("system"), move |conn| {
            Box::pin(async move {
                let closed = sessions::close(conn, &token).await?;
                if let Some(session) = &closed {
                    audit::record(
                        conn,
                        Event::Logout,
                        &session.subject_label,
                        ("sessions", None),
                        json!({}),
                    )
                    .await?;
                }
                Ok(closed)
            })
        })
        .await?;
    let back = format!("{}{}/connexion?au_revoir=1", origin(&req), door.base);
    // Signed in through the provider: end its session too (RP-initiated logout).
    let settings = city_settings(&state, &city).await?;
    let mut location = format!("{}/connexion?au_revoir=1", door.base);
    if let (Some(provider), Some(id_token)) =
        (provider(door, &settings), closed.and_then(|s| s.id_token))
        && let Ok(Some(url)) = state.oidc.logout_url(&provider, &id_token, &back).await
    {
        location = url;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .cookie(removal(door))
        .finish())
}

// ---- helpers ----

/// Scheme and host the browser used (behind a TLS proxy, from its forwarded headers).
pub fn origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "inconnue".into())
}

/// Renders a mail template (`mail/<name>.hbs`: first line "Objet : ...", then the body)
/// and sends it from the city.
pub async fn send_mail(
    state: &State,
    city: &City,
    to: &str,
    template: &str,
    data: &Value,
) -> AppResult<()> {
    let settings = city_settings(state, city).await?;
    let mut data = data.clone();
    if let Some(map) = data.as_object_mut() {
        map.insert(
            "city".into(),
            json!({ "name": city.name, "theme": city.theme }),
        );
    }
    let rendered = state.templates.render(Some(&city.slug), template, &data)?;
    let (subject, body) = rendered
        .split_once('\n')
        .map(|(first, rest)| {
            (
                first.trim_start_matches("Objet :").trim().to_string(),
                rest.trim_start().to_string(),
            )
        })
        .unwrap_or_else(|| (String::new(), rendered.clone()));
    state
        .mailer
        .send(
            city,
            &text(&settings, "mail.sender_name"),
            Mail {
                to: to.to_string(),
                subject,
                body,
            },
        )
        .await
}
