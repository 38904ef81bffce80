//! The activity catalogue (ACT-01, ACT-02, ACT-04, ACT-06): structures, activities created
//! from their kind's template then edited, their units, groups, capacities, opening
//! calendar, notice delays, registration periods and commission criteria.
//!
//! Every change is checked first and refused with a French message; the caller's
//! transaction makes it all-or-nothing. The checks that need no database are pure functions
//! (`check_*`, [`template`], `describe_*`), tested below.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DbError};
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::commission::{self, Criterion};
use super::model::{self, Group, Unit};
use super::population::Population;
use super::schema::{
    activities, activity_groups, activity_units, bookings, capacities, commission_criteria,
    enrolments, registration_periods, schools, slot_counts, staff_assignments, structures,
    waitlist,
};
use crate::domain::calendar::paris::paris_local;
use crate::domain::calendar::{
    DayCount, HolidayKind, NoticeRule, NoticeUnit, OpeningCalendar, OpeningRule, Zone,
};
use crate::domain::family::documents;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// Kinds of structures, with their French labels.
pub const STRUCTURE_KINDS: &[(&str, &str)] = &[
    ("school", "Groupe scolaire"),
    ("leisure_centre", "Centre de loisirs"),
    ("nursery", "Crèche (EAJE)"),
    ("restaurant", "Restaurant scolaire"),
    ("sports_hall", "Équipement sportif"),
    ("cultural", "Équipement culturel"),
    ("youth", "Espace jeunesse"),
    ("seniors", "Structure pour seniors"),
    ("other", "Autre"),
];

/// Dossier facts a request may need (incomplete-file detection).
pub const FACTS: &[(&str, &str)] = &[
    ("family_quotient", "Quotient familial"),
    ("health_sheet", "Fiche sanitaire"),
    ("authorisations", "Autorisations (sortie, photo, soins)"),
    ("emergency_contact", "Personne à prévenir en cas d'urgence"),
    ("bank_mandate", "Mandat de prélèvement SEPA"),
];

/// What a cancellation after the delay becomes.
pub const LATE_ABSENCES: &[(&str, &str)] = &[
    ("absent_unjustified", "une absence injustifiée"),
    ("absent_justified", "une absence justifiée"),
    ("cancelled_late", "une annulation tardive"),
];

/// What a family sees when a unit is full.
pub const WHEN_FULL: &[(&str, &str)] = &[
    ("greyed", "l'unité apparaît complète (grisée)"),
    (
        "waitlist",
        "la famille peut demander une place en liste d'attente",
    ),
];

/// Weekdays with their form codes and French names.
pub const WEEKDAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "mon", "lundi"),
    (Weekday::Tue, "tue", "mardi"),
    (Weekday::Wed, "wed", "mercredi"),
    (Weekday::Thu, "thu", "jeudi"),
    (Weekday::Fri, "fri", "vendredi"),
    (Weekday::Sat, "sat", "samedi"),
    (Weekday::Sun, "sun", "dimanche"),
];

/// School holidays with their form codes.
pub const HOLIDAY_KINDS: [(HolidayKind, &str); 6] = [
    (HolidayKind::AllSaints, "all_saints"),
    (HolidayKind::Christmas, "christmas"),
    (HolidayKind::Winter, "winter"),
    (HolidayKind::Spring, "spring"),
    (HolidayKind::AscensionBridge, "ascension_bridge"),
    (HolidayKind::Summer, "summer"),
];

pub fn label_of<'a>(list: &[(&'a str, &'a str)], code: &'a str) -> &'a str {
    list.iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
}

fn known(list: &[(&str, &str)], code: &str) -> bool {
    list.iter().any(|(c, _)| *c == code)
}

/// A unique index refused the row: the French `message` instead of an internal error.
pub(super) fn unique_or(message: String) -> impl FnOnce(DbError) -> AppError {
    move |error| match error {
        DbError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            AppError::conflict(message)
        }
        other => other.into(),
    }
}

fn required_text(text: &str, what: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{what} est obligatoire"));
    }
    Ok(text.to_string())
}

fn not_negative(value: Option<i32>, what: &str) -> Result<(), String> {
    match value {
        Some(v) if v < 0 => Err(format!("{what} ne peut pas être négatif")),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// Structures

pub struct NewStructure {
    pub name: String,
    pub kind: String,
    pub address: String,
    pub daily_capacity: Option<i32>,
}

pub async fn create_structure(conn: &mut Conn, new: &NewStructure) -> AppResult<i64> {
    let name = required_text(&new.name, "le nom de la structure").map_err(AppError::invalid)?;
    if !known(STRUCTURE_KINDS, &new.kind) {
        return Err(AppError::invalid(format!(
            "type de structure inconnu « {} »",
            new.kind
        )));
    }
    not_negative(new.daily_capacity, "le nombre de places par jour").map_err(AppError::invalid)?;
    diesel::insert_into(structures::table)
        .values((
            structures::name.eq(&name),
            structures::kind.eq(&new.kind),
            structures::address.eq(new.address.trim()),
            structures::daily_capacity.eq(new.daily_capacity),
        ))
        .returning(structures::id)
        .get_result(conn)
        .await
        .map_err(unique_or(format!(
            "une structure s'appelle déjà « {name} »"
        )))
}

#[derive(Debug, Clone, Serialize)]
pub struct StructureView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub address: String,
    pub daily_capacity: Option<i32>,
    pub active: bool,
    pub activities: i64,
}

/// Every structure, by name, with how many activities it holds.
pub async fn structures(conn: &mut Conn) -> AppResult<Vec<StructureView>> {
    let rows: Vec<(i64, String, String, String, Option<i32>, bool)> = structures::table
        .order(structures::name)
        .select((
            structures::id,
            structures::name,
            structures::kind,
            structures::address,
            structures::daily_capacity,
            structures::active,
        ))
        .load(conn)
        .await?;
    let counts: Vec<(Option<i64>, i64)> = activities::table
        .group_by(activities::structure_id)
        .select((activities::structure_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, kind, address, daily_capacity, active)| StructureView {
                kind_label: label_of(STRUCTURE_KINDS, &kind).to_string(),
                activities: counts
                    .iter()
                    .find(|(s, _)| *s == Some(id))
                    .map_or(0, |(_, n)| *n),
                id,
                name,
                kind,
                address,
                daily_capacity,
                active,
            },
        )
        .collect())
}

// ---------------------------------------------------------------------------------------
// Kind templates

/// A unit as entered (codes of the same activity in `includes`, `excludes`, `requires`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Insertable, AsChangeset)]
#[diesel(table_name = activity_units)]
pub struct UnitInput {
    pub code: String,
    pub label: String,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
    pub hourly: bool,
    pub includes: Vec<String>,
    pub excludes: Vec<String>,
    pub requires: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Insertable, AsChangeset)]
#[diesel(table_name = activity_groups, treat_none_as_null = true)]
pub struct GroupInput {
    pub name: String,
    pub min_age_months: Option<i32>,
    pub max_age_months: Option<i32>,
    /// School levels (PS … CM2); empty: any.
    pub levels: Vec<String>,
    pub children_per_staff: Option<i32>,
}

/// What an activity of a kind starts with; everything is editable afterwards.
#[derive(Debug, Clone)]
pub struct Template {
    pub units: Vec<UnitInput>,
    pub groups: Vec<GroupInput>,
    pub opening: Vec<OpeningRule>,
    pub booking_notice: Option<NoticeRule>,
    pub cancel_notice: Option<NoticeRule>,
    pub requires_enrolment: bool,
    pub meal_choice: bool,
    pub when_full: &'static str,
}

fn hm(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN)
}

