//! Bookings made by an agent for one child (ACT-05, ACT-08, CAN-01, CAN-03), at
//! `/agent/enfants/{id}/reservations`: the activities the child may book, one month of one
//! activity with the places left read in real time (the family's month view, as an agent
//! reads it), the coming bookings and the waitlist entries.
//!
//! Three ways to book: one-offs (ticked in the month, or a day and a unit), a recurring
//! pattern (weekdays over a period), and a whole period (every open day, for the chosen
//! units). A request is checked first (dates, units, meal, a reason past the notice delay):
//! bad input is refused with the form as entered and nothing written. Then it is booked in
//! ONE transaction, each unit in its own savepoint: a unit the store refuses (full, closed,
//! not enrolled, incompatible...) is rolled back alone and reported with its reason, while
//! any unexpected error rolls the whole request back. The agent reads, unit by unit, what
//! was booked, what went to the waitlist or was full, and why the rest was refused.
//!
//! Notice delays: past the booking or cancelling delay an agent goes on only with a reason,
//! kept on the booking (hence in its audit trail), and the `bookings` process right. A late
//! cancellation without a reason becomes the activity's late state (an absence).
//!
//! Rights: the page needs `bookings` read; its forms `bookings` write in the city, the
//! activity or its structure; a reason past a delay `bookings` process there. A child of
//! another city answers 404. The booking rules themselves are the store's.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::activities::{Desk, pending, shown};
use crate::domain::activity::catalogue::WEEKDAYS;
use crate::domain::activity::model::{self, Activity};
use crate::domain::booking::family::{
    self, BookableActivity, DayView, MonthInput, capitalised, day_label, month_label, notice_limit,
};
use crate::domain::booking::store::{
    self, Actor, BookRequest, Booked, Calendar, LateCancellation, Origin,
};
use crate::domain::calendar::paris::paris_instant;
use crate::domain::family::dossier;
use crate::domain::pricing::AttendanceState;
use crate::domain::settings;
use crate::platform::auth::authz::{ANYWHERE, Action, CITY};
use crate::platform::clock;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Routes};
use crate::web::scheduling;

mod cancel;
mod request;

use cancel::{cancel, withdraw};
use request::{book_days, book_pattern, book_period};

pub fn routes(routes: &mut Routes) {
    let read = Need::Agent("bookings", Action::Read);
    let write = Need::Agent("bookings", Action::Write);
    routes
        .get("/agent/enfants/{id}/reservations", read, page)
        .post("/agent/enfants/{id}/reservations", write, book_days)
        .post(
            "/agent/enfants/{id}/reservations/reguliere",
            write,
            book_pattern,
        )
        .post(
            "/agent/enfants/{id}/reservations/periode",
            write,
            book_period,
        )
        .post(
            "/agent/enfants/{id}/reservations/{booking}/annulation",
            write,
            cancel,
        )
        .post(
            "/agent/enfants/{id}/reservations/attente/{entry}/retirer",
            write,
            withdraw,
        );
}

/// How far ahead the list of coming bookings looks.
const UPCOMING_DAYS: u64 = 60;

// ---------------------------------------------------------------------------------------
// Where things are, and who may change them

fn base(child: i64) -> String {
    format!("/agent/enfants/{child}/reservations")
}

/// The month page of `activity` holding `day`.
fn month_href(child: i64, activity: i64, day: NaiveDate) -> String {
    format!(
        "{}?activite={activity}&mois={}",
        base(child),
        day.format("%Y-%m")
    )
}

/// The populations a booking of `activity` belongs to, for the rights: the city, the
/// activity, its structure.
fn places(activity: &Activity) -> Vec<String> {
    let mut places = vec![CITY.to_string(), format!("activity:{}", activity.id)];
    places.extend(activity.structure_id.map(|s| format!("structure:{s}")));
    places
}

/// What the agent may do on one activity's bookings.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Rights {
    write: bool,
    /// Book or cancel past a notice delay, with a reason.
    #[serde(rename = "override")]
    late: bool,
}

async fn rights_on(desk: &Desk, activity: &Activity) -> AppResult<Rights> {
    let places = places(activity);
    Ok(Rights {
        write: desk.may_in("bookings", &places, Action::Write).await?,
        late: desk.may_in("bookings", &places, Action::Process).await?,
    })
}

