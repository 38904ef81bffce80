//! What a family does from the month page: book the ticked units, book a recurring
//! pattern, take the whole unit instead of its parts, cancel, report an absence past the
//! cancelling delay, and answer a place offered from the waitlist.
//!
//! Each unit of each day is booked in its own transaction: a refusal rolls back only that
//! unit, and the counters' row locks are held for one booking at a time. A pattern is not
//! all-or-nothing; every day is reported (booked, on the waitlist, refused and why, closed).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    CalendarPage, Problem, account_of, calendar_href, form_date, household_of, parse_month,
    portal_texts,
};
use crate::domain::activity::catalogue::WEEKDAYS;
use crate::domain::activity::model::{self, Activity};
use crate::domain::booking::family::{self, capitalised, day_label, instead_of};
use crate::domain::booking::state::holds_place;
use crate::domain::booking::store::{
    self, Actor, BookRequest, Booked, LateCancellation, Offer, Origin,
};
use crate::domain::calendar::paris::paris_instant;
use crate::domain::pricing::AttendanceState;
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;
use crate::web::faces::{CsrfToken, CurrentCity};
use crate::web::forms::CsrfForm;
use crate::web::guard::Principal;
use crate::web::page::html;
use crate::web::portal::portal_layout;
use crate::web::{State, flash, scheduling};

mod cancel;

pub(super) use cancel::{answer, give_up};

/// The recurring pattern as entered.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PatternForm {
    pub du: String,
    pub au: String,
    /// Weekday codes (`mon`, `thu`...).
    pub jours: Vec<String>,
    /// Unit codes.
    pub unites: Vec<String>,
    pub meal_choice: String,
}

/// The units ticked in the month (`AAAA-MM-JJ|unit`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SlotsForm {
    slot: Vec<String>,
    meal_choice: String,
    mois: String,
}

/// The whole unit to take instead of its parts (`AAAA-MM-JJ|unit`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InsteadForm {
    remplacement: String,
    mois: String,
}

/// Any other button of the month page: only the month to come back to.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BackForm {
    mois: String,
}

fn portal_actor(principal: &Principal) -> Actor {
    Actor {
        name: principal.actor(),
        origin: Origin::Portal,
        override_reason: None,
    }
}

/// Errors a family may correct (shown beside the form); the others go up.
fn correctable(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Invalid(_) | AppError::Full(_) | AppError::Conflict(_)
    )
}

fn parse_slot(slot: &str) -> AppResult<(NaiveDate, String)> {
    let invalid = || AppError::invalid("une case cochée n'est pas valable : rechargez la page");
    let (day, unit) = slot.split_once('|').ok_or_else(invalid)?;
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| invalid())?;
    if unit.trim().is_empty() {
        return Err(invalid());
    }
    Ok((day, unit.trim().to_string()))
}

fn parse_date(text: &str, what: &str) -> AppResult<NaiveDate> {
    form_date(text, what)?.ok_or_else(|| AppError::invalid(format!("{what} est obligatoire")))
}

/// One line of the report: a unit of a day and what became of it.
#[derive(Debug, Serialize)]
struct Line {
    date: NaiveDate,
    day: String,
    unit: String,
    /// `booked`, `waitlisted`, `refused` or `closed`.
    status: &'static str,
    text: &'static str,
    detail: Option<String>,
    /// The whole unit offered instead (`AAAA-MM-JJ|unit`), and its label.
    instead: Option<String>,
    instead_label: Option<String>,
}

impl Line {
    fn new(day: NaiveDate, unit: &str, status: &'static str, text: &'static str) -> Line {
        Line {
            date: day,
            day: day_label(day),
            unit: unit.to_string(),
            status,
            text,
            detail: None,
            instead: None,
            instead_label: None,
        }
    }

    fn refused(day: NaiveDate, unit: &str, why: &str) -> Line {
        Line {
            detail: Some(format!("{}.", capitalised(why))),
            ..Line::new(day, unit, "refused", "Refusé")
        }
    }

