//! Bookings on the family portal (POR-04, ACT-05, ACT-08, CAN-01): a parent signed in books
//! for the children of their own household. `/reservations` lists the children, the
//! activities each may book and the places offered from a waitlist; one month of one
//! activity shows, per day and unit, what is booked, the places left (read in real time),
//! full units (greyed, or a waitlist request where the activity uses one), closed days and
//! passed delays. One-offs are ticked in the month and booked together; a recurring pattern
//! (every Monday and Thursday of a period) is booked in one request; each day is reported.
//!
//! Rights: `portal:bookings` read/write (a payment-only account has neither). Any child or
//! activity outside the account's household answers 404, as an id of another city does.
//! The rules (units, capacity, delays, waitlist) are the store's: nothing is re-decided here.

mod actions;
mod enrolments;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{BOOKINGS, portal_layout};
use crate::domain::activity::catalogue::WEEKDAYS;
use crate::domain::activity::model::{self, Activity};
use crate::domain::booking::family::{
    self, BookableActivity, DayView, FamilyChild, MonthInput, WaitEntry, month_label,
};
use crate::domain::booking::store;
use crate::domain::family::accounts;
use crate::domain::settings;
use crate::platform::auth::authz::Action;
use crate::platform::clock;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;
use crate::web::faces::{CsrfToken, CurrentCity};
use crate::web::guard::{Need, Principal, Routes};
use crate::web::page::html;
use crate::web::{State, flash, scheduling};

pub fn routes(routes: &mut Routes) {
    let read = Need::Family(BOOKINGS, Action::Read);
    let write = Need::Family(BOOKINGS, Action::Write);
    routes
        .get("/reservations", read, overview)
        .get("/reservations/{child}/{activity}", read, calendar_page)
        .post(
            "/reservations/{child}/{activity}",
            write,
            actions::book_slots,
        )
        .post(
            "/reservations/{child}/{activity}/reguliere",
            write,
            actions::book_pattern,
        )
        .post(
            "/reservations/{child}/{activity}/remplacement",
            write,
            actions::book_instead,
        )
        .post(
            "/reservations/{child}/{activity}/{action}/{booking}",
            write,
            actions::give_up,
        )
        .post(
            "/reservations/attente/{entry}/{answer}",
            write,
            actions::answer,
        );
    enrolments::routes(routes);
}

/// The portal account behind the session.
fn account_of(principal: &Principal) -> AppResult<i64> {
    match principal {
        Principal::Family { id, .. } => Ok(*id),
        _ => Err(AppError::Unauthorized),
    }
}

/// The household the account opens; 404 while the account is not linked to a dossier.
async fn household_of(conn: &mut Conn, account: i64) -> AppResult<i64> {
    accounts::household_of_account(conn, account)
        .await?
        .ok_or_else(|| AppError::not_found("Enfant introuvable."))
}

/// The city's settings the booking pages show.
#[derive(Clone)]
struct PortalTexts {
    meals: Vec<String>,
    show_position: bool,
}

async fn portal_texts(state: &State, city: &City) -> AppResult<PortalTexts> {
    let values = state
        .settings
        .in_force(&state.db, city, &settings::CATALOGUE, clock::today())
        .await?;
    Ok(PortalTexts {
        meals: values
            .get("canteen.meal_choices")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect(),
        show_position: values
            .get("portal.waitlist_position_visible")
            .and_then(|v| v.as_bool())
            .unwrap_or(true),
    })
}

/// The first day of the month `text` (« AAAA-MM ») names; this month when empty.
fn parse_month(text: &str) -> AppResult<NaiveDate> {
    let today = clock::today();
    let this_month = today.with_day(1).unwrap_or(today);
    let text = text.trim();
    if text.is_empty() {
        return Ok(this_month);
    }
    let first = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("mois invalide (AAAA-MM attendu)"))?;
    let earliest = this_month - Months::new(12);
    let latest = this_month + Months::new(12);
    if first < earliest || first > latest {
        return Err(AppError::invalid(
            "ce mois est trop loin : le portail montre un an avant et après aujourd'hui",
        ));
    }
    Ok(first)
}

/// A date typed in a form (AAAA-MM-JJ, or JJ/MM/AAAA); `None` when left empty.
fn form_date(text: &str, what: &str) -> AppResult<Option<NaiveDate>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| AppError::invalid(format!("{what} : date invalide (JJ/MM/AAAA)")))
}

fn month_param(day: NaiveDate) -> String {
    day.format("%Y-%m").to_string()
}

fn calendar_href(child: i64, activity: i64, day: NaiveDate) -> String {
    format!("/reservations/{child}/{activity}?mois={}", month_param(day))
}

