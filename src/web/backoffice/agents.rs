//! Agents and profiles (city admin): create agents, give or take profiles over
//! populations, edit what each profile allows.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::agent_layout;
use crate::platform::auth::accounts::{self, NewAgent};
use crate::platform::auth::authz::Action;
use crate::platform::auth::directory::{self, ACTIONS, OBJECTS};
use crate::platform::auth::{passwords, tokens};
use crate::platform::error::{AppError, AppResult};
use crate::web::faces::{CsrfToken, CurrentCity};
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Principal, Routes};
use crate::web::page::html;
use crate::web::{State, flash};

pub fn routes(routes: &mut Routes) {
    routes
        .get(
            "/agent/agents",
            Need::Agent("agents", Action::Read),
            agents_page,
        )
        .post(
            "/agent/agents",
            Need::Agent("agents", Action::Write),
            create_agent,
        )
        .post(
            "/agent/agents/{id}/profils",
            Need::Agent("agents", Action::Write),
            grant,
        )
        .post(
            "/agent/agents/{id}/profils/{holding}/retirer",
            Need::Agent("agents", Action::Write),
            revoke,
        )
        .post(
            "/agent/agents/{id}/activer",
            Need::Agent("agents", Action::Write),
            |s, c, p, i, f| set_active(s, c, p, i, f, true),
        )
        .post(
            "/agent/agents/{id}/desactiver",
            Need::Agent("agents", Action::Write),
            |s, c, p, i, f| set_active(s, c, p, i, f, false),
        )
        .get(
            "/agent/profils",
            Need::Agent("agents", Action::Read),
            profiles_page,
        )
        .post(
            "/agent/profils",
            Need::Agent("agents", Action::Write),
            create_profile,
        )
        .post(
            "/agent/profils/{id}",
            Need::Agent("agents", Action::Write),
            set_permissions,
        );
}

#[derive(Serialize)]
struct AgentLine {
    id: i64,
    login: String,
    display_name: String,
    email: Option<String>,
    sso: bool,
    active: bool,
    holdings: Vec<serde_json::Value>,
}