    fn offering(mut self, whole: Option<&model::Unit>) -> Line {
        if let Some(whole) = whole {
            self.instead = Some(format!("{}|{}", self.date, whole.code));
            self.instead_label = Some(whole.label.clone());
        }
        self
    }
}

/// What a booking request works on, checked once: the family's own child and an activity
/// the child may book, loaded with its rules.
struct Prepared {
    child_name: String,
    activity: Activity,
    meal: Option<String>,
}

async fn prepare(
    state: &State,
    city: &City,
    principal: &Principal,
    child: i64,
    activity: i64,
    meal: &str,
) -> AppResult<Prepared> {
    let account = account_of(principal)?;
    let settings = scheduling::settings(state, city).await?;
    let texts = portal_texts(state, city).await?;
    let today = clock::today();
    let (child_name, activity) = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                let household = household_of(conn, account).await?;
                let child = family::own_child(conn, household, child).await?;
                family::require_bookable(conn, child.id, activity, today).await?;
                Ok((
                    child.first_name,
                    model::load(conn, activity, &settings).await?,
                ))
            })
        })
        .await?;
    let meal = meal.trim();
    let meal = if !activity.meal_choice || meal.is_empty() {
        None
    } else if texts.meals.iter().any(|m| m == meal) {
        Some(meal.to_string())
    } else {
        return Err(AppError::invalid(format!(
            "repas « {meal} » inconnu : choisissez dans la liste"
        )));
    };
    Ok(Prepared {
        child_name,
        activity,
        meal,
    })
}

/// Books units one by one and reports each.
struct Booker<'a> {
    state: &'a State,
    city: &'a City,
    actor: Actor,
    child: i64,
    prepared: &'a Prepared,
    show_position: bool,
}

impl Booker<'_> {
    fn label(&self, code: &str) -> String {
        self.prepared
            .activity
            .unit(code)
            .map_or_else(|_| code.to_string(), |u| u.label.clone())
    }

    /// The units wished on `day`: ordered, or all refused when they conflict together
    /// (morning + afternoon: the whole day is offered).
    async fn day(&self, day: NaiveDate, wanted: &[String], lines: &mut Vec<Line>) {
        match family::plan_day(&self.prepared.activity, wanted) {
            Err(conflict) => {
                let whole = instead_of(&self.prepared.activity, &conflict);
                for code in wanted {
                    lines.push(
                        Line::refused(day, &self.label(code), &conflict.to_string())
                            .offering(whole),
                    );
                }
            }
            Ok(order) => {
                for code in order {
                    lines.push(self.one(day, code).await);
                }
            }
        }
    }

    async fn one(&self, day: NaiveDate, code: String) -> Line {
        let label = self.label(&code);
        let activity = self.prepared.activity.clone();
        let (actor, child, meal) = (self.actor.clone(), self.child, self.prepared.meal.clone());
        let unit = code.clone();
        let result = self
            .state
            .db
            .run(self.city.scope(&self.actor.name), move |conn| {
                Box::pin(async move {
                    store::book(
                        conn,
                        &activity,
                        &scheduling::calendar(),
                        BookRequest {
                            child_id: child,
                            unit,
                            day,
                            meal_choice: meal,
                        },
                        &actor,
                    )
                    .await
                })
            })
            .await;
        match result {
            Ok(Booked::Booked { booking }) => Line {
                detail: booking.meal_choice.map(|m| format!("Repas : {m}.")),
                ..Line::new(day, &label, "booked", "Réservé")
            },
            Ok(Booked::Waitlisted { position, .. }) => Line {
                detail: Some(if self.show_position {
                    format!("Complet : demande en liste d'attente, rang {position}.")
                } else {
                    "Complet : demande en liste d'attente. Vous serez prévenu si une place se libère."
                        .to_string()
                }),
                ..Line::new(day, &label, "waitlisted", "En liste d'attente")
            },
            Err(error) if correctable(&error) => {
                let whole = self.instead(day, &code).await;
                Line::refused(day, &label, &error.to_string())
                    .offering(whole.and_then(|w| self.prepared.activity.unit(&w).ok()))
            }
            Err(error) => {
                tracing::error!(city = %self.city.slug, %error, "portal booking failed");
                Line::refused(day, &label, &error.to_string())
            }
        }
    }

    /// The whole unit to offer when `code` completes it with what the child holds that day.
    async fn instead(&self, day: NaiveDate, code: &str) -> Option<String> {
        let (child, activity_id) = (self.child, self.prepared.activity.id);
        let held = self
            .state
            .db
            .run(self.city.scope(&self.actor.name), move |conn| {
                Box::pin(async move { store::of_child(conn, child, day, day).await })
            })
            .await
            .ok()?;
        let held: Vec<&str> = held
            .iter()
            .filter(|b| b.activity_id == activity_id && holds_place(b.state))
            .map(|b| b.unit.as_str())
            .collect();
        let conflict = self
            .prepared
            .activity
            .unit_set()
            .check_booking(&held, code)
            .err()?;
        instead_of(&self.prepared.activity, &conflict).map(|u| u.code.clone())
    }
}

