//! The activity catalogue in the back-office: structures, the list of activities and their
//! creation from a kind's template, and one page per activity whose sections (general,
//! units, groups, capacities, opening calendar, notice delays, registration periods,
//! commission criteria) each carry their small forms.
//!
//! Permissions: the route needs `activities` somewhere in the city; the handler narrows it
//! to the activity (`activity:<id>`) or its structure (`structure:<id>`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::agent_layout;
use crate::domain::activity::catalogue::{
    self, ActivityPatch, GroupInput, HOLIDAY_KINDS, NewActivity, NewCapacity, NewPeriod,
    NewStructure, Notice, UnitInput, WEEKDAYS,
};
use crate::domain::activity::commission::{self, Criterion};
use crate::domain::activity::model;
use crate::domain::activity::population::Population;
use crate::domain::activity::schools::{self as school_model, LEVELS};
use crate::domain::calendar::paris::paris_instant;
use crate::domain::calendar::{DayCount, NoticeRule, NoticeUnit, OpeningRule};
use crate::domain::family::documents;
use crate::platform::auth::authz::{Action, CITY};
use crate::platform::clock;
use crate::platform::db::{Conn, Work};
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;
use crate::web::faces::{CsrfToken, CurrentCity};
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Principal, Routes};
use crate::web::page::{Layout, html};
use crate::web::{State, flash};

mod activity;
mod forms;

use activity::*;

pub fn routes(routes: &mut Routes) {
    let read = Need::Agent("activities", Action::Read);
    let write = Need::Agent("activities", Action::Write);
    routes
        .get("/agent/activites", read, list_page)
        .post("/agent/activites", write, create)
        .get("/agent/structures", read, structures_page)
        .post("/agent/structures", write, create_structure)
        .get("/agent/activites/{id}", read, activity_page)
        .post("/agent/activites/{id}", write, update_general)
        .post("/agent/activites/{id}/unites", write, add_unit)
        .post("/agent/activites/{id}/unites/{unit}", write, update_unit)
        .post(
            "/agent/activites/{id}/unites/{unit}/supprimer",
            write,
            remove_unit,
        )
        .post("/agent/activites/{id}/groupes", write, add_group)
        .post("/agent/activites/{id}/groupes/{group}", write, update_group)
        .post(
            "/agent/activites/{id}/groupes/{group}/supprimer",
            write,
            remove_group,
        )
        .post("/agent/activites/{id}/capacites", write, add_capacity)
        .post(
            "/agent/activites/{id}/capacites/{capacity}/fin",
            write,
            end_capacity,
        )
        .post("/agent/activites/{id}/ouverture", write, add_opening)
        .post(
            "/agent/activites/{id}/ouverture/{index}/supprimer",
            write,
            remove_opening,
        )
        .post("/agent/activites/{id}/delais", write, set_notice)
        .post("/agent/activites/{id}/periodes", write, add_period)
        .post(
            "/agent/activites/{id}/periodes/{period}/supprimer",
            write,
            remove_period,
        )
        .post("/agent/activites/{id}/criteres", write, add_criterion)
        .post(
            "/agent/activites/{id}/criteres/{criterion}/supprimer",
            write,
            remove_criterion,
        );
}

// ---------------------------------------------------------------------------------------
// What the handlers of the catalogue and schools pages share

/// The caller, its city and its CSRF token: what every page handler here needs.
pub(super) struct Desk {
    pub state: State,
    pub city: Arc<City>,
    pub principal: Principal,
    pub csrf: CsrfToken,
}

impl FromRequest for Desk {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let parts = <(State, CurrentCity, Principal, CsrfToken)>::from_request(req, payload);
        Box::pin(async move {
            let (state, CurrentCity(city), principal, csrf) = parts.await?;
            Ok(Desk {
                state,
                city,
                principal,
                csrf,
            })
        })
    }
}

impl Desk {
    /// `state.db.run(city.scope(actor), work)`: one transaction in the caller's city.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut Conn) -> Work<'c, T> + Send,
    {
        self.state
            .db
            .run(self.city.scope(&self.principal.actor()), work)
            .await
    }

    pub async fn layout<'a>(&'a self, title: &'a str, current: &str) -> AppResult<Layout<'a>> {
        agent_layout(
            &self.state,
            &self.city,
            &self.principal,
            &self.csrf,
            title,
            current,
        )
        .await
    }

