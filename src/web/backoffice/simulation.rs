//! The tariff simulation of a household (devis, FAM-15): the agent picks the units the child
//! would attend each week, the month is priced with the city's grids and the CNAF barème,
//! every line with its explanation, and the page prints as a French quote (a print style
//! sheet hides the menus and the form; no PDF renderer exists yet: it comes with invoicing).
//!
//! The household's QF, resources, dependent children and residence come from the dossier
//! (the QF only when the agent may read incomes); each may be replaced by a hypothetical
//! value. Permissions: `pricing` read (route) and `families` read (handler).

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::activities::Desk;
use super::tariffs::{current_bareme, euros, residence_of, small_number};
use crate::domain::activity::model::summaries;
use crate::domain::tariffs::quote;
use crate::domain::tariffs::simulation::{self, Hypothesis, SimulationRequest, WeekSlot};
use crate::platform::auth::authz::{ANYWHERE, Action, CITY};
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::web::guard::{Need, Routes};

pub fn routes(routes: &mut Routes) {
    routes.get(
        "/agent/familles/{id}/simulation",
        Need::Agent("pricing", Action::Read),
        simulation_page,
    );
}

const WEEKDAYS: [(Weekday, &str, &str); 6] = [
    (Weekday::Mon, "1", "lundi"),
    (Weekday::Tue, "2", "mardi"),
    (Weekday::Wed, "3", "mercredi"),
    (Weekday::Thu, "4", "jeudi"),
    (Weekday::Fri, "5", "vendredi"),
    (Weekday::Sat, "6", "samedi"),
];

/// The form, in the query string (`slot` repeats: `activity|unit|weekday`).
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct SimulationForm {
    /// "1" when sent.
    calculer: String,
    /// `AAAA-MM`.
    month: String,
    child: String,
    qf: String,
    resources: String,
    children: String,
    aeeh: String,
    residence: String,
    rank: String,
    slot: Vec<String>,
}