/// Renders `response` with the pending flash message consumed.
fn with_flash_cleared(mut response: HttpResponse, message: &Option<String>) -> HttpResponse {
    if message.is_some() {
        flash::clear(&mut response);
    }
    response
}

#[derive(Serialize)]
struct ChildActivities {
    child: FamilyChild,
    activities: Vec<ActivityLink>,
}

#[derive(Serialize)]
struct ActivityLink {
    activity: BookableActivity,
    href: String,
    until: Option<String>,
}

async fn overview(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let account = account_of(&principal)?;
    let today = clock::today();
    let texts = portal_texts(&state, &city).await?;
    let data = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                let Some(household) = accounts::household_of_account(conn, account).await? else {
                    return Ok(None);
                };
                let children = family::children(conn, household).await?;
                let mut listed = Vec::with_capacity(children.len());
                for child in &children {
                    let activities = family::bookable(conn, child.id, today, None)
                        .await?
                        .into_iter()
                        .map(|activity| ActivityLink {
                            href: calendar_href(child.id, activity.id, today),
                            until: activity.enrolled_until.map(family::day_label),
                            activity,
                        })
                        .collect();
                    listed.push(ChildActivities {
                        child: child.clone(),
                        activities,
                    });
                }
                let ids: Vec<i64> = children.iter().map(|c| c.id).collect();
                let waits =
                    family::waitlist_of(conn, &ids, None, today, today + Days::new(400)).await?;
                Ok(Some((listed, waits)))
            })
        })
        .await?;
    let message = flash::take(&req);
    let layout = portal_layout(
        &state,
        &city,
        &principal,
        &csrf,
        "Réservations",
        "/reservations",
    )
    .await?
    .flash(message.as_deref());
    let linked = data.is_some();
    let (children, waits) = data.unwrap_or_default();
    let now = clock::now();
    let offers: Vec<serde_json::Value> = waits
        .iter()
        .filter(|w| w.status == "offered")
        .map(|w| {
            json!({
                "entry": w,
                "open": w.offer_deadline.is_some_and(|d| now < d),
                "href": calendar_href(w.child_id, w.activity_id, w.day),
            })
        })
        .collect();
    let waiting: Vec<serde_json::Value> = waits
        .iter()
        .filter(|w| w.status == "waiting")
        .map(|w| {
            json!({
                "entry": w,
                "position": w.position.filter(|_| texts.show_position),
                "href": calendar_href(w.child_id, w.activity_id, w.day),
            })
        })
        .collect();
    let response = html(
        &state.templates,
        &layout,
        "portal/bookings",
        &json!({
            "linked": linked,
            "children": children,
            "offers": offers,
            "waiting": waiting,
        }),
    )?;
    Ok(with_flash_cleared(response, &message))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MonthQuery {
    mois: String,
}

async fn calendar_page(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    path: web::Path<(i64, i64)>,
    query: web::Query<MonthQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (child, activity) = path.into_inner();
    let first = parse_month(&query.mois)?;
    let message = flash::take(&req);
    let page = CalendarPage {
        child,
        activity,
        first,
    };
    let response = page
        .render(
            &state,
            &city,
            &principal,
            &csrf,
            Problem::none(),
            message.as_deref(),
        )
        .await?;
    Ok(with_flash_cleared(response, &message))
}

/// What went wrong with a form of the month page, shown beside it (422).
#[derive(Default, Serialize)]
struct Problem {
    /// `calendrier` or `reguliere`: the form the message belongs to.
    section: &'static str,
    message: Option<String>,
    /// The whole unit offered instead (`AAAA-MM-JJ|unit`) and its label.
    instead: Option<String>,
    instead_label: Option<String>,
    /// The recurring pattern as entered, to keep it on error.
    pattern: Option<actions::PatternForm>,
}

impl Problem {
    fn none() -> Problem {
        Problem::default()
    }

    fn in_calendar(error: &AppError) -> Problem {
        Problem {
            section: "calendrier",
            message: Some(family::capitalised(&error.to_string())),
            ..Problem::default()
        }
    }
}

/// One month of one activity for one child.
struct CalendarPage {
    child: i64,
    activity: i64,
    first: NaiveDate,
}

/// What the month page reads in one transaction.
struct MonthData {
    child: FamilyChild,
    bookable: BookableActivity,
    activity: Activity,
    days: AppResult<Vec<DayView>>,
    waits: Vec<WaitEntry>,
}