    /// Whether the caller may `action` on `object` within one of `populations`.
    pub async fn may_in(
        &self,
        object: &str,
        populations: &[String],
        action: Action,
    ) -> AppResult<bool> {
        for population in populations {
            if self
                .principal
                .may(&self.state, &self.city, object, population, action)
                .await?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Like [`Desk::may_in`], a refusal audited and answered 403.
    pub async fn require_in(
        &self,
        object: &str,
        populations: &[String],
        action: Action,
    ) -> AppResult<()> {
        if self.may_in(object, populations, action).await? {
            return Ok(());
        }
        let first = populations.first().map_or(CITY, String::as_str);
        self.principal
            .require(&self.state, &self.city, object, first, action)
            .await
    }

    /// Renders `template`; a refused form answers 422 with the page.
    pub fn page(
        &self,
        layout: &Layout<'_>,
        template: &str,
        data: &Value,
        refused: bool,
    ) -> AppResult<HttpResponse> {
        let mut response = html(&self.state.templates, layout, template, data)?;
        if refused {
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        }
        Ok(response)
    }
}

/// The pending flash message of `req`; [`shown`] clears it on the page that shows it.
pub(super) fn pending(req: &HttpRequest) -> Option<String> {
    flash::take(req)
}

pub(super) fn shown(mut response: HttpResponse, message: &Option<String>) -> HttpResponse {
    if message.is_some() {
        flash::clear(&mut response);
    }
    response
}

/// Bad input (nothing changed): shown on the form, not as an error page.
pub(super) fn refusal(error: &AppError) -> Option<String> {
    matches!(error, AppError::Invalid(_) | AppError::Conflict(_)).then(|| error.to_string())
}

/// An optional field: empty is `None`, anything unreadable a French refusal.
fn field<T>(
    text: &str,
    what: &str,
    hint: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> AppResult<Option<T>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parse(text)
        .map(Some)
        .ok_or_else(|| AppError::invalid(format!("valeur invalide pour {what} : « {text} »{hint}")))
}

pub(super) fn number<T: std::str::FromStr>(text: &str, what: &str) -> AppResult<Option<T>> {
    field(&text.replace([' ', '\u{a0}'], ""), what, "", |t| {
        t.parse().ok()
    })
}

pub(super) fn day(text: &str, what: &str) -> AppResult<Option<NaiveDate>> {
    field(text, what, " (JJ/MM/AAAA attendu)", |t| {
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
            .ok()
    })
}

fn time(text: &str, what: &str) -> AppResult<Option<NaiveTime>> {
    field(text, what, " (HH:MM attendu)", |t| {
        NaiveTime::parse_from_str(t, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
            .ok()
    })
}

/// A `datetime-local` value, Paris time.
fn instant(text: &str, what: &str) -> AppResult<Option<DateTime<Utc>>> {
    field(text, what, " (date et heure attendues)", |t| {
        NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(t, "%d/%m/%Y %H:%M"))
            .ok()
            .map(|at| paris_instant(at.date(), at.time()))
    })
}

pub(super) fn needed<T>(value: Option<T>, what: &str) -> AppResult<T> {
    value.ok_or_else(|| AppError::invalid(format!("{what} : ce champ est obligatoire")))
}

fn weekdays(codes: &[String]) -> AppResult<Vec<Weekday>> {
    codes
        .iter()
        .map(|code| {
            WEEKDAYS
                .iter()
                .find(|(_, c, _)| c == code)
                .map(|(w, ..)| *w)
                .ok_or_else(|| AppError::invalid(format!("jour de la semaine inconnu « {code} »")))
        })
        .collect()
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn hm(time: NaiveTime) -> String {
    time.format("%H:%M").to_string()
}

/// Options of a select or check list: code, label and whether it is chosen.
pub(super) fn options<'a>(
    list: impl IntoIterator<Item = (&'a str, &'a str)>,
    chosen: &[String],
) -> Vec<Value> {
    list.into_iter()
        .map(|(code, label)| json!({ "code": code, "label": label, "chosen": chosen.iter().any(|c| c == code) }))
        .collect()
}

/// « de 36 à 71 mois ».
fn ages_text(min: Option<i32>, max: Option<i32>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("de {min} à {max} mois"),
        (Some(min), None) => format!("à partir de {min} mois"),
        (None, Some(max)) => format!("jusqu'à {max} mois"),
        (None, None) => "tous âges".into(),
    }
}

fn checked(flag: bool) -> Option<String> {
    flag.then(|| "1".to_string())
}

// ---------------------------------------------------------------------------------------
// Structures

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct StructureForm {
    name: String,
    kind: String,
    address: String,
    daily_capacity: String,
}

async fn structures_page(desk: Desk, req: HttpRequest) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let response = render_structures(&desk, message.as_deref(), None).await?;
    Ok(shown(response, &message))
}

