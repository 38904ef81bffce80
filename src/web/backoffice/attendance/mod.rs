//! Pointage in the back-office: the day's lists per structure, activity, group or class,
//! one button per child (present, absent, arrival and departure now), details (times,
//! adaptation, « non facturé », reason), « tous présents » for a group, children there
//! without booking, the staff of each group with the supervision ratio (ACT-10), the daily
//! notebook and the CSV exports. Every form works without JavaScript.
//!
//! Permissions: the routes need `attendance` somewhere in the city; each action is then
//! narrowed to the booking's group (`group:<id>`), activity (`activity:<id>`) or structure
//! (`structure:<id>`). An agent on a group's staff for a day (staff_assignments.agent_id)
//! also acts on that group that day, within what its profiles allow anywhere. Health flags
//! need `health:basic` and pick-up rules `families` read, in the same populations.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::activities::{Desk, number, pending, refusal, shown};
use crate::domain::activity::{catalogue, facts::school_year, model};
use crate::domain::attendance::list::{self, GroupDay, GroupMeta, Selection};
use crate::domain::attendance::{export as csv, marking, notebook, staff};
use crate::domain::booking::state::Mark;
use crate::domain::booking::store::AttendanceEntry;
use crate::domain::calendar::holidays::shipped;
use crate::platform::auth::authz::{ANYWHERE, Action, CITY};
use crate::platform::clock;
use crate::platform::error::{AppError, AppResult};
use crate::web::flash;
use crate::web::forms::CsrfForm;
use crate::web::guard::{Need, Principal, Routes};
use crate::web::scheduling;

mod marks;
mod records;

use marks::*;
use records::*;

pub fn routes(routes: &mut Routes) {
    let read = Need::Agent("attendance", Action::Read);
    let write = Need::Agent("attendance", Action::Write);
    routes
        .get("/agent/pointage", read, index)
        .get("/agent/pointage/liste", read, list_page)
        .get("/agent/pointage/export", read, export)
        .post("/agent/pointage/reservations/{id}", write, mark)
        .get(
            "/agent/pointage/reservations/{id}/cahier",
            read,
            notebook_page,
        )
        .post("/agent/pointage/reservations/{id}/cahier", write, add_note)
        .post(
            "/agent/pointage/groupes/{id}/tous-presents",
            write,
            all_present,
        )
        .post("/agent/pointage/groupes/{id}/encadrants", write, add_staff)
        .post("/agent/pointage/encadrants/{id}", write, set_staff)
        .post(
            "/agent/pointage/encadrants/{id}/retirer",
            write,
            remove_staff,
        )
        .post(
            "/agent/pointage/activites/{id}/sans-reservation",
            write,
            add_unbooked,
        );
}

// ---------------------------------------------------------------------------------------
// Permissions

/// Where something belongs: a group (when known) of an activity, maybe in a structure.
#[derive(Debug, Clone, Copy)]
struct Place {
    group: Option<i64>,
    activity: i64,
    structure: Option<i64>,
}

impl Place {
    fn of(group: &GroupMeta) -> Place {
        Place {
            group: Some(group.group_id),
            activity: group.activity_id,
            structure: group.structure_id,
        }
    }

    fn populations(self) -> Vec<String> {
        self.group
            .map(|g| format!("group:{g}"))
            .into_iter()
            .chain(std::iter::once(format!("activity:{}", self.activity)))
            .chain(self.structure.map(|s| format!("structure:{s}")))
            .collect()
    }
}

/// Decides what the caller may do on the groups of one day.
struct Gate<'a> {
    desk: &'a Desk,
    /// Groups the caller is on the staff of that day.
    staffed: Vec<i64>,
}