/// The report page of a booking request.
#[allow(clippy::too_many_arguments)]
async fn report(
    state: &State,
    city: &City,
    principal: &Principal,
    csrf: &CsrfToken,
    prepared: &Prepared,
    back: String,
    action: String,
    mut lines: Vec<Line>,
) -> AppResult<HttpResponse> {
    // One offer of the whole unit per day is enough.
    let mut offered = std::collections::BTreeSet::new();
    for line in &mut lines {
        if let Some(instead) = &line.instead
            && !offered.insert(instead.clone())
        {
            line.instead = None;
            line.instead_label = None;
        }
    }
    let count = |status: &str| lines.iter().filter(|l| l.status == status).count();
    let layout = portal_layout(
        state,
        city,
        principal,
        csrf,
        "Résultat de votre demande",
        "/reservations",
    )
    .await?;
    html(
        &state.templates,
        &layout,
        "portal/bookings_result",
        &json!({
            "child": prepared.child_name,
            "activity": prepared.activity.name,
            "booked": count("booked"),
            "waitlisted": count("waitlisted"),
            "refused": count("refused"),
            "closed": count("closed"),
            "lines": lines,
            "back": back,
            "action": action,
        }),
    )
}

/// The month page again, with what went wrong beside the form (422).
async fn again(
    state: &State,
    city: &City,
    principal: &Principal,
    csrf: &CsrfToken,
    page: CalendarPage,
    problem: Problem,
) -> AppResult<HttpResponse> {
    page.render(state, city, principal, csrf, problem, None)
        .await
}

/// A booking request of the month page, from the family to its report.
struct Request<'a> {
    state: &'a State,
    city: &'a City,
    principal: &'a Principal,
    csrf: &'a CsrfToken,
    child: i64,
    page: CalendarPage,
}

impl Request<'_> {
    /// The month page again, with what went wrong beside its form (422).
    async fn again(&self, problem: Problem) -> AppResult<HttpResponse> {
        let page = CalendarPage { ..self.page };
        again(
            self.state,
            self.city,
            self.principal,
            self.csrf,
            page,
            problem,
        )
        .await
    }

    /// Books each day's wished units, and reports every one with the `closed` days.
    async fn book_and_report(
        &self,
        prepared: &Prepared,
        wishes: &[(NaiveDate, &[String])],
        closed: &[NaiveDate],
    ) -> AppResult<HttpResponse> {
        let texts = portal_texts(self.state, self.city).await?;
        let booker = Booker {
            state: self.state,
            city: self.city,
            actor: portal_actor(self.principal),
            child: self.child,
            prepared,
            show_position: texts.show_position,
        };
        let mut lines: Vec<Line> = closed
            .iter()
            .map(|day| Line {
                detail: Some("L'activité est fermée ce jour-là.".into()),
                ..Line::new(*day, "—", "closed", "Fermé")
            })
            .collect();
        for (day, wanted) in wishes {
            booker.day(*day, wanted, &mut lines).await;
        }
        lines.sort_by_key(|l| l.date);
        let activity = prepared.activity.id;
        let back = calendar_href(self.child, activity, self.page.first);
        let action = format!("/reservations/{}/{activity}", self.child);
        report(
            self.state,
            self.city,
            self.principal,
            self.csrf,
            prepared,
            back,
            action,
            lines,
        )
        .await
    }
}

