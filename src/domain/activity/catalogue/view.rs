//! The whole activity, for its page.

use super::*;

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
pub(super) struct ActivityRow {
    code: String,
    kind: String,
    structure: Option<String>,
    opening: serde_json::Value,
    booking_notice: Option<serde_json::Value>,
    cancel_notice: Option<serde_json::Value>,
    general: ActivityPatch,
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    what: &str,
) -> AppResult<T> {
    serde_json::from_value(value)
        .map_err(|e| AppError::internal(anyhow::anyhow!("{what} illisible : {e}")))
}

/// The city's school-holiday zone (setting `calendar.zone`).
pub(super) async fn city_zone(conn: &mut Conn, today: NaiveDate) -> AppResult<Zone> {
    let settings = crate::domain::settings::in_force(conn, today).await?;
    Ok(
        match settings.get("calendar.zone").and_then(|v| v.as_str()) {
            Some("B") => Zone::B,
            Some("C") => Zone::C,
            _ => Zone::A,
        },
    )
}

pub(super) type PeriodRow = (i64, String, DateTime<Utc>, DateTime<Utc>, serde_json::Value);

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