impl<'a> Gate<'a> {
    /// For `day` (staff assignments count), or for a period (`None`: profiles only).
    async fn new(desk: &'a Desk, day: Option<NaiveDate>) -> AppResult<Gate<'a>> {
        let agent = match desk.principal {
            Principal::Agent { id: Some(id), .. } => Some(id),
            _ => None,
        };
        let staffed = match (agent, day) {
            (Some(agent), Some(day)) => {
                desk.run(move |conn| {
                    Box::pin(async move { staff::groups_of_agent(conn, agent, day).await })
                })
                .await?
            }
            _ => Vec::new(),
        };
        Ok(Gate { desk, staffed })
    }

    async fn may(&self, object: &str, action: Action, place: Place) -> AppResult<bool> {
        let desk = self.desk;
        if desk.may_in(object, &[CITY.to_string()], action).await?
            || desk.may_in(object, &place.populations(), action).await?
        {
            return Ok(true);
        }
        Ok(place.group.is_some_and(|g| self.staffed.contains(&g))
            && desk
                .principal
                .may(&desk.state, &desk.city, object, ANYWHERE, action)
                .await?)
    }

    /// Like [`Gate::may`]; a refusal is audited and answered 403.
    async fn require(&self, object: &str, action: Action, place: Place) -> AppResult<()> {
        if self.may(object, action, place).await? {
            return Ok(());
        }
        self.desk
            .require_in(object, &place.populations(), action)
            .await
    }
}

/// What the caller may do on one group's list.
#[derive(Debug, Clone, Copy, Default)]
struct Rights {
    read: bool,
    write: bool,
    health: bool,
    pick_up: bool,
}

impl Gate<'_> {
    async fn rights(&self, place: Place) -> AppResult<Rights> {
        let read = self.may("attendance", Action::Read, place).await?;
        if !read {
            return Ok(Rights::default());
        }
        Ok(Rights {
            read,
            write: self.may("attendance", Action::Write, place).await?,
            health: self.may("health:basic", Action::Read, place).await?,
            pick_up: self.may("families", Action::Read, place).await?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Input

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
        .ok_or_else(|| AppError::invalid(format!("{what} invalide « {text} » : {hint} attendu")))
}

fn day_of(text: &str, what: &str) -> AppResult<Option<NaiveDate>> {
    field(text, what, "JJ/MM/AAAA", |t| {
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
            .ok()
    })
}

fn time_of(text: &str, what: &str) -> AppResult<Option<NaiveTime>> {
    field(text, what, "HH:MM", |t| {
        NaiveTime::parse_from_str(t, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
            .ok()
    })
}

fn hm(time: Option<NaiveTime>) -> String {
    time.map(|t| t.format("%H:%M").to_string())
        .unwrap_or_default()
}

fn fr(day: NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

/// « lundi 14/09/2026 ».
fn fr_long(day: NaiveDate) -> String {
    const DAYS: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    format!(
        "{} {}",
        DAYS[day.weekday().num_days_from_monday() as usize],
        fr(day)
    )
}

/// The current time in Paris, to the minute.
fn now_paris() -> NaiveTime {
    let now = clock::now().with_timezone(&chrono_tz::Europe::Paris).time();
    NaiveTime::from_hms_opt(now.hour(), now.minute(), 0).unwrap_or(now)
}

/// What a list shows (query of `/agent/pointage/liste`).
#[derive(Deserialize, Serialize, Default, Clone, Debug)]
#[serde(default)]
struct ListQuery {
    #[serde(skip_serializing_if = "String::is_empty")]
    jour: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    structure: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    activite: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    groupe: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    classe: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    unite: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    q: String,
}

impl ListQuery {
    fn selection(&self) -> AppResult<Selection> {
        let day = day_of(&self.jour, "date")?.unwrap_or_else(clock::today);
        Ok(Selection {
            structure: number(&self.structure, "la structure")?,
            activity: number(&self.activite, "l'activité")?,
            group: number(&self.groupe, "le groupe")?,
            class: number(&self.classe, "la classe")?,
            unit: Some(self.unite.trim().to_string()).filter(|u| !u.is_empty()),
            ..Selection::day(day)
        })
    }

    /// This list's address (to come back to after a form).
    fn url(&self) -> String {
        let query = ListQuery {
            q: String::new(),
            ..self.clone()
        };
        format!(
            "/agent/pointage/liste?{}",
            serde_html_form::to_string(&query).unwrap_or_default()
        )
    }

    /// The list a form came from (`retour`), or the list of `day`.
    fn from_back(back: &str, day: NaiveDate) -> ListQuery {
        back.strip_prefix("/agent/pointage/liste?")
            .map(|q| q.split('#').next().unwrap_or_default())
            .and_then(|q| serde_html_form::from_str::<ListQuery>(q).ok())
            .unwrap_or_else(|| ListQuery {
                jour: day.to_string(),
                ..ListQuery::default()
            })
    }
}

/// A refused form of the list: which one (`r<booking>`, `g<group>`, `a<activity>`), why,
/// and what was typed.
struct Refused {
    key: String,
    message: String,
    input: Value,
}

/// Bad input comes back on the list (422, nothing changed); anything else is an error.
async fn refused_on_list(
    desk: &Desk,
    back: &str,
    day: NaiveDate,
    key: String,
    input: &impl Serialize,
    error: AppError,
) -> AppResult<HttpResponse> {
    match refusal(&error) {
        Some(message) => {
            let query = ListQuery::from_back(back, day);
            let refused = Refused {
                key,
                message,
                input: serde_json::to_value(input).unwrap_or(Value::Null),
            };
            render_list(desk, &query, None, Some(refused)).await
        }
        None => Err(error),
    }
}

fn back_to(back: &str, day: NaiveDate, anchor: &str) -> String {
    let query = ListQuery::from_back(back, day);
    format!("{}#{anchor}", query.url())
}

// ---------------------------------------------------------------------------------------
// The day's overview

#[derive(Deserialize, Default)]
#[serde(default)]
struct DayQuery {
    jour: String,
}

async fn index(
    desk: Desk,
    query: web::Query<DayQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let day = day_of(&query.jour, "date")?.unwrap_or_else(clock::today);
    let message = pending(&req);
    let (days, structures, activities, classes) = desk
        .run(move |conn| {
            Box::pin(async move {
                Ok((
                    list::day_list(conn, &Selection::day(day)).await?,
                    catalogue::structures(conn).await?,
                    list::activity_choices(conn).await?,
                    list::classes(conn, &school_year(day)).await?,
                ))
            })
        })
        .await?;
    let gate = Gate::new(&desk, Some(day)).await?;
    let mut groups = Vec::new();
    for group in &days {
        if !gate.rights(Place::of(&group.group)).await?.read {
            continue;
        }
        groups.push(json!({
            "group": group.group,
            "counts": group.counts,
            "staffing": group.staffing,
            "alerts": group.checks.iter().filter_map(|c| c.alert.clone()).collect::<Vec<_>>(),
            "has_ratio": !group.checks.is_empty(),
            "link": ListQuery { jour: day.to_string(), activite: group.group.activity_id.to_string(), groupe: group.group.group_id.to_string(), ..ListQuery::default() }.url(),
        }));
    }
    let month_start = day.with_day(1).unwrap_or(day);
    let title = format!("Pointage du {}", fr_long(day));
    let layout = desk
        .layout(&title, "/agent/pointage")
        .await?
        .flash(message.as_deref());
    let response = desk.page(
        &layout,
        "backoffice/attendance",
        &json!({
            "day": day.to_string(),
            "day_text": fr_long(day),
            "previous": day.pred_opt().map(|d| d.to_string()),
            "next": day.succ_opt().map(|d| d.to_string()),
            "today": clock::today().to_string(),
            "groups": groups,
            "alerts": groups.iter().filter(|g| g["alerts"].as_array().is_some_and(|a| !a.is_empty())).count(),
            "structures": structures.iter().map(|s| json!({ "id": s.id, "name": s.name })).collect::<Vec<_>>(),
            "activities": activities.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect::<Vec<_>>(),
            "classes": classes,
            "export_from": month_start.to_string(),
            "export_to": day.to_string(),
        }),
        false,
    )?;
    Ok(shown(response, &message))
}

// ---------------------------------------------------------------------------------------
// A list

async fn list_page(
    desk: Desk,
    query: web::Query<ListQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let response = render_list(&desk, &query.into_inner(), message.as_deref(), None).await?;
    Ok(shown(response, &message))
}

/// A row as the list template shows it.
fn row_view(
    row: &list::Row,
    rights: Rights,
    watch: Option<&list::Watch>,
    pick_up: Option<&list::PickUp>,
    notes: i64,
    refused: Option<&Refused>,
) -> AppResult<Value> {
    let state = row.state()?;
    let key = format!("r{}", row.booking_id);
    let refused = refused.filter(|r| r.key == key);
    Ok(json!({
        "row": row,
        "key": key,
        "state_label": state.label_fr(),
        "booked": row.state_code == "booked",
        "present": crate::domain::attendance::ratio::present(state),
        "unbooked": row.state_code == "present_unbooked",
        "absent": row.state_code.starts_with("absent"),
        "arrival": hm(row.arrival),
        "departure": hm(row.departure),
        "overtime": row.overtime_minutes(),
        "closing": hm(Some(row.unit_ends)),
        "watch": if rights.health { watch.filter(|w| w.any()) } else { None },
        "pick_up": if rights.pick_up { pick_up.filter(|p| p.any()) } else { None },
        "notes": notes,
        "error": refused.map(|r| &r.message),
        "form": refused.map(|r| &r.input),
    }))
}

async fn render_list(
    desk: &Desk,
    query: &ListQuery,
    message: Option<&str>,
    refused: Option<Refused>,
) -> AppResult<HttpResponse> {
    let selection = query.selection()?;
    let day = selection.from;
    let sel = selection.clone();
    let (heading, days) = desk
        .run(move |conn| {
            Box::pin(async move {
                let heading = list::heading(conn, &sel).await?;
                Ok((heading, list::day_list(conn, &sel).await?))
            })
        })
        .await?;
    let gate = Gate::new(desk, Some(day)).await?;
    let mut shown_days: Vec<(GroupDay, Rights)> = Vec::new();
    for group in days {
        let rights = gate.rights(Place::of(&group.group)).await?;
        if rights.read {
            shown_days.push((group, rights));
        }
    }
    // What to know of each child, where the caller may read it.
    let key = desk.state.keys.city_key(&desk.city.key_id);
    let health_children: Vec<i64> = shown_days
        .iter()
        .filter(|(_, r)| r.health)
        .flat_map(|(g, _)| g.rows.iter().map(|r| r.child_id))
        .collect();
    let pick_up_places: Vec<(i64, i64)> = shown_days
        .iter()
        .filter(|(_, r)| r.pick_up)
        .flat_map(|(g, _)| g.rows.iter().map(|r| (r.child_id, r.activity_id)))
        .collect();
    let all_children: Vec<i64> = shown_days
        .iter()
        .flat_map(|(g, _)| g.rows.iter().map(|r| r.child_id))
        .collect();
    // Children to add without booking: the chosen activity's enrolled children not on the
    // list, and those found by name.
    let single_activity = selection.activity.or_else(|| {
        selection
            .group
            .and(shown_days.first().map(|(g, _)| g.group.activity_id))
    });
    let adds_to = match single_activity {
        Some(activity)
            if shown_days
                .iter()
                .any(|(g, r)| r.write && g.group.activity_id == activity) =>
        {
            Some(activity)
        }
        _ => None,
    };
    let search = query.q.trim().to_string();
    let may_search = match adds_to {
        Some(activity) => {
            let structure = shown_days
                .iter()
                .find(|(g, _)| g.group.activity_id == activity)
                .and_then(|(g, _)| g.group.structure_id);
            gate.may(
                "families",
                Action::Read,
                Place {
                    group: None,
                    activity,
                    structure,
                },
            )
            .await?
        }
        _ => false,
    };
    let group_filter = selection.group;
    let searched = !search.is_empty();
    let (watch, pick_up, notes, candidates, found, units) = desk
        .run(move |conn| {
            Box::pin(async move {
                let watch = list::watch_of(conn, &key, &health_children).await?;
                let pick_up = list::pick_up_of(conn, &pick_up_places, day).await?;
                let notes = notebook::counts(conn, &all_children, day).await?;
                let (candidates, found, units) = match adds_to {
                    Some(activity) => (
                        list::enrolled_unlisted(conn, activity, group_filter, day).await?,
                        if may_search && !search.is_empty() {
                            list::find_children(conn, &search).await?
                        } else {
                            Vec::new()
                        },
                        model::units_of(conn, activity).await?,
                    ),
                    None => (Vec::new(), Vec::new(), Vec::new()),
                };
                Ok((watch, pick_up, notes, candidates, found, units))
            })
        })
        .await?;
    // Those found who are already on the activity's list are marked there, not added.
    let found: Vec<list::ChildChoice> = found
        .into_iter()
        .filter(|child| {
            !shown_days.iter().any(|(g, _)| {
                Some(g.group.activity_id) == adds_to
                    && g.rows.iter().any(|r| r.child_id == child.id)
            })
        })
        .collect();
    let back = query.url();
    let mut groups = Vec::new();
    for (group, rights) in &shown_days {
        let mut rows = Vec::new();
        for row in &group.rows {
            rows.push(row_view(
                row,
                *rights,
                watch.get(&row.child_id),
                pick_up.get(&(row.child_id, row.activity_id)),
                notes
                    .get(&(row.child_id, row.activity_id))
                    .copied()
                    .unwrap_or(0),
                refused.as_ref(),
            )?);
        }
        let key = format!("g{}", group.group.group_id);
        let group_refused = refused.as_ref().filter(|r| r.key == key);
        groups.push(json!({
            "group": group.group,
            "key": key,
            "rows": rows,
            "counts": group.counts,
            "staff": group.staff,
            "staffing": group.staffing,
            "checks": group.checks,
            "alert": group.alert,
            "write": rights.write,
            "all_present": rights.write && group.counts.to_mark > 0,
            "only": ListQuery { jour: day.to_string(), activite: group.group.activity_id.to_string(), groupe: group.group.group_id.to_string(), ..ListQuery::default() }.url(),
            "error": group_refused.map(|r| &r.message),
            "form": group_refused.map(|r| &r.input),
        }));
    }
    let add_refused = refused.as_ref().filter(|r| r.key.starts_with('a'));
    let scope = if heading.is_empty() {
        "toute la ville".to_string()
    } else {
        heading.join(" — ")
    };
    let title = format!("Pointage — {scope} — {}", fr(day));
    let layout = desk.layout(&title, "/agent/pointage").await?.flash(message);
    let day_query = |d: Option<NaiveDate>| {
        d.map(|d| {
            ListQuery {
                jour: d.to_string(),
                ..query.clone()
            }
            .url()
        })
    };
    desk.page(
        &layout,
        "backoffice/attendance_list",
        &json!({
            "scope": scope,
            "day": day.to_string(),
            "day_text": fr_long(day),
            "is_today": day == clock::today(),
            "previous": day_query(day.pred_opt()),
            "next": day_query(day.succ_opt()),
            "query": query,
            "back_param": serde_html_form::to_string([("retour", back.as_str())]).unwrap_or_default(),
            "back": back,
            "groups": groups,
            "alerts": shown_days.iter().filter(|(g, _)| g.alert).count(),
            "add": adds_to.map(|activity| json!({
                "activity": activity,
                "group": group_filter,
                "units": units.iter().map(|u| json!({ "code": u.code, "label": u.label, "chosen": u.code == selection.unit.clone().unwrap_or_default() })).collect::<Vec<_>>(),
                "candidates": candidates,
                "found": found,
                "search": query.q,
                "may_search": may_search,
                "searched": searched,
                "error": add_refused.map(|r| &r.message),
                "form": add_refused.map(|r| &r.input),
            })),
        }),
        refused.is_some(),
    )
}
