//! Enrolments in the back-office (ACT-03, ACT-05, ACT-07): the requests to process, the
//! commission (score, opinion, decision, appeal), admission without re-entry, the
//! enrolment waitlist and its offers, and mass enrolment from a school selection.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use super::activities::{Desk, pending, shown};
use crate::domain::activity::enrolment::{
    self, Channel, Decision, Filter, NewRequest, STATUSES, Selection,
};
use crate::domain::activity::{facts, model, schools};
use crate::platform::auth::authz::{Action, CITY};
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Routes};
use crate::web::portal::notices;
use crate::web::signin::origin;
use crate::web::{flash, scheduling};

pub fn routes(routes: &mut Routes) {
    let read = Need::Agent("enrolments", Action::Read);
    let write = Need::Agent("enrolments", Action::Write);
    routes
        .get("/agent/inscriptions", read, list_page)
        .get("/agent/inscriptions/nouvelle", write, new_page)
        .post("/agent/inscriptions", write, create)
        .get("/agent/inscriptions/masse", write, mass_page)
        .post("/agent/inscriptions/masse", write, mass_enrol)
        .get("/agent/inscriptions/{id}", read, detail_page)
        // completude, commission, avis, decision, recours, admission, retrait: the
        // commission's steps need `process` too (checked in `step`).
        .post("/agent/inscriptions/{id}/{step}", write, step);
}

const WEEKDAYS: &[(&str, &str)] = &[
    ("mon", "Lundi"),
    ("tue", "Mardi"),
    ("wed", "Mercredi"),
    ("thu", "Jeudi"),
    ("fri", "Vendredi"),
    ("sat", "Samedi"),
];

fn date(text: &str, what: &str) -> AppResult<Option<NaiveDate>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| AppError::invalid(format!("{what} : date invalide (JJ/MM/AAAA)")))
}

fn required<T: std::str::FromStr>(text: &str, message: &str) -> AppResult<T> {
    text.trim().parse().map_err(|_| AppError::invalid(message))
}

/// Bad input shown on the form again (nothing changed).
fn refused(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Invalid(_) | AppError::Conflict(_) | AppError::NotFound(_)
    )
}

async fn may(desk: &Desk, action: Action) -> AppResult<bool> {
    desk.may_in("enrolments", &[CITY.to_string()], action).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    activite: Option<i64>,
    statut: String,
    numero: String,
}

async fn list_page(
    desk: Desk,
    query: web::Query<ListQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let number = match query.numero.trim() {
        "" => None,
        text => Some(required(
            text,
            "numéro d'inscription invalide (chiffres attendus)",
        )?),
    };
    let filter = Filter {
        activity_id: query.activite,
        status: Some(query.statut.clone()).filter(|s| !s.is_empty()),
        number,
        ..Default::default()
    };
    let (items, activities) = desk
        .run(move |conn| {
            Box::pin(async move {
                Ok((
                    enrolment::list(conn, &filter, 300).await?,
                    model::summaries(conn, true).await?,
                ))
            })
        })
        .await?;
    let message = pending(&req);
    let layout = desk
        .layout("Inscriptions", "/agent/inscriptions")
        .await?
        .flash(message.as_deref());
    let response = desk.page(
        &layout,
        "backoffice/enrolments",
        &json!({
            "items": items.iter().map(|e| json!({
                "e": e, "status_label": enrolment::status_label(&e.status),
            })).collect::<Vec<_>>(),
            "total": items.len(),
            "activities": activities.iter().map(|a| json!({
                "id": a.id, "name": a.name, "selected": Some(a.id) == query.activite,
            })).collect::<Vec<_>>(),
            "statuses": STATUSES.iter().map(|(value, label)| json!({
                "value": value, "label": label, "selected": *value == query.statut,
            })).collect::<Vec<_>>(),
            "numero": query.numero,
            "may_write": may(&desk, Action::Write).await?,
        }),
        false,
    )?;
    Ok(shown(response, &message))
}

#[derive(Deserialize, Default, serde::Serialize, Clone)]
#[serde(default)]
struct RequestForm {
    child_id: String,
    activity_id: String,
    starts: String,
    ends: String,
    /// "mon:matin" for each ticked box.
    week: Vec<String>,
}

impl RequestForm {
    fn to_request(&self) -> AppResult<NewRequest> {
        let mut wished_week: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (day, unit) in self.week.iter().filter_map(|tick| tick.split_once(':')) {
            wished_week
                .entry(day.to_string())
                .or_default()
                .push(unit.to_string());
        }
        Ok(NewRequest {
            child_id: required(&self.child_id, "indiquez le numéro de l'enfant")?,
            activity_id: required(&self.activity_id, "choisissez l'activité")?,
            starts: date(&self.starts, "date de début")?
                .ok_or_else(|| AppError::invalid("la date de début est obligatoire"))?,
            ends: date(&self.ends, "date de fin")?,
            wished_week,
        })
    }
}