fn unit(code: &str, label: &str, from: (u32, u32), to: (u32, u32)) -> UnitInput {
    UnitInput {
        code: code.into(),
        label: label.into(),
        starts: hm(from.0, from.1),
        ends: hm(to.0, to.1),
        hourly: false,
        includes: vec![],
        excludes: vec![],
        requires: vec![],
    }
}

fn codes(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

fn group(name: &str, ages: Option<(i32, i32)>, ratio: Option<i32>) -> GroupInput {
    GroupInput {
        name: name.into(),
        min_age_months: ages.map(|a| a.0),
        max_age_months: ages.map(|a| a.1),
        levels: vec![],
        children_per_staff: ratio,
    }
}

fn days_before(amount: u32, working: bool, cutoff: Option<NaiveTime>) -> Option<NoticeRule> {
    Some(NoticeRule {
        amount,
        unit: NoticeUnit::Days,
        count: if working {
            DayCount::WorkingDays {
                excluded_weekdays: vec![],
            }
        } else {
            DayCount::CalendarDays
        },
        cutoff_time: cutoff,
    })
}

fn centre_units(meal_requires: &[&str]) -> Vec<UnitInput> {
    vec![
        unit("matin", "Matin", (8, 0), (12, 0)),
        UnitInput {
            requires: codes(meal_requires),
            ..unit("repas", "Repas", (12, 0), (13, 30))
        },
        unit("apres_midi", "Après-midi", (13, 30), (18, 0)),
        UnitInput {
            includes: codes(&["matin", "apres_midi"]),
            ..unit("journee", "Journée", (8, 0), (18, 0))
        },
    ]
}

fn centre_groups() -> Vec<GroupInput> {
    vec![
        group("Maternelles (3-5 ans)", Some((36, 71)), Some(8)),
        group("Élémentaires (6-11 ans)", Some((72, 143)), Some(12)),
    ]
}

/// The template of an activity kind (see `model::KINDS`), with realistic French defaults.
pub fn template(kind: &str) -> Template {
    use Weekday::*;
    let school_days = vec![OpeningRule::SchoolDays {
        weekdays: vec![Mon, Tue, Thu, Fri],
    }];
    let everyone = || vec![group("Tous les enfants", None, Some(14))];
    let periscolaire = |unit: UnitInput| Template {
        units: vec![unit],
        groups: everyone(),
        opening: school_days.clone(),
        booking_notice: days_before(1, false, Some(hm(18, 0))),
        cancel_notice: days_before(1, false, Some(hm(18, 0))),
        requires_enrolment: false,
        meal_choice: false,
        when_full: "greyed",
    };
    match kind {
        "canteen" => Template {
            units: vec![unit("repas", "Repas", (11, 30), (13, 30))],
            groups: everyone(),
            opening: school_days.clone(),
            booking_notice: days_before(2, true, Some(hm(10, 0))),
            cancel_notice: days_before(2, true, Some(hm(10, 0))),
            requires_enrolment: false,
            meal_choice: true,
            when_full: "greyed",
        },
        "morning" => periscolaire(unit("matin", "Accueil du matin", (7, 30), (8, 30))),
        "evening" => periscolaire(unit("soir", "Accueil du soir", (16, 30), (18, 30))),
        "wednesday" | "holiday_centre" => {
            let holidays = kind == "holiday_centre";
            Template {
                units: centre_units(if holidays {
                    &["matin", "apres_midi"]
                } else {
                    &["matin"]
                }),
                groups: centre_groups(),
                opening: vec![if holidays {
                    OpeningRule::Holidays {
                        weekdays: vec![Mon, Tue, Wed, Thu, Fri],
                        kinds: vec![],
                    }
                } else {
                    OpeningRule::Wednesdays
                }],
                booking_notice: days_before(7, false, None),
                cancel_notice: days_before(7, false, None),
                requires_enrolment: true,
                meal_choice: false,
                when_full: if holidays { "waitlist" } else { "greyed" },
            }
        }
        "nursery" => Template {
            units: vec![UnitInput {
                hourly: true,
                ..unit("journee", "Journée", (7, 30), (18, 30))
            }],
            groups: vec![
                group("Bébés", Some((0, 17)), Some(5)),
                group("Moyens-grands", Some((18, 47)), Some(8)),
            ],
            opening: vec![OpeningRule::Weekdays {
                weekdays: vec![Mon, Tue, Wed, Thu, Fri],
            }],
            booking_notice: days_before(2, true, None),
            cancel_notice: days_before(2, true, None),
            requires_enrolment: true,
            meal_choice: false,
            when_full: "greyed",
        },
        _ => Template {
            units: vec![unit("seance", "Séance", (14, 0), (16, 0))],
            groups: vec![group("Tous les participants", None, None)],
            opening: vec![OpeningRule::Weekdays {
                weekdays: vec![Wed, Sat],
            }],
            booking_notice: None,
            cancel_notice: None,
            requires_enrolment: true,
            meal_choice: false,
            when_full: "greyed",
        },
    }
}

// ---------------------------------------------------------------------------------------
// Activities

pub struct NewActivity {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub structure_id: Option<i64>,
    pub description: String,
}

/// `^[a-z0-9][a-z0-9_-]{0,39}$`, the tariff grid key.
fn check_activity_code(code: &str) -> Result<String, String> {
    let code = code.trim().to_lowercase();
    let ok = code.len() <= 40
        && code.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || (i > 0 && (b == b'_' || b == b'-'))
        })
        && !code.is_empty();
    if ok {
        Ok(code)
    } else {
        Err(format!(
            "le code « {code} » ne convient pas : de 1 à 40 lettres minuscules sans accent, \
             chiffres, « - » ou « _ », commençant par une lettre ou un chiffre"
        ))
    }
}

async fn require_structure(conn: &mut Conn, structure: Option<i64>) -> AppResult<()> {
    if let Some(id) = structure {
        let found: i64 = structures::table.find(id).count().get_result(conn).await?;
        if found == 0 {
            return Err(AppError::invalid(format!("aucune structure n° {id}")));
        }
    }
    Ok(())
}

/// Creates the activity with its kind's template (units, groups, opening calendar, notice
/// delays, requires_enrolment, meal_choice), all editable afterwards.
pub async fn create_activity(conn: &mut Conn, new: &NewActivity) -> AppResult<i64> {
    let code = check_activity_code(&new.code).map_err(AppError::invalid)?;
    let name = required_text(&new.name, "le nom de l'activité").map_err(AppError::invalid)?;
    if !known(model::KINDS, &new.kind) {
        return Err(AppError::invalid(format!(
            "type d'activité inconnu « {} »",
            new.kind
        )));
    }
    require_structure(conn, new.structure_id).await?;
    let template = template(&new.kind);
    let id: i64 = diesel::insert_into(activities::table)
        .values((
            activities::code.eq(&code),
            activities::name.eq(&name),
            activities::kind.eq(&new.kind),
            activities::structure_id.eq(new.structure_id),
            activities::description.eq(new.description.trim()),
            activities::opening.eq(to_json(&template.opening)?),
            activities::booking_notice.eq(template
                .booking_notice
                .as_ref()
                .map(to_json)
                .transpose()?),
            activities::cancel_notice.eq(template
                .cancel_notice
                .as_ref()
                .map(to_json)
                .transpose()?),
            activities::when_full.eq(template.when_full),
            activities::requires_enrolment.eq(template.requires_enrolment),
            activities::meal_choice.eq(template.meal_choice),
        ))
        .returning(activities::id)
        .get_result(conn)
        .await
        .map_err(unique_or(format!("une activité a déjà le code « {code} »")))?;
    for (sort, unit) in (0..).zip(&template.units) {
        let unit = check_unit(unit, &siblings_of(&template.units, &unit.code))
            .map_err(AppError::invalid)?;
        insert_unit(conn, id, &unit, sort).await?;
    }
    for (sort, group) in (0..).zip(&template.groups) {
        insert_group(
            conn,
            id,
            &check_group(group).map_err(AppError::invalid)?,
            sort,
        )
        .await?;
    }
    Ok(id)
}

