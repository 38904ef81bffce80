//! An activity as the booking and attendance rules see it: its units and their rules, its
//! groups, capacities, opening calendar and notice delays, loaded in one go.

use std::sync::{Arc, LazyLock};

use chrono::{NaiveDate, NaiveTime};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::schema::{activities, activity_groups, activity_units, capacities, structures};
use crate::domain::booking::capacity::CapacityRow;
use crate::domain::booking::units::{UnitRule, UnitSet};
use crate::domain::calendar::{NoticeRule, OpeningCalendar, OpeningRule, Zone};
use crate::domain::pricing::{AttendanceState, Residence};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// Kinds of activities (ACT-01), with their French labels.
pub const KINDS: &[(&str, &str)] = &[
    ("nursery", "Crèche (EAJE)"),
    ("childminder_hub", "Relais petite enfance"),
    ("morning", "Accueil périscolaire du matin"),
    ("evening", "Accueil périscolaire du soir"),
    ("canteen", "Restauration scolaire"),
    ("wednesday", "Accueil du mercredi"),
    ("holiday_centre", "Accueil de loisirs (vacances)"),
    ("stay", "Séjour"),
    ("youth", "Jeunesse"),
    ("sport", "Sport"),
    ("culture", "Culture"),
    ("seniors", "Seniors"),
    ("meal_delivery", "Portage de repas"),
    ("other", "Autre"),
];

pub fn kind_label(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, label)| label)
}

/// What a family sees when a unit is full (ACT-05).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    Greyed,
    Waitlist,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: i64,
    /// Code de l'unité, à donner pour réserver : `matin`, `repas`, `journee`...
    pub code: String,
    pub label: String,
    #[schema(value_type = String, example = "11:30:00")]
    pub starts: NaiveTime,
    #[schema(value_type = String, example = "13:30:00")]
    pub ends: NaiveTime,
    pub hourly: bool,
    pub includes: Vec<String>,
    pub excludes: Vec<String>,
    pub requires: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub min_age_months: Option<i32>,
    pub max_age_months: Option<i32>,
    pub levels: Vec<String>,
    pub children_per_staff: Option<i32>,
}

impl Group {
    /// Whether a child of `age_months` in `level` belongs to this group by its criteria.
    pub fn admits(&self, age_months: Option<i32>, level: Option<&str>) -> bool {
        let age_ok = match age_months {
            Some(age) => {
                self.min_age_months.is_none_or(|min| age >= min)
                    && self.max_age_months.is_none_or(|max| age <= max)
            }
            None => self.min_age_months.is_none() && self.max_age_months.is_none(),
        };
        let level_ok =
            self.levels.is_empty() || level.is_some_and(|l| self.levels.iter().any(|x| x == l));
        age_ok && level_ok
    }
}

#[derive(Debug, Clone)]
pub struct Activity {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub structure_id: Option<i64>,
    /// Places shared by the structure's activities on a day, if limited.
    pub structure_capacity: Option<i32>,
    pub opening: OpeningCalendar,
    pub booking_notice: Option<NoticeRule>,
    pub cancel_notice: Option<NoticeRule>,
    pub when_full: WhenFull,
    /// What a cancellation after the delay becomes.
    pub late_cancellation: AttendanceState,
    pub requires_enrolment: bool,
    pub meal_choice: bool,
    pub offer_hours: i32,
    pub active: bool,
    pub units: Vec<Unit>,
    pub groups: Vec<Group>,
    pub capacities: Vec<CapacityRow>,
}

