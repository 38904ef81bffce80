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

// ---------------------------------------------------------------------------------------
// Marking

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct MarkForm {
    /// present, absent_justified, absent_unjustified; empty: keep the state.
    etat: String,
    /// « arrivee » or « depart »: now.
    heure: String,
    arrivee: String,
    depart: String,
    adaptation: Option<String>,
    non_facture: Option<String>,
    motif: String,
    /// "1" when the details form was sent (its check boxes then count).
    details: String,
    retour: String,
}

fn parse_mark(code: &str) -> AppResult<Option<Mark>> {
    match code.trim() {
        "" => Ok(None),
        "present" => Ok(Some(Mark::Present)),
        "absent_justified" => Ok(Some(Mark::Absent { justified: true })),
        "absent_unjustified" => Ok(Some(Mark::Absent { justified: false })),
        other => Err(AppError::invalid(format!("état « {other} » inconnu"))),
    }
}

impl MarkForm {
    fn entry(&self, day: NaiveDate) -> AppResult<AttendanceEntry> {
        let mut entry = AttendanceEntry {
            mark: parse_mark(&self.etat)?,
            arrival: time_of(&self.arrivee, "heure d'arrivée")?,
            departure: time_of(&self.depart, "heure de départ")?,
            ..AttendanceEntry::default()
        };
        if !self.heure.is_empty() && day != clock::today() {
            return Err(AppError::invalid(format!(
                "« maintenant » ne vaut que pour aujourd'hui : saisissez l'heure du {}",
                fr(day)
            )));
        }
        match self.heure.as_str() {
            "" => {}
            "arrivee" => {
                entry.mark = Some(Mark::Present);
                entry.arrival = Some(now_paris());
            }
            "depart" => entry.departure = Some(now_paris()),
            other => return Err(AppError::invalid(format!("heure « {other} » inconnue"))),
        }
        if self.details == "1" {
            entry.adaptation = Some(self.adaptation.is_some());
            entry.billable = Some(self.non_facture.is_none());
            entry.reason = Some(self.motif.clone());
        }
        Ok(entry)
    }
}

/// A booking's place once the caller may `action` on its group that day, and what else
/// the caller may do there.
async fn booking_in(
    desk: &Desk,
    id: i64,
    action: Action,
) -> AppResult<(list::BookingPlace, Rights)> {
    let place = desk
        .run(move |conn| Box::pin(async move { list::booking_place(conn, id).await }))
        .await?;
    let at = Place {
        group: Some(place.group_id),
        activity: place.activity_id,
        structure: place.structure_id,
    };
    let rights = require_on(desk, place.day, at, action).await?;
    Ok((place, rights))
}

/// Checks the caller may `action` on the attendance of `place` on `day` (403, audited,
/// otherwise); returns its rights there.
async fn require_on(
    desk: &Desk,
    day: NaiveDate,
    place: Place,
    action: Action,
) -> AppResult<Rights> {
    let gate = Gate::new(desk, Some(day)).await?;
    gate.require("attendance", action, place).await?;
    gate.rights(place).await
}

/// Group `id` and the day `jour` (today by default), once the caller may write there.
async fn writable_group(desk: &Desk, id: i64, jour: &str) -> AppResult<(GroupMeta, NaiveDate)> {
    let group = desk
        .run(move |conn| Box::pin(async move { list::group(conn, id).await }))
        .await?;
    let day = day_of(jour, "date")?.unwrap_or_else(clock::today);
    require_on(desk, day, Place::of(&group), Action::Write).await?;
    Ok((group, day))
}