async fn city_meals(desk: &Desk) -> AppResult<Vec<String>> {
    let values = desk
        .state
        .settings
        .in_force(
            &desk.state.db,
            &desk.city,
            &settings::CATALOGUE,
            clock::today(),
        )
        .await?;
    Ok(family::meal_choices(&values))
}

/// Errors the agent may correct (shown beside the form, 422); the others go up.
fn correctable(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Invalid(_) | AppError::Full(_) | AppError::Conflict(_)
    )
}

/// A date typed in a form (AAAA-MM-JJ or JJ/MM/AAAA).
fn date(text: &str, what: &str) -> AppResult<NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::invalid(format!("{what} est obligatoire")));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map_err(|_| AppError::invalid(format!("{what} « {text} » est invalide (JJ/MM/AAAA)")))
}

/// The first day of the month « AAAA-MM » (two years around today at most); `None` when
/// empty.
fn month_start(text: &str) -> AppResult<Option<NaiveDate>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let first = date(&format!("{text}-01"), "le mois")?;
    let today = clock::today();
    if first < today - Months::new(24) || first > today + Months::new(24) {
        return Err(AppError::invalid(
            "ce mois est trop loin : deux ans avant ou après aujourd'hui au plus",
        ));
    }
    Ok(Some(first))
}

fn first_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The activity named by a form or a query; 404 when it is not a number.
fn activity_param(text: &str) -> AppResult<Option<i64>> {
    match text.trim() {
        "" => Ok(None),
        id => id
            .parse()
            .map(Some)
            .map_err(|_| AppError::not_found("Activité introuvable.")),
    }
}

// ---------------------------------------------------------------------------------------
// The page

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    activite: String,
    mois: String,
}

/// Which page to show: the child, the activity of the month (the first bookable when
/// `None`), the month.
struct At {
    child: i64,
    activity: Option<i64>,
    first: NaiveDate,
}

/// What went wrong with a form of the page (422), with the form as entered.
#[derive(Default, Serialize)]
struct Problem {
    /// `calendrier`, `ponctuelle`, `reguliere` or `periode`: the form the message
    /// belongs to.
    section: &'static str,
    message: Option<String>,
    #[serde(skip)]
    form: Option<BookForm>,
}

async fn page(
    desk: Desk,
    path: web::Path<i64>,
    query: web::Query<PageQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let at = At {
        child: path.into_inner(),
        activity: activity_param(&query.activite)?,
        first: month_start(&query.mois)?.unwrap_or_else(|| first_of(clock::today())),
    };
    let message = pending(&req);
    let response = render(&desk, at, Problem::default(), message.as_deref()).await?;
    Ok(shown(response, &message))
}

/// The month of one activity, read in the page's transaction.
struct MonthData {
    bookable: BookableActivity,
    activity: Activity,
    /// A rule of the calendar that keeps the month from being shown (no group for the
    /// child's age, a period the school calendar does not cover...).
    days: AppResult<Vec<DayView>>,
}

async fn month_of(
    conn: &mut Conn,
    settings: &model::CitySettings,
    bookable: BookableActivity,
    child: i64,
    first: NaiveDate,
    calendar: &Calendar<'_>,
) -> AppResult<MonthData> {
    let last = (first + Months::new(1)).pred_opt().unwrap_or(first);
    let activity = model::load(conn, bookable.id, settings).await?;
    let bookings: Vec<_> = store::of_child(conn, child, first, last)
        .await?
        .into_iter()
        .filter(|b| b.activity_id == activity.id)
        .collect();
    let waits = family::waitlist_of(conn, &[child], Some(activity.id), first, last).await?;
    let availability = async {
        let group = family::group_of_child(conn, &activity, &bookable, child, first).await?;
        store::availability(conn, &activity, calendar.school, first, last, Some(group)).await
    }
    .await;
    let days = match availability {
        Ok(availability) => family::agent_month(&MonthInput {
            activity: &activity,
            school: calendar.school,
            from: first,
            to: last,
            bookings: &bookings,
            waits: &waits,
            availability: &availability,
            now: calendar.now,
            show_position: true,
        }),
        Err(error @ AppError::Invalid(_)) => Err(error),
        Err(other) => return Err(other),
    };
    Ok(MonthData {
        bookable,
        activity,
        days,
    })
}