async fn render_structures(
    desk: &Desk,
    message: Option<&str>,
    refused: Option<(String, &StructureForm)>,
) -> AppResult<HttpResponse> {
    let list = desk
        .run(|conn| Box::pin(async move { catalogue::structures(conn).await }))
        .await?;
    let can_create = desk
        .may_in("activities", &[CITY.to_string()], Action::Write)
        .await?;
    let layout = desk
        .layout("Structures", "/agent/activites")
        .await?
        .flash(message);
    let form = refused.as_ref().map(|r| r.1.clone()).unwrap_or_default();
    desk.page(
        &layout,
        "backoffice/activities_structures",
        &json!({
            "structures": list,
            "can_create": can_create,
            "error": refused.as_ref().map(|r| &r.0),
            "form": form,
            "kinds": options(catalogue::STRUCTURE_KINDS.iter().copied(), std::slice::from_ref(&form.kind)),
        }),
        refused.is_some(),
    )
}

async fn create_structure(
    desk: Desk,
    CsrfForm(form): CsrfForm<StructureForm>,
) -> AppResult<HttpResponse> {
    desk.require_in("activities", &[CITY.to_string()], Action::Write)
        .await?;
    let input = form.clone();
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let new = NewStructure {
                    daily_capacity: number(&input.daily_capacity, "les places par jour")?,
                    name: input.name,
                    kind: input.kind,
                    address: input.address,
                };
                catalogue::create_structure(conn, &new).await
            })
        })
        .await;
    match outcome {
        Ok(_) => Ok(flash::redirect(
            "/agent/structures",
            &format!("La structure « {} » est créée.", form.name.trim()),
        )),
        Err(error) => match refusal(&error) {
            Some(message) => render_structures(&desk, None, Some((message, &form))).await,
            None => Err(error),
        },
    }
}

// ---------------------------------------------------------------------------------------
// The list of activities

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct ActivityForm {
    code: String,
    name: String,
    kind: String,
    structure_id: String,
    description: String,
}

fn populations(activity: i64, structure: Option<i64>) -> Vec<String> {
    std::iter::once(format!("activity:{activity}"))
        .chain(structure.map(|s| format!("structure:{s}")))
        .collect()
}

async fn list_page(desk: Desk, req: HttpRequest) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let response = render_list(&desk, message.as_deref(), None).await?;
    Ok(shown(response, &message))
}

async fn render_list(
    desk: &Desk,
    message: Option<&str>,
    refused: Option<(String, &ActivityForm)>,
) -> AppResult<HttpResponse> {
    let (all, structures) = desk
        .run(|conn| {
            Box::pin(async move {
                Ok((
                    model::summaries(conn, true).await?,
                    catalogue::structures(conn).await?,
                ))
            })
        })
        .await?;
    let mut visible = Vec::new();
    for activity in all {
        let scope = populations(activity.id, activity.structure_id);
        if desk.may_in("activities", &scope, Action::Read).await? {
            visible.push(activity);
        }
    }
    let can_create = desk
        .may_in("activities", &[CITY.to_string()], Action::Write)
        .await?;
    let layout = desk
        .layout("Activités", "/agent/activites")
        .await?
        .flash(message);
    let form = refused.as_ref().map(|r| r.1.clone()).unwrap_or_default();
    desk.page(
        &layout,
        "backoffice/activities",
        &json!({
            "activities": visible,
            "can_create": can_create,
            "error": refused.as_ref().map(|r| &r.0),
            "form": form,
            "kinds": options(model::KINDS.iter().copied(), std::slice::from_ref(&form.kind)),
            "structures": structure_options(&structures, &form.structure_id),
        }),
        refused.is_some(),
    )
}

fn structure_options(list: &[catalogue::StructureView], chosen: &str) -> Vec<Value> {
    list.iter()
        .map(|s| json!({ "id": s.id, "name": s.name, "chosen": s.id.to_string() == chosen }))
        .collect()
}

async fn create(desk: Desk, CsrfForm(form): CsrfForm<ActivityForm>) -> AppResult<HttpResponse> {
    let structure: Option<i64> = number(&form.structure_id, "la structure").unwrap_or(None);
    let mut scope = vec![CITY.to_string()];
    scope.extend(structure.map(|s| format!("structure:{s}")));
    desk.require_in("activities", &scope, Action::Write).await?;
    let input = form.clone();
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let new = NewActivity {
                    structure_id: number(&input.structure_id, "la structure")?,
                    code: input.code,
                    name: input.name,
                    kind: input.kind,
                    description: input.description,
                };
                catalogue::create_activity(conn, &new).await
            })
        })
        .await;
    match outcome {
        Ok(id) => Ok(flash::redirect(
            &format!("/agent/activites/{id}"),
            &format!(
                "L'activité « {} » est créée avec le modèle « {} » : vérifiez ses unités, \
                 groupes, calendrier et délais.",
                form.name.trim(),
                model::kind_label(&form.kind)
            ),
        )),
        Err(error) => match refusal(&error) {
            Some(message) => render_list(&desk, None, Some((message, &form))).await,
            None => Err(error),
        },
    }
}