/// A value for a jsonb column.
fn to_json<T: Serialize>(value: &T) -> AppResult<serde_json::Value> {
    serde_json::to_value(value).map_err(AppError::internal)
}

/// The structure of activity `id` (for permissions), or 404.
pub async fn structure_of(conn: &mut Conn, id: i64) -> AppResult<Option<i64>> {
    activities::table
        .find(id)
        .select(activities::structure_id)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Activité introuvable."))
}

async fn require_activity(conn: &mut Conn, id: i64) -> AppResult<()> {
    structure_of(conn, id).await.map(|_| ())
}

/// The general fields of an activity, as edited.
#[derive(Debug, Clone, Default, Serialize, Queryable, AsChangeset)]
#[diesel(table_name = activities, treat_none_as_null = true)]
pub struct ActivityPatch {
    pub name: String,
    pub description: String,
    pub structure_id: Option<i64>,
    pub when_full: String,
    /// `None`: the city's setting.
    pub late_absence: Option<String>,
    pub requires_enrolment: bool,
    pub required_documents: Vec<String>,
    pub required_facts: Vec<String>,
    pub meal_choice: bool,
    pub offer_hours: i32,
    pub active: bool,
}

fn check_codes(codes: &[String], list: &[(&str, &str)], what: &str) -> Result<Vec<String>, String> {
    let mut kept = Vec::new();
    for code in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if !known(list, code) {
            return Err(format!("{what} inconnu(e) « {code} »"));
        }
        if !kept.iter().any(|k| k == code) {
            kept.push(code.to_string());
        }
    }
    Ok(kept)
}

fn check_patch(patch: &ActivityPatch) -> Result<ActivityPatch, String> {
    if !known(WHEN_FULL, &patch.when_full) {
        return Err(format!(
            "choix inconnu « {} » pour une unité complète",
            patch.when_full
        ));
    }
    if let Some(late) = &patch.late_absence
        && !known(LATE_ABSENCES, late)
    {
        return Err(format!(
            "choix inconnu « {late} » pour une annulation tardive"
        ));
    }
    if !(1..=720).contains(&patch.offer_hours) {
        return Err(format!(
            "le délai de réponse à une place proposée doit être de 1 à 720 heures (et non {})",
            patch.offer_hours
        ));
    }
    Ok(ActivityPatch {
        name: required_text(&patch.name, "le nom de l'activité")?,
        description: patch.description.trim().to_string(),
        required_documents: check_codes(
            &patch.required_documents,
            documents::KINDS,
            "pièce justificative",
        )?,
        required_facts: check_codes(&patch.required_facts, FACTS, "élément du dossier")?,
        ..patch.clone()
    })
}

