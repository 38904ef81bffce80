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

// ---------------------------------------------------------------------------------------
// One activity

/// A form of the activity page that was refused: its section (anchor), its key, why, and
/// what was typed (shown again).
struct Refused {
    section: &'static str,
    key: String,
    message: String,
    input: Value,
}

/// Where a change comes from on the activity page.
struct Origin {
    section: &'static str,
    key: String,
    input: Value,
}

impl Origin {
    fn new(section: &'static str, key: impl Into<String>, input: &impl Serialize) -> Origin {
        Origin {
            section,
            key: key.into(),
            input: serde_json::to_value(input).unwrap_or(Value::Null),
        }
    }
}

impl Refused {
    /// The typed input of form `key` if it is the refused one, else `default`.
    fn or<T: DeserializeOwned>(refused: &Option<Refused>, key: &str, default: T) -> T {
        refused
            .as_ref()
            .filter(|r| r.key == key)
            .and_then(|r| serde_json::from_value(r.input.clone()).ok())
            .unwrap_or(default)
    }

    fn is(refused: &Option<Refused>, key: &str) -> bool {
        refused.as_ref().is_some_and(|r| r.key == key)
    }
}

/// 404 unless the activity is this city's, 403 unless the caller may `action` on it.
async fn allowed(desk: &Desk, id: i64, action: Action) -> AppResult<()> {
    let structure = desk
        .run(move |conn| Box::pin(async move { catalogue::structure_of(conn, id).await }))
        .await?;
    desk.require_in("activities", &populations(id, structure), action)
        .await
}

async fn activity_page(
    desk: Desk,
    id: web::Path<i64>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    allowed(&desk, id, Action::Read).await?;
    let message = pending(&req);
    let response = render_activity(&desk, id, message.as_deref(), None).await?;
    Ok(shown(response, &message))
}

