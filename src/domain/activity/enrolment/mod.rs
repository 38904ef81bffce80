//! Enrolment (ACT-03, ACT-05, ACT-07): one row from the pre-enrolment to the admission.
//!
//! ```text
//! requested ⇄ incomplete          (missing pieces or facts, recomputed on each change)
//! requested → commission          (placed before the commission, scored)
//! requested | commission | appealed → accepted | refused | waitlisted | other_proposed
//! refused | other_proposed → appealed
//! requested | accepted → admitted  (direct admission when no commission is needed)
//! waitlisted → offered → admitted | withdrawn (declined or expired)
//! any live status → withdrawn ; admitted → ended
//! ```
//! Admission keeps the request's child, household, dates and wished week: nothing is typed
//! twice. When an admitted child leaves, the best-ranked waitlisted request is offered the
//! place automatically (mail and agents' task), with a deadline to accept.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};

use super::commission::{self, Criterion, Facts, Score};
use super::facts::{ChildSituation, child_situation, school_year};
use super::model::{CitySettings, age_months};
use super::population::{Candidate, Period, Population, open_period};
use super::schema::{
    activities, activity_groups, commission_criteria, enrolments, registration_periods,
};
use crate::domain::family::documents::KINDS as DOCUMENT_KINDS;
use crate::domain::pricing::Residence;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

mod mass;
mod notices;
mod offers;
mod steps;
pub use mass::*;
pub use notices::*;
pub use offers::*;
pub use steps::*;

pub const STATUSES: &[(&str, &str)] = &[
    ("requested", "Demande reçue"),
    ("incomplete", "Dossier incomplet"),
    ("commission", "En commission"),
    ("accepted", "Acceptée"),
    ("refused", "Refusée"),
    ("waitlisted", "Liste d'attente"),
    ("offered", "Place proposée"),
    ("other_proposed", "Autre accueil proposé"),
    ("appealed", "Recours"),
    ("admitted", "Admise"),
    ("withdrawn", "Retirée"),
    ("ended", "Terminée"),
];

pub fn status_label(status: &str) -> &str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(status, |(_, l)| l)
}

/// Dossier facts an activity may require, with their French labels.
pub const FACTS: &[(&str, &str)] = &[
    ("family_quotient", "quotient familial en cours de validité"),
    ("health_sheet", "fiche sanitaire"),
    ("authorisations", "autorisations parentales"),
    ("emergency_contact", "personne à prévenir en cas d'urgence"),
    ("bank_mandate", "mandat de prélèvement SEPA"),
];

/// The request as a family or an agent makes it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewRequest {
    pub child_id: i64,
    pub activity_id: i64,
    pub starts: NaiveDate,
    pub ends: Option<NaiveDate>,
    /// Units wished per weekday: {"mon": ["matin", "repas"]}.
    #[serde(default)]
    pub wished_week: BTreeMap<String, Vec<String>>,
}

/// Who files it: families go through the registration periods; agents record a request
/// whenever it reaches them (a paper form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Portal,
    Agent,
    Api,
}

impl Channel {
    fn origin(self) -> &'static str {
        match self {
            Channel::Portal => "portal",
            Channel::Agent => "agent",
            Channel::Api => "api",
        }
    }
}

#[derive(Debug, Clone, Serialize, QueryableByName)]
pub struct EnrolmentView {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub number: i32,
    #[diesel(sql_type = BigInt)]
    pub child_id: i64,
    #[diesel(sql_type = Text)]
    pub child_name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub birth_date: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    pub household_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub activity_id: i64,
    #[diesel(sql_type = Text)]
    pub activity: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    pub group_id: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub group_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub starts: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub ends: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub wished_week: serde_json::Value,
    #[diesel(sql_type = diesel::sql_types::Array<Text>)]
    pub missing: Vec<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    pub score: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Jsonb>)]
    pub score_detail: Option<serde_json::Value>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub bonus_points: i32,
    #[diesel(sql_type = Text)]
    pub opinion: String,
    #[diesel(sql_type = Text)]
    pub decision_note: String,
    #[diesel(sql_type = Text)]
    pub appeal_reason: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub proposed_activity: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    pub offer_deadline: Option<DateTime<Utc>>,
    #[diesel(sql_type = Text)]
    pub origin: String,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub requested_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub decided_by: Option<String>,
    /// Tariff code assigned at admission (TAR-02) or chosen by an agent, and why.
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub tariff: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub tariff_explanation: Option<String>,
}

const SELECT: &str =
    "SELECT e.id, e.number, e.child_id, p.first_name || ' ' || p.last_name AS child_name,
        p.birth_date, e.household_id, e.activity_id, a.name AS activity, e.group_id,
        g.name AS group_name, e.status, e.starts, e.ends, e.wished_week, e.missing, e.score,
        e.score_detail, e.bonus_points, e.opinion, e.decision_note, e.appeal_reason,
        o.name AS proposed_activity, e.offer_deadline, e.origin, e.requested_at, e.decided_by,
        e.tariff, e.tariff_explanation
   FROM enrolments e
   JOIN persons p ON p.id = e.child_id
   JOIN activities a ON a.id = e.activity_id
   LEFT JOIN activity_groups g ON g.id = e.group_id
   LEFT JOIN activities o ON o.id = e.proposed_activity_id";