fn page_for(child: i64, activity: i64, mois: &str) -> CalendarPage {
    let first = parse_month(mois).unwrap_or_else(|_| {
        let today = clock::today();
        today.with_day(1).unwrap_or(today)
    });
    CalendarPage {
        child,
        activity,
        first,
    }
}

pub(super) async fn book_slots(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<SlotsForm>,
) -> AppResult<HttpResponse> {
    let (child, activity) = path.into_inner();
    let request = Request {
        state: &state,
        city: &city,
        principal: &principal,
        csrf: &csrf,
        child,
        page: page_for(child, activity, &form.mois),
    };
    let mut days: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
    for slot in &form.slot {
        let (day, unit) = parse_slot(slot)?;
        let wanted = days.entry(day).or_default();
        if !wanted.contains(&unit) {
            wanted.push(unit);
        }
    }
    let checked = async {
        let prepared = prepare(
            &state,
            &city,
            &principal,
            child,
            activity,
            &form.meal_choice,
        )
        .await?;
        if days.is_empty() {
            return Err(AppError::invalid("cochez au moins une unité à réserver"));
        }
        Ok(prepared)
    };
    match checked.await {
        Ok(prepared) => {
            let wishes: Vec<(NaiveDate, &[String])> =
                days.iter().map(|(d, w)| (*d, w.as_slice())).collect();
            request.book_and_report(&prepared, &wishes, &[]).await
        }
        Err(error) if correctable(&error) => request.again(Problem::in_calendar(&error)).await,
        Err(error) => Err(error),
    }
}

fn weekday_of(code: &str) -> AppResult<chrono::Weekday> {
    WEEKDAYS
        .iter()
        .find(|(_, c, _)| *c == code)
        .map(|(w, ..)| *w)
        .ok_or_else(|| AppError::invalid(format!("jour « {code} » inconnu")))
}

pub(super) async fn book_pattern(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<PatternForm>,
) -> AppResult<HttpResponse> {
    let (child, activity) = path.into_inner();
    let from = parse_date(&form.du, "la date de début");
    let mois = from.as_ref().map(|d| d.format("%Y-%m").to_string());
    let request = Request {
        state: &state,
        city: &city,
        principal: &principal,
        csrf: &csrf,
        child,
        page: page_for(child, activity, mois.as_deref().unwrap_or_default()),
    };
    let refuse = |error: &AppError, instead: Option<&model::Unit>| Problem {
        section: "reguliere",
        message: Some(capitalised(&error.to_string())),
        instead: instead.map(|u| u.code.clone()),
        instead_label: instead.map(|u| u.label.clone()),
        pattern: Some(form.clone()),
    };
    let checked = async {
        let prepared = prepare(
            &state,
            &city,
            &principal,
            child,
            activity,
            &form.meal_choice,
        )
        .await?;
        let from = from?;
        let to = parse_date(&form.au, "la date de fin")?;
        if from < clock::today() {
            return Err(AppError::invalid(
                "la période commence au plus tôt aujourd'hui",
            ));
        }
        let weekdays = form
            .jours
            .iter()
            .map(|c| weekday_of(c))
            .collect::<AppResult<Vec<_>>>()?;
        if form.unites.is_empty() {
            return Err(AppError::invalid("choisissez au moins une unité"));
        }
        let school = scheduling::calendar().school;
        let (open, closed) = family::pattern_days(&prepared.activity, school, from, to, &weekdays)?;
        if open.is_empty() {
            return Err(AppError::invalid(
                "l'activité n'ouvre aucun de ces jours sur la période choisie",
            ));
        }
        Ok((prepared, open, closed))
    };
    let (prepared, open, closed) = match checked.await {
        Ok(checked) => checked,
        Err(error) if correctable(&error) => return request.again(refuse(&error, None)).await,
        Err(error) => return Err(error),
    };
    match family::plan_day(&prepared.activity, &form.unites) {
        Ok(order) => {
            let wishes: Vec<(NaiveDate, &[String])> =
                open.iter().map(|d| (*d, order.as_slice())).collect();
            request.book_and_report(&prepared, &wishes, &closed).await
        }
        Err(conflict) => {
            let whole = instead_of(&prepared.activity, &conflict);
            let error = AppError::invalid(conflict.to_string());
            request.again(refuse(&error, whole)).await
        }
    }
}

