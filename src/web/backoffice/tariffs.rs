//! The tariff editor of the back-office (`/agent/tarifs`): one grid per activity, written in
//! TOML and shown back in plain French, validated before anything is saved (French errors
//! with line and column), versioned and audited as settings; a preview prices one
//! consumption for a hypothetical family; the city's pricing rules (missing QF, gaps,
//! rounding, PSU ceiling) on their own page.
//!
//! Aids (catalogue, grants from the household page) live in [`aids`], automatic tariff
//! assignment (rules on the grid page, an enrolment's tariff) in [`assignment`].
//!
//! Permissions: reading needs `pricing` read, saving `pricing` write (city_admin has both).

mod aids;
mod assignment;

pub(super) use assignment::enrolment_tariff;

use std::collections::BTreeSet;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::activities::{Desk, pending, refusal, shown};
use crate::domain::activity::model::{ActivitySummary, summaries};
use crate::domain::money::Cents;
use crate::domain::pricing::{AttendanceState, Bareme, Residence};
use crate::domain::tariffs::grids::{self, Authorship, Saved};
use crate::domain::tariffs::preview::{self, PreviewRequest};
use crate::domain::tariffs::{bareme, demo_grid, render};
use crate::platform::auth::authz::{ANYWHERE, Action};
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::web::State;
use crate::web::flash;
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Principal, Routes};

pub fn routes(routes: &mut Routes) {
    let read = Need::Agent("pricing", Action::Read);
    let write = Need::Agent("pricing", Action::Write);
    routes
        .get("/agent/tarifs", read, list_page)
        .get("/agent/tarifs/reglages", read, settings_page)
        .post("/agent/tarifs/reglages", write, save_settings);
    // Before `/agent/tarifs/{code}`, which would take « aides » for an activity code.
    aids::routes(routes);
    assignment::routes(routes);
    routes.get("/agent/tarifs/{code}", read, grid_page).post(
        "/agent/tarifs/{code}",
        write,
        save_grid,
    );
    super::simulation::routes(routes);
}

/// The CNAF barème in force (platform data).
pub(super) async fn current_bareme(state: &State, principal: &Principal) -> AppResult<Arc<Bareme>> {
    bareme::in_force(&state.db, &principal.actor()).await
}

/// A text an agent saves from the tariff pages.
enum Text {
    Grid(String),
    Rules(String),
    Aids,
}

/// Saves `text` as `what` in the city's transaction, recorded with the agent's name and the
/// form's comment (validated first: nothing is written otherwise).
async fn save_text(desk: &Desk, what: Text, text: String, comment: String) -> AppResult<Saved> {
    use crate::domain::tariffs::{aids as catalogue, assignment as rules};
    let author = desk.principal.label().to_string();
    desk.run(move |conn| {
        Box::pin(async move {
            let by = Authorship {
                author: &author,
                comment: &comment,
            };
            match what {
                Text::Grid(code) => grids::save_grid(conn, &code, &text, by).await,
                Text::Rules(code) => rules::save_rules(conn, &code, &text, by).await,
                Text::Aids => catalogue::save_catalogue(conn, &text, by).await,
            }
        })
    })
    .await
}

async fn may_write(desk: &Desk) -> AppResult<bool> {
    desk.principal
        .may(&desk.state, &desk.city, "pricing", ANYWHERE, Action::Write)
        .await
}

// ---------------------------------------------------------------------------------------
// The list of activities and their grids