pub async fn get(conn: &mut Conn, id: i64) -> AppResult<EnrolmentView> {
    diesel::sql_query(format!("{SELECT} WHERE e.id = $1"))
        .bind::<BigInt, _>(id)
        .get_result(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Inscription introuvable."))
}

/// Filters of the enrolment lists.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub activity_id: Option<i64>,
    pub child_id: Option<i64>,
    pub status: Option<String>,
    pub number: Option<i32>,
}

/// Enrolments matching `filter`, ranked as the commission sees them (score, then date).
pub async fn list(conn: &mut Conn, filter: &Filter, limit: i64) -> AppResult<Vec<EnrolmentView>> {
    let mut query = diesel::sql_query(format!(
        "{SELECT} WHERE ($1::bigint IS NULL OR e.activity_id = $1)
            AND ($2::bigint IS NULL OR e.child_id = $2)
            AND ($3::text IS NULL OR e.status = $3)
            AND ($4::integer IS NULL OR e.number = $4)
          ORDER BY e.score DESC NULLS LAST, e.requested_at, e.id LIMIT $5"
    ))
    .into_boxed();
    query = query
        .bind::<diesel::sql_types::Nullable<BigInt>, _>(filter.activity_id)
        .bind::<diesel::sql_types::Nullable<BigInt>, _>(filter.child_id)
        .bind::<diesel::sql_types::Nullable<Text>, _>(filter.status.clone())
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Integer>, _>(filter.number)
        .bind::<BigInt, _>(limit);
    Ok(query.load(conn).await?)
}

/// What is missing from the file for this activity, in French.
fn missing_for(
    situation: &ChildSituation,
    required_documents: &[String],
    required_facts: &[String],
) -> Vec<String> {
    let mut missing = Vec::new();
    for fact in required_facts {
        let present = match fact.as_str() {
            "family_quotient" => situation.family_quotient.is_some(),
            "health_sheet" => situation.has_health_sheet,
            "authorisations" => situation.authorisations > 0,
            "emergency_contact" => situation.emergency_contacts > 0,
            "bank_mandate" => situation.active_mandate,
            _ => true,
        };
        if !present {
            missing.push(
                FACTS
                    .iter()
                    .find(|(f, _)| f == fact)
                    .map_or(fact.clone(), |(_, l)| l.to_string()),
            );
        }
    }
    for kind in required_documents {
        if !situation.document_kinds.contains(kind) {
            missing.push(format!(
                "pièce : {}",
                DOCUMENT_KINDS
                    .iter()
                    .find(|(k, _)| k == kind)
                    .map_or(kind.as_str(), |(_, l)| l)
            ));
        }
    }
    missing
}

fn candidate(situation: &ChildSituation, settings: &CitySettings, day: NaiveDate) -> Candidate {
    Candidate {
        age_months: situation.birth_date.map(|b| age_months(b, day)),
        resident: settings.residence(situation.town.as_deref()) == Residence::City,
        school_id: situation.school_id,
        level: situation.level.clone(),
        family_quotient: situation.family_quotient.map(i64::from),
    }
}

/// (id, label, opens_at, closes_at, population).
type PeriodRow = (i64, String, DateTime<Utc>, DateTime<Utc>, serde_json::Value);