impl Activity {
    pub fn unit(&self, code: &str) -> AppResult<&Unit> {
        self.units.iter().find(|u| u.code == code).ok_or_else(|| {
            AppError::invalid(format!(
                "unité « {code} » inconnue pour l'activité « {} » (unités : {})",
                self.name,
                self.units
                    .iter()
                    .map(|u| u.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    pub fn unit_by_id(&self, id: i64) -> AppResult<&Unit> {
        self.units
            .iter()
            .find(|u| u.id == id)
            .ok_or_else(|| AppError::not_found("Unité introuvable."))
    }

    pub fn group(&self, id: i64) -> AppResult<&Group> {
        self.groups
            .iter()
            .find(|g| g.id == id)
            .ok_or_else(|| AppError::not_found("Groupe introuvable."))
    }

    pub fn unit_set(&self) -> UnitSet {
        UnitSet::new(
            self.units
                .iter()
                .map(|u| UnitRule {
                    code: u.code.clone(),
                    label: u.label.clone(),
                    includes: u.includes.clone(),
                    excludes: u.excludes.clone(),
                    requires: u.requires.clone(),
                })
                .collect(),
        )
    }

    /// The group a child goes to by age and level (see [`pick_group`]).
    pub fn group_for(&self, age_months: Option<i32>, level: Option<&str>) -> AppResult<&Group> {
        pick_group(&self.groups, age_months, level).ok_or_else(|| {
            AppError::invalid(format!("l'activité « {} » n'a aucun groupe", self.name))
        })
    }
}

/// The group a child goes to by age and level: the first that admits it, else the first.
pub fn pick_group<'a>(
    groups: &'a [Group],
    age_months: Option<i32>,
    level: Option<&str>,
) -> Option<&'a Group> {
    groups
        .iter()
        .find(|g| g.admits(age_months, level))
        .or_else(|| groups.first())
}

/// Age in whole months on `day`.
pub fn age_months(birth: NaiveDate, day: NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut months = (day.year() - birth.year()) * 12 + day.month() as i32 - birth.month() as i32;
    if day.day() < birth.day() {
        months -= 1;
    }
    months
}

#[derive(Queryable)]
struct ActivityRow {
    id: i64,
    code: String,
    name: String,
    kind: String,
    structure_id: Option<i64>,
    opening: serde_json::Value,
    booking_notice: Option<serde_json::Value>,
    cancel_notice: Option<serde_json::Value>,
    when_full: String,
    late_absence: Option<String>,
    requires_enrolment: bool,
    meal_choice: bool,
    offer_hours: i32,
    active: bool,
    structure_capacity: Option<i32>,
}

fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value, what: &str) -> AppResult<T> {
    serde_json::from_value(value)
        .map_err(|e| AppError::internal(anyhow::anyhow!("{what} illisible : {e}")))
}

pub fn parse_state(text: &str) -> AppResult<AttendanceState> {
    parse(serde_json::Value::from(text), "état de présence")
}

/// The units of an activity, in their order.
pub async fn units_of(conn: &mut Conn, activity: i64) -> AppResult<Vec<Unit>> {
    Ok(activity_units::table
        .filter(activity_units::activity_id.eq(activity))
        .order((activity_units::sort, activity_units::id))
        .select((
            activity_units::id,
            activity_units::code,
            activity_units::label,
            activity_units::starts,
            activity_units::ends,
            activity_units::hourly,
            activity_units::includes,
            activity_units::excludes,
            activity_units::requires,
        ))
        .load::<(
            i64,
            String,
            String,
            NaiveTime,
            NaiveTime,
            bool,
            Vec<String>,
            Vec<String>,
            Vec<String>,
        )>(conn)
        .await?
        .into_iter()
        .map(
            |(id, code, label, starts, ends, hourly, includes, excludes, requires)| Unit {
                id,
                code,
                label,
                starts,
                ends,
                hourly,
                includes,
                excludes,
                requires,
            },
        )
        .collect())
}

/// The groups of an activity, in their order.
pub async fn groups_of(conn: &mut Conn, activity: i64) -> AppResult<Vec<Group>> {
    Ok(activity_groups::table
        .filter(activity_groups::activity_id.eq(activity))
        .order((activity_groups::sort, activity_groups::id))
        .select((
            activity_groups::id,
            activity_groups::name,
            activity_groups::min_age_months,
            activity_groups::max_age_months,
            activity_groups::levels,
            activity_groups::children_per_staff,
        ))
        .load::<(
            i64,
            String,
            Option<i32>,
            Option<i32>,
            Vec<String>,
            Option<i32>,
        )>(conn)
        .await?
        .into_iter()
        .map(
            |(id, name, min_age_months, max_age_months, levels, children_per_staff)| Group {
                id,
                name,
                min_age_months,
                max_age_months,
                levels,
                children_per_staff,
            },
        )
        .collect())
}

/// The city settings activities, registrations and prices depend on.
#[derive(Debug, Clone)]
pub struct CitySettings {
    pub zone: Zone,
    /// What a cancellation after the delay becomes, unless the activity says otherwise.
    pub late_cancellation: AttendanceState,
    /// Folded names of the towns whose families are residents (the city itself by default).
    pub city_towns: Vec<String>,
    /// Folded names of the other towns of the intercommunality.
    pub intercommunality_towns: Vec<String>,
}

impl CitySettings {
    /// From the settings in force (`calendar.zone`, `attendance.late_cancellation`,
    /// `territory.*`) of the city named `city_name`.
    pub fn from_values(
        values: &std::collections::BTreeMap<String, serde_json::Value>,
        city_name: &str,
    ) -> AppResult<CitySettings> {
        let text = |key: &str| values.get(key).and_then(|v| v.as_str()).unwrap_or_default();
        let towns = |key: &str| -> Vec<String> {
            text(key)
                .split(',')
                .map(super::facts::fold_town)
                .filter(|t| !t.is_empty())
                .collect()
        };
        let mut city_towns = towns("territory.city_towns");
        if city_towns.is_empty() {
            city_towns.push(super::facts::fold_town(city_name));
        }
        Ok(CitySettings {
            city_towns,
            intercommunality_towns: towns("territory.intercommunality_towns"),
            zone: match text("calendar.zone") {
                "B" => Zone::B,
                "C" => Zone::C,
                _ => Zone::A,
            },
            late_cancellation: match text("attendance.late_cancellation") {
                "" => AttendanceState::AbsentUnjustified,
                state => parse_state(state)?,
            },
        })
    }

    /// Reads them in the current city (named `city_name`).
    pub async fn read(conn: &mut Conn, city_name: &str) -> AppResult<CitySettings> {
        let values =
            crate::domain::settings::in_force(conn, crate::platform::clock::today()).await?;
        CitySettings::from_values(&values, city_name)
    }

    /// Where a family living in `town` lives, for registration rules and prices. An unknown
    /// address counts as outside the city.
    pub fn residence(&self, town: Option<&str>) -> Residence {
        let Some(town) = town.map(super::facts::fold_town) else {
            return Residence::OutsideIntercommunality;
        };
        if self.city_towns.contains(&town) {
            Residence::City
        } else if self.intercommunality_towns.contains(&town) {
            Residence::OutsideCity
        } else {
            Residence::OutsideIntercommunality
        }
    }
}

/// An activity as loaded at a revision, under the settings it was loaded with.
struct Loaded {
    revision: i64,
    zone: Zone,
    late_cancellation: AttendanceState,
    activity: Activity,
}

/// Activities loaded by this server, by (city schema, id). An entry serves only while the
/// activity's revision (migration 2026-11-29-000008_activity_revision) and the settings are
/// those it was loaded at: a changed definition is read afresh by the next booking, on
/// every server, without any message between them.
static LOADED: LazyLock<moka::sync::Cache<(String, i64), Arc<Loaded>>> =
    LazyLock::new(|| moka::sync::Cache::new(10_000));

/// The city schema and revision of activity `id` (none for a copy made without them).
async fn revision(conn: &mut Conn, id: i64) -> AppResult<Option<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Revision {
        #[diesel(sql_type = diesel::sql_types::Text)]
        schema: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        revision: i64,
    }
    let found: Option<Revision> = diesel::sql_query(
        "SELECT current_schema()::text AS schema, revision FROM activity_revisions
          WHERE activity_id = $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?;
    Ok(found.map(|r| (r.schema, r.revision)))
}

/// Loads activity `id` with its units, groups and capacities, under the city's settings
/// (the activity may override what a late cancellation becomes): from memory when this
/// server already loaded it at its current revision.
pub async fn load(conn: &mut Conn, id: i64, settings: &CitySettings) -> AppResult<Activity> {
    let current = revision(conn, id).await?;
    let fits = |loaded: &Loaded, revision: i64| {
        loaded.revision == revision
            && loaded.zone == settings.zone
            && loaded.late_cancellation == settings.late_cancellation
    };
    if let Some((schema, revision)) = &current
        && let Some(loaded) = LOADED.get(&(schema.clone(), id))
        && fits(&loaded, *revision)
    {
        return Ok(loaded.activity.clone());
    }
    let activity = read(conn, id, settings).await?;
    if let Some((schema, revision)) = current {
        let loaded = Loaded {
            revision,
            zone: settings.zone,
            late_cancellation: settings.late_cancellation,
            activity: activity.clone(),
        };
        LOADED.insert((schema, id), Arc::new(loaded));
    }
    Ok(activity)
}

/// Reads activity `id` from its tables.
async fn read(conn: &mut Conn, id: i64, settings: &CitySettings) -> AppResult<Activity> {
    let (zone, late_cancellation) = (settings.zone, settings.late_cancellation);
    let row: ActivityRow = activities::table
        .left_join(structures::table)
        .filter(activities::id.eq(id))
        .select((
            activities::id,
            activities::code,
            activities::name,
            activities::kind,
            activities::structure_id,
            activities::opening,
            activities::booking_notice,
            activities::cancel_notice,
            activities::when_full,
            activities::late_absence,
            activities::requires_enrolment,
            activities::meal_choice,
            activities::offer_hours,
            activities::active,
            structures::daily_capacity.nullable(),
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Activité introuvable."))?;
    let units = units_of(conn, id).await?;
    let groups = groups_of(conn, id).await?;
    let capacities = capacities::table
        .filter(capacities::activity_id.eq(id))
        .order(capacities::id)
        .select((
            capacities::id,
            capacities::group_id,
            capacities::unit_id,
            capacities::day,
            capacities::valid_from,
            capacities::valid_to,
            capacities::places,
        ))
        .load::<(
            i64,
            Option<i64>,
            Option<i64>,
            Option<NaiveDate>,
            NaiveDate,
            Option<NaiveDate>,
            i32,
        )>(conn)
        .await?
        .into_iter()
        .map(
            |(id, group_id, unit_id, day, valid_from, valid_to, places)| CapacityRow {
                id,
                group_id,
                unit_id,
                day,
                valid_from,
                valid_to,
                places,
            },
        )
        .collect();
    Ok(Activity {
        id: row.id,
        code: row.code,
        name: row.name,
        kind: row.kind,
        structure_id: row.structure_id,
        structure_capacity: row.structure_capacity,
        opening: OpeningCalendar {
            zone,
            rules: parse::<Vec<OpeningRule>>(row.opening, "calendrier d'ouverture")?,
        },
        booking_notice: row
            .booking_notice
            .map(|v| parse(v, "délai de réservation"))
            .transpose()?,
        cancel_notice: row
            .cancel_notice
            .map(|v| parse(v, "délai d'annulation"))
            .transpose()?,
        when_full: if row.when_full == "waitlist" {
            WhenFull::Waitlist
        } else {
            WhenFull::Greyed
        },
        late_cancellation: match row.late_absence {
            Some(state) => parse_state(&state)?,
            None => late_cancellation,
        },
        requires_enrolment: row.requires_enrolment,
        meal_choice: row.meal_choice,
        offer_hours: row.offer_hours,
        active: row.active,
        units,
        groups,
        capacities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_count_whole_months() {
        let birth: NaiveDate = "2023-03-15".parse().unwrap();
        assert_eq!(age_months(birth, "2023-04-14".parse().unwrap()), 0);
        assert_eq!(age_months(birth, "2023-04-15".parse().unwrap()), 1);
        assert_eq!(age_months(birth, "2026-03-15".parse().unwrap()), 36);
        assert_eq!(age_months(birth, "2026-03-14".parse().unwrap()), 35);
    }

    #[test]
    fn groups_admit_by_age_band_and_level() {
        let small = Group {
            id: 1,
            name: "Petits".into(),
            min_age_months: Some(36),
            max_age_months: Some(71),
            levels: vec![],
            children_per_staff: Some(8),
        };
        assert!(small.admits(Some(40), None));
        assert!(!small.admits(Some(72), None));
        assert!(!small.admits(None, None), "unknown age, age-banded group");
        let cp = Group {
            levels: vec!["CP".into(), "CE1".into()],
            min_age_months: None,
            max_age_months: None,
            ..small
        };
        assert!(cp.admits(None, Some("CE1")));
        assert!(!cp.admits(None, Some("CM2")));
    }
}

/// An activity as lists and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActivitySummary {
    pub id: i64,
    /// Code de l'activité (clé de sa grille tarifaire).
    pub code: String,
    pub name: String,
    /// Nature : `canteen`, `morning`, `evening`, `wednesday`, `holiday_centre`, `nursery`...
    pub kind: String,
    pub kind_label: String,
    pub structure_id: Option<i64>,
    pub structure: Option<String>,
    pub active: bool,
    /// `greyed` (complet = grisé) ou `waitlist` (complet = liste d'attente).
    pub when_full: String,
    pub requires_enrolment: bool,
    pub units: Vec<Unit>,
    pub groups: Vec<Group>,
}

/// (id, code, name, kind, structure_id, structure, active, when_full, requires_enrolment).
type SummaryRow = (
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    bool,
    String,
    bool,
);

/// Every activity (active ones only unless `all`), with units and groups, by name.
pub async fn summaries(conn: &mut Conn, all: bool) -> AppResult<Vec<ActivitySummary>> {
    let mut query = activities::table.left_join(structures::table).into_boxed();
    if !all {
        query = query.filter(activities::active.eq(true));
    }
    let rows: Vec<SummaryRow> = query
        .order((activities::name, activities::id))
        .select((
            activities::id,
            activities::code,
            activities::name,
            activities::kind,
            activities::structure_id,
            structures::name.nullable(),
            activities::active,
            activities::when_full,
            activities::requires_enrolment,
        ))
        .load(conn)
        .await?;
    let mut list = Vec::with_capacity(rows.len());
    for (id, code, name, kind, structure_id, structure, active, when_full, requires_enrolment) in
        rows
    {
        list.push(ActivitySummary {
            kind_label: kind_label(&kind).to_string(),
            units: units_of(conn, id).await?,
            groups: groups_of(conn, id).await?,
            id,
            code,
            name,
            kind,
            structure_id,
            structure,
            active,
            when_full,
            requires_enrolment,
        });
    }
    Ok(list)
}
