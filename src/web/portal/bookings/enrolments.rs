//! « Inscriptions » on the family portal (ACT-03, ACT-06, POR-04): the state of the
//! household's requests, the activities open for registration now, and the pre-enrolment
//! request itself (child, dates, wished week), filed through `enrolment::request` which
//! checks the registration period and the child's population and spots an incomplete file,
//! then confirmed by mail (POR-05, `super::super::notices`).
//! Rights: `portal:activities` read/write.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{account_of, form_date, household_of, with_flash_cleared};
use crate::domain::activity::catalogue::WEEKDAYS;
use crate::domain::activity::enrolment::{self, Channel, Filter, NewRequest};
use crate::domain::activity::model;
use crate::domain::booking::family::{self, FamilyChild, OpenRegistration, fr_instant};
use crate::domain::family::accounts;
use crate::platform::auth::authz::Action;
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;
use crate::web::faces::{CsrfToken, CurrentCity};
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Principal, Routes};
use crate::web::page::html;
use crate::web::portal::notices;
use crate::web::portal::{ACTIVITIES, portal_layout};
use crate::web::signin::origin;
use crate::web::{State, flash, scheduling};

pub(super) fn routes(routes: &mut Routes) {
    let read = Need::Family(ACTIVITIES, Action::Read);
    let write = Need::Family(ACTIVITIES, Action::Write);
    routes
        .get("/inscriptions", read, list_page)
        .get("/inscriptions/{activity}/demande", read, request_page)
        .post("/inscriptions/{activity}/demande", write, file_request);
}

/// A request as the family reads it.
#[derive(Serialize)]
struct RequestLine {
    number: i32,
    activity: String,
    status: String,
    status_label: String,
    starts: NaiveDate,
    ends: Option<NaiveDate>,
    missing: Vec<String>,
    decision_note: String,
    proposed_activity: Option<String>,
    offer_deadline: Option<String>,
}

#[derive(Serialize)]
struct ChildRequests {
    child: FamilyChild,
    requests: Vec<RequestLine>,
}

async fn list_page(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let account = account_of(&principal)?;
    let now = clock::now();
    let data = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                let Some(household) = accounts::household_of_account(conn, account).await? else {
                    return Ok(None);
                };
                let mut children = Vec::new();
                for child in family::children(conn, household).await? {
                    let filter = Filter {
                        child_id: Some(child.id),
                        ..Filter::default()
                    };
                    let requests = enrolment::list(conn, &filter, 100)
                        .await?
                        .into_iter()
                        .map(|e| RequestLine {
                            status_label: enrolment::status_label(&e.status).to_string(),
                            number: e.number,
                            activity: e.activity,
                            status: e.status,
                            starts: e.starts,
                            ends: e.ends,
                            missing: e.missing,
                            decision_note: e.decision_note,
                            proposed_activity: e.proposed_activity,
                            offer_deadline: e.offer_deadline.map(fr_instant),
                        })
                        .collect();
                    children.push(ChildRequests { child, requests });
                }
                let open = family::open_registrations(conn, now, None).await?;
                Ok(Some((children, open)))
            })
        })
        .await?;
    let message = flash::take(&req);
    let layout = portal_layout(
        &state,
        &city,
        &principal,
        &csrf,
        "Inscriptions",
        "/inscriptions",
    )
    .await?
    .flash(message.as_deref());
    let linked = data.is_some();
    let (children, open) = data.unwrap_or_default();
    let response = html(
        &state.templates,
        &layout,
        "portal/enrolments",
        &json!({ "linked": linked, "children": children, "open": open }),
    )?;
    Ok(with_flash_cleared(response, &message))
}

/// The request form as entered.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RequestForm {
    enfant: String,
    debut: String,
    fin: String,
    /// Wished units per weekday (`mon|matin`).
    semaine: Vec<String>,
}

/// What the form shows around the family's input.
struct FormContext {
    registration: OpenRegistration,
    children: Vec<FamilyChild>,
    units: Vec<model::Unit>,
}

async fn form_context(
    state: &State,
    city: &City,
    principal: &Principal,
    activity: i64,
) -> AppResult<FormContext> {
    let account = account_of(principal)?;
    let now = clock::now();
    state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                let household = household_of(conn, account).await?;
                let registration = family::open_registrations(conn, now, Some(activity))
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        AppError::not_found(
                            "Les inscriptions à cette activité ne sont pas ouvertes en ce moment.",
                        )
                    })?;
                Ok(FormContext {
                    registration,
                    children: family::children(conn, household).await?,
                    units: model::units_of(conn, activity).await?,
                })
            })
        })
        .await
}