async fn periods(conn: &mut Conn, activity: i64) -> AppResult<Vec<Period>> {
    let rows: Vec<PeriodRow> = registration_periods::table
        .filter(registration_periods::activity_id.eq(activity))
        .order(registration_periods::opens_at)
        .select((
            registration_periods::id,
            registration_periods::label,
            registration_periods::opens_at,
            registration_periods::closes_at,
            registration_periods::population,
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(id, label, opens_at, closes_at, population)| {
            Ok(Period {
                id,
                label,
                opens_at,
                closes_at,
                population: serde_json::from_value::<Population>(population).map_err(|e| {
                    AppError::internal(anyhow::anyhow!("population illisible : {e}"))
                })?,
            })
        })
        .collect()
}

/// Files a request. From the portal or the API it must fall in an open registration
/// period for the child's population; the file's gaps make it « incomplet ».
pub async fn request(
    conn: &mut Conn,
    settings: &CitySettings,
    new: &NewRequest,
    channel: Channel,
    now: DateTime<Utc>,
) -> AppResult<EnrolmentView> {
    if new.ends.is_some_and(|ends| ends < new.starts) {
        return Err(AppError::invalid("la date de fin précède la date de début"));
    }
    let (name, active, required_documents, required_facts): (
        String,
        bool,
        Vec<String>,
        Vec<String>,
    ) = activities::table
        .find(new.activity_id)
        .select((
            activities::name,
            activities::active,
            activities::required_documents,
            activities::required_facts,
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Activité introuvable."))?;
    if !active {
        return Err(AppError::invalid(format!(
            "l'activité « {name} » n'est plus proposée"
        )));
    }
    let situation = child_situation(conn, new.child_id, new.starts).await?;
    if channel != Channel::Agent {
        let periods = periods(conn, new.activity_id).await?;
        open_period(&periods, now, &candidate(&situation, settings, new.starts))
            .map_err(|reason| AppError::invalid(format!("« {name} » : {reason}")))?;
    }
    let missing = missing_for(&situation, &required_documents, &required_facts);
    let status = if missing.is_empty() {
        "requested"
    } else {
        "incomplete"
    };
    let inserted: Result<i64, diesel::result::Error> = diesel::insert_into(enrolments::table)
        .values((
            enrolments::child_id.eq(new.child_id),
            enrolments::activity_id.eq(new.activity_id),
            enrolments::household_id.eq(situation.household_id),
            enrolments::status.eq(status),
            enrolments::starts.eq(new.starts),
            enrolments::ends.eq(new.ends),
            enrolments::wished_week
                .eq(serde_json::to_value(&new.wished_week).map_err(AppError::internal)?),
            enrolments::missing.eq(&missing),
            enrolments::origin.eq(channel.origin()),
        ))
        .returning(enrolments::id)
        .get_result(conn)
        .await;
    match inserted {
        Ok(id) => get(conn, id).await,
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(AppError::conflict(format!(
            "{} a déjà une demande en cours pour « {name} »",
            situation.name
        ))),
        Err(other) => Err(other.into()),
    }
}

/// Recomputes what the file lacks (after a piece was added...): incomplete ⇄ requested.
pub async fn refresh_missing(conn: &mut Conn, id: i64) -> AppResult<EnrolmentView> {
    let enrolment = get(conn, id).await?;
    let (required_documents, required_facts): (Vec<String>, Vec<String>) = activities::table
        .find(enrolment.activity_id)
        .select((activities::required_documents, activities::required_facts))
        .first(conn)
        .await?;
    let situation = child_situation(conn, enrolment.child_id, enrolment.starts).await?;
    let missing = missing_for(&situation, &required_documents, &required_facts);
    let status = match (enrolment.status.as_str(), missing.is_empty()) {
        ("incomplete", true) => "requested",
        ("requested", false) => "incomplete",
        (status, _) => status,
    };
    diesel::update(enrolments::table.find(id))
        .set((
            enrolments::missing.eq(&missing),
            enrolments::status.eq(status),
        ))
        .execute(conn)
        .await?;
    get(conn, id).await
}

/// Moves the row from one of `from` to `to`, or explains why it cannot.
async fn move_status(
    conn: &mut Conn,
    id: i64,
    from: &[&str],
    to: &str,
    by: &str,
) -> AppResult<EnrolmentView> {
    let current = get(conn, id).await?;
    if !from.contains(&current.status.as_str()) {
        return Err(AppError::invalid(format!(
            "impossible de passer une inscription « {} » à « {} »",
            status_label(&current.status),
            status_label(to)
        )));
    }
    diesel::update(enrolments::table.find(id))
        .set((
            enrolments::status.eq(to),
            enrolments::decided_at.eq(diesel::dsl::now),
            enrolments::decided_by.eq(by),
        ))
        .execute(conn)
        .await?;
    get(conn, id).await
}

/// The facts the commission weighs for a request.
async fn commission_facts(
    conn: &mut Conn,
    settings: &CitySettings,
    e: &EnrolmentView,
) -> AppResult<Facts> {
    let situation = child_situation(conn, e.child_id, e.starts).await?;
    #[derive(QueryableByName)]
    struct Siblings {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let siblings: Siblings = diesel::sql_query(
        "SELECT count(DISTINCT o.child_id) AS n FROM enrolments o
           JOIN child_links l ON l.child_id = o.child_id AND l.valid_to IS NULL
          WHERE o.activity_id = $1 AND o.status = 'admitted' AND o.child_id <> $2
            AND l.household_id = $3",
    )
    .bind::<BigInt, _>(e.activity_id)
    .bind::<BigInt, _>(e.child_id)
    .bind::<BigInt, _>(situation.household_id.unwrap_or(0))
    .get_result(conn)
    .await?;
    let single_parent =
        situation.adults == 1 || matches!(situation.situation.as_deref(), Some("single_parent"));
    Ok(Facts {
        siblings_enrolled: siblings.n as u32,
        both_parents_working: situation.adults > 0 && situation.working_adults == situation.adults,
        single_parent,
        family_quotient: situation.family_quotient.map(i64::from),
        resident: settings.residence(situation.town.as_deref()) == Residence::City,
        school_id: situation.school_id,
        disability: situation.aeeh,
    })
}