/// The days of the month for the template, the units ticked in `form` ticked again.
fn days_json(days: &[DayView], form: &BookForm) -> Value {
    let mut days = serde_json::to_value(days).unwrap_or(Value::Null);
    for cell in days
        .as_array_mut()
        .into_iter()
        .flatten()
        .filter_map(|d| d["cells"].as_array_mut())
        .flatten()
    {
        let ticked = cell["slot"]
            .as_str()
            .is_some_and(|slot| form.slot.iter().any(|s| s == slot));
        cell["checked"] = Value::Bool(ticked);
    }
    days
}

/// The periods offered for a mass booking: the rest of the school year, then the coming
/// school holidays of the activity's zone.
fn named_periods(activity: &Activity, today: NaiveDate, chosen: &str) -> Vec<Value> {
    let school = scheduling::calendar().school;
    let mut periods: Vec<(String, NaiveDate, NaiveDate)> = Vec::new();
    if let Some((_, end)) = school.school_year_of(today) {
        periods.push(("Reste de l'année scolaire".into(), today, end));
    }
    let mut holidays: Vec<_> = school
        .holidays()
        .iter()
        .filter(|h| h.applies_to(activity.opening.zone) && h.last_day_off >= today)
        .collect();
    holidays.sort_by_key(|h| h.first_day_off);
    for holiday in holidays.into_iter().take(5) {
        periods.push((
            format!("{} {}", holiday.name(), holiday.school_year),
            holiday.first_day_off.max(today),
            holiday.last_day_off,
        ));
    }
    periods
        .into_iter()
        .map(|(name, from, to)| {
            let value = format!("{from}|{to}");
            json!({
                "label": format!("{name} (du {} au {})", from.format("%d/%m/%Y"), to.format("%d/%m/%Y")),
                "selected": value == chosen,
                "value": value,
            })
        })
        .collect()
}