async fn render_form(
    state: &State,
    city: &City,
    principal: &Principal,
    csrf: &CsrfToken,
    context: &FormContext,
    form: &RequestForm,
    error: Option<&str>,
) -> AppResult<HttpResponse> {
    let title = format!("Demande d'inscription — {}", context.registration.activity);
    let layout = portal_layout(state, city, principal, csrf, &title, "/inscriptions").await?;
    let week: Vec<serde_json::Value> = WEEKDAYS
        .iter()
        .filter(|(_, code, _)| *code != "sun")
        .map(|(_, code, name)| {
            json!({
                "label": family::capitalised(name),
                "name": name,
                "units": context.units.iter().map(|u| {
                    let value = format!("{code}|{}", u.code);
                    json!({
                        "value": value,
                        "id": format!("semaine-{code}-{}", u.code),
                        "label": u.label,
                        "checked": form.semaine.contains(&value),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let children: Vec<serde_json::Value> = context
        .children
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": format!("{} {}", c.first_name, c.last_name),
                "selected": form.enfant == c.id.to_string(),
            })
        })
        .collect();
    let mut response = html(
        &state.templates,
        &layout,
        "portal/enrolments_request",
        &json!({
            "registration": context.registration,
            "children": children,
            "units": context.units,
            "week": week,
            "form": form,
            "error": error,
        }),
    )?;
    if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn request_page(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let context = form_context(&state, &city, &principal, path.into_inner()).await?;
    let form = RequestForm {
        enfant: context
            .children
            .first()
            .map(|c| c.id.to_string())
            .unwrap_or_default(),
        debut: clock::today().to_string(),
        ..RequestForm::default()
    };
    render_form(&state, &city, &principal, &csrf, &context, &form, None).await
}

/// The request the form describes, checked against the family's children and the
/// activity's units.
fn new_request(context: &FormContext, activity: i64, form: &RequestForm) -> AppResult<NewRequest> {
    let child = form
        .enfant
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|id| context.children.iter().any(|c| c.id == *id))
        .ok_or_else(|| AppError::invalid("choisissez l'enfant à inscrire"))?;
    let starts = form_date(&form.debut, "la date de début")?
        .ok_or_else(|| AppError::invalid("la date de début est obligatoire"))?;
    let ends = form_date(&form.fin, "la date de fin")?;
    let mut wished_week: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for wish in &form.semaine {
        let (day, unit) = wish
            .split_once('|')
            .filter(|(day, unit)| {
                WEEKDAYS.iter().any(|(_, code, _)| code == day)
                    && context.units.iter().any(|u| &u.code == unit)
            })
            .ok_or_else(|| {
                AppError::invalid("une case de la semaine souhaitée n'est pas valable")
            })?;
        wished_week
            .entry(day.to_string())
            .or_default()
            .push(unit.to_string());
    }
    Ok(NewRequest {
        child_id: child,
        activity_id: activity,
        starts,
        ends,
        wished_week,
    })
}

/// Files the request, then (once committed) mails its confirmation to the family (POR-05);
/// a mail that cannot be sent leaves the request filed.
async fn file_request(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    path: web::Path<i64>,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> AppResult<HttpResponse> {
    let activity = path.into_inner();
    let account = account_of(&principal)?;
    let context = form_context(&state, &city, &principal, activity).await?;
    let settings = scheduling::settings(&state, &city).await?;
    let now = clock::now();
    let filed = match new_request(&context, activity, &form) {
        Ok(request) => {
            state
                .db
                .run(city.scope(&principal.actor()), move |conn| {
                    Box::pin(async move {
                        let view =
                            enrolment::request(conn, &settings, &request, Channel::Portal, now)
                                .await?;
                        enrolment::notice(conn, view.id, Some(account)).await
                    })
                })
                .await
        }
        Err(error) => Err(error),
    };
    match filed {
        Ok(notice) => {
            notices::mail_request_filed(&state, &city, &origin(&req), &notice).await;
            let view = notice.enrolment;
            let missing = if view.missing.is_empty() {
                String::new()
            } else {
                format!(
                    " Pour compléter le dossier, il manque : {}.",
                    view.missing.join(", ")
                )
            };
            Ok(flash::redirect(
                "/inscriptions",
                &format!(
                    "Demande n° {} enregistrée pour {} à « {} » : {}.{missing}",
                    view.number,
                    view.child_name,
                    view.activity,
                    enrolment::status_label(&view.status).to_lowercase()
                ),
            ))
        }
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let message = family::capitalised(&error.to_string());
            render_form(
                &state,
                &city,
                &principal,
                &csrf,
                &context,
                &form,
                Some(&message),
            )
            .await
        }
        Err(other) => Err(other),
    }
}