async fn list_page(desk: Desk, req: HttpRequest) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let (activities, current) = desk
        .run(|conn| {
            Box::pin(async move {
                Ok((
                    summaries(conn, true).await?,
                    grids::current_grids(conn).await?,
                ))
            })
        })
        .await?;
    let today = clock::today();
    let lines: Vec<Value> = activities
        .iter()
        .map(|activity| {
            let doc = current.iter().find(|(code, _)| *code == activity.code);
            let status = match doc.map(|(_, d)| grids::parse_grid(&d.text)) {
                None => "aucune grille".to_string(),
                Some(Err(_)) => "grille invalide (à corriger)".to_string(),
                Some(Ok(grid)) => match grid.version_on(today) {
                    Some(v) => format!(
                        "en vigueur depuis le {} ({} règle(s))",
                        v.valid_from.format("%d/%m/%Y"),
                        v.rules.len()
                    ),
                    None => "aucune version en vigueur aujourd'hui".to_string(),
                },
            };
            json!({
                "code": activity.code,
                "name": activity.name,
                "kind_label": activity.kind_label,
                "active": activity.active,
                "status": status,
                "has_grid": doc.is_some(),
                "recorded": doc.map(|(_, d)| json!({"author": d.author, "at": d.recorded_at})),
            })
        })
        .collect();
    let layout = desk
        .layout("Tarifs", "/agent/tarifs")
        .await?
        .flash(message.as_deref());
    let response = desk.page(
        &layout,
        "backoffice/tariffs",
        &json!({ "activities": lines, "count": lines.len(), "write": may_write(&desk).await? }),
        false,
    )?;
    Ok(shown(response, &message))
}

// ---------------------------------------------------------------------------------------
// One activity's grid: reading, preview, editing

async fn activity_of(desk: &Desk, code: &str) -> AppResult<ActivitySummary> {
    if !grids::is_activity_code(code) {
        return Err(AppError::not_found("Activité introuvable."));
    }
    desk.run(|conn| Box::pin(async move { summaries(conn, true).await }))
        .await?
        .into_iter()
        .find(|a| a.code == code)
        .ok_or_else(|| AppError::not_found("Activité introuvable."))
}

/// The preview form (query string of the grid page).
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct PreviewForm {
    /// "1" when the form was sent.
    apercu: String,
    unit: String,
    date: String,
    qf: String,
    resources: String,
    children: String,
    aeeh: String,
    residence: String,
    rank: String,
    arrival: String,
    departure: String,
}

/// What the editor shows in the textarea, and what the page says about it.
#[derive(Default)]
struct Draft {
    text: Option<String>,
    comment: String,
    error: Option<String>,
    notice: Option<String>,
    /// The assignment rules sent back (checked or refused).
    rules: Option<assignment::RulesDraft>,
}

async fn grid_page(
    desk: Desk,
    req: HttpRequest,
    code: web::Path<String>,
    form: web::Query<PreviewForm>,
) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let activity = activity_of(&desk, &code).await?;
    let response = render_grid(
        &desk,
        &activity,
        Draft {
            notice: message.clone(),
            ..Draft::default()
        },
        &form,
    )
    .await?;
    Ok(shown(response, &message))
}