async fn render_new(
    desk: &Desk,
    form: &RequestForm,
    error: Option<&str>,
) -> AppResult<HttpResponse> {
    let child: Option<i64> = form.child_id.trim().parse().ok();
    let (activities, child_name) = desk
        .run(move |conn| {
            Box::pin(async move {
                let name = match child {
                    Some(child) => Some(schools::child_name(conn, child).await?),
                    None => None,
                };
                Ok((model::summaries(conn, false).await?, name))
            })
        })
        .await?;
    let layout = desk
        .layout("Nouvelle inscription", "/agent/inscriptions")
        .await?;
    let ticked = |day: &str, unit: &str| form.week.iter().any(|w| *w == format!("{day}:{unit}"));
    desk.page(
        &layout,
        "backoffice/enrolment_new",
        &json!({
            "form": form,
            "child_name": child_name,
            "error": error,
            "activities": activities.iter().map(|a| json!({
                "id": a.id, "name": a.name, "kind_label": a.kind_label,
                "selected": form.activity_id == a.id.to_string(),
                "days": WEEKDAYS.iter().map(|(day, label)| json!({
                    "day": day, "label": label,
                    "units": a.units.iter().map(|u| json!({
                        "code": u.code, "label": u.label, "checked": ticked(day, &u.code),
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }),
        error.is_some(),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    enfant: String,
}

async fn new_page(desk: Desk, query: web::Query<NewQuery>) -> AppResult<HttpResponse> {
    let form = RequestForm {
        child_id: query.into_inner().enfant,
        starts: clock::today().format("%Y-%m-%d").to_string(),
        ..Default::default()
    };
    render_new(&desk, &form, None).await
}

async fn create(desk: Desk, CsrfForm(form): CsrfForm<RequestForm>) -> AppResult<HttpResponse> {
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let outcome = match form.to_request() {
        Ok(request) => {
            desk.run(move |conn| {
                Box::pin(async move {
                    enrolment::request(conn, &settings, &request, Channel::Agent, clock::now())
                        .await
                })
            })
            .await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(view) => Ok(flash::redirect(
            &format!("/agent/inscriptions/{}", view.id),
            &format!("Demande n° {} enregistrée.", view.number),
        )),
        Err(error) if refused(&error) => render_new(&desk, &form, Some(&error.to_string())).await,
        Err(other) => Err(other),
    }
}

pub(super) async fn render_detail(
    desk: &Desk,
    id: i64,
    message: Option<&str>,
    error: Option<&str>,
) -> AppResult<HttpResponse> {
    let (view, groups, activities) = desk
        .run(move |conn| {
            Box::pin(async move {
                let view = enrolment::get(conn, id).await?;
                let groups = model::groups_of(conn, view.activity_id).await?;
                Ok((view, groups, model::summaries(conn, false).await?))
            })
        })
        .await?;
    let title = format!("Inscription n° {} — {}", view.number, view.child_name);
    let layout = desk
        .layout(&title, "/agent/inscriptions")
        .await?
        .flash(message);
    let status = view.status.as_str();
    let week: Vec<_> = WEEKDAYS
        .iter()
        .filter_map(|(day, label)| {
            let units = view.wished_week.get(day)?.as_array()?;
            let codes: Vec<&str> = units.iter().filter_map(|u| u.as_str()).collect();
            Some(json!({ "day": label, "units": codes.join(", ") }))
        })
        .collect();
    let origin_label = match view.origin.as_str() {
        "portal" => "Demandée par la famille sur le portail",
        "api" => "Reçue par l'API (GRC)",
        "mass" => "Inscription en masse",
        _ => "Saisie par un agent",
    };
    desk.page(
        &layout,
        "backoffice/enrolment",
        &json!({
            "e": view,
            "status_label": enrolment::status_label(status),
            "week": week,
            "origin_label": origin_label,
            "score": view.score_detail,
            "error": error,
            "groups": groups,
            "others": activities.iter().filter(|a| a.id != view.activity_id)
                .map(|a| json!({ "id": a.id, "name": a.name })).collect::<Vec<_>>(),
            "can": {
                "complete": matches!(status, "requested" | "incomplete"),
                "commission": status == "requested",
                "decide": matches!(status, "requested" | "commission" | "appealed" | "waitlisted"),
                "appeal": matches!(status, "refused" | "other_proposed"),
                "admit": matches!(status, "requested" | "accepted" | "offered"),
                "withdraw": !matches!(status, "refused" | "withdrawn" | "ended"),
            },
            "rights": {
                "write": may(desk, Action::Write).await?,
                "process": may(desk, Action::Process).await?,
            },
            "today": clock::today().format("%Y-%m-%d").to_string(),
            "tariff": super::tariffs::enrolment_tariff(desk, id).await?,
        }),
        error.is_some(),
    )
}

async fn detail_page(desk: Desk, id: web::Path<i64>, req: HttpRequest) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let response = render_detail(&desk, id.into_inner(), message.as_deref(), None).await?;
    Ok(shown(response, &message))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StepForm {
    note: String,
    decision: String,
    proposed: String,
    points: String,
    group_id: String,
    leaving: String,
}

/// One step of a request's life, as posted from its page.
enum Step {
    Complete,
    Commission,
    Opinion { points: i32 },
    Decide(Decision),
    Appeal,
    Admit(Option<i64>),
    Withdraw(NaiveDate),
}

impl Step {
    fn parse(name: &str, form: &StepForm) -> AppResult<Step> {
        Ok(match name {
            "completude" => Step::Complete,
            "commission" => Step::Commission,
            "avis" => Step::Opinion {
                points: match form.points.trim() {
                    "" => 0,
                    text => required(text, "les points de la commission sont un nombre entier")?,
                },
            },
            "decision" => Step::Decide(match form.decision.as_str() {
                "accepted" => Decision::Accept,
                "refused" => Decision::Refuse,
                "waitlisted" => Decision::Waitlist,
                "other_proposed" => Decision::ProposeOther(required(
                    &form.proposed,
                    "choisissez l'activité proposée à la place",
                )?),
                _ => return Err(AppError::invalid("choisissez une décision")),
            }),
            "recours" => Step::Appeal,
            "admission" => Step::Admit(form.group_id.trim().parse().ok()),
            "retrait" => {
                Step::Withdraw(date(&form.leaving, "date de départ")?.unwrap_or_else(clock::today))
            }
            _ => return Err(AppError::not_found("Cette page n'existe pas.")),
        })
    }

    /// The commission's own steps need `process`; the others `write` (the route's need).
    fn needs_process(&self) -> bool {
        matches!(
            self,
            Step::Commission | Step::Opinion { .. } | Step::Decide(_)
        )
    }

    fn done(&self) -> &'static str {
        match self {
            Step::Complete => "Complétude du dossier vérifiée.",
            Step::Commission => "Demande inscrite en commission et notée.",
            Step::Opinion { .. } => "Avis de la commission enregistré.",
            Step::Decide(_) => "Décision enregistrée.",
            Step::Appeal => "Recours enregistré : la demande repasse en commission.",
            Step::Admit(_) => "Enfant admis.",
            Step::Withdraw(_) => "Inscription close.",
        }
    }
}

/// Runs a step on enrolment `id`, then back to its page; a refused step re-renders the
/// page with the French reason (nothing changed). A place freed by a withdrawal is offered
/// to the next child, whose family is mailed once the step is committed; so is the family
/// told of a decision or an admission (POR-05).
async fn step(
    desk: Desk,
    path: web::Path<(i64, String)>,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<StepForm>,
) -> AppResult<HttpResponse> {
    let (id, name) = path.into_inner();
    let step = match Step::parse(&name, &form) {
        Ok(step) => step,
        Err(error @ AppError::Invalid(_)) => {
            return render_detail(&desk, id, None, Some(&error.to_string())).await;
        }
        Err(other) => return Err(other),
    };
    if step.needs_process() {
        desk.require_in("enrolments", &[CITY.to_string()], Action::Process)
            .await?;
    }
    let done = step.done();
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let by = desk.principal.actor();
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let note = form.note.as_str();
                // A decision or an admission is told to the family (POR-05).
                let tells_family = matches!(step, Step::Decide(_) | Step::Admit(_));
                let offer = match step {
                    Step::Complete => enrolment::refresh_missing(conn, id).await.map(|_| None),
                    Step::Commission => enrolment::to_commission(conn, &settings, id, &by)
                        .await
                        .map(|_| None),
                    Step::Opinion { points } => {
                        enrolment::record_opinion(conn, &settings, id, note, points)
                            .await
                            .map(|_| None)
                    }
                    Step::Decide(decision) => enrolment::decide(conn, id, decision, note, &by)
                        .await
                        .map(|_| None),
                    Step::Appeal => enrolment::appeal(conn, id, note, &by).await.map(|_| None),
                    Step::Admit(group) => enrolment::admit(conn, &settings, id, group, &by)
                        .await
                        .map(|_| None),
                    Step::Withdraw(leaving) => {
                        enrolment::withdraw(conn, id, leaving, &by, clock::now())
                            .await
                            .map(|(_, offer)| offer)
                    }
                }?;
                let notice = if tells_family {
                    Some(enrolment::notice(conn, id, None).await?)
                } else {
                    None
                };
                Ok((offer, notice))
            })
        })
        .await;
    match outcome {
        Ok((offer, notice)) => {
            if let Some(offer) = offer {
                scheduling::mail_enrolment_offers(&desk.state, &desk.city, &[offer]).await;
            }
            if let Some(notice) = notice {
                notices::mail_decision(&desk.state, &desk.city, &origin(&req), &notice).await;
            }
            Ok(flash::redirect(&format!("/agent/inscriptions/{id}"), done))
        }
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            render_detail(&desk, id, None, Some(&error.to_string())).await
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize, Default, serde::Serialize)]
#[serde(default)]
struct MassForm {
    activity_id: String,
    school_id: String,
    level: String,
    class_id: String,
    starts: String,
    ends: String,
}

impl MassForm {
    fn parse(&self) -> AppResult<(i64, Selection, NaiveDate, Option<NaiveDate>)> {
        Ok((
            required(&self.activity_id, "choisissez l'activité")?,
            Selection {
                school_id: required(&self.school_id, "choisissez l'école")?,
                level: Some(self.level.trim().to_string()).filter(|l| !l.is_empty()),
                class_id: self.class_id.trim().parse().ok(),
            },
            date(&self.starts, "date de début")?
                .ok_or_else(|| AppError::invalid("la date de début est obligatoire"))?,
            date(&self.ends, "date de fin")?,
        ))
    }
}

async fn render_mass(desk: &Desk, form: &MassForm, error: Option<&str>) -> AppResult<HttpResponse> {
    let starts = date(&form.starts, "début")
        .ok()
        .flatten()
        .unwrap_or_else(clock::today);
    let year = facts::school_year(starts);
    let (activities, schools, classes) = desk
        .run(move |conn| {
            Box::pin(async move {
                let schools = schools::schools(conn, &year).await?;
                let mut classes = Vec::new();
                for school in &schools {
                    for class in schools::classes(conn, school.school.id, &year).await? {
                        classes.push((school.school.name.clone(), class.id, class.name));
                    }
                }
                Ok((model::summaries(conn, false).await?, schools, classes))
            })
        })
        .await?;
    let layout = desk
        .layout("Inscription en masse", "/agent/inscriptions")
        .await?;
    desk.page(
        &layout,
        "backoffice/enrolment_mass",
        &json!({
            "form": form,
            "error": error,
            "activities": activities.iter().map(|a| json!({
                "id": a.id, "name": a.name, "selected": form.activity_id == a.id.to_string(),
            })).collect::<Vec<_>>(),
            "schools": schools.iter().map(|s| json!({
                "id": s.school.id, "name": s.school.name, "pupils": s.pupils,
                "selected": form.school_id == s.school.id.to_string(),
            })).collect::<Vec<_>>(),
            "classes": classes.iter().map(|(school, id, name)| json!({
                "school": school, "id": id, "name": name,
                "selected": form.class_id == id.to_string(),
            })).collect::<Vec<_>>(),
            "levels": ["TPS", "PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"],
        }),
        error.is_some(),
    )
}

async fn mass_page(desk: Desk) -> AppResult<HttpResponse> {
    let form = MassForm {
        starts: clock::today().format("%Y-%m-%d").to_string(),
        ..Default::default()
    };
    render_mass(&desk, &form, None).await
}

async fn mass_enrol(desk: Desk, CsrfForm(form): CsrfForm<MassForm>) -> AppResult<HttpResponse> {
    let by = desk.principal.actor();
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let outcome = match form.parse() {
        Ok((activity, selection, starts, ends)) => desk
            .run(move |conn| {
                Box::pin(async move {
                    enrolment::mass_enrol(conn, &settings, activity, &selection, starts, ends, &by)
                        .await
                })
            })
            .await
            .map(|report| (activity, report)),
        Err(error) => Err(error),
    };
    match outcome {
        Ok((activity, report)) if report.selected > 0 => Ok(flash::redirect(
            &format!("/agent/inscriptions?activite={activity}&statut=admitted"),
            &format!(
                "{} enfant(s) sélectionné(s) : {} admis, {} déjà inscrit(s).",
                report.selected, report.admitted, report.already
            ),
        )),
        Ok(_) => {
            let none = "aucun élève ne correspond à cette sélection pour l'année scolaire de la \
                        date de début";
            render_mass(&desk, &form, Some(none)).await
        }
        Err(error) if refused(&error) => render_mass(&desk, &form, Some(&error.to_string())).await,
        Err(other) => Err(other),
    }
}
