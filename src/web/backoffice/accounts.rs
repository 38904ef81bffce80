//! Family portal accounts: the queue of account requests made on the portal (accept or
//! refuse, the family is told by e-mail), and accounts created by an agent (generated
//! identifier, temporary password to change at first sign-in), each linked to the family
//! dossier it opens.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::agent_layout;
use crate::domain::family::accounts as family_accounts;
use crate::platform::auth::accounts::{self, NewFamilyAccount};
use crate::platform::auth::authz::Action;
use crate::platform::auth::sessions::Kind;
use crate::platform::auth::{directory, passwords, tokens};
use crate::platform::error::{AppError, AppResult};
use crate::web::faces::{CsrfToken, CurrentCity};
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Principal, Routes};
use crate::web::page::html;
use crate::web::signin::{origin, send_mail};
use crate::web::{State, flash};

pub fn routes(routes: &mut Routes) {
    routes
        .get(
            "/agent/comptes/demandes",
            Need::Agent("accounts", Action::Read),
            requests_page,
        )
        .post(
            "/agent/comptes/demandes/{id}/accepter",
            Need::Agent("accounts", Action::Write),
            accept,
        )
        .post(
            "/agent/comptes/demandes/{id}/refuser",
            Need::Agent("accounts", Action::Write),
            refuse,
        )
        .get(
            "/agent/comptes",
            Need::Agent("accounts", Action::Read),
            accounts_page,
        )
        .post(
            "/agent/comptes",
            Need::Agent("accounts", Action::Write),
            create_account,
        )
        .post(
            "/agent/comptes/{id}/dossier",
            Need::Agent("accounts", Action::Write),
            link_to_family,
        );
}

async fn requests_page(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    render_requests(
        &state,
        &city,
        &principal,
        &csrf,
        flash::take(&req).as_deref(),
        None,
    )
    .await
}

async fn render_requests(
    state: &State,
    CurrentCity(city): &CurrentCity,
    principal: &Principal,
    csrf: &CsrfToken,
    message: Option<&str>,
    error: Option<&str>,
) -> AppResult<HttpResponse> {
    let requests = state
        .db
        .run(city.scope(&principal.actor()), |conn| {
            Box::pin(async move { directory::pending_requests(conn).await })
        })
        .await?;
    let views: Vec<_> = requests
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "name": format!("{} {}", r.first_name, r.last_name), "email": r.email,
                "phone": r.phone, "message": r.message,
                "at": r.created_at.with_timezone(&chrono_tz::Europe::Paris).format("%d/%m/%Y %H:%M").to_string(),
            })
        })
        .collect();
    let layout = agent_layout(
        state,
        city,
        principal,
        csrf,
        "Demandes de compte",
        "/agent/comptes/demandes",
    )
    .await?
    .flash(message);
    let mut response = html(
        &state.templates,
        &layout,
        "backoffice/account_requests",
        &json!({ "requests": views, "error": error }),
    )?;
    if message.is_some() {
        flash::clear(&mut response);
    }
    if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

#[derive(Deserialize)]
struct Empty {}

async fn accept(
    state: State,
    city: CurrentCity,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let actor = principal.actor();
    let decided_by = actor.clone();
    let (login, request, token) = state
        .db
        .run(city.0.scope(&actor), move |conn| {
            Box::pin(async move {
                let (account, login, request) =
                    directory::accept_request(conn, id, &decided_by).await?;
                let token = accounts::new_password_link(conn, Kind::Family, account, 72).await?;
                Ok((login, request, token))
            })
        })
        .await?;
    let link = format!("{}/nouveau-mot-de-passe/{token}", origin(&req));
    send_mail(
        &state,
        &city.0,
        &request.email,
        "mail/account_accepted",
        &json!({ "name": format!("{} {}", request.first_name, request.last_name), "login": login, "link": link }),
    )
    .await?;
    Ok(flash::redirect(
        "/agent/comptes/demandes",
        &format!(
            "Compte {login} créé ; la famille a reçu un courriel pour choisir son mot de passe."
        ),
    ))
}

#[derive(Deserialize)]
struct RefuseForm {
    #[serde(default)]
    reason: String,
}

async fn refuse(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<RefuseForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let actor = principal.actor();
    let decided_by = actor.clone();
    let reason = form.reason.clone();
    let outcome = state
        .db
        .run(city.0.scope(&actor), move |conn| {
            Box::pin(async move { directory::refuse_request(conn, id, &decided_by, &reason).await })
        })
        .await;
    match outcome {
        Ok(request) => {
            send_mail(
                &state,
                &city.0,
                &request.email,
                "mail/account_refused",
                &json!({ "name": format!("{} {}", request.first_name, request.last_name), "reason": form.reason.trim() }),
            )
            .await?;
            Ok(flash::redirect(
                "/agent/comptes/demandes",
                "La demande est refusée ; la famille en est informée par courriel.",
            ))
        }
        Err(error @ AppError::Invalid(_)) => {
            render_requests(
                &state,
                &city,
                &principal,
                &csrf,
                None,
                Some(&error.to_string()),
            )
            .await
        }
        Err(other) => Err(other),
    }
}