async fn mark(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<MarkForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (place, _) = booking_in(&desk, id, Action::Write).await?;
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let by = desk.principal.actor();
    let entry = form.entry(place.day);
    let outcome = match entry {
        Ok(entry) => {
            desk.run(move |conn| {
                Box::pin(async move {
                    let activity = model::load(conn, place.activity_id, &settings).await?;
                    marking::mark(conn, &activity, id, entry, clock::today(), &by).await
                })
            })
            .await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(booking) => Ok(flash::redirect(
            &back_to(&form.retour, booking.date, &format!("r{id}")),
            &format!(
                "{} : {} ({}).",
                place.child_name, booking.state_label, booking.unit_label
            ),
        )),
        Err(error) => {
            refused_on_list(
                &desk,
                &form.retour,
                place.day,
                format!("r{id}"),
                &form,
                error,
            )
            .await
        }
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct GroupForm {
    jour: String,
    unite: String,
    retour: String,
}

async fn all_present(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<GroupForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (group, day) = writable_group(&desk, id, &form.jour).await?;
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let by = desk.principal.actor();
    let unit = Some(form.unite.trim().to_string()).filter(|u| !u.is_empty());
    let activity = group.activity_id;
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let activity = model::load(conn, activity, &settings).await?;
                marking::all_present(
                    conn,
                    &activity,
                    id,
                    day,
                    unit.as_deref(),
                    clock::today(),
                    &by,
                )
                .await
            })
        })
        .await;
    match outcome {
        Ok(n) => Ok(flash::redirect(
            &back_to(&form.retour, day, &format!("g{id}")),
            &match n {
                0 => format!("Aucun enfant à pointer dans « {} ».", group.group_name),
                1 => format!("1 enfant marqué présent dans « {} ».", group.group_name),
                n => format!(
                    "{n} enfants marqués présents dans « {} ».",
                    group.group_name
                ),
            },
        )),
        Err(error) => {
            refused_on_list(&desk, &form.retour, day, format!("g{id}"), &form, error).await
        }
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct UnbookedForm {
    enfant: String,
    unite: String,
    jour: String,
    arrivee: String,
    retour: String,
}

async fn add_unbooked(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<UnbookedForm>,
) -> AppResult<HttpResponse> {
    let activity_id = id.into_inner();
    let day = day_of(&form.jour, "date")?.unwrap_or_else(clock::today);
    let groups = desk
        .run(move |conn| {
            Box::pin(async move {
                catalogue::structure_of(conn, activity_id).await?;
                list::groups(
                    conn,
                    &Selection {
                        activity: Some(activity_id),
                        ..Selection::day(day)
                    },
                )
                .await
            })
        })
        .await?;
    let gate = Gate::new(&desk, Some(day)).await?;
    let mut writable = Vec::new();
    for group in &groups {
        if gate
            .may("attendance", Action::Write, Place::of(group))
            .await?
        {
            writable.push(group.group_id);
        }
    }
    let structure = groups.first().and_then(|g| g.structure_id);
    let activity_place = Place {
        group: None,
        activity: activity_id,
        structure,
    };
    if writable.is_empty() {
        gate.require("attendance", Action::Write, activity_place)
            .await?;
    }
    let key = format!("a{activity_id}");
    let child: Option<i64> = match number(&form.enfant, "le numéro de l'enfant") {
        Ok(child) => child,
        Err(error) => {
            return refused_on_list(&desk, &form.retour, day, key, &form, error).await;
        }
    };
    let arrival = match time_of(&form.arrivee, "heure d'arrivée") {
        Ok(arrival) => arrival,
        Err(error) => return refused_on_list(&desk, &form.retour, day, key, &form, error).await,
    };
    let Some(child) = child else {
        let error = AppError::invalid("choisissez l'enfant à ajouter");
        return refused_on_list(&desk, &form.retour, day, key, &form, error).await;
    };
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let by = desk.principal.actor();
    let unit = form.unite.trim().to_string();
    // The child's group is known once the row exists: outside the caller's groups, the
    // transaction is undone and the refusal audited on that group.
    let landed = Arc::new(AtomicI64::new(0));
    let seen = landed.clone();
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let activity = model::load(conn, activity_id, &settings).await?;
                let booking = marking::add_unbooked(
                    conn,
                    &activity,
                    shipped(),
                    child,
                    &unit,
                    day,
                    arrival,
                    clock::today(),
                    &by,
                )
                .await?;
                if !writable.contains(&booking.group_id) {
                    seen.store(booking.group_id, Ordering::SeqCst);
                    return Err(AppError::forbidden("groupe non autorisé"));
                }
                let name = crate::domain::activity::schools::child_name(conn, child).await?;
                Ok((booking, name))
            })
        })
        .await;
    match outcome {
        Ok((booking, name)) => Ok(flash::redirect(
            &back_to(&form.retour, day, &format!("r{}", booking.id)),
            &format!(
                "{name} est ajouté(e) présent(e) sans réservation ({}).",
                booking.unit_label
            ),
        )),
        Err(AppError::Forbidden(_)) if landed.load(Ordering::SeqCst) != 0 => {
            let group = landed.load(Ordering::SeqCst);
            desk.require_in(
                "attendance",
                &Place {
                    group: Some(group),
                    ..activity_place
                }
                .populations(),
                Action::Write,
            )
            .await?;
            Err(AppError::forbidden("groupe non autorisé"))
        }
        Err(error) => refused_on_list(&desk, &form.retour, day, key, &form, error).await,
    }
}