async fn render_grid(
    desk: &Desk,
    activity: &ActivitySummary,
    draft: Draft,
    form: &PreviewForm,
) -> AppResult<HttpResponse> {
    let code = activity.code.clone();
    let (current, history) = {
        let code = code.clone();
        desk.run(move |conn| {
            Box::pin(async move {
                Ok((
                    grids::current_grid(conn, &code).await?,
                    grids::history(conn, &grids::grid_key(&code)).await?,
                ))
            })
        })
        .await?
    };
    let parsed = current.as_ref().map(|d| grids::parse_grid(&d.text));
    let (versions, stored_error) = match &parsed {
        Some(Ok(grid)) => (render::describe(grid), None),
        Some(Err(e)) => (Vec::new(), Some(e.clone())),
        None => (Vec::new(), None),
    };
    // A checked draft is shown in French too.
    let draft_versions = draft
        .text
        .as_deref()
        .and_then(|t| grids::parse_grid(t).ok())
        .map(|g| render::describe(&g));
    let text = draft.text.clone().unwrap_or_else(|| match &current {
        Some(doc) => doc.text.clone(),
        None => demo_grid(activity),
    });
    let preview = match (&parsed, form.apercu.is_empty()) {
        (Some(Ok(grid)), false) => match preview_request(form, activity) {
            Ok(request) => {
                let day = request.date;
                let settings = desk
                    .run(move |conn| Box::pin(async move { grids::settings_on(conn, day).await }))
                    .await?;
                let bareme = current_bareme(&desk.state, &desk.principal).await?;
                match preview::preview(grid, &settings, &bareme, &request) {
                    Ok(result) => json!({ "result": result }),
                    Err(e) => json!({ "error": e.to_string() }),
                }
            }
            Err(e) => json!({ "error": e.to_string() }),
        },
        (_, false) => json!({ "error": "l'activité n'a pas de grille valide à prévisualiser" }),
        _ => Value::Null,
    };
    let mut shown_form = form.clone();
    if shown_form.date.is_empty() {
        shown_form.date = clock::today().to_string();
    }
    if shown_form.children.is_empty() {
        shown_form.children = "1".into();
    }
    if shown_form.rank.is_empty() {
        shown_form.rank = "1".into();
    }
    let rules = assignment::section(desk, &code, draft.rules.as_ref()).await?;
    let title = format!("Tarifs — {}", activity.name);
    let notice = draft
        .notice
        .as_deref()
        .or(draft.rules.as_ref().and_then(|r| r.notice.as_deref()));
    let layout = desk.layout(&title, "/agent/tarifs").await?.flash(notice);
    let refused = draft.error.is_some() || draft.rules.as_ref().is_some_and(|r| r.error.is_some());
    desk.page(
        &layout,
        "backoffice/tariff",
        &json!({
            "activity": {
                "code": activity.code, "name": activity.name, "kind_label": activity.kind_label,
                "units": activity.units.iter().map(|u| json!({
                    "code": u.code, "label": u.label,
                    "starts": u.starts.format("%H:%M").to_string(),
                    "ends": u.ends.format("%H:%M").to_string(),
                    "chosen": u.code == form.unit,
                })).collect::<Vec<_>>(),
            },
            "current": current,
            "is_new": current.is_none(),
            "versions": versions,
            "stored_error": stored_error,
            "draft_versions": draft_versions,
            "text": text,
            "comment": draft.comment,
            "error": draft.error,
            "write": may_write(desk).await?,
            "history": history,
            "form": shown_form,
            "residences": residences(&form.residence),
            "preview": preview,
            "assignment": rules,
        }),
        refused,
    )
}

fn residences(chosen: &str) -> Vec<Value> {
    [
        Residence::City,
        Residence::OutsideCity,
        Residence::OutsideIntercommunality,
    ]
    .into_iter()
    .map(|r| {
        let code = residence_code(r);
        json!({ "code": code, "label": r.label_fr(), "chosen": code == chosen })
    })
    .collect()
}

fn residence_code(residence: Residence) -> &'static str {
    match residence {
        Residence::City => "city",
        Residence::OutsideCity => "outside_city",
        Residence::OutsideIntercommunality => "outside_intercommunality",
    }
}

/// An amount typed by an agent: « 742 », « 742,50 », « 3 000 ».
pub(super) fn euros(text: &str, what: &str) -> AppResult<Option<Cents>> {
    let cleaned = text
        .trim()
        .replace([' ', '\u{a0}', '€'], "")
        .replace(',', ".");
    if cleaned.is_empty() {
        return Ok(None);
    }
    Cents::parse_euros(&cleaned).map(Some).map_err(|_| {
        AppError::invalid(format!(
            "{what} : « {} » n'est pas un montant en euros",
            text.trim()
        ))
    })
}

pub(super) fn small_number(text: &str, what: &str, default: u8) -> AppResult<u8> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(default);
    }
    text.parse().map_err(|_| {
        AppError::invalid(format!(
            "{what} : « {text} » n'est pas un nombre entier de 0 à 255"
        ))
    })
}

fn hour(text: &str, what: &str) -> AppResult<Option<NaiveTime>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveTime::parse_from_str(text, "%H:%M")
        .map(Some)
        .map_err(|_| AppError::invalid(format!("{what} : « {text} » n'est pas une heure HH:MM")))
}

pub(super) fn residence_of(code: &str) -> AppResult<Option<Residence>> {
    Ok(match code.trim() {
        "" => None,
        "city" => Some(Residence::City),
        "outside_city" => Some(Residence::OutsideCity),
        "outside_intercommunality" => Some(Residence::OutsideIntercommunality),
        other => {
            return Err(AppError::invalid(format!(
                "lieu de résidence inconnu « {other} »"
            )));
        }
    })
}