async fn simulation_page(
    desk: Desk,
    req: HttpRequest,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    desk.principal
        .require(&desk.state, &desk.city, "families", CITY, Action::Read)
        .await?;
    let form: SimulationForm = serde_html_form::from_str(req.query_string())
        .map_err(|_| AppError::invalid("les paramètres de la simulation sont illisibles"))?;
    let household = id.into_inner();
    let month = match form.month.trim() {
        "" => first_of_next_month(clock::today()),
        text => NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").map_err(|_| {
            AppError::invalid(format!("mois : « {text} » n'est pas un mois AAAA-MM"))
        })?,
    };
    let incomes_visible = desk
        .principal
        .may(
            &desk.state,
            &desk.city,
            "family_income",
            ANYWHERE,
            Action::Read,
        )
        .await?;
    let city_name = desk.city.name.clone();
    let (view, facts, activities) = desk
        .run(move |conn| {
            Box::pin(async move {
                let (view, facts) =
                    quote::household_facts(conn, household, month, &city_name, incomes_visible)
                        .await?;
                Ok((view, facts, summaries(conn, false).await?))
            })
        })
        .await?;

    let chosen: BTreeSet<&str> = form.slot.iter().map(String::as_str).collect();
    let grid_rows: Vec<Value> = activities
        .iter()
        .map(|activity| {
            json!({
                "name": activity.name,
                "units": activity.units.iter().map(|unit| json!({
                    "label": unit.label,
                    "hours": format!("{}–{}", unit.starts.format("%H:%M"), unit.ends.format("%H:%M")),
                    "days": WEEKDAYS.iter().map(|(_, number, day)| {
                        let value = format!("{}|{}|{number}", activity.code, unit.code);
                        json!({
                            "checked": chosen.contains(value.as_str()),
                            "value": value,
                            "day": day,
                            "id": format!("s-{}-{}-{number}", activity.code, unit.code),
                        })
                    }).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();

    let mut outcome = Value::Null;
    let mut used = Value::Null;
    if !form.calculer.is_empty() {
        let request = request(&form, household, month, incomes_visible);
        outcome = match request {
            Err(error) => json!({ "error": error.to_string() }),
            Ok(request) => {
                let bareme = current_bareme(&desk.state, &desk.principal).await?;
                let city_name = desk.city.name.clone();
                let simulated = desk
                    .run(move |conn| {
                        Box::pin(async move {
                            simulation::simulate(conn, &city_name, &bareme, &request).await
                        })
                    })
                    .await;
                match simulated {
                    Ok(done) => {
                        let situation = &done.situation;
                        used = json!({
                            "qf": situation.family_quotient.map(|c| c.to_string()),
                            "resources": situation.monthly_resources.map(|c| c.to_string()),
                            "children": situation.dependent_children,
                            "aeeh": situation.aeeh_children,
                            "residence": situation.residence.label_fr(),
                            "rank": situation.sibling_rank,
                            "options": situation.options.iter().cloned().collect::<Vec<_>>().join(", "),
                            "tariffs": done.tariffs,
                            "notes": done.notes,
                        });
                        json!({ "quote": done.quote })
                    }
                    Err(error @ AppError::Invalid(_)) => json!({ "error": error.to_string() }),
                    Err(other) => return Err(other),
                }
            }
        };
    }

    let mut shown_form = form.clone();
    shown_form.month = format!("{:04}-{:02}", month.year(), month.month());
    let title = format!("Simulation tarifaire — famille {}", view.name);
    let layout = desk.layout(&title, "/agent/familles").await?;
    let refused = outcome.get("error").is_some();
    desk.page(
        &layout,
        "backoffice/simulation",
        &json!({
            "family": { "id": view.id, "name": view.name, "number": view.number,
                        "children": view.children.iter().map(|c| json!({
                            "id": c.id, "name": format!("{} {}", c.first_name, c.last_name),
                            "chosen": c.id.to_string() == form.child.trim(),
                        })).collect::<Vec<_>>() },
            "facts": facts,
            "dossier": {
                "qf": facts.family_quotient.map(|c| c.to_string()),
                "resources": facts.monthly_resources.map(|c| c.to_string()),
            },
            "incomes_visible": incomes_visible,
            "form": shown_form,
            "activities": grid_rows,
            "residences": residence_options(&form.residence),
            "outcome": outcome,
            "used": used,
            "today": clock::today().format("%d/%m/%Y").to_string(),
        }),
        refused,
    )
}

fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    let (year, month) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(day)
}

fn residence_options(chosen: &str) -> Vec<Value> {
    let mut options = vec![
        json!({ "code": "", "label": "selon l'adresse du dossier", "chosen": chosen.is_empty() }),
    ];
    for (code, label) in [
        ("city", "domicilié dans la commune"),
        ("outside_city", "domicilié hors commune"),
        (
            "outside_intercommunality",
            "domicilié hors intercommunalité",
        ),
    ] {
        options.push(json!({ "code": code, "label": label, "chosen": chosen == code }));
    }
    options
}

/// The simulation the form asks for: the household (and child), the agent's hypothetical
/// values where typed, the ticked units (`activity|unit|weekday`).
fn request(
    form: &SimulationForm,
    household: i64,
    month: NaiveDate,
    incomes_visible: bool,
) -> AppResult<SimulationRequest> {
    let typed = |text: &str, what: &str| -> AppResult<Option<u8>> {
        match text.trim() {
            "" => Ok(None),
            _ => small_number(text, what, 0).map(Some),
        }
    };
    let hypothesis = Hypothesis {
        family_quotient: euros(&form.qf, "quotient familial")?,
        monthly_resources: euros(&form.resources, "ressources mensuelles")?,
        dependent_children: typed(&form.children, "enfants à charge")?,
        aeeh_children: typed(&form.aeeh, "enfants bénéficiaires de l'AEEH")?,
        residence: residence_of(&form.residence)?,
        sibling_rank: typed(&form.rank, "rang dans la fratrie")?,
        ..Hypothesis::default()
    };
    let week = form
        .slot
        .iter()
        .map(|value| week_slot(value))
        .collect::<AppResult<Vec<_>>>()?;
    if week.is_empty() {
        return Err(AppError::invalid(
            "cochez au moins une unité d'un jour de la semaine",
        ));
    }
    Ok(SimulationRequest {
        household: Some(household),
        child: form.child.trim().parse().ok(),
        month,
        hypothesis,
        week,
        incomes_visible,
    })
}

/// `activity|unit|weekday` → a unit of the typical week (the unit's own hours).
fn week_slot(value: &str) -> AppResult<WeekSlot> {
    let unknown = || AppError::invalid(format!("unité inconnue « {value} »"));
    let mut parts = value.split('|');
    let (Some(code), Some(unit), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(unknown());
    };
    let weekday = WEEKDAYS
        .iter()
        .find(|(_, number, _)| *number == day)
        .map(|(w, ..)| *w)
        .ok_or_else(unknown)?;
    Ok(WeekSlot {
        activity: code.to_string(),
        unit: unit.to_string(),
        weekday,
        arrival: None,
        departure: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_month() {
        let day = |t: &str| t.parse::<NaiveDate>().unwrap();
        assert_eq!(first_of_next_month(day("2026-12-15")), day("2027-01-01"));
        assert_eq!(first_of_next_month(day("2026-01-31")), day("2026-02-01"));
    }
}
