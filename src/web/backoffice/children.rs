//! The child's page: civil status and photo, family numbers and households (both in shared
//! custody), guardians, custody calendar, health sheet (by confidentiality level),
//! authorisations, contacts, school history, history of changes.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDate, NaiveTime, Weekday};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use serde_json::json;

use super::agent_layout;
use super::families::visibility;
use crate::domain::calendar::{CustodyPattern, CustodyRule, Handover, HouseholdRef};
use crate::domain::family::dossier;
use crate::domain::family::health::{
    self, BasicHealth, ConfidentialHealth, DIETS, HealthSheet, MedicalHealth,
};
use crate::domain::family::model::PersonPatch;
use crate::domain::family::schema::{authorisation_kinds, authorisations, child_contacts};
use crate::domain::family::store;
use crate::platform::audit;
use crate::platform::auth::authz::{Action, CITY};
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;
use crate::web::faces::{CsrfToken, CurrentCity};
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Principal, Routes};
use crate::web::page::html;
use crate::web::{State, flash};

pub fn routes(routes: &mut Routes) {
    let write = Need::Agent("families", Action::Write);
    routes
        .get(
            "/agent/enfants/{id}",
            Need::Agent("families", Action::Read),
            child_page,
        )
        .post("/agent/personnes/{id}", write, update_person)
        .post("/agent/enfants/{id}/garde", write, set_custody)
        .post("/agent/enfants/{id}/contacts", write, add_contact)
        .post(
            "/agent/enfants/{id}/autorisations",
            write,
            set_authorisation,
        )
        .post(
            "/agent/enfants/{id}/sante",
            Need::Agent("health:basic", Action::Write),
            save_health,
        );
}

async fn child_page(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let message = flash::take(&req);
    let mut response = render_child(
        &state,
        &city,
        &principal,
        &csrf,
        id.into_inner(),
        message.as_deref(),
        None,
    )
    .await?;
    if message.is_some() {
        flash::clear(&mut response);
    }
    Ok(response)
}

/// The child's enrolments and the bookings of the coming two weeks, for the agents who may
/// read them (`null` for those who may read neither).
async fn activities_of(
    state: &State,
    city: &City,
    principal: &Principal,
    child: i64,
    enrolments: bool,
    bookings: bool,
) -> AppResult<serde_json::Value> {
    use crate::domain::activity::enrolment::{self, Filter};
    use crate::domain::booking::store;
    if !enrolments && !bookings {
        return Ok(serde_json::Value::Null);
    }
    let today = clock::today();
    let (enrolled, booked) = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                let filter = Filter {
                    child_id: Some(child),
                    ..Default::default()
                };
                let enrolled = if enrolments {
                    enrolment::list(conn, &filter, 50).await?
                } else {
                    Vec::new()
                };
                let booked = if bookings {
                    store::of_child(conn, child, today, today + chrono::Days::new(14)).await?
                } else {
                    Vec::new()
                };
                Ok((enrolled, booked))
            })
        })
        .await?;
    Ok(json!({
        "sees_enrolments": enrolments,
        "sees_bookings": bookings,
        "enrolments": enrolled.iter().map(|e| json!({
            "e": e, "status_label": enrolment::status_label(&e.status),
        })).collect::<Vec<_>>(),
        "bookings": booked,
    }))
}

async fn render_child(
    state: &State,
    city: &City,
    principal: &Principal,
    csrf: &CsrfToken,
    id: i64,
    message: Option<&str>,
    error: Option<&str>,
) -> AppResult<HttpResponse> {
    let visibility = visibility(state, city, principal).await?;
    let key = state.keys.city_key(&city.key_id);
    let today = clock::today();
    let (view, kinds, history) = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                let view = dossier::child(conn, &key, id, today, visibility).await?;
                let kinds: Vec<(i64, String)> = authorisation_kinds::table
                    .filter(authorisation_kinds::active.eq(true))
                    .order(authorisation_kinds::sort)
                    .select((authorisation_kinds::id, authorisation_kinds::label))
                    .load(conn)
                    .await?;
                let mut history = audit::history_of(conn, "persons", &id.to_string()).await?;
                for table in ["health_sheets", "custody_calendars"] {
                    history.extend(audit::history_of(conn, table, &id.to_string()).await?);
                }
                history.sort_by_key(|e| std::cmp::Reverse(e.id));
                Ok((view, kinds, history))
            })
        })
        .await?;
    let may =
        |object: &'static str, action: Action| principal.may(state, city, object, CITY, action);
    let activities = activities_of(
        state,
        city,
        principal,
        id,
        may("enrolments", Action::Read).await?,
        may("bookings", Action::Read).await?,
    )
    .await?;
    let health_write = json!({
        "basic": may("health:basic", Action::Write).await?,
        "medical": may("health:medical", Action::Write).await?,
        "confidential": may("health:confidential", Action::Write).await?,
    });
    let title = format!("{} {}", view.person.first_name, view.person.last_name);
    let layout = agent_layout(state, city, principal, csrf, &title, "/agent/familles")
        .await?
        .flash(message);
    let basic = view
        .health
        .as_ref()
        .and_then(|h| h.basic.clone())
        .unwrap_or_default();
    let mut response = html(
        &state.templates,
        &layout,
        "backoffice/child",
        &json!({
            "child": view,
            "activities": activities,
            "diets": DIETS.iter().map(|(code, label)| json!({ "code": code, "label": label, "selected": *code == basic.diet })).collect::<Vec<_>>(),
            "allergies_text": basic.allergies.join(", "),
            "kinds": kinds.iter().map(|(id, label)| json!({ "id": id, "label": label })).collect::<Vec<_>>(),
            "history": super::history::entry_views(&history),
            "rights": {
                "write": may("families", Action::Write).await?,
                "health": health_write,
                "audit": may("audit", Action::Read).await?,
                "documents": may("documents", Action::Read).await?,
            },
            "sees_health": visibility.health.basic || visibility.health.medical || visibility.health.confidential,
            "error": error,
            "today": clock::today().format("%Y-%m-%d").to_string(),
            "back": format!("/agent/enfants/{id}"),
        }),
    )?;
    if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// Runs a change about child `id` and comes back to its page (with the French error on