async fn render(
    desk: &Desk,
    at: At,
    problem: Problem,
    message: Option<&str>,
) -> AppResult<HttpResponse> {
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let today = clock::today();
    let (child_id, wanted, first) = (at.child, at.activity, at.first);
    let (child, households, bookable, upcoming, waits, month) = desk
        .run(move |conn| {
            Box::pin(async move {
                let child = family::child(conn, child_id).await?;
                let households = dossier::households_of(conn, child_id).await?;
                let bookable = family::bookable(conn, child_id, today, None).await?;
                let upcoming =
                    store::of_child(conn, child_id, today, today + Days::new(UPCOMING_DAYS))
                        .await?;
                let waits =
                    family::waitlist_of(conn, &[child_id], None, today, today + Days::new(400))
                        .await?;
                let selected = match wanted {
                    Some(id) => Some(
                        bookable
                            .iter()
                            .find(|b| b.id == id)
                            .cloned()
                            .ok_or_else(|| AppError::not_found("Activité introuvable."))?,
                    ),
                    None => bookable.first().cloned(),
                };
                let month = match selected {
                    Some(selected) => {
                        let calendar = scheduling::calendar();
                        Some(month_of(conn, &settings, selected, child_id, first, &calendar).await?)
                    }
                    None => None,
                };
                Ok((child, households, bookable, upcoming, waits, month))
            })
        })
        .await?;
    let may_write_somewhere = desk
        .principal
        .may(&desk.state, &desk.city, "bookings", ANYWHERE, Action::Write)
        .await?;
    let selected_id = month.as_ref().map(|m| m.activity.id);
    let activities: Vec<Value> = bookable
        .iter()
        .map(|b| {
            json!({
                "activity": b,
                "href": month_href(child_id, b.id, first),
                "selected": Some(b.id) == selected_id,
            })
        })
        .collect();
    let upcoming: Vec<Value> = upcoming
        .iter()
        .map(|b| {
            json!({
                "b": b,
                "day": day_label(b.date),
                "href": month_href(child_id, b.activity_id, b.date),
            })
        })
        .collect();
    let waits: Vec<Value> = waits
        .iter()
        .map(|w| json!({ "w": w, "href": month_href(child_id, w.activity_id, w.day) }))
        .collect();
    let last = (first + Months::new(1)).pred_opt().unwrap_or(first);
    let form = problem.form.clone().unwrap_or_else(|| BookForm {
        du: today.max(first).to_string(),
        au: last.max(today).to_string(),
        ..BookForm::default()
    });
    let (month_json, rights) = match &month {
        None => (Value::Null, Rights::default()),
        Some(month) => {
            let rights = rights_on(desk, &month.activity).await?;
            let activity = &month.activity;
            let meals = if activity.meal_choice {
                city_meals(desk).await?
            } else {
                Vec::new()
            };
            let (days, calendar_error) = match &month.days {
                Ok(days) => (days_json(days, &form), None),
                Err(error) => (Value::Null, Some(capitalised(&error.to_string()))),
            };
            let selectable = month
                .days
                .as_ref()
                .is_ok_and(|days| days.iter().flat_map(|d| &d.cells).any(|c| c.slot.is_some()));
            let previous = first - Months::new(1);
            let next = first + Months::new(1);
            let json = json!({
                "activity": month.bookable,
                "units": activity.units,
                "unit_count": activity.units.len(),
                "month": month_label(first),
                "mois": first.format("%Y-%m").to_string(),
                "previous": month_href(child_id, activity.id, previous),
                "previous_label": month_label(previous),
                "next": month_href(child_id, activity.id, next),
                "next_label": month_label(next),
                "days": days,
                "calendar_error": calendar_error,
                "selectable": selectable,
                "meals": meals.iter().map(|m| json!({ "name": m, "selected": *m == form.meal_choice })).collect::<Vec<_>>(),
                "late_label": activity.late_cancellation.label_fr(),
                "weekdays": WEEKDAYS.iter().map(|(_, code, name)| json!({
                    "code": code,
                    "label": capitalised(name),
                    "checked": form.jours.iter().any(|j| j == code),
                })).collect::<Vec<_>>(),
                "form_units": activity.units.iter().map(|u| json!({
                    "code": u.code,
                    "label": u.label,
                    "checked": form.unites.contains(&u.code),
                    "selected": form.unite == u.code,
                })).collect::<Vec<_>>(),
                "periods": named_periods(activity, today, &form.periode),
            });
            (json, rights)
        }
    };
    let title = format!("Réservations — {} {}", child.first_name, child.last_name);
    let layout = desk.layout(&title, "/agent/familles").await?.flash(message);
    let refused = problem.message.is_some();
    desk.page(
        &layout,
        "backoffice/bookings",
        &json!({
            "child": child,
            "households": households,
            "base": base(child_id),
            "activities": activities,
            "upcoming": upcoming,
            "upcoming_days": UPCOMING_DAYS,
            "waits": waits,
            "may_write": may_write_somewhere,
            "month": month_json,
            "rights": rights,
            "problem": problem,
            "form": form,
        }),
        refused,
    )
}

/// The page again with `error` beside the form of `section` (422), nothing written.
async fn refuse(
    desk: &Desk,
    at: At,
    section: &'static str,
    error: &AppError,
    form: Option<BookForm>,
) -> AppResult<HttpResponse> {
    let problem = Problem {
        section,
        message: Some(capitalised(&error.to_string())),
        form,
    };
    render(desk, at, problem, None).await
}

/// Every booking form of the page (each sends its own fields).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
struct BookForm {
    activite: String,
    /// The month to come back to (« AAAA-MM »).
    mois: String,
    /// Units ticked in the month (`AAAA-MM-JJ|unit`).
    slot: Vec<String>,
    /// A one-off: one day and one unit.
    jour: String,
    unite: String,
    /// A recurring pattern or a period: from, to, weekday codes (`mon`...), unit codes.
    du: String,
    au: String,
    jours: Vec<String>,
    unites: Vec<String>,
    /// A named period (`AAAA-MM-JJ|AAAA-MM-JJ`), instead of `du`/`au`.
    periode: String,
    meal_choice: String,
    /// Why the agent books past the notice delay.
    motif: String,
}