async fn accounts_page(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    render_accounts(
        &state,
        &city,
        &principal,
        &csrf,
        flash::take(&req).as_deref(),
        None,
        None,
    )
    .await
}

async fn render_accounts(
    state: &State,
    CurrentCity(city): &CurrentCity,
    principal: &Principal,
    csrf: &CsrfToken,
    message: Option<&str>,
    error: Option<&str>,
    created: Option<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let (accounts, profiles, linked) = state
        .db
        .run(city.scope(&principal.actor()), |conn| {
            Box::pin(async move {
                Ok((
                    directory::family_accounts(conn).await?,
                    directory::family_profiles(conn).await?,
                    family_accounts::linked_households(conn).await?,
                ))
            })
        })
        .await?;
    let layout = agent_layout(
        state,
        city,
        principal,
        csrf,
        "Comptes famille",
        "/agent/comptes",
    )
    .await?
    .flash(message);
    let mut response = html(
        &state.templates,
        &layout,
        "backoffice/family_accounts",
        &json!({
            "accounts": accounts.iter().map(|a| json!({
                "id": a.id,
                "family": linked.get(&a.id).map(|(id, number)| json!({ "id": id, "number": number })),
                "login": a.login, "email": a.email, "name": a.display_name, "active": a.active,
                "profile": profiles.iter().find(|(id, _)| *id == a.profile_id).map_or(a.profile_id.as_str(), |(_, l)| l.as_str()),
                "last_login": a.last_login_at.map(|t| t.with_timezone(&chrono_tz::Europe::Paris).format("%d/%m/%Y %H:%M").to_string()),
            })).collect::<Vec<_>>(),
            "profiles": profiles.iter().map(|(id, label)| json!({ "id": id, "label": label })).collect::<Vec<_>>(),
            "error": error,
            "created": created,
        }),
    )?;
    if message.is_some() {
        flash::clear(&mut response);
    }
    if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

#[derive(Deserialize)]
struct NewAccountForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    profile: String,
}

async fn create_account(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<NewAccountForm>,
) -> AppResult<HttpResponse> {
    let temporary = tokens::temporary_password();
    let hash = passwords::hash(&temporary)?;
    let outcome = state
        .db
        .run(city.0.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                if form.display_name.trim().is_empty() {
                    return Err(AppError::invalid(
                        "le nom du titulaire du compte est obligatoire",
                    ));
                }
                let allowed = directory::family_profiles(conn).await?;
                let profile = if form.profile.is_empty() {
                    "family".to_string()
                } else {
                    form.profile.clone()
                };
                if !allowed.iter().any(|(id, _)| *id == profile) {
                    return Err(AppError::invalid(format!(
                        "profil de compte famille inconnu « {profile} »"
                    )));
                }
                let (id, login) = accounts::create_family_account(
                    conn,
                    NewFamilyAccount {
                        email: &form.email,
                        display_name: &form.display_name,
                        profile_id: &profile,
                    },
                )
                .await?;
                accounts::set_password(conn, Kind::Family, id, &hash, true).await?;
                Ok(login)
            })
        })
        .await;
    match outcome {
        Ok(login) => {
            let created = json!({ "login": login, "password": temporary });
            render_accounts(&state, &city, &principal, &csrf, Some("Le compte est créé : communiquez l'identifiant et le mot de passe provisoire à la famille."), None, Some(created)).await
        }
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            render_accounts(
                &state,
                &city,
                &principal,
                &csrf,
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
struct LinkForm {
    #[serde(default)]
    number: String,
}

/// Links an account (typically from an accepted request) to the family dossier it
/// belongs to, found by its number.
async fn link_to_family(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> AppResult<HttpResponse> {
    let account = id.into_inner();
    let outcome = state
        .db
        .run(city.0.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                let number: i32 = form.number.trim().parse().map_err(|_| {
                    AppError::invalid("indiquez le numéro du dossier famille (chiffres)")
                })?;
                family_accounts::link_account(conn, account, number).await
            })
        })
        .await;
    match outcome {
        Ok(()) => Ok(flash::redirect(
            "/agent/comptes",
            "Le compte est rattaché au dossier famille.",
        )),
        Err(error @ AppError::Invalid(_)) => {
            render_accounts(
                &state,
                &city,
                &principal,
                &csrf,
                None,
                Some(&error.to_string()),
                None,
            )
            .await
        }
        Err(other) => Err(other),
    }
}