/// Runs a change of activity `id`; bad input brings the page back with the French error
/// by the form and what was typed (nothing changed), otherwise a redirect with `done`.
async fn change<F>(
    desk: Desk,
    id: i64,
    origin: Origin,
    done: &str,
    work: F,
) -> AppResult<HttpResponse>
where
    F: for<'c> FnOnce(&'c mut Conn) -> Work<'c, ()> + Send,
{
    allowed(&desk, id, Action::Write).await?;
    match desk.run(work).await {
        Ok(()) => Ok(flash::redirect(
            &format!("/agent/activites/{id}#{}", origin.section),
            done,
        )),
        Err(error) => match refusal(&error) {
            Some(message) => {
                let refused = Refused {
                    section: origin.section,
                    key: origin.key,
                    message,
                    input: origin.input,
                };
                render_activity(&desk, id, None, Some(refused)).await
            }
            None => Err(error),
        },
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct GeneralForm {
    name: String,
    structure_id: String,
    description: String,
    when_full: String,
    late_absence: String,
    offer_hours: String,
    requires_enrolment: Option<String>,
    meal_choice: Option<String>,
    active: Option<String>,
    required_documents: Vec<String>,
    required_facts: Vec<String>,
}

impl GeneralForm {
    fn of(patch: &ActivityPatch) -> GeneralForm {
        GeneralForm {
            name: patch.name.clone(),
            structure_id: patch
                .structure_id
                .map(|s| s.to_string())
                .unwrap_or_default(),
            description: patch.description.clone(),
            when_full: patch.when_full.clone(),
            late_absence: patch.late_absence.clone().unwrap_or_default(),
            offer_hours: patch.offer_hours.to_string(),
            requires_enrolment: checked(patch.requires_enrolment),
            meal_choice: checked(patch.meal_choice),
            active: checked(patch.active),
            required_documents: patch.required_documents.clone(),
            required_facts: patch.required_facts.clone(),
        }
    }

    fn patch(self) -> AppResult<ActivityPatch> {
        Ok(ActivityPatch {
            structure_id: number(&self.structure_id, "la structure")?,
            offer_hours: needed(
                number(&self.offer_hours, "le délai de réponse")?,
                "le délai de réponse à une place proposée",
            )?,
            late_absence: some(&self.late_absence),
            requires_enrolment: self.requires_enrolment.is_some(),
            meal_choice: self.meal_choice.is_some(),
            active: self.active.is_some(),
            name: self.name,
            description: self.description,
            when_full: self.when_full,
            required_documents: self.required_documents,
            required_facts: self.required_facts,
        })
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct UnitForm {
    code: String,
    label: String,
    starts: String,
    ends: String,
    hourly: Option<String>,
    includes: Vec<String>,
    excludes: Vec<String>,
    requires: Vec<String>,
}

impl UnitForm {
    fn of(unit: &model::Unit) -> UnitForm {
        UnitForm {
            code: unit.code.clone(),
            label: unit.label.clone(),
            starts: hm(unit.starts),
            ends: hm(unit.ends),
            hourly: checked(unit.hourly),
            includes: unit.includes.clone(),
            excludes: unit.excludes.clone(),
            requires: unit.requires.clone(),
        }
    }

    fn input(self) -> AppResult<UnitInput> {
        Ok(UnitInput {
            starts: needed(time(&self.starts, "l'heure de début")?, "l'heure de début")?,
            ends: needed(time(&self.ends, "l'heure de fin")?, "l'heure de fin")?,
            hourly: self.hourly.is_some(),
            code: self.code,
            label: self.label,
            includes: self.includes,
            excludes: self.excludes,
            requires: self.requires,
        })
    }

    /// The other units, each with whether this form includes, excludes or requires it.
    fn others(&self, units: &[model::Unit], except: Option<i64>) -> Vec<Value> {
        let has = |list: &[String], code: &str| list.iter().any(|c| c == code);
        units
            .iter()
            .filter(|u| Some(u.id) != except)
            .map(|u| {
                json!({
                    "code": u.code, "label": u.label,
                    "includes": has(&self.includes, &u.code),
                    "excludes": has(&self.excludes, &u.code),
                    "requires": has(&self.requires, &u.code),
                })
            })
            .collect()
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct GroupForm {
    name: String,
    min_age_months: String,
    max_age_months: String,
    children_per_staff: String,
    levels: Vec<String>,
}

impl GroupForm {
    fn of(group: &model::Group) -> GroupForm {
        let text = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
        GroupForm {
            name: group.name.clone(),
            min_age_months: text(group.min_age_months),
            max_age_months: text(group.max_age_months),
            children_per_staff: text(group.children_per_staff),
            levels: group.levels.clone(),
        }
    }

    fn input(self) -> AppResult<GroupInput> {
        Ok(GroupInput {
            min_age_months: number(&self.min_age_months, "l'âge minimum")?,
            max_age_months: number(&self.max_age_months, "l'âge maximum")?,
            children_per_staff: number(&self.children_per_staff, "le taux d'encadrement")?,
            name: self.name,
            levels: self.levels,
        })
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct CapacityForm {
    /// permanent or punctual.
    kind: String,
    group_id: String,
    unit_id: String,
    day: String,
    valid_from: String,
    valid_to: String,
    places: String,
    reason: String,
}

impl CapacityForm {
    fn input(self) -> AppResult<NewCapacity> {
        let punctual = self.kind == "punctual";
        let only = day(&self.day, "le jour")?;
        let valid_from = day(&self.valid_from, "la date de début")?;
        Ok(NewCapacity {
            group_id: number(&self.group_id, "le groupe")?,
            unit_id: number(&self.unit_id, "l'unité")?,
            day: if punctual {
                Some(needed(only, "le jour de la capacité ponctuelle")?)
            } else {
                None
            },
            valid_from: if punctual {
                only.unwrap_or_default()
            } else {
                needed(valid_from, "la date de début")?
            },
            valid_to: day(&self.valid_to, "la date de fin")?,
            places: needed(
                number(&self.places, "le nombre de places")?,
                "le nombre de places",
            )?,
            reason: self.reason,
        })
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct EndForm {
    valid_to: String,
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct OpeningForm {
    rule: String,
    weekdays: Vec<String>,
    holidays: Vec<String>,
    from: String,
    to: String,
    date: String,
    label: String,
}

impl OpeningForm {
    fn rule(self) -> AppResult<OpeningRule> {
        let days = weekdays(&self.weekdays)?;
        let label = some(&self.label);
        Ok(match self.rule.as_str() {
            "school_days" => OpeningRule::SchoolDays { weekdays: days },
            "wednesdays" => OpeningRule::Wednesdays,
            "holidays" => OpeningRule::Holidays {
                weekdays: days,
                kinds: self
                    .holidays
                    .iter()
                    .map(|code| {
                        HOLIDAY_KINDS
                            .iter()
                            .find(|(_, c)| c == code)
                            .map(|(k, _)| *k)
                            .ok_or_else(|| {
                                AppError::invalid(format!("vacances inconnues « {code} »"))
                            })
                    })
                    .collect::<AppResult<_>>()?,
            },
            "weekdays" => OpeningRule::Weekdays { weekdays: days },
            "closure" => OpeningRule::Closure {
                from: needed(
                    day(&self.from, "le début de la fermeture")?,
                    "le début de la fermeture",
                )?,
                to: needed(
                    day(&self.to, "la fin de la fermeture")?,
                    "la fin de la fermeture",
                )?,
                label,
            },
            "exceptional_opening" => OpeningRule::ExceptionalOpening {
                date: needed(
                    day(&self.date, "le jour d'ouverture exceptionnelle")?,
                    "le jour d'ouverture exceptionnelle",
                )?,
                label,
            },
            other => {
                return Err(AppError::invalid(format!(
                    "type de règle d'ouverture inconnu « {other} »"
                )));
            }
        })
    }
}

const OPENING_KINDS: &[(&str, &str)] = &[
    ("school_days", "Jours d'école (hors vacances scolaires)"),
    ("wednesdays", "Mercredis (hors vacances scolaires)"),
    ("holidays", "Vacances scolaires"),
    ("weekdays", "Certains jours, toute l'année"),
    ("closure", "Fermeture"),
    ("exceptional_opening", "Ouverture exceptionnelle"),
];

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct NoticeForm {
    /// booking or cancel.
    which: String,
    none: Option<String>,
    amount: String,
    /// days or hours.
    unit: String,
    /// calendar or working.
    count: String,
    excluded: Vec<String>,
    cutoff: String,
}

impl NoticeForm {
    fn of(which: &str, rule: Option<&NoticeRule>) -> NoticeForm {
        let Some(rule) = rule else {
            return NoticeForm {
                which: which.into(),
                none: checked(true),
                unit: "days".into(),
                count: "calendar".into(),
                ..NoticeForm::default()
            };
        };
        let (count, excluded) = match &rule.count {
            DayCount::CalendarDays => ("calendar", vec![]),
            DayCount::WorkingDays { excluded_weekdays } => ("working", excluded_weekdays.clone()),
        };
        NoticeForm {
            which: which.into(),
            none: None,
            amount: rule.amount.to_string(),
            unit: if rule.unit == NoticeUnit::Hours {
                "hours"
            } else {
                "days"
            }
            .into(),
            count: count.into(),
            excluded: WEEKDAYS
                .iter()
                .filter(|(w, ..)| excluded.contains(w))
                .map(|(_, code, _)| code.to_string())
                .collect(),
            cutoff: rule.cutoff_time.map(hm).unwrap_or_default(),
        }
    }

    fn which(&self) -> AppResult<Notice> {
        match self.which.as_str() {
            "booking" => Ok(Notice::Booking),
            "cancel" => Ok(Notice::Cancel),
            other => Err(AppError::invalid(format!("délai inconnu « {other} »"))),
        }
    }

    fn rule(self) -> AppResult<Option<NoticeRule>> {
        if self.none.is_some() {
            return Ok(None);
        }
        let what = "le délai (un nombre entier, 0 ou plus)";
        Ok(Some(NoticeRule {
            amount: needed(number(&self.amount, what)?, what)?,
            unit: match self.unit.as_str() {
                "hours" => NoticeUnit::Hours,
                "days" => NoticeUnit::Days,
                other => {
                    return Err(AppError::invalid(format!(
                        "unité de délai inconnue « {other} »"
                    )));
                }
            },
            count: match self.count.as_str() {
                "working" => DayCount::WorkingDays {
                    excluded_weekdays: weekdays(&self.excluded)?,
                },
                "calendar" => DayCount::CalendarDays,
                other => return Err(AppError::invalid(format!("décompte inconnu « {other} »"))),
            },
            cutoff_time: time(&self.cutoff, "l'heure limite")?,
        }))
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct PeriodForm {
    label: String,
    opens_at: String,
    closes_at: String,
    residents_only: Option<String>,
    min_age_months: String,
    max_age_months: String,
    levels: Vec<String>,
    school_ids: Vec<String>,
    qf_max: String,
}

impl PeriodForm {
    fn input(self) -> AppResult<NewPeriod> {
        Ok(NewPeriod {
            opens_at: needed(instant(&self.opens_at, "l'ouverture")?, "l'ouverture")?,
            closes_at: needed(instant(&self.closes_at, "la fermeture")?, "la fermeture")?,
            population: Population {
                residents_only: self.residents_only.is_some(),
                min_age_months: number(&self.min_age_months, "l'âge minimum")?,
                max_age_months: number(&self.max_age_months, "l'âge maximum")?,
                school_ids: self
                    .school_ids
                    .iter()
                    .filter_map(|s| number(s, "l'école").transpose())
                    .collect::<AppResult<_>>()?,
                levels: self.levels,
                qf_max: number(&self.qf_max, "le plafond de quotient familial")?,
            },
            label: self.label,
        })
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct CriterionForm {
    kind: String,
    threshold: String,
    school_id: String,
    weight: String,
}

impl CriterionForm {
    fn input(self) -> AppResult<Criterion> {
        Ok(Criterion {
            parameter: match self.kind.as_str() {
                "qf_at_most" => self.threshold,
                "school" => self.school_id,
                _ => String::new(),
            },
            weight: needed(number(&self.weight, "le poids")?, "le poids")?,
            kind: self.kind,
        })
    }
}

async fn render_activity(
    desk: &Desk,
    id: i64,
    message: Option<&str>,
    refused: Option<Refused>,
) -> AppResult<HttpResponse> {
    let today = clock::today();
    let (view, structures, schools) = desk
        .run(move |conn| {
            Box::pin(async move {
                let view = catalogue::view(conn, id, today).await?;
                let structures = catalogue::structures(conn).await?;
                let schools = school_model::schools(
                    conn,
                    &crate::domain::activity::facts::school_year(today),
                )
                .await?;
                Ok((view, structures, schools))
            })
        })
        .await?;
    let write = desk
        .may_in(
            "activities",
            &populations(id, view.general.structure_id),
            Action::Write,
        )
        .await?;
    let r = &refused;
    let general = Refused::or(r, "general", GeneralForm::of(&view.general));
    let units: Vec<Value> = view
        .units
        .iter()
        .map(|unit| {
            let key = format!("unit-{}", unit.id);
            let form = Refused::or(r, &key, UnitForm::of(unit));
            json!({
                "unit": unit, "form": form, "others": form.others(&view.units, Some(unit.id)),
                "open": Refused::is(r, &key),
                "hours": format!("{} – {}", hm(unit.starts), hm(unit.ends)),
            })
        })
        .collect();
    let new_unit = Refused::or(r, "unit_new", UnitForm::default());
    let levels = LEVELS.iter().copied();
    let groups: Vec<Value> = view
        .groups
        .iter()
        .map(|group| {
            let key = format!("group-{}", group.id);
            let form = Refused::or(r, &key, GroupForm::of(group));
            json!({
                "group": group, "levels": options(levels.clone(), &form.levels), "form": form,
                "open": Refused::is(r, &key),
                "ages": ages_text(group.min_age_months, group.max_age_months),
                "ratio": group.children_per_staff.map_or_else(
                    || "—".to_string(),
                    |n| format!("1 adulte pour {n} enfant{}", if n > 1 { "s" } else { "" }),
                ),
            })
        })
        .collect();
    let new_group = Refused::or(r, "group_new", GroupForm::default());
    let new_capacity = Refused::or(
        r,
        "capacity_new",
        CapacityForm {
            kind: "permanent".into(),
            valid_from: today.format("%Y-%m-%d").to_string(),
            ..CapacityForm::default()
        },
    );
    let new_opening = Refused::or(
        r,
        "opening_new",
        OpeningForm {
            rule: "closure".into(),
            ..OpeningForm::default()
        },
    );
    let notices: Vec<Value> = [
        (
            "booking",
            "Réservation",
            &view.booking_notice,
            &view.booking_notice_text,
        ),
        (
            "cancel",
            "Annulation",
            &view.cancel_notice,
            &view.cancel_notice_text,
        ),
    ]
    .into_iter()
    .map(|(which, title, rule, text)| {
        let key = format!("notice-{which}");
        let form = Refused::or(r, &key, NoticeForm::of(which, rule.as_ref()));
        json!({
            "which": which, "title": title, "text": text, "open": Refused::is(r, &key),
            "excluded": options(WEEKDAYS[..5].iter().map(|(_, c, l)| (*c, *l)), &form.excluded),
            "form": form,
        })
    })
    .collect();
    let new_period = Refused::or(r, "period_new", PeriodForm::default());
    let new_criterion = Refused::or(r, "criterion_new", CriterionForm::default());
    let school_names: Vec<(String, String)> = schools
        .iter()
        .map(|s| (s.school.id.to_string(), s.school.name.clone()))
        .collect();
    let school_list = || school_names.iter().map(|(i, n)| (i.as_str(), n.as_str()));
    let facts = catalogue::FACTS.iter().copied();
    let title = format!("{} — activité", view.general.name);
    let layout = desk
        .layout(&title, "/agent/activites")
        .await?
        .flash(message);
    let data = json!({
        "activity": view,
        "write": write,
        "error": refused.as_ref().map(|r| json!({ "section": r.section, "message": r.message })),
        "general": general,
        "structures": structure_options(&structures, &general.structure_id),
        "when_full": options(catalogue::WHEN_FULL.iter().copied(), std::slice::from_ref(&general.when_full)),
        "late_absences": options(catalogue::LATE_ABSENCES.iter().copied(), std::slice::from_ref(&general.late_absence)),
        "documents": options(documents::KINDS.iter().copied(), &general.required_documents),
        "facts": options(facts, &general.required_facts),
        "units": units,
        "new_unit": { "form": new_unit, "others": new_unit.others(&view.units, None), "open": Refused::is(r, "unit_new") },
        "groups": groups,
        "new_group": { "form": new_group, "levels": options(levels.clone(), &new_group.levels), "open": Refused::is(r, "group_new") },
        "new_capacity": {
            "form": new_capacity, "open": Refused::is(r, "capacity_new"),
            "punctual": new_capacity.kind == "punctual",
            "groups": view.groups.iter().map(|g| json!({ "id": g.id, "name": g.name, "chosen": g.id.to_string() == new_capacity.group_id })).collect::<Vec<_>>(),
            "units": view.units.iter().map(|u| json!({ "id": u.id, "label": u.label, "chosen": u.id.to_string() == new_capacity.unit_id })).collect::<Vec<_>>(),
        },
        "today": today.format("%Y-%m-%d").to_string(),
        "new_opening": {
            "form": new_opening, "open": Refused::is(r, "opening_new"),
            "kinds": options(OPENING_KINDS.iter().copied(), std::slice::from_ref(&new_opening.rule)),
            "weekdays": options(WEEKDAYS.iter().map(|(_, c, l)| (*c, *l)), &new_opening.weekdays),
            "holidays": options(HOLIDAY_KINDS.iter().map(|(k, c)| (*c, k.label())), &new_opening.holidays),
        },
        "notices": notices,
        "new_period": {
            "form": new_period, "open": Refused::is(r, "period_new"),
            "levels": options(levels, &new_period.levels),
            "schools": options(school_list(), &new_period.school_ids),
        },
        "new_criterion": {
            "form": new_criterion, "open": Refused::is(r, "criterion_new"),
            "kinds": options(commission::KINDS.iter().copied(), std::slice::from_ref(&new_criterion.kind)),
            "schools": options(school_list(), std::slice::from_ref(&new_criterion.school_id)),
        },
    });
    desk.page(&layout, "backoffice/activity", &data, refused.is_some())
}

async fn update_general(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<GeneralForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("general", "general", &form);
    change(
        desk,
        id,
        origin,
        "L'activité est enregistrée.",
        move |conn| {
            Box::pin(async move { catalogue::update_activity(conn, id, &form.patch()?).await })
        },
    )
    .await
}

async fn add_unit(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<UnitForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("unites", "unit_new", &form);
    change(desk, id, origin, "L'unité est ajoutée.", move |conn| {
        Box::pin(async move {
            catalogue::add_unit(conn, id, &form.input()?)
                .await
                .map(|_| ())
        })
    })
    .await
}

async fn update_unit(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<UnitForm>,
) -> AppResult<HttpResponse> {
    let (id, unit) = path.into_inner();
    let origin = Origin::new("unites", format!("unit-{unit}"), &form);
    change(desk, id, origin, "L'unité est enregistrée.", move |conn| {
        Box::pin(async move { catalogue::update_unit(conn, id, unit, &form.input()?).await })
    })
    .await
}

#[derive(Deserialize, Serialize, Default)]
struct Empty {}

async fn remove_unit(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, unit) = path.into_inner();
    let origin = Origin::new("unites", format!("unit-{unit}"), &form);
    change(desk, id, origin, "L'unité est supprimée.", move |conn| {
        Box::pin(async move { catalogue::remove_unit(conn, id, unit).await })
    })
    .await
}

async fn add_group(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<GroupForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("groupes", "group_new", &form);
    change(desk, id, origin, "Le groupe est ajouté.", move |conn| {
        Box::pin(async move {
            catalogue::add_group(conn, id, &form.input()?)
                .await
                .map(|_| ())
        })
    })
    .await
}

async fn update_group(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<GroupForm>,
) -> AppResult<HttpResponse> {
    let (id, group) = path.into_inner();
    let origin = Origin::new("groupes", format!("group-{group}"), &form);
    change(desk, id, origin, "Le groupe est enregistré.", move |conn| {
        Box::pin(async move { catalogue::update_group(conn, id, group, &form.input()?).await })
    })
    .await
}

async fn remove_group(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, group) = path.into_inner();
    let origin = Origin::new("groupes", format!("group-{group}"), &form);
    change(desk, id, origin, "Le groupe est supprimé.", move |conn| {
        Box::pin(async move { catalogue::remove_group(conn, id, group).await })
    })
    .await
}

async fn add_capacity(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<CapacityForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("capacites", "capacity_new", &form);
    change(
        desk,
        id,
        origin,
        "La capacité est enregistrée.",
        move |conn| {
            Box::pin(async move {
                catalogue::add_capacity(conn, id, &form.input()?)
                    .await
                    .map(|_| ())
            })
        },
    )
    .await
}

async fn end_capacity(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<EndForm>,
) -> AppResult<HttpResponse> {
    let (id, capacity) = path.into_inner();
    let origin = Origin::new("capacites", format!("capacity-{capacity}"), &form);
    change(
        desk,
        id,
        origin,
        "La fin de la capacité est enregistrée.",
        move |conn| {
            Box::pin(async move {
                let to = needed(day(&form.valid_to, "le dernier jour")?, "le dernier jour")?;
                catalogue::end_capacity(conn, id, capacity, to).await
            })
        },
    )
    .await
}

async fn add_opening(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<OpeningForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("ouverture", "opening_new", &form);
    change(
        desk,
        id,
        origin,
        "La règle est ajoutée au calendrier d'ouverture.",
        move |conn| {
            Box::pin(async move { catalogue::add_opening_rule(conn, id, form.rule()?).await })
        },
    )
    .await
}

async fn remove_opening(
    desk: Desk,
    path: web::Path<(i64, usize)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, index) = path.into_inner();
    let origin = Origin::new("ouverture", format!("opening-{index}"), &form);
    change(
        desk,
        id,
        origin,
        "La règle est retirée du calendrier d'ouverture.",
        move |conn| Box::pin(async move { catalogue::remove_opening_rule(conn, id, index).await }),
    )
    .await
}

async fn set_notice(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<NoticeForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("delais", format!("notice-{}", form.which), &form);
    change(
        desk,
        id,
        origin,
        "Le délai de prévenance est enregistré.",
        move |conn| {
            Box::pin(async move {
                let which = form.which()?;
                let rule = form.rule()?;
                catalogue::set_notice(conn, id, which, rule.as_ref()).await
            })
        },
    )
    .await
}

async fn add_period(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<PeriodForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("periodes", "period_new", &form);
    change(
        desk,
        id,
        origin,
        "La période d'inscription est ajoutée.",
        move |conn| {
            Box::pin(async move {
                catalogue::add_period(conn, id, &form.input()?)
                    .await
                    .map(|_| ())
            })
        },
    )
    .await
}

async fn remove_period(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, period) = path.into_inner();
    let origin = Origin::new("periodes", format!("period-{period}"), &form);
    change(
        desk,
        id,
        origin,
        "La période d'inscription est supprimée.",
        move |conn| Box::pin(async move { catalogue::remove_period(conn, id, period).await }),
    )
    .await
}

async fn add_criterion(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<CriterionForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("criteres", "criterion_new", &form);
    change(desk, id, origin, "Le critère est ajouté.", move |conn| {
        Box::pin(async move {
            catalogue::add_criterion(conn, id, &form.input()?)
                .await
                .map(|_| ())
        })
    })
    .await
}

async fn remove_criterion(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, criterion) = path.into_inner();
    let origin = Origin::new("criteres", format!("criterion-{criterion}"), &form);
    change(desk, id, origin, "Le critère est supprimé.", move |conn| {
        Box::pin(async move { catalogue::remove_criterion(conn, id, criterion).await })
    })
    .await
}