impl CalendarPage {
    async fn render(
        &self,
        state: &State,
        city: &City,
        principal: &Principal,
        csrf: &CsrfToken,
        problem: Problem,
        message: Option<&str>,
    ) -> AppResult<HttpResponse> {
        let account = account_of(principal)?;
        let texts = portal_texts(state, city).await?;
        let settings = scheduling::settings(state, city).await?;
        let calendar = scheduling::calendar();
        let today = clock::today();
        let (child, activity_id, first) = (self.child, self.activity, self.first);
        let last = (first + Months::new(1)).pred_opt().unwrap_or(first);
        let show_position = texts.show_position;
        let data = state
            .db
            .run(city.scope(&principal.actor()), move |conn| {
                Box::pin(async move {
                    let household = household_of(conn, account).await?;
                    let child = family::own_child(conn, household, child).await?;
                    let bookable =
                        family::require_bookable(conn, child.id, activity_id, today).await?;
                    let activity = model::load(conn, activity_id, &settings).await?;
                    let group =
                        family::group_of_child(conn, &activity, &bookable, child.id, first).await?;
                    let availability = match store::availability(
                        conn,
                        &activity,
                        calendar.school,
                        first,
                        last,
                        Some(group),
                    )
                    .await
                    {
                        Ok(items) => Ok(items),
                        Err(AppError::Invalid(message)) => Err(AppError::Invalid(message)),
                        Err(other) => return Err(other),
                    };
                    let bookings: Vec<_> = store::of_child(conn, child.id, first, last)
                        .await?
                        .into_iter()
                        .filter(|b| b.activity_id == activity_id)
                        .collect();
                    let waits =
                        family::waitlist_of(conn, &[child.id], Some(activity_id), first, last)
                            .await?;
                    let days = availability.and_then(|availability| {
                        family::month(&MonthInput {
                            activity: &activity,
                            school: calendar.school,
                            from: first,
                            to: last,
                            bookings: &bookings,
                            waits: &waits,
                            availability: &availability,
                            now: calendar.now,
                            show_position,
                        })
                    });
                    Ok(MonthData {
                        child,
                        bookable,
                        activity,
                        days,
                        waits,
                    })
                })
            })
            .await?;
        let title = format!(
            "{} — {} — {}",
            data.bookable.name,
            data.child.first_name,
            month_label(first)
        );
        let layout = portal_layout(state, city, principal, csrf, &title, "/reservations")
            .await?
            .flash(message);
        let (days, calendar_error) = match data.days {
            Ok(days) => (days, None),
            Err(error) => (Vec::new(), Some(family::capitalised(&error.to_string()))),
        };
        let selectable = days.iter().flat_map(|d| &d.cells).any(|c| c.slot.is_some());
        let pattern = problem
            .pattern
            .clone()
            .unwrap_or_else(|| actions::PatternForm {
                du: today.max(first).to_string(),
                au: last.max(today).to_string(),
                ..Default::default()
            });
        let offered: Vec<&WaitEntry> = data
            .waits
            .iter()
            .filter(|w| w.status == "offered")
            .collect();
        let status = if problem.message.is_some() {
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
        } else {
            actix_web::http::StatusCode::OK
        };
        let meal_choice = data.activity.meal_choice;
        let mut response = html(
            &state.templates,
            &layout,
            "portal/bookings_month",
            &json!({
                "child": data.child,
                "activity": data.bookable,
                "units": data.activity.units,
                "unit_count": data.activity.units.len(),
                "month": month_label(first),
                "mois": month_param(first),
                "action": format!("/reservations/{}/{}", self.child, self.activity),
                "previous": calendar_href(self.child, self.activity, first - Months::new(1)),
                "previous_label": month_label(first - Months::new(1)),
                "next": calendar_href(self.child, self.activity, first + Months::new(1)),
                "next_label": month_label(first + Months::new(1)),
                "days": days,
                "calendar_error": calendar_error,
                "selectable": selectable,
                "offered": offered,
                "meals": if meal_choice { texts.meals.clone() } else { Vec::new() },
                "late_label": data.activity.late_cancellation.label_fr(),
                "problem": problem,
                "pattern": pattern,
                "pattern_days": pattern_weekdays(&pattern.jours),
                "pattern_units": data.activity.units.iter().map(|u| json!({
                    "code": u.code,
                    "label": u.label,
                    "checked": pattern.unites.contains(&u.code),
                })).collect::<Vec<_>>(),
            }),
        )?;
        *response.status_mut() = status;
        Ok(response)
    }
}

/// The weekdays of the recurring form, with those ticked.
fn pattern_weekdays(ticked: &[String]) -> Vec<serde_json::Value> {
    WEEKDAYS
        .iter()
        .map(|(_, code, name)| {
            json!({
                "code": code,
                "label": family::capitalised(name),
                "checked": ticked.iter().any(|t| t == code),
            })
        })
        .collect()
}