fn preview_request(form: &PreviewForm, activity: &ActivitySummary) -> AppResult<PreviewRequest> {
    let unit = activity
        .units
        .iter()
        .find(|u| u.code == form.unit.trim())
        .or(activity.units.first())
        .ok_or_else(|| AppError::invalid("l'activité n'a aucune unité à prévisualiser"))?;
    let date = NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(form.date.trim(), "%d/%m/%Y"))
        .map_err(|_| {
            AppError::invalid(format!(
                "date : « {} » n'est pas une date",
                form.date.trim()
            ))
        })?;
    let arrival = hour(&form.arrival, "arrivée")?.unwrap_or(unit.starts);
    let departure = hour(&form.departure, "départ")?.unwrap_or(unit.ends);
    Ok(PreviewRequest {
        activity_name: activity.name.clone(),
        unit: unit.code.clone(),
        date,
        family_quotient: euros(&form.qf, "quotient familial")?,
        monthly_resources: euros(&form.resources, "ressources mensuelles")?,
        dependent_children: small_number(&form.children, "enfants à charge", 1)?,
        aeeh_children: small_number(&form.aeeh, "enfants bénéficiaires de l'AEEH", 0)?,
        residence: residence_of(&form.residence)?.unwrap_or(Residence::City),
        sibling_rank: small_number(&form.rank, "rang dans la fratrie", 1)?.max(1),
        options: BTreeSet::new(),
        tariff: None,
        arrival: Some(arrival),
        departure: Some(departure),
        closing_time: Some(unit.ends),
        state: AttendanceState::Present,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GridForm {
    text: String,
    comment: String,
    /// "verifier": check and show, save nothing.
    action: String,
}

async fn save_grid(
    desk: Desk,
    code: web::Path<String>,
    CsrfForm(form): CsrfForm<GridForm>,
) -> AppResult<HttpResponse> {
    let activity = activity_of(&desk, &code).await?;
    let code = activity.code.clone();
    if form.action == "verifier" {
        let draft = match grids::parse_grid(&form.text) {
            Ok(grid) if *grid.activity != *code => Draft {
                error: Some(format!(
                    "grille refusée : elle doit commencer par activity = \"{code}\""
                )),
                ..Draft::default()
            },
            Ok(_) => Draft {
                notice: Some("La grille est valide ; rien n'a été enregistré.".into()),
                ..Draft::default()
            },
            Err(e) => Draft {
                error: Some(format!("grille refusée : {e}")),
                ..Draft::default()
            },
        };
        let draft = Draft {
            text: Some(form.text),
            comment: form.comment,
            ..draft
        };
        return render_grid(&desk, &activity, draft, &PreviewForm::default()).await;
    }
    let (text, comment) = (form.text.clone(), form.comment.clone());
    let saved = save_text(&desk, Text::Grid(code.clone()), text, comment).await;
    match saved {
        Ok(Saved::Recorded(id)) => Ok(flash::redirect(
            &format!("/agent/tarifs/{code}"),
            &format!(
                "Grille de « {} » enregistrée (version n° {id}).",
                activity.name
            ),
        )),
        Ok(Saved::Unchanged) => Ok(flash::redirect(
            &format!("/agent/tarifs/{code}"),
            "La grille n'a pas changé : rien n'a été enregistré.",
        )),
        Err(error) => match refusal(&error) {
            Some(message) => {
                let draft = Draft {
                    text: Some(form.text),
                    comment: form.comment,
                    error: Some(message),
                    ..Draft::default()
                };
                render_grid(&desk, &activity, draft, &PreviewForm::default()).await
            }
            None => Err(error),
        },
    }
}

// ---------------------------------------------------------------------------------------
// The city's pricing rules

const SETTINGS_TEMPLATE: &str = "\
# Règles de tarification de la ville. Chaque ligne est facultative : sans elle, la valeur
# indiquée en commentaire s'applique.
#
# QF non renseigné : \"refuse\" (pas de tarif tant que le QF manque), \"dearest_bracket\"
# (tranche la plus chère) ou { bracket = 4 } (tranche 4).
missing_qf = \"refuse\"
# QF entre deux tranches : \"refuse\", \"lower_bracket\" ou \"upper_bracket\".
qf_gap = \"refuse\"
# Ressources non renseignées (taux d'effort, PSU) : \"refuse\" ou \"dearest\" (plafond).
missing_resources = \"refuse\"
# Arrondi au centime : \"line_total\" (sur le total de la ligne) ou \"unit_price\" (sur le prix unitaire).
rounding_point = \"line_total\"
# Rang dans la fratrie : \"eldest_first\" (l'aîné est le 1er) ou \"youngest_first\".
sibling_order = \"eldest_first\"
# États facturés : booked, present, present_unbooked, absent_unjustified, cancelled_late,
# absent_justified, cancelled_in_time.
billed_states = [\"booked\", \"present\", \"present_unbooked\", \"absent_unjustified\", \"cancelled_late\"]
# Plafond de ressources PSU : \"cnaf\", { higher = \"10000.00\" } (jamais sous le plafond CNAF)
# ou \"uncapped\" (sans plafond, avec l'accord de la CAF).
psu_ceiling = \"cnaf\"
";

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    text: String,
    valid_from: String,
    comment: String,
}

async fn settings_page(desk: Desk, req: HttpRequest) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let response = render_settings(&desk, None, message.as_deref()).await?;
    Ok(shown(response, &message))
}

async fn render_settings(
    desk: &Desk,
    refused: Option<(&SettingsForm, String)>,
    message: Option<&str>,
) -> AppResult<HttpResponse> {
    let today = clock::today();
    let (in_force, history) = desk
        .run(move |conn| {
            Box::pin(async move {
                Ok((
                    grids::settings_document(conn, today).await?,
                    grids::history(conn, grids::SETTINGS_KEY).await?,
                ))
            })
        })
        .await?;
    let latest = history.first();
    let (text, valid_from, comment, error) = match &refused {
        Some((form, error)) => (
            form.text.clone(),
            form.valid_from.clone(),
            form.comment.clone(),
            Some(error.clone()),
        ),
        None => (
            latest.map_or_else(|| SETTINGS_TEMPLATE.to_string(), |d| d.text.clone()),
            today.to_string(),
            String::new(),
            None,
        ),
    };
    let layout = desk
        .layout("Règles de tarification", "/agent/tarifs")
        .await?
        .flash(message);
    desk.page(
        &layout,
        "backoffice/tariff_settings",
        &json!({
            "in_force": in_force,
            "history": history,
            "text": text,
            "valid_from": valid_from,
            "comment": comment,
            "error": error,
            "write": may_write(desk).await?,
        }),
        refused.is_some(),
    )
}

async fn save_settings(
    desk: Desk,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> AppResult<HttpResponse> {
    let valid_from = match NaiveDate::parse_from_str(form.valid_from.trim(), "%Y-%m-%d") {
        Ok(day) => day,
        Err(_) => {
            let error = "« à compter du » : une date est attendue".to_string();
            return render_settings(&desk, Some((&form, error)), None).await;
        }
    };
    let bareme = current_bareme(&desk.state, &desk.principal).await?;
    let author = desk.principal.label().to_string();
    let (text, comment) = (form.text.clone(), form.comment.clone());
    let saved = desk
        .run(move |conn| {
            Box::pin(async move {
                let by = Authorship {
                    author: &author,
                    comment: &comment,
                };
                grids::save_settings(conn, &text, valid_from, &bareme, by).await
            })
        })
        .await;
    match saved {
        Ok(Saved::Recorded(id)) => Ok(flash::redirect(
            "/agent/tarifs/reglages",
            &format!(
                "Règles de tarification enregistrées (version n° {id}), en vigueur à compter du {}.",
                valid_from.format("%d/%m/%Y")
            ),
        )),
        Ok(Saved::Unchanged) => Ok(flash::redirect(
            "/agent/tarifs/reglages",
            "Les règles n'ont pas changé : rien n'a été enregistré.",
        )),
        Err(error) => match refusal(&error) {
            Some(message) => render_settings(&desk, Some((&form, message)), None).await,
            None => Err(error),
        },
    }
}