/// bad input, nothing changed).
async fn change<F>(
    state: State,
    city: &City,
    principal: &Principal,
    csrf: &CsrfToken,
    id: i64,
    done: &str,
    work: F,
) -> AppResult<HttpResponse>
where
    F: for<'c> FnOnce(&'c mut crate::platform::db::Conn) -> crate::platform::db::Work<'c, ()>
        + Send,
{
    match state.db.run(city.scope(&principal.actor()), work).await {
        Ok(()) => Ok(flash::redirect(&format!("/agent/enfants/{id}"), done)),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            render_child(
                &state,
                city,
                principal,
                csrf,
                id,
                None,
                Some(&error.to_string()),
            )
            .await
        }
        Err(other) => Err(other),
    }
}

fn date(text: &str, what: &str) -> AppResult<Option<NaiveDate>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| AppError::invalid(format!("{what} invalide « {text} » : JJ/MM/AAAA attendu")))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PersonForm {
    last_name: String,
    first_name: String,
    birth_date: String,
    birth_place: String,
    email: String,
    email_pro: String,
    phone_mobile: String,
    phone_home: String,
    phone_work: String,
    professional_situation: String,
    employer: String,
    /// Where to come back: a household or a child page.
    back: String,
}

/// Civil status and contacts of an adult or a child.
async fn update_person(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let back = if form.back.starts_with("/agent/") {
        form.back.clone()
    } else {
        "/agent/familles".to_string()
    };
    let patch = PersonPatch {
        last_name: Some(form.last_name),
        first_name: Some(form.first_name),
        birth_date: date(&form.birth_date, "date de naissance")?,
        birth_place: Some(form.birth_place),
        email: Some(form.email),
        email_pro: Some(form.email_pro),
        phone_mobile: Some(form.phone_mobile),
        phone_home: Some(form.phone_home),
        phone_work: Some(form.phone_work),
        professional_situation: Some(form.professional_situation),
        employer: Some(form.employer),
        ..PersonPatch::default()
    };
    state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move { store::update_person(conn, id, &patch, clock::today()).await })
        })
        .await?;
    Ok(flash::redirect(
        &back,
        "Les informations de la personne sont mises à jour.",
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CustodyForm {
    /// "usual" (no calendar), "alternate" (weeks A/B).
    mode: String,
    week_a: String,
    reference_date: String,
    handover_time: String,
}

/// Sets a simple calendar (alternate weeks, or usual residence only); richer calendars
/// (weekdays, date ranges, hourly slots) come through the API.
async fn set_custody(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<CustodyForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    change(state, &city, &principal, &csrf, id, "Le calendrier de garde est enregistré.", move |conn| {
        Box::pin(async move {
            let households = dossier::households_of(conn, id).await?;
            let patterns = match form.mode.as_str() {
                "alternate" => {
                    let week_a: i64 = form.week_a.parse().map_err(|_| AppError::invalid("choisissez le foyer de la semaine A"))?;
                    let week_b = households
                        .iter()
                        .map(|h| h.id)
                        .find(|h| *h != week_a)
                        .ok_or_else(|| AppError::invalid("la garde alternée demande que l'enfant soit rattaché à deux foyers"))?;
                    let reference = date(&form.reference_date, "date de référence")?.ok_or_else(|| AppError::invalid("indiquez un jour d'une semaine A"))?;
                    let handover = match form.handover_time.trim() {
                        "" => Handover::StartOfDay,
                        time => Handover::At { time: NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| AppError::invalid("heure de passage invalide (HH:MM)"))? },
                    };
                    vec![CustodyPattern {
                        valid_from: reference,
                        valid_to: None,
                        rule: CustodyRule::AlternateWeeks { week_a: HouseholdRef(week_a), week_b: HouseholdRef(week_b), reference_date: reference, week_start: Weekday::Mon, handover },
                    }]
                }
                _ => Vec::new(),
            };
            store::set_custody(conn, id, &patterns).await
        })
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContactForm {
    last_name: String,
    first_name: String,
    relationship: String,
    phone: String,
    /// "emergency", "pick_up", "forbidden".
    role: Vec<String>,
    priority: String,
    notes: String,
}

async fn add_contact(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<ContactForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    change(state, &city, &principal, &csrf, id, "Le contact est ajouté.", move |conn| {
        Box::pin(async move {
            store::require_child(conn, id).await?;
            let last = crate::domain::family::model::check_name(&form.last_name, "nom du contact")?;
            let first = crate::domain::family::model::check_name(&form.first_name, "prénom du contact")?;
            let phone = crate::domain::family::model::check_phone(Some(&form.phone))?.ok_or_else(|| AppError::invalid("le téléphone du contact est obligatoire"))?;
            let has = |r: &str| form.role.iter().any(|x| x == r);
            if has("pick_up") && has("forbidden") {
                return Err(AppError::invalid("une personne ne peut pas être à la fois autorisée et interdite de récupérer l'enfant"));
            }
            let priority: i16 = form.priority.trim().parse().unwrap_or(1);
            diesel::insert_into(child_contacts::table)
                .values((
                    child_contacts::child_id.eq(id),
                    child_contacts::last_name.eq(last.to_uppercase()),
                    child_contacts::first_name.eq(first),
                    child_contacts::relationship.eq(form.relationship.trim()),
                    child_contacts::phone.eq(phone),
                    child_contacts::emergency.eq(has("emergency")),
                    child_contacts::priority.eq(priority.clamp(1, 9)),
                    child_contacts::may_pick_up.eq(has("pick_up")),
                    child_contacts::forbidden_pick_up.eq(has("forbidden")),
                    child_contacts::notes.eq(form.notes.trim()),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuthorisationForm {
    kind_id: String,
    granted: String,
    valid_from: String,
    valid_to: String,
}

async fn set_authorisation(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<AuthorisationForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "L'autorisation est enregistrée.",
        move |conn| {
            Box::pin(async move {
                store::require_child(conn, id).await?;
                let kind: i64 = form
                    .kind_id
                    .parse()
                    .map_err(|_| AppError::invalid("choisissez une autorisation"))?;
                let from = date(&form.valid_from, "date de début")?.unwrap_or(clock::today());
                let to = date(&form.valid_to, "date de fin")?;
                if to.is_some_and(|t| t < from) {
                    return Err(AppError::invalid("la date de fin précède la date de début"));
                }
                diesel::insert_into(authorisations::table)
                    .values((
                        authorisations::kind_id.eq(kind),
                        authorisations::child_id.eq(id),
                        authorisations::granted.eq(form.granted == "oui"),
                        authorisations::valid_from.eq(from),
                        authorisations::valid_to.eq(to),
                    ))
                    .execute(conn)
                    .await?;
                Ok(())
            })
        },
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HealthForm {
    diet: String,
    allergies: String,
    pai: Option<String>,
    what_to_do: String,
    illnesses: String,
    medication: String,
    doctor: String,
    medical_notes: String,
    aeeh: Option<String>,
    mdph: Option<String>,
    confidential_notes: String,
    /// Which levels the form carries (only those the agent may write are shown).
    levels: Vec<String>,
}

fn list(text: &str) -> Vec<String> {
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

async fn save_health(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<HealthForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let level = |name: &str| form.levels.iter().any(|l| l == name);
    // Each level written needs its own right (the route checked the basic one).
    if level("medical") {
        principal
            .require(&state, &city, "health:medical", CITY, Action::Write)
            .await?;
    }
    if level("confidential") {
        principal
            .require(&state, &city, "health:confidential", CITY, Action::Write)
            .await?;
    }
    let key = state.keys.city_key(&city.key_id);
    // The medical level keeps what this form does not show (vaccinations, visits).
    let current = {
        let key = key.clone();
        state
            .db
            .run(city.scope(&principal.actor()), move |conn| {
                Box::pin(async move {
                    health::load(
                        conn,
                        &key,
                        id,
                        health::HealthAccess {
                            basic: true,
                            medical: true,
                            confidential: true,
                        },
                    )
                    .await
                })
            })
            .await?
    };
    let sheet = HealthSheet {
        basic: level("basic").then(|| BasicHealth {
            diet: form.diet.clone(),
            allergies: list(&form.allergies),
            pai: form.pai.is_some(),
            what_to_do: form.what_to_do.trim().to_string(),
        }),
        medical: level("medical").then(|| MedicalHealth {
            illnesses: list(&form.illnesses),
            medication: form.medication.trim().to_string(),
            doctor: form.doctor.trim().to_string(),
            notes: form.medical_notes.trim().to_string(),
            ..current.medical.clone().unwrap_or_default()
        }),
        confidential: level("confidential").then(|| ConfidentialHealth {
            aeeh: form.aeeh.is_some(),
            mdph: form.mdph.is_some(),
            notes: form.confidential_notes.trim().to_string(),
        }),
    };
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "La fiche sanitaire est enregistrée.",
        move |conn| {
            Box::pin(async move {
                store::require_child(conn, id).await?;
                health::save(conn, &key, id, &sheet).await
            })
        },
    )
    .await
}