// ---------------------------------------------------------------------------------------
// Staff

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct StaffForm {
    nom: String,
    moi: Option<String>,
    present: Option<String>,
    jour: String,
    retour: String,
}

async fn add_staff(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<StaffForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (group, day) = writable_group(&desk, id, &form.jour).await?;
    let me = match (&desk.principal, form.moi.is_some()) {
        (
            Principal::Agent {
                id: Some(agent), ..
            },
            true,
        ) => Some(*agent),
        _ => None,
    };
    let name = if form.nom.trim().is_empty() && me.is_some() {
        desk.principal.label().to_string()
    } else {
        form.nom.clone()
    };
    let new = staff::NewMember {
        group: id,
        day,
        name,
        agent_id: me,
        present: form.present.is_some(),
    };
    let outcome = desk
        .run(move |conn| Box::pin(async move { staff::add(conn, &new).await }))
        .await;
    match outcome {
        Ok(_) => Ok(flash::redirect(
            &back_to(&form.retour, day, &format!("g{id}")),
            &format!("L'équipe de « {} » est complétée.", group.group_name),
        )),
        Err(error) => {
            refused_on_list(&desk, &form.retour, day, format!("g{id}"), &form, error).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StaffChange {
    present: String,
    retour: String,
}

/// The staff line `id` once the caller may change its group's staff that day.
async fn writable_member(desk: &Desk, id: i64) -> AppResult<(staff::StaffMember, GroupMeta)> {
    let (member, group) = desk
        .run(move |conn| {
            Box::pin(async move {
                let member = staff::member(conn, id).await?;
                let group = list::group(conn, member.group_id).await?;
                Ok((member, group))
            })
        })
        .await?;
    require_on(desk, member.day, Place::of(&group), Action::Write).await?;
    Ok((member, group))
}

async fn set_staff(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<StaffChange>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (member, group) = writable_member(&desk, id).await?;
    let present = form.present == "1";
    desk.run(move |conn| Box::pin(async move { staff::set_present(conn, id, present).await }))
        .await?;
    Ok(flash::redirect(
        &back_to(&form.retour, member.day, &format!("g{}", group.group_id)),
        &format!(
            "{} : {}.",
            member.name,
            if present { "présent(e)" } else { "absent(e)" }
        ),
    ))
}

async fn remove_staff(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<StaffChange>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (member, group) = writable_member(&desk, id).await?;
    desk.run(move |conn| Box::pin(async move { staff::remove(conn, id).await }))
        .await?;
    Ok(flash::redirect(
        &back_to(&form.retour, member.day, &format!("g{}", group.group_id)),
        &format!(
            "{} ne fait plus partie de l'équipe de « {} » ce jour-là.",
            member.name, group.group_name
        ),
    ))
}

// ---------------------------------------------------------------------------------------
// The daily notebook

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct NoteForm {
    #[serde(rename = "type")]
    kind: String,
    heure: String,
    texte: String,
    retour: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BackQuery {
    retour: String,
}

async fn notebook_page(
    desk: Desk,
    id: web::Path<i64>,
    query: web::Query<BackQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let response = render_notebook(
        &desk,
        id.into_inner(),
        &query.retour,
        message.as_deref(),
        None,
    )
    .await?;
    Ok(shown(response, &message))
}

async fn render_notebook(
    desk: &Desk,
    id: i64,
    back: &str,
    message: Option<&str>,
    refused: Option<(String, &NoteForm)>,
) -> AppResult<HttpResponse> {
    let (place, rights) = booking_in(desk, id, Action::Read).await?;
    let key = desk.state.keys.city_key(&desk.city.key_id);
    let (child, activity, day) = (place.child_id, place.activity_id, place.day);
    let (booking, notes, watch) = desk
        .run(move |conn| {
            Box::pin(async move {
                let booking = crate::domain::booking::store::view(conn, id).await?;
                // Care notes (treatments given...) are health data: for health readers.
                let notes: Vec<notebook::NoteView> = notebook::of_day(conn, child, activity, day)
                    .await?
                    .into_iter()
                    .filter(|n| rights.health || n.note.kind != "care")
                    .collect();
                let watch = if rights.health {
                    list::watch_of(conn, &key, &[child]).await?.remove(&child)
                } else {
                    None
                };
                Ok((booking, notes, watch))
            })
        })
        .await?;
    let back = if back.starts_with("/agent/pointage/liste?") {
        back.to_string()
    } else {
        ListQuery {
            jour: day.to_string(),
            activite: activity.to_string(),
            groupe: place.group_id.to_string(),
            ..ListQuery::default()
        }
        .url()
    };
    let title = format!("Cahier de suivi — {} — {}", place.child_name, fr(day));
    let layout = desk.layout(&title, "/agent/pointage").await?.flash(message);
    let form = refused.as_ref().map(|r| r.1.clone()).unwrap_or_default();
    desk.page(
        &layout,
        "backoffice/attendance_notebook",
        &json!({
            "booking": booking,
            "child": place.child_name,
            "child_id": child,
            "day_text": fr_long(day),
            "notes": notes,
            "watch": watch.filter(|w| w.any()),
            "write": rights.write,
            "back": back,
            "error": refused.as_ref().map(|r| &r.0),
            "form": form,
            "kinds": super::activities::options(notebook::KINDS.iter().copied(), std::slice::from_ref(&form.kind)),
        }),
        refused.is_some(),
    )
}

async fn add_note(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<NoteForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (place, _) = booking_in(&desk, id, Action::Write).await?;
    let author = desk.principal.label().to_string();
    let input = form.clone();
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let note = notebook::NewNote {
                    child: place.child_id,
                    activity: place.activity_id,
                    day: place.day,
                    at: time_of(&input.heure, "heure")?,
                    kind: input.kind,
                    text: input.texte,
                };
                notebook::add(conn, note, &author).await
            })
        })
        .await;
    let page = format!(
        "/agent/pointage/reservations/{id}/cahier?{}",
        serde_html_form::to_string([("retour", form.retour.as_str())]).unwrap_or_default()
    );
    match outcome {
        Ok(_) => Ok(flash::redirect(
            &page,
            "L'observation est ajoutée au cahier de suivi.",
        )),
        Err(error) => match refusal(&error) {
            Some(message) => {
                render_notebook(&desk, id, &form.retour, None, Some((message, &form))).await
            }
            None => Err(error),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Exports

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExportQuery {
    du: String,
    au: String,
    structure: String,
    activite: String,
    groupe: String,
    format: String,
}

async fn export(desk: Desk, query: web::Query<ExportQuery>) -> AppResult<HttpResponse> {
    let today = clock::today();
    let to = day_of(&query.au, "date de fin")?.unwrap_or(today);
    let from = day_of(&query.du, "date de début")?.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
    csv::check_period(from, to)?;
    let selection = Selection {
        from,
        to,
        structure: number(&query.structure, "la structure")?,
        activity: number(&query.activite, "l'activité")?,
        group: number(&query.groupe, "le groupe")?,
        with_cancelled: true,
        ..Selection::default()
    };
    let summary = query.format == "synthese";
    let sel = selection.clone();
    let rows = desk
        .run(move |conn| {
            Box::pin(async move {
                list::heading(conn, &sel).await?;
                list::rows(conn, &sel).await
            })
        })
        .await?;
    // Only the groups the caller may read (staff assignments do not open a period).
    let gate = Gate::new(&desk, None).await?;
    let mut readable: HashMap<i64, bool> = HashMap::new();
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let allowed = match readable.get(&row.group_id) {
            Some(allowed) => *allowed,
            None => {
                let place = Place {
                    group: Some(row.group_id),
                    activity: row.activity_id,
                    structure: row.structure_id,
                };
                let allowed = gate.may("attendance", Action::Read, place).await?;
                readable.insert(row.group_id, allowed);
                allowed
            }
        };
        if allowed {
            kept.push(row);
        }
    }
    let body = if summary {
        csv::summary(&kept)?
    } else {
        csv::detail(&kept)?
    };
    let name = format!(
        "pointage-{}{from}-{to}.csv",
        if summary { "synthese-" } else { "" }
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}