pub async fn update_activity(conn: &mut Conn, id: i64, patch: &ActivityPatch) -> AppResult<()> {
    require_activity(conn, id).await?;
    let patch = check_patch(patch).map_err(AppError::invalid)?;
    require_structure(conn, patch.structure_id).await?;
    diesel::update(activities::table.find(id))
        .set(&patch)
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Units

/// Another unit of the same activity, as a unit's rules see it.
#[derive(Debug, Clone)]
pub struct Sibling {
    pub code: String,
    pub label: String,
    pub includes: Vec<String>,
}

fn siblings_of(units: &[UnitInput], except: &str) -> Vec<Sibling> {
    units
        .iter()
        .filter(|u| u.code != except)
        .map(|u| Sibling {
            code: u.code.clone(),
            label: u.label.clone(),
            includes: u.includes.clone(),
        })
        .collect()
}

fn is_unit_code(code: &str) -> bool {
    (1..=30).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks a unit against the other units of its activity; returns it trimmed, its code
/// lists without blanks or repeats.
pub fn check_unit(unit: &UnitInput, siblings: &[Sibling]) -> Result<UnitInput, String> {
    let code = unit.code.trim().to_string();
    if !is_unit_code(&code) {
        return Err(format!(
            "le code d'unité « {code} » ne convient pas : de 1 à 30 lettres minuscules sans \
             accent, chiffres ou « _ »"
        ));
    }
    if siblings.iter().any(|s| s.code == code) {
        return Err(format!("l'activité a déjà une unité « {code} »"));
    }
    let label = required_text(&unit.label, "le libellé de l'unité")?;
    if unit.ends <= unit.starts {
        return Err(format!(
            "l'unité « {label} » doit finir après avoir commencé (de {} à {})",
            unit.starts.format("%H:%M"),
            unit.ends.format("%H:%M")
        ));
    }
    let known_codes = || {
        siblings
            .iter()
            .map(|s| s.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let list = |codes: &[String], verb: &str| -> Result<Vec<String>, String> {
        let mut kept: Vec<String> = Vec::new();
        for other in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            if other == code {
                return Err(format!("une unité ne peut pas {verb} elle-même"));
            }
            if !siblings.iter().any(|s| s.code == other) {
                return Err(format!(
                    "« {other} » n'est pas une unité de cette activité (unités : {})",
                    known_codes()
                ));
            }
            if !kept.iter().any(|k| k == other) {
                kept.push(other.to_string());
            }
        }
        Ok(kept)
    };
    let checked = UnitInput {
        includes: list(&unit.includes, "se comprendre")?,
        excludes: list(&unit.excludes, "s'exclure")?,
        requires: list(&unit.requires, "se nécessiter")?,
        code,
        label,
        ..unit.clone()
    };
    if let Some(both) = checked
        .includes
        .iter()
        .find(|c| checked.excludes.contains(c))
    {
        return Err(format!(
            "« {both} » ne peut pas être à la fois comprise et exclue"
        ));
    }
    if let Some(path) = include_cycle(&checked, siblings) {
        return Err(format!(
            "ces unités se comprendraient l'une l'autre : {}",
            path.join(" → ")
        ));
    }
    Ok(checked)
}

/// A path of inclusions leading from the unit back to itself, if its includes make one.
fn include_cycle(unit: &UnitInput, siblings: &[Sibling]) -> Option<Vec<String>> {
    fn walk(
        code: &str,
        target: &str,
        siblings: &[Sibling],
        seen: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> bool {
        let Some(sibling) = siblings.iter().find(|s| s.code == code) else {
            return false;
        };
        if !seen.insert(code.to_string()) {
            return false;
        }
        path.push(sibling.label.clone());
        if sibling.includes.iter().any(|c| c == target)
            || sibling
                .includes
                .iter()
                .any(|c| walk(c, target, siblings, seen, path))
        {
            return true;
        }
        path.pop();
        false
    }
    for start in &unit.includes {
        let mut path = vec![unit.label.clone()];
        if walk(start, &unit.code, siblings, &mut BTreeSet::new(), &mut path) {
            path.push(unit.label.clone());
            return Some(path);
        }
    }
    None
}

async fn insert_unit(
    conn: &mut Conn,
    activity: i64,
    unit: &UnitInput,
    sort: i32,
) -> AppResult<i64> {
    diesel::insert_into(activity_units::table)
        .values((
            activity_units::activity_id.eq(activity),
            activity_units::sort.eq(sort),
            unit,
        ))
        .returning(activity_units::id)
        .get_result(conn)
        .await
        .map_err(unique_or(format!(
            "l'activité a déjà une unité « {} »",
            unit.code
        )))
}

type UnitRow = (
    i64,
    String,
    String,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    i32,
);

async fn unit_rows(conn: &mut Conn, activity: i64) -> AppResult<Vec<UnitRow>> {
    Ok(activity_units::table
        .filter(activity_units::activity_id.eq(activity))
        .order((activity_units::sort, activity_units::id))
        .select((
            activity_units::id,
            activity_units::code,
            activity_units::label,
            activity_units::includes,
            activity_units::excludes,
            activity_units::requires,
            activity_units::sort,
        ))
        .load(conn)
        .await?)
}

fn siblings_from(rows: &[UnitRow], except: Option<i64>) -> Vec<Sibling> {
    rows.iter()
        .filter(|r| Some(r.0) != except)
        .map(|r| Sibling {
            code: r.1.clone(),
            label: r.2.clone(),
            includes: r.3.clone(),
        })
        .collect()
}

pub async fn add_unit(conn: &mut Conn, activity: i64, unit: &UnitInput) -> AppResult<i64> {
    require_activity(conn, activity).await?;
    let rows = unit_rows(conn, activity).await?;
    let unit = check_unit(unit, &siblings_from(&rows, None)).map_err(AppError::invalid)?;
    let sort = rows.iter().map(|r| r.6 + 1).max().unwrap_or(0);
    insert_unit(conn, activity, &unit, sort).await
}

/// Changes a unit; its code stays (bookings, tariffs and typical weeks name it).
pub async fn update_unit(
    conn: &mut Conn,
    activity: i64,
    id: i64,
    unit: &UnitInput,
) -> AppResult<()> {
    require_activity(conn, activity).await?;
    let rows = unit_rows(conn, activity).await?;
    let current = rows
        .iter()
        .find(|r| r.0 == id)
        .ok_or_else(|| AppError::not_found("Unité introuvable."))?;
    if unit.code.trim() != current.1 {
        return Err(AppError::invalid(format!(
            "le code de l'unité « {} » ne change pas (réservations, tarifs et semaines types \
             le désignent) : créez plutôt une autre unité",
            current.2
        )));
    }
    let unit = check_unit(unit, &siblings_from(&rows, Some(id))).map_err(AppError::invalid)?;
    diesel::update(activity_units::table.find(id))
        .set(&unit)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Enrolments of the activity whose typical week names unit `code`.
async fn enrolments_wishing(conn: &mut Conn, activity: i64, code: &str) -> AppResult<i64> {
    let count: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM enrolments e WHERE e.activity_id = $1 AND EXISTS \
         (SELECT 1 FROM jsonb_each(e.wished_week) w \
          WHERE jsonb_typeof(w.value) = 'array' AND w.value ? $2)",
    )
    .bind::<diesel::sql_types::BigInt, _>(activity)
    .bind::<diesel::sql_types::Text, _>(code)
    .get_result(conn)
    .await?;
    Ok(count.n)
}

/// Removes a unit nothing uses yet (no booking, waiting child, enrolment or other unit).
pub async fn remove_unit(conn: &mut Conn, activity: i64, id: i64) -> AppResult<()> {
    require_activity(conn, activity).await?;
    let rows = unit_rows(conn, activity).await?;
    let (_, code, label, ..) = rows
        .iter()
        .find(|r| r.0 == id)
        .ok_or_else(|| AppError::not_found("Unité introuvable."))?
        .clone();
    if rows.len() == 1 {
        return Err(AppError::invalid(
            "une activité garde au moins une unité : ajoutez-en une autre avant de supprimer celle-ci",
        ));
    }
    if let Some(other) = rows
        .iter()
        .find(|r| r.0 != id && [&r.3, &r.4, &r.5].iter().any(|l| l.contains(&code)))
    {
        return Err(AppError::invalid(format!(
            "« {} » fait référence à « {label} » : modifiez d'abord « {} »",
            other.2, other.2
        )));
    }
    let booked: i64 = bookings::table
        .filter(bookings::unit_id.eq(id))
        .count()
        .get_result(conn)
        .await?;
    let waiting: i64 = waitlist::table
        .filter(waitlist::unit_id.eq(id))
        .count()
        .get_result(conn)
        .await?;
    if booked + waiting > 0 {
        return Err(AppError::invalid(format!(
            "« {label} » a déjà des réservations ou des demandes en liste d'attente : elle ne \
             peut plus être supprimée (rendez l'activité inactive ou fermez le calendrier)"
        )));
    }
    if enrolments_wishing(conn, activity, &code).await? > 0 {
        return Err(AppError::invalid(format!(
            "des inscriptions demandent « {label} » dans leur semaine type : elle ne peut pas \
             être supprimée"
        )));
    }
    diesel::delete(capacities::table.filter(capacities::unit_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(slot_counts::table.filter(slot_counts::unit_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(activity_units::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Groups

/// Checks a group; returns it trimmed, its levels without repeats.
pub fn check_group(group: &GroupInput) -> Result<GroupInput, String> {
    let name = required_text(&group.name, "le nom du groupe")?;
    not_negative(group.min_age_months, "l'âge minimum")?;
    not_negative(group.max_age_months, "l'âge maximum")?;
    if let (Some(min), Some(max)) = (group.min_age_months, group.max_age_months)
        && max < min
    {
        return Err(format!(
            "l'âge maximum ({max} mois) est inférieur à l'âge minimum ({min} mois)"
        ));
    }
    if group.children_per_staff.is_some_and(|r| r <= 0) {
        return Err("le taux d'encadrement compte au moins un enfant par adulte".into());
    }
    Ok(GroupInput {
        name,
        levels: check_codes(&group.levels, super::schools::LEVELS, "niveau scolaire")?,
        ..group.clone()
    })
}

async fn insert_group(
    conn: &mut Conn,
    activity: i64,
    group: &GroupInput,
    sort: i32,
) -> AppResult<i64> {
    diesel::insert_into(activity_groups::table)
        .values((
            activity_groups::activity_id.eq(activity),
            activity_groups::sort.eq(sort),
            group,
        ))
        .returning(activity_groups::id)
        .get_result(conn)
        .await
        .map_err(unique_or(format!(
            "l'activité a déjà un groupe « {} »",
            group.name
        )))
}

async fn group_ids(conn: &mut Conn, activity: i64) -> AppResult<Vec<(i64, String, i32)>> {
    Ok(activity_groups::table
        .filter(activity_groups::activity_id.eq(activity))
        .select((
            activity_groups::id,
            activity_groups::name,
            activity_groups::sort,
        ))
        .load(conn)
        .await?)
}

pub async fn add_group(conn: &mut Conn, activity: i64, group: &GroupInput) -> AppResult<i64> {
    require_activity(conn, activity).await?;
    let group = check_group(group).map_err(AppError::invalid)?;
    let sort = group_ids(conn, activity)
        .await?
        .iter()
        .map(|g| g.2 + 1)
        .max()
        .unwrap_or(0);
    insert_group(conn, activity, &group, sort).await
}

pub async fn update_group(
    conn: &mut Conn,
    activity: i64,
    id: i64,
    group: &GroupInput,
) -> AppResult<()> {
    require_activity(conn, activity).await?;
    if !group_ids(conn, activity).await?.iter().any(|g| g.0 == id) {
        return Err(AppError::not_found("Groupe introuvable."));
    }
    let group = check_group(group).map_err(AppError::invalid)?;
    diesel::update(activity_groups::table.find(id))
        .set(&group)
        .execute(conn)
        .await
        .map_err(unique_or(format!(
            "l'activité a déjà un groupe « {} »",
            group.name
        )))?;
    Ok(())
}

/// Removes a group nothing uses yet (no booking, waiting child, enrolment or staff).
pub async fn remove_group(conn: &mut Conn, activity: i64, id: i64) -> AppResult<()> {
    require_activity(conn, activity).await?;
    let groups = group_ids(conn, activity).await?;
    let name = groups
        .iter()
        .find(|g| g.0 == id)
        .map(|g| g.1.clone())
        .ok_or_else(|| AppError::not_found("Groupe introuvable."))?;
    if groups.len() == 1 {
        return Err(AppError::invalid(
            "une activité garde au moins un groupe : ajoutez-en un autre avant de supprimer celui-ci",
        ));
    }
    let used = bookings::table
        .filter(bookings::group_id.eq(id))
        .count()
        .get_result::<i64>(conn)
        .await?
        + waitlist::table
            .filter(waitlist::group_id.eq(id))
            .count()
            .get_result::<i64>(conn)
            .await?
        + enrolments::table
            .filter(enrolments::group_id.eq(id))
            .count()
            .get_result::<i64>(conn)
            .await?
        + staff_assignments::table
            .filter(staff_assignments::group_id.eq(id))
            .count()
            .get_result::<i64>(conn)
            .await?;
    if used > 0 {
        return Err(AppError::invalid(format!(
            "le groupe « {name} » a déjà des inscriptions, des réservations ou du personnel \
             affecté : il ne peut plus être supprimé"
        )));
    }
    diesel::delete(capacities::table.filter(capacities::group_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(slot_counts::table.filter(slot_counts::group_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(activity_groups::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Capacities

pub struct NewCapacity {
    pub group_id: Option<i64>,
    pub unit_id: Option<i64>,
    /// A punctual override for this day; `None`: a permanent value from `valid_from`.
    pub day: Option<NaiveDate>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub places: i32,
    pub reason: String,
}

/// Adds a permanent capacity or a punctual one (`day`: its dates are that day).
pub async fn add_capacity(conn: &mut Conn, activity: i64, new: &NewCapacity) -> AppResult<i64> {
    require_activity(conn, activity).await?;
    if new.places < 0 {
        return Err(AppError::invalid(
            "le nombre de places ne peut pas être négatif",
        ));
    }
    let (valid_from, valid_to) = match new.day {
        Some(day) => (day, Some(day)),
        None => (new.valid_from, new.valid_to),
    };
    if valid_to.is_some_and(|to| to < valid_from) {
        return Err(AppError::invalid(
            "la capacité doit finir après avoir commencé",
        ));
    }
    if let Some(group) = new.group_id
        && !group_ids(conn, activity)
            .await?
            .iter()
            .any(|g| g.0 == group)
    {
        return Err(AppError::invalid(
            "ce groupe n'appartient pas à cette activité",
        ));
    }
    if let Some(unit) = new.unit_id
        && !unit_rows(conn, activity).await?.iter().any(|u| u.0 == unit)
    {
        return Err(AppError::invalid(
            "cette unité n'appartient pas à cette activité",
        ));
    }
    Ok(diesel::insert_into(capacities::table)
        .values((
            capacities::activity_id.eq(activity),
            capacities::group_id.eq(new.group_id),
            capacities::unit_id.eq(new.unit_id),
            capacities::day.eq(new.day),
            capacities::valid_from.eq(valid_from),
            capacities::valid_to.eq(valid_to),
            capacities::places.eq(new.places),
            capacities::reason.eq(new.reason.trim()),
        ))
        .returning(capacities::id)
        .get_result(conn)
        .await?)
}

/// Ends a permanent capacity on `valid_to` (the last day it applies).
pub async fn end_capacity(
    conn: &mut Conn,
    activity: i64,
    id: i64,
    valid_to: NaiveDate,
) -> AppResult<()> {
    let (day, valid_from): (Option<NaiveDate>, NaiveDate) = capacities::table
        .filter(capacities::id.eq(id))
        .filter(capacities::activity_id.eq(activity))
        .select((capacities::day, capacities::valid_from))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Capacité introuvable."))?;
    if day.is_some() {
        return Err(AppError::invalid(
            "une capacité ponctuelle vaut pour son seul jour : elle ne se termine pas",
        ));
    }
    if valid_to < valid_from {
        return Err(AppError::invalid(format!(
            "la capacité commence le {} : elle ne peut pas finir avant",
            valid_from.format("%d/%m/%Y")
        )));
    }
    diesel::update(capacities::table.find(id))
        .set(capacities::valid_to.eq(valid_to))
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Opening calendar and notice delays

async fn opening_of(conn: &mut Conn, activity: i64) -> AppResult<Vec<OpeningRule>> {
    let value: serde_json::Value = activities::table
        .find(activity)
        .select(activities::opening)
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Activité introuvable."))?;
    serde_json::from_value(value)
        .map_err(|e| AppError::internal(anyhow::anyhow!("calendrier d'ouverture illisible : {e}")))
}

async fn save_opening(conn: &mut Conn, activity: i64, rules: &[OpeningRule]) -> AppResult<()> {
    diesel::update(activities::table.find(activity))
        .set(activities::opening.eq(to_json(&rules)?))
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds one rule to the opening calendar, checked with the others.
pub async fn add_opening_rule(conn: &mut Conn, activity: i64, rule: OpeningRule) -> AppResult<()> {
    let mut rules = opening_of(conn, activity).await?;
    if rules.contains(&rule) {
        return Err(AppError::invalid(
            "cette règle figure déjà au calendrier d'ouverture",
        ));
    }
    rules.push(rule);
    OpeningCalendar {
        zone: Zone::A,
        rules: rules.clone(),
    }
    .validate()
    .map_err(|e| AppError::invalid(e.to_string()))?;
    save_opening(conn, activity, &rules).await
}

/// Removes the rule at `index` (as listed).
pub async fn remove_opening_rule(conn: &mut Conn, activity: i64, index: usize) -> AppResult<()> {
    let mut rules = opening_of(conn, activity).await?;
    if index >= rules.len() {
        return Err(AppError::not_found("Règle d'ouverture introuvable."));
    }
    rules.remove(index);
    save_opening(conn, activity, &rules).await
}

/// Which notice delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Booking,
    Cancel,
}

/// Sets (or clears: until the unit starts) the booking or cancelling notice delay.
pub async fn set_notice(
    conn: &mut Conn,
    activity: i64,
    which: Notice,
    rule: Option<&NoticeRule>,
) -> AppResult<()> {
    require_activity(conn, activity).await?;
    if let Some(rule) = rule {
        rule.validate()
            .map_err(|e| AppError::invalid(e.to_string()))?;
    }
    let value = rule.map(to_json).transpose()?;
    let target = activities::table.find(activity);
    match which {
        Notice::Booking => {
            diesel::update(target)
                .set(activities::booking_notice.eq(value))
                .execute(conn)
                .await?
        }
        Notice::Cancel => {
            diesel::update(target)
                .set(activities::cancel_notice.eq(value))
                .execute(conn)
                .await?
        }
    };
    Ok(())
}

fn weekday_name(day: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|(w, ..)| *w == day)
        .map_or("", |(_, _, name)| name)
}

/// « lundi, mardi et jeudi », « du lundi au vendredi ».
fn weekdays_text(days: &[Weekday]) -> String {
    let mut days = days.to_vec();
    days.sort_by_key(Weekday::num_days_from_monday);
    days.dedup();
    let numbers: Vec<u32> = days.iter().map(Weekday::num_days_from_monday).collect();
    if days.len() >= 3 && numbers.windows(2).all(|w| w[1] == w[0] + 1) {
        return format!(
            "du {} au {}",
            weekday_name(days[0]),
            weekday_name(days[days.len() - 1])
        );
    }
    let names: Vec<&str> = days.iter().map(|d| weekday_name(*d)).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} et {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

fn fr_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// « 10 h », « 9 h 30 ».
pub fn fr_time(time: NaiveTime) -> String {
    use chrono::Timelike;
    match time.minute() {
        0 => format!("{} h", time.hour()),
        m => format!("{} h {m:02}", time.hour()),
    }
}

fn with_label(text: String, label: &Option<String>) -> String {
    match label.as_deref().map(str::trim) {
        Some(label) if !label.is_empty() => format!("{text} ({label})"),
        _ => text,
    }
}

/// One opening rule in French, for the screens.
pub fn describe_opening(rule: &OpeningRule) -> String {
    match rule {
        OpeningRule::SchoolDays { weekdays } => format!(
            "Jours d'école, hors vacances scolaires : {}",
            weekdays_text(weekdays)
        ),
        OpeningRule::Wednesdays => "Mercredis, hors vacances scolaires".into(),
        OpeningRule::Holidays { weekdays, kinds } => {
            let which = if kinds.is_empty() {
                "Vacances scolaires".to_string()
            } else {
                kinds
                    .iter()
                    .map(|k| k.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!("{which} : {}", weekdays_text(weekdays))
        }
        OpeningRule::Weekdays { weekdays } => {
            format!("Toute l'année : {}", weekdays_text(weekdays))
        }
        OpeningRule::Closure { from, to, label } if from == to => {
            with_label(format!("Fermeture le {}", fr_date(*from)), label)
        }
        OpeningRule::Closure { from, to, label } => with_label(
            format!("Fermeture du {} au {}", fr_date(*from), fr_date(*to)),
            label,
        ),
        OpeningRule::ExceptionalOpening { date, label } => with_label(
            format!("Ouverture exceptionnelle le {}", fr_date(*date)),
            label,
        ),
    }
}

/// A notice delay in French: « 2 jours ouvrés avant, 10 h », « la veille, 18 h ».
pub fn describe_notice(rule: Option<&NoticeRule>) -> String {
    let Some(rule) = rule else {
        return "jusqu'au début de l'unité".into();
    };
    let (working, excluded) = match &rule.count {
        DayCount::CalendarDays => (false, &[][..]),
        DayCount::WorkingDays { excluded_weekdays } => (true, excluded_weekdays.as_slice()),
    };
    let n = rule.amount;
    let plural = if n > 1 { "s" } else { "" };
    let mut text = match (rule.unit, working, n) {
        (NoticeUnit::Days, _, 0) => "le jour même".to_string(),
        (NoticeUnit::Days, false, 1) => "la veille".to_string(),
        (NoticeUnit::Days, false, _) => format!("{n} jours avant"),
        (NoticeUnit::Days, true, _) => format!("{n} jour{plural} ouvré{plural} avant"),
        (NoticeUnit::Hours, false, _) => format!("{n} heure{plural} avant"),
        (NoticeUnit::Hours, true, _) => format!("{n} heure{plural} ouvrée{plural} avant"),
    };
    if let Some(cutoff) = rule.cutoff_time {
        text.push_str(&match rule.unit {
            NoticeUnit::Days => format!(", {}", fr_time(cutoff)),
            NoticeUnit::Hours => format!(", clôture à {}", fr_time(cutoff)),
        });
    }
    if !excluded.is_empty() {
        text.push_str(&format!(" (hors {})", weekdays_text(excluded)));
    }
    text
}

// ---------------------------------------------------------------------------------------
// Registration periods and commission criteria

pub struct NewPeriod {
    pub label: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub population: Population,
}

/// Checks a population's own fields; returns it with its lists without repeats.
pub fn check_population(population: &Population) -> Result<Population, String> {
    not_negative(population.min_age_months, "l'âge minimum")?;
    not_negative(population.max_age_months, "l'âge maximum")?;
    if let (Some(min), Some(max)) = (population.min_age_months, population.max_age_months)
        && max < min
    {
        return Err(format!(
            "l'âge maximum ({max} mois) est inférieur à l'âge minimum ({min} mois)"
        ));
    }
    if population.qf_max.is_some_and(|qf| qf < 0) {
        return Err("le plafond de quotient familial ne peut pas être négatif".into());
    }
    let mut school_ids = population.school_ids.clone();
    school_ids.sort_unstable();
    school_ids.dedup();
    Ok(Population {
        levels: check_codes(
            &population.levels,
            super::schools::LEVELS,
            "niveau scolaire",
        )?,
        school_ids,
        ..population.clone()
    })
}

async fn require_schools(conn: &mut Conn, ids: &[i64]) -> AppResult<()> {
    let found: i64 = schools::table
        .filter(schools::id.eq_any(ids))
        .count()
        .get_result(conn)
        .await?;
    if found != ids.len() as i64 {
        return Err(AppError::invalid("une des écoles choisies n'existe pas"));
    }
    Ok(())
}

pub async fn add_period(conn: &mut Conn, activity: i64, new: &NewPeriod) -> AppResult<i64> {
    require_activity(conn, activity).await?;
    if new.closes_at <= new.opens_at {
        return Err(AppError::invalid(
            "la période d'inscription doit se fermer après s'être ouverte",
        ));
    }
    let population = check_population(&new.population).map_err(AppError::invalid)?;
    require_schools(conn, &population.school_ids).await?;
    Ok(diesel::insert_into(registration_periods::table)
        .values((
            registration_periods::activity_id.eq(activity),
            registration_periods::label.eq(new.label.trim()),
            registration_periods::opens_at.eq(new.opens_at),
            registration_periods::closes_at.eq(new.closes_at),
            registration_periods::population.eq(to_json(&population)?),
        ))
        .returning(registration_periods::id)
        .get_result(conn)
        .await?)
}

pub async fn remove_period(conn: &mut Conn, activity: i64, id: i64) -> AppResult<()> {
    let removed = diesel::delete(
        registration_periods::table
            .filter(registration_periods::id.eq(id))
            .filter(registration_periods::activity_id.eq(activity)),
    )
    .execute(conn)
    .await?;
    if removed == 0 {
        return Err(AppError::not_found("Période d'inscription introuvable."));
    }
    Ok(())
}

/// Checks a criterion; returns it with its parameter normalised.
pub fn check_criterion(criterion: &Criterion) -> Result<Criterion, String> {
    if !known(commission::KINDS, &criterion.kind) {
        return Err(format!("critère inconnu « {} »", criterion.kind));
    }
    if !(-1000..=1000).contains(&criterion.weight) {
        return Err(format!(
            "le poids d'un critère va de -1000 à 1000 (et non {})",
            criterion.weight
        ));
    }
    let parameter = criterion.parameter.trim().replace([' ', '€'], "");
    let parameter = match criterion.kind.as_str() {
        "qf_at_most" => match parameter.parse::<u32>() {
            Ok(qf) => qf.to_string(),
            Err(_) => {
                return Err(
                    "indiquez le seuil de quotient familial en euros (un nombre entier)".into(),
                );
            }
        },
        "school" => match parameter.parse::<i64>() {
            Ok(school) => school.to_string(),
            Err(_) => return Err("choisissez l'école du critère".into()),
        },
        _ => String::new(),
    };
    Ok(Criterion {
        parameter,
        ..criterion.clone()
    })
}

pub async fn add_criterion(
    conn: &mut Conn,
    activity: i64,
    criterion: &Criterion,
) -> AppResult<i64> {
    require_activity(conn, activity).await?;
    let criterion = check_criterion(criterion).map_err(AppError::invalid)?;
    if criterion.kind == "school"
        && let Ok(school) = criterion.parameter.parse::<i64>()
    {
        require_schools(conn, &[school]).await?;
    }
    diesel::insert_into(commission_criteria::table)
        .values((
            commission_criteria::activity_id.eq(activity),
            commission_criteria::kind.eq(&criterion.kind),
            commission_criteria::parameter.eq(&criterion.parameter),
            commission_criteria::weight.eq(criterion.weight),
        ))
        .returning(commission_criteria::id)
        .get_result(conn)
        .await
        .map_err(unique_or(
            "ce critère existe déjà : supprimez-le pour changer son poids".into(),
        ))
}

pub async fn remove_criterion(conn: &mut Conn, activity: i64, id: i64) -> AppResult<()> {
    let removed = diesel::delete(
        commission_criteria::table
            .filter(commission_criteria::id.eq(id))
            .filter(commission_criteria::activity_id.eq(activity)),
    )
    .execute(conn)
    .await?;
    if removed == 0 {
        return Err(AppError::not_found("Critère introuvable."));
    }
    Ok(())
}

/// The criteria of an activity, for scoring.
pub async fn criteria(conn: &mut Conn, activity: i64) -> AppResult<Vec<(i64, Criterion)>> {
    let rows: Vec<(i64, String, String, i32)> = commission_criteria::table
        .filter(commission_criteria::activity_id.eq(activity))
        .order(commission_criteria::id)
        .select((
            commission_criteria::id,
            commission_criteria::kind,
            commission_criteria::parameter,
            commission_criteria::weight,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, parameter, weight)| {
            (
                id,
                Criterion {
                    kind,
                    parameter,
                    weight,
                },
            )
        })
        .collect())
}

// ---------------------------------------------------------------------------------------
// The whole activity, for its page

/// A capacity row as stored.
#[derive(Debug, Clone, Serialize, Queryable)]
pub struct CapacityLine {
    pub id: i64,
    pub group_id: Option<i64>,
    pub unit_id: Option<i64>,
    /// A punctual override's day; `None` for a permanent value.
    pub day: Option<NaiveDate>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub places: i32,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CapacityView {
    #[serde(flatten)]
    pub line: CapacityLine,
    /// The group's name, the unit's label.
    pub group: Option<String>,
    pub unit: Option<String>,
    /// Applies on the day the page is shown (permanent rows) or is still to come.
    pub current: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodView {
    pub id: i64,
    pub label: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// « 02/03/2026 à 08:00 », Paris time.
    pub opens: String,
    pub closes: String,
    pub population: Population,
    pub population_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CriterionView {
    pub id: i64,
    pub kind: String,
    pub label: String,
    pub parameter: String,
    /// The threshold or the school, in words.
    pub parameter_text: String,
    pub weight: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub rule: OpeningRule,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityView {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub kind_label: String,
    /// The structure's name.
    pub structure: Option<String>,
    /// Name, description, structure_id, when_full... (flat in JSON).
    #[serde(flatten)]
    pub general: ActivityPatch,
    pub zone: Zone,
    pub opening: Vec<RuleView>,
    pub booking_notice: Option<NoticeRule>,
    pub cancel_notice: Option<NoticeRule>,
    pub booking_notice_text: String,
    pub cancel_notice_text: String,
    pub units: Vec<Unit>,
    pub groups: Vec<Group>,
    pub capacities: Vec<CapacityView>,
    pub periods: Vec<PeriodView>,
    pub criteria: Vec<CriterionView>,
}

#[derive(Queryable)]
struct ActivityRow {
    code: String,
    kind: String,
    structure: Option<String>,
    opening: serde_json::Value,
    booking_notice: Option<serde_json::Value>,
    cancel_notice: Option<serde_json::Value>,
    general: ActivityPatch,
}

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value, what: &str) -> AppResult<T> {
    serde_json::from_value(value)
        .map_err(|e| AppError::internal(anyhow::anyhow!("{what} illisible : {e}")))
}

/// The city's school-holiday zone (setting `calendar.zone`).
async fn city_zone(conn: &mut Conn, today: NaiveDate) -> AppResult<Zone> {
    let settings = crate::domain::settings::in_force(conn, today).await?;
    Ok(
        match settings.get("calendar.zone").and_then(|v| v.as_str()) {
            Some("B") => Zone::B,
            Some("C") => Zone::C,
            _ => Zone::A,
        },
    )
}

type PeriodRow = (i64, String, DateTime<Utc>, DateTime<Utc>, serde_json::Value);

/// Activity `id` with everything its page shows, on `today`.
pub async fn view(conn: &mut Conn, id: i64, today: NaiveDate) -> AppResult<ActivityView> {
    let row: ActivityRow = activities::table
        .left_join(structures::table)
        .filter(activities::id.eq(id))
        .select((
            activities::code,
            activities::kind,
            structures::name.nullable(),
            activities::opening,
            activities::booking_notice,
            activities::cancel_notice,
            (
                activities::name,
                activities::description,
                activities::structure_id,
                activities::when_full,
                activities::late_absence,
                activities::requires_enrolment,
                activities::required_documents,
                activities::required_facts,
                activities::meal_choice,
                activities::offer_hours,
                activities::active,
            ),
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Activité introuvable."))?;
    let zone = city_zone(conn, today).await?;
    let units = model::units_of(conn, id).await?;
    let groups = model::groups_of(conn, id).await?;
    let opening: Vec<OpeningRule> = from_json(row.opening, "calendrier d'ouverture")?;
    let booking_notice: Option<NoticeRule> = row
        .booking_notice
        .map(|v| from_json(v, "délai de réservation"))
        .transpose()?;
    let cancel_notice: Option<NoticeRule> = row
        .cancel_notice
        .map(|v| from_json(v, "délai d'annulation"))
        .transpose()?;
    let lines: Vec<CapacityLine> = capacities::table
        .filter(capacities::activity_id.eq(id))
        .order((
            capacities::day.asc().nulls_first(),
            capacities::valid_from,
            capacities::id,
        ))
        .select((
            capacities::id,
            capacities::group_id,
            capacities::unit_id,
            capacities::day,
            capacities::valid_from,
            capacities::valid_to,
            capacities::places,
            capacities::reason,
        ))
        .load(conn)
        .await?;
    let capacities = lines
        .into_iter()
        .map(|line| CapacityView {
            group: line
                .group_id
                .and_then(|g| groups.iter().find(|x| x.id == g).map(|x| x.name.clone())),
            unit: line
                .unit_id
                .and_then(|u| units.iter().find(|x| x.id == u).map(|x| x.label.clone())),
            current: match line.day {
                Some(d) => d >= today,
                None => line.valid_to.is_none_or(|to| to >= today),
            },
            line,
        })
        .collect();
    let period_rows: Vec<PeriodRow> = registration_periods::table
        .filter(registration_periods::activity_id.eq(id))
        .order((registration_periods::opens_at, registration_periods::id))
        .select((
            registration_periods::id,
            registration_periods::label,
            registration_periods::opens_at,
            registration_periods::closes_at,
            registration_periods::population,
        ))
        .load(conn)
        .await?;
    let paris = |at: DateTime<Utc>| paris_local(at).format("%d/%m/%Y à %H:%M").to_string();
    let periods = period_rows
        .into_iter()
        .map(|(pid, label, opens_at, closes_at, population)| {
            let population: Population = serde_json::from_value(population).unwrap_or_default();
            PeriodView {
                id: pid,
                label,
                opens: paris(opens_at),
                closes: paris(closes_at),
                opens_at,
                closes_at,
                population_text: population.describe(),
                population,
            }
        })
        .collect();
    let school_names: Vec<(i64, String)> = schools::table
        .select((schools::id, schools::name))
        .load(conn)
        .await?;
    let criteria = criteria(conn, id)
        .await?
        .into_iter()
        .map(|(cid, c)| CriterionView {
            id: cid,
            label: commission::kind_label(&c.kind).to_string(),
            parameter_text: match c.kind.as_str() {
                "qf_at_most" => format!("{} €", c.parameter),
                "school" => school_names
                    .iter()
                    .find(|(s, _)| s.to_string() == c.parameter)
                    .map_or_else(|| c.parameter.clone(), |(_, n)| n.clone()),
                _ => String::new(),
            },
            kind: c.kind,
            parameter: c.parameter,
            weight: c.weight,
        })
        .collect();
    Ok(ActivityView {
        id,
        kind_label: model::kind_label(&row.kind).to_string(),
        zone,
        opening: opening
            .into_iter()
            .map(|rule| RuleView {
                text: describe_opening(&rule),
                rule,
            })
            .collect(),
        booking_notice_text: describe_notice(booking_notice.as_ref()),
        cancel_notice_text: describe_notice(cancel_notice.as_ref()),
        booking_notice,
        cancel_notice,
        code: row.code,
        kind: row.kind,
        structure: row.structure,
        general: row.general,
        units,
        groups,
        capacities,
        periods,
        criteria,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn siblings(units: &[UnitInput]) -> Vec<Sibling> {
        siblings_of(units, "")
    }

    #[test]
    fn every_kind_template_is_consistent() {
        for (kind, _) in model::KINDS {
            let t = template(kind);
            assert!(!t.units.is_empty() && !t.groups.is_empty(), "{kind}");
            for unit in &t.units {
                let others = siblings_of(&t.units, &unit.code);
                assert_eq!(check_unit(unit, &others).as_ref(), Ok(unit), "{kind}");
            }
            for group in &t.groups {
                assert_eq!(check_group(group).as_ref(), Ok(group), "{kind}");
            }
            OpeningCalendar {
                zone: Zone::A,
                rules: t.opening.clone(),
            }
            .validate()
            .unwrap();
            for notice in t.booking_notice.iter().chain(&t.cancel_notice) {
                notice.validate().unwrap();
            }
        }
    }

    #[test]
    fn templates_carry_the_french_defaults() {
        let canteen = template("canteen");
        assert_eq!(canteen.units[0].code, "repas");
        assert!(canteen.meal_choice && !canteen.requires_enrolment);
        assert_eq!(
            describe_notice(canteen.booking_notice.as_ref()),
            "2 jours ouvrés avant, 10 h"
        );
        assert_eq!(
            describe_notice(template("evening").cancel_notice.as_ref()),
            "la veille, 18 h"
        );
        let centre = template("holiday_centre");
        let meal = centre.units.iter().find(|u| u.code == "repas").unwrap();
        assert_eq!(meal.requires, vec!["matin", "apres_midi"]);
        assert_eq!(centre.when_full, "waitlist");
        assert_eq!(
            describe_opening(&centre.opening[0]),
            "Vacances scolaires : du lundi au vendredi"
        );
        let wednesday = template("wednesday");
        let meal = wednesday.units.iter().find(|u| u.code == "repas").unwrap();
        assert_eq!(meal.requires, vec!["matin"]);
        assert_eq!(wednesday.groups[1].max_age_months, Some(143));
        let nursery = template("nursery");
        assert!(nursery.units[0].hourly);
        assert_eq!(nursery.groups[0].children_per_staff, Some(5));
        assert_eq!(
            describe_opening(&template("sport").opening[0]),
            "Toute l'année : mercredi et samedi"
        );
    }

    #[test]
    fn unit_rules_name_other_existing_units_only() {
        let units = template("wednesday").units;
        let mut snack = unit("gouter", "Goûter", (16, 0), (16, 30));
        snack.requires = vec!["apres_midi".into(), " apres_midi ".into(), "".into()];
        assert_eq!(
            check_unit(&snack, &siblings(&units)).unwrap().requires,
            vec!["apres_midi"]
        );
        snack.includes = vec!["inconnu".into()];
        let error = check_unit(&snack, &siblings(&units)).unwrap_err();
        assert!(error.contains("« inconnu » n'est pas une unité"), "{error}");
        snack.includes = vec!["gouter".into()];
        assert!(check_unit(&snack, &siblings(&units)).is_err(), "itself");
        snack.includes = vec!["matin".into()];
        snack.excludes = vec!["matin".into()];
        assert!(
            check_unit(&snack, &siblings(&units))
                .unwrap_err()
                .contains("à la fois")
        );
        let duplicate = unit("matin", "Matin bis", (7, 0), (8, 0));
        assert!(check_unit(&duplicate, &siblings(&units)).is_err());
        let backwards = unit("nuit", "Nuit", (20, 0), (7, 0));
        assert!(
            check_unit(&backwards, &siblings(&units))
                .unwrap_err()
                .contains("finir après")
        );
    }

    #[test]
    fn a_unit_may_not_include_what_includes_it() {
        let units = template("wednesday").units;
        let mut morning = units[0].clone();
        morning.includes = vec!["journee".into()];
        let error = check_unit(&morning, &siblings_of(&units, "matin")).unwrap_err();
        assert_eq!(
            error,
            "ces unités se comprendraient l'une l'autre : Matin → Journée → Matin"
        );
    }

    #[test]
    fn groups_and_populations_check_their_bands() {
        let mut g = group("Petits", Some((48, 36)), Some(8));
        assert!(check_group(&g).unwrap_err().contains("inférieur"));
        g.max_age_months = Some(71);
        g.levels = vec!["PS".into(), "XX".into()];
        assert!(check_group(&g).unwrap_err().contains("« XX »"));
        g.levels = vec!["PS".into(), "PS".into()];
        assert_eq!(check_group(&g).unwrap().levels, vec!["PS"]);
        g.children_per_staff = Some(0);
        assert!(check_group(&g).is_err());
        let population = Population {
            qf_max: Some(-1),
            ..Default::default()
        };
        assert!(check_population(&population).is_err());
    }

    #[test]
    fn criteria_parameters_are_normalised() {
        let qf = Criterion {
            kind: "qf_at_most".into(),
            parameter: " 700 € ".into(),
            weight: 15,
        };
        assert_eq!(check_criterion(&qf).unwrap().parameter, "700");
        let resident = Criterion {
            kind: "resident".into(),
            parameter: "peu importe".into(),
            weight: 50,
        };
        assert_eq!(check_criterion(&resident).unwrap().parameter, "");
        assert!(
            check_criterion(&Criterion {
                weight: 5000,
                ..resident
            })
            .is_err()
        );
    }

    #[test]
    fn notices_and_openings_read_in_french() {
        let rule = NoticeRule {
            amount: 48,
            unit: NoticeUnit::Hours,
            count: DayCount::WorkingDays {
                excluded_weekdays: vec![Weekday::Wed],
            },
            cutoff_time: Some(hm(9, 30)),
        };
        assert_eq!(
            describe_notice(Some(&rule)),
            "48 heures ouvrées avant, clôture à 9 h 30 (hors mercredi)"
        );
        assert_eq!(describe_notice(None), "jusqu'au début de l'unité");
        let closure = OpeningRule::Closure {
            from: "2026-12-24".parse().unwrap(),
            to: "2027-01-01".parse().unwrap(),
            label: Some("Noël".into()),
        };
        assert_eq!(
            describe_opening(&closure),
            "Fermeture du 24/12/2026 au 01/01/2027 (Noël)"
        );
        assert!(check_activity_code("Cantine-Nord").is_ok());
        assert!(check_activity_code("-x").is_err());
        assert!(check_activity_code("cantine été").is_err());
    }
}