/// The whole unit instead of its parts, in one transaction: the parts held that day are
/// cancelled (in time) and the whole booked, or nothing changes.
pub(super) async fn book_instead(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<InsteadForm>,
) -> AppResult<HttpResponse> {
    let (child, activity_id) = path.into_inner();
    let (day, code) = parse_slot(&form.remplacement)?;
    let page = page_for(child, activity_id, &form.mois);
    let prepared = prepare(&state, &city, &principal, child, activity_id, "").await?;
    let activity = prepared.activity.clone();
    let actor = portal_actor(&principal);
    let outcome = state
        .db
        .run(city.scope(&actor.name.clone()), move |conn| {
            Box::pin(async move {
                let calendar = scheduling::calendar();
                let whole = activity.unit(&code)?.clone();
                if whole.includes.is_empty() {
                    return Err(AppError::invalid(format!(
                        "« {} » ne regroupe pas d'autres unités",
                        whole.label
                    )));
                }
                let parts: Vec<_> = store::of_child(conn, child, day, day)
                    .await?
                    .into_iter()
                    .filter(|b| {
                        b.activity_id == activity.id
                            && b.state == AttendanceState::Booked
                            && whole.includes.contains(&b.unit)
                    })
                    .collect();
                let mut offers: Vec<Offer> = Vec::new();
                for part in &parts {
                    let cancelled = store::cancel(
                        conn,
                        &activity,
                        &calendar,
                        part.id,
                        &actor,
                        LateCancellation::Refuse,
                    )
                    .await?;
                    offers.extend(cancelled.offers);
                }
                let request = BookRequest {
                    child_id: child,
                    unit: whole.code.clone(),
                    day,
                    meal_choice: None,
                };
                match store::book(conn, &activity, &calendar, request, &actor).await? {
                    Booked::Booked { .. } => {}
                    Booked::Waitlisted { .. } => {
                        return Err(AppError::Full(format!(
                            "« {} » est complet le {} : votre réservation reste inchangée",
                            whole.label,
                            day_label(day)
                        )));
                    }
                }
                let replaced: Vec<String> = parts
                    .iter()
                    .map(|p| format!("« {} »", p.unit_label))
                    .collect();
                Ok((whole.label, replaced, offers))
            })
        })
        .await;
    match outcome {
        Ok((label, replaced, offers)) => {
            scheduling::mail_offers(&state, &city, &offers).await;
            let instead = if replaced.is_empty() {
                String::new()
            } else {
                format!(" à la place de {}", replaced.join(" et "))
            };
            Ok(flash::redirect(
                &calendar_href(child, activity_id, day),
                &format!("« {label} » est réservé le {}{instead}.", day_label(day)),
            ))
        }
        Err(error) if correctable(&error) => {
            let problem = Problem::in_calendar(&error);
            again(&state, &city, &principal, &csrf, page, problem).await
        }
        Err(error) => Err(error),
    }
}