async fn agents_page(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    render_agents(
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

async fn render_agents(
    state: &State,
    CurrentCity(city): &CurrentCity,
    principal: &Principal,
    csrf: &CsrfToken,
    message: Option<&str>,
    error: Option<&str>,
    created: Option<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let (agents, holdings, profiles) = state
        .db
        .run(city.scope(&principal.actor()), |conn| {
            Box::pin(async move {
                Ok((
                    accounts::list_agents(conn).await?,
                    directory::holdings(conn).await?,
                    directory::profiles(conn).await?,
                ))
            })
        })
        .await?;
    let lines: Vec<AgentLine> = agents
        .into_iter()
        .map(|a| AgentLine {
            holdings: holdings
                .iter()
                .filter(|h| h.agent_id == a.id)
                .map(|h| {
                    let label = profiles.iter().find(|p| p.id == h.profile_id).map_or(h.profile_id.as_str(), |p| p.label.as_str());
                    json!({ "id": h.id, "profile": label, "population": population_label(&h.population) })
                })
                .collect(),
            id: a.id,
            login: a.login,
            display_name: a.display_name,
            email: a.email,
            sso: a.oidc_subject.is_some(),
            active: a.active,
        })
        .collect();
    let layout = agent_layout(state, city, principal, csrf, "Agents", "/agent/agents")
        .await?
        .flash(message);
    let mut response = html(
        &state.templates,
        &layout,
        "backoffice/agents",
        &json!({
            "agents": lines,
            "profiles": profiles.iter().map(|p| json!({ "id": p.id, "label": p.label })).collect::<Vec<_>>(),
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

fn population_label(population: &str) -> String {
    match population.split_once(':') {
        None => "toute la ville".into(),
        Some(("structure", id)) => format!("structure n° {id}"),
        Some(("school", id)) => format!("école n° {id}"),
        Some(("activity", id)) => format!("activité n° {id}"),
        Some(("group", id)) => format!("groupe n° {id}"),
        Some(_) => population.to_string(),
    }
}

#[derive(Deserialize)]
struct NewAgentForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    /// "local" (temporary password shown once) or "sso" (no password).
    #[serde(default)]
    access: String,
    #[serde(default)]
    profile: String,
}

async fn create_agent(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<NewAgentForm>,
) -> AppResult<HttpResponse> {
    let temporary = (form.access != "sso").then(tokens::temporary_password);
    let hash = temporary.as_deref().map(passwords::hash).transpose()?;
    let actor = principal.actor();
    let outcome = state
        .db
        .run(city.0.scope(&actor), move |conn| {
            Box::pin(async move {
                if form.display_name.trim().is_empty() {
                    return Err(AppError::invalid("le nom de l'agent est obligatoire"));
                }
                let email = match form.email.trim() {
                    "" => None,
                    email => Some(accounts::normalise_email(email)?),
                };
                let id = accounts::create_agent(
                    conn,
                    NewAgent {
                        login: &form.login,
                        display_name: &form.display_name,
                        email: email.as_deref(),
                        oidc_subject: None,
                        password_hash: hash.as_deref(),
                        must_change_password: hash.is_some(),
                    },
                )
                .await?;
                if !form.profile.is_empty() {
                    directory::grant(conn, id, &form.profile, "city").await?;
                }
                accounts::normalise_login(&form.login)
            })
        })
        .await;
    match outcome {
        Ok(login) => {
            let created = json!({ "login": login, "password": temporary });
            render_agents(
                &state,
                &city,
                &principal,
                &csrf,
                Some("L'agent est créé."),
                None,
                Some(created),
            )
            .await
        }
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            render_agents(
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
struct GrantForm {
    #[serde(default)]
    profile: String,
    #[serde(default)]
    population: String,
}

async fn grant(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<GrantForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let population = if form.population.trim().is_empty() {
        "city".to_string()
    } else {
        form.population
    };
    let actor = principal.actor();
    let outcome = state
        .db
        .run(city.0.scope(&actor), move |conn| {
            Box::pin(async move { directory::grant(conn, id, &form.profile, &population).await })
        })
        .await;
    match outcome {
        Ok(()) => Ok(flash::redirect("/agent/agents", "Le profil est attribué.")),
        Err(error @ AppError::Invalid(_)) => {
            render_agents(
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
struct Empty {}

async fn revoke(
    state: State,
    city: CurrentCity,
    principal: Principal,
    path: web::Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (_, holding) = path.into_inner();
    state
        .db
        .run(city.0.scope(&principal.actor()), move |conn| {
            Box::pin(async move { directory::revoke(conn, holding).await })
        })
        .await?;
    Ok(flash::redirect("/agent/agents", "Le profil est retiré."))
}

async fn set_active(
    state: State,
    city: CurrentCity,
    principal: Principal,
    id: web::Path<i64>,
    _: CsrfForm<Empty>,
    active: bool,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    state
        .db
        .run(city.0.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                accounts::set_agent_active(conn, id, active).await?;
                if !active {
                    crate::platform::auth::sessions::close_all(
                        conn,
                        crate::platform::auth::sessions::Kind::Agent,
                        id,
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(flash::redirect(
        "/agent/agents",
        if active {
            "L'agent est réactivé."
        } else {
            "L'agent est désactivé et déconnecté."
        },
    ))
}

async fn profiles_page(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    render_profiles(
        &state,
        &city,
        &principal,
        &csrf,
        flash::take(&req).as_deref(),
        None,
    )
    .await
}

async fn render_profiles(
    state: &State,
    CurrentCity(city): &CurrentCity,
    principal: &Principal,
    csrf: &CsrfToken,
    message: Option<&str>,
    error: Option<&str>,
) -> AppResult<HttpResponse> {
    let profiles = state
        .db
        .run(city.scope(&principal.actor()), |conn| {
            Box::pin(async move { directory::profiles(conn).await })
        })
        .await?;
    let can_edit = principal
        .may(
            state,
            city,
            "agents",
            crate::platform::auth::authz::ANYWHERE,
            Action::Write,
        )
        .await?;
    let views: Vec<_> = profiles
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "label": p.label, "description": p.description, "builtin": p.builtin,
                "rows": OBJECTS.iter().map(|(object, object_label)| json!({
                    "object": object, "label": object_label,
                    "cells": ACTIONS.iter().map(|(action, action_label)| json!({
                        "value": format!("{object}|{action}"),
                        "label": action_label,
                        "checked": p.permissions.iter().any(|(o, a)| o == object && a == action),
                        "id": format!("{}-{}-{}", p.id, object.replace(':', "-"), action),
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let layout = agent_layout(state, city, principal, csrf, "Profils", "/agent/profils")
        .await?
        .flash(message);
    let mut response = html(
        &state.templates,
        &layout,
        "backoffice/profiles",
        &json!({ "profiles": views, "can_edit": can_edit, "error": error }),
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
struct NewProfileForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    description: String,
}

async fn create_profile(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<NewProfileForm>,
) -> AppResult<HttpResponse> {
    let outcome = state
        .db
        .run(city.0.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                directory::create_profile(conn, &form.id, &form.label, &form.description).await
            })
        })
        .await;
    match outcome {
        Ok(()) => Ok(flash::redirect(
            "/agent/profils",
            "Le profil est créé ; cochez ses droits.",
        )),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            render_profiles(
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

#[derive(Deserialize)]
struct PermissionsForm {
    #[serde(default)]
    permission: Vec<String>,
}

async fn set_permissions(
    state: State,
    city: CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<String>,
    CsrfForm(form): CsrfForm<PermissionsForm>,
) -> AppResult<HttpResponse> {
    let profile = id.into_inner();
    let wanted: Vec<(String, String)> = form
        .permission
        .iter()
        .filter_map(|p| p.split_once('|'))
        .map(|(o, a)| (o.to_string(), a.to_string()))
        .collect();
    let outcome = state
        .db
        .run(city.0.scope(&principal.actor()), move |conn| {
            Box::pin(async move { directory::set_permissions(conn, &profile, &wanted).await })
        })
        .await;
    match outcome {
        Ok(()) => Ok(flash::redirect(
            "/agent/profils",
            "Les droits du profil sont enregistrés.",
        )),
        Err(error @ AppError::Invalid(_)) => {
            render_profiles(
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
