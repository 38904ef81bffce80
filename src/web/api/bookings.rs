//! Activities, availability, bookings, attendance and the waitlist over the API. Reading the
//! catalogue needs `activities` read; bookings `bookings` read/write; attendance
//! `attendance` read/write. Shapes fixed by the GRC: lists answer `{"items", "total"}`,
//! a full unit answers 409 `{"error": "complet"}`, a rule broken 422 with a French message.

use actix_web::{HttpResponse, web};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::families::{ApiError, Body, created, run, strict};
use crate::domain::activity::model::{self, ActivitySummary};
use crate::domain::booking::state::Mark;
use crate::domain::booking::store::{
    self, Actor, AttendanceEntry, Availability, BookRequest, Booked, BookingView, LateCancellation,
    Origin,
};
use crate::platform::auth::authz::Action;
use crate::platform::error::{AppError, AppResult};
use crate::web::faces::CurrentCity;
use crate::web::guard::{Need, Principal, Routes};
use crate::web::{State, scheduling};

pub fn routes(routes: &mut Routes) {
    routes
        .get(
            "/api/v1/activities",
            Need::Api("activities", Action::Read),
            list_activities,
        )
        .get(
            "/api/v1/activities/{id}/availability",
            Need::Api("activities", Action::Read),
            availability,
        )
        .post(
            "/api/v1/bookings",
            Need::Api("bookings", Action::Write),
            create_booking,
        )
        .get(
            "/api/v1/bookings/{id}",
            Need::Api("bookings", Action::Read),
            get_booking,
        )
        .delete(
            "/api/v1/bookings/{id}",
            Need::Api("bookings", Action::Write),
            cancel_booking,
        )
        .patch(
            "/api/v1/bookings/{id}/attendance",
            Need::Api("attendance", Action::Write),
            record_attendance,
        )
        .get(
            "/api/v1/children/{id}/bookings",
            Need::Api("bookings", Action::Read),
            child_bookings,
        );
}

/// Les activités proposées.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityList {
    pub items: Vec<ActivitySummary>,
    pub total: usize,
}

/// Liste des activités
///
/// Les activités actives de la ville, avec leurs unités (les codes à donner pour réserver)
/// et leurs groupes.
#[utoipa::path(
    get,
    path = "/api/v1/activities",
    tag = "activités",
    responses(
        (status = 200, description = "Les activités.", body = ActivityList),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de lire les activités.", body = ApiError),
    )
)]
pub(super) async fn list_activities(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
) -> AppResult<HttpResponse> {
    let items = run(&state, &city, &principal, |conn| {
        Box::pin(async move { model::summaries(conn, false).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(ActivityList {
        total: items.len(),
        items,
    }))
}

/// Période demandée.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Premier jour (AAAA-MM-JJ).
    #[param(value_type = String, example = "2026-12-01")]
    pub from: NaiveDate,
    /// Dernier jour inclus (AAAA-MM-JJ) ; 93 jours au plus après `from`.
    #[param(value_type = String, example = "2026-12-31")]
    pub to: NaiveDate,
    /// Pour les places d'un groupe (celui de l'enfant) plutôt que de toute l'activité.
    pub group_id: Option<i64>,
}

/// Les places par jour d'ouverture et par unité.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityList {
    pub items: Vec<Availability>,
}

/// Places disponibles
///
/// Pour chaque jour d'ouverture de la période et chaque unité : la capacité (`null` si
/// illimitée), les places prises et celles qui restent, lues en temps réel.
#[utoipa::path(
    get,
    path = "/api/v1/activities/{id}/availability",
    tag = "activités",
    params(("id" = i64, Path, description = "Identifiant de l'activité."), Period),
    responses(
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 200, description = "Les places.", body = AvailabilityList),
        (status = 404, description = "Activité introuvable.", body = ApiError),
        (status = 422, description = "Période invalide.", body = ApiError),
    )
)]
pub(super) async fn availability(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    id: web::Path<i64>,
    query: web::Query<Period>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let Period { from, to, group_id } = query.into_inner();
    let settings = scheduling::settings(&state, &city).await?;
    let items = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            let activity = model::load(conn, id, &settings).await?;
            if let Some(group) = group_id {
                activity.group(group)?;
            }
            store::availability(
                conn,
                &activity,
                scheduling::calendar().school,
                from,
                to,
                group_id,
            )
            .await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(AvailabilityList { items }))
}

/// Une réservation demandée.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct NewBooking {
    pub child_id: i64,
    pub activity_id: i64,
    /// Le jour (AAAA-MM-JJ), obligatoire.
    #[schema(value_type = Option<String>, example = "2026-12-07")]
    pub date: Option<NaiveDate>,
    /// Code de l'unité (`repas`, `matin`, `journee`...), voir `GET /api/v1/activities`.
    #[schema(example = "repas")]
    pub unit: String,
    /// Choix de repas (activités de restauration), parmi la liste de la ville.
    pub meal_choice: Option<String>,
}

impl Body for NewBooking {}

/// Mise en liste d'attente : l'unité est complète.
#[derive(Debug, Serialize, ToSchema)]
pub struct Waitlisted {
    /// Toujours `liste_attente`.
    #[schema(example = "liste_attente")]
    pub status: String,
    pub waitlist_id: i64,
    /// Rang dans la liste d'attente de cette unité ce jour-là (à partir de 1).
    pub position: i64,
    pub message: String,
}

fn api_actor(principal: &Principal) -> Actor {
    Actor {
        name: principal.actor(),
        origin: Origin::Api,
        override_reason: None,
    }
}

/// Réserver
///
/// Réserve une unité d'une activité pour un enfant un jour donné. Refus (422, message en
/// français) : jour de fermeture, délai de prévenance dépassé, enfant non inscrit, unités
/// incompatibles. Unité complète : 409 `{"error": "complet"}`, ou 202 avec une place en
/// liste d'attente si l'activité en propose une. Les places ne sont jamais dépassées, même
/// quand des réservations arrivent en même temps.
#[utoipa::path(
    post,
    path = "/api/v1/bookings",
    tag = "réservations",
    request_body(content = NewBooking, content_type = "application/json"),
    responses(
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 201, description = "Réservée.", body = BookingView),
        (status = 202, description = "Complet : inscrit en liste d'attente.", body = Waitlisted),
        (status = 404, description = "Enfant ou activité introuvable.", body = ApiError),
        (status = 409, description = "Complet (`error` = `complet`).", body = ApiError),
        (status = 422, description = "Règle non respectée (délai dépassé, unités incompatibles, enfant non inscrit, déjà réservé) : rien n'est réservé.", body = ApiError),
    )
)]
pub(super) async fn create_booking(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let input: NewBooking = strict(body.into_inner())?;
    let date = input
        .date
        .ok_or_else(|| AppError::invalid("le champ « date » est obligatoire (AAAA-MM-JJ)"))?;
    if input.unit.trim().is_empty() {
        return Err(AppError::invalid("le champ « unit » est obligatoire"));
    }
    let settings = scheduling::settings(&state, &city).await?;
    let actor = api_actor(&principal);
    let outcome = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            let activity = model::load(conn, input.activity_id, &settings).await?;
            store::book(
                conn,
                &activity,
                &scheduling::calendar(),
                BookRequest {
                    child_id: input.child_id,
                    unit: input.unit.trim().to_string(),
                    day: date,
                    meal_choice: input.meal_choice,
                },
                &actor,
            )
            .await
        })
    })
    .await?;
    Ok(match outcome {
        Booked::Booked { booking } => {
            created(format!("/api/v1/bookings/{}", booking.id), &booking)
        }
        Booked::Waitlisted {
            waitlist_id,
            position,
        } => HttpResponse::Accepted().json(Waitlisted {
            status: "liste_attente".into(),
            waitlist_id,
            position,
            message: format!(
                "Complet : la demande est en liste d'attente (rang {position}). La famille sera prévenue si une place se libère."
            ),
        }),
    })
}

/// Lire une réservation
#[utoipa::path(
    get,
    path = "/api/v1/bookings/{id}",
    tag = "réservations",
    params(("id" = i64, Path, description = "Identifiant de la réservation.")),
    responses(
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 200, description = "La réservation et son état.", body = BookingView),
        (status = 404, description = "Réservation introuvable.", body = ApiError),
    )
)]
pub(super) async fn get_booking(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let booking = run(&state, &city, &principal, move |conn| {
        Box::pin(async move { store::view(conn, id).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(booking))
}

/// Annuler une réservation
///
/// Dans le délai de prévenance, la place est libérée (et proposée à la liste d'attente).
/// Le délai passé : 422, l'absence se signale au service.
#[utoipa::path(
    delete,
    path = "/api/v1/bookings/{id}",
    tag = "réservations",
    params(("id" = i64, Path, description = "Identifiant de la réservation.")),
    responses(
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 204, description = "Annulée dans les délais."),
        (status = 404, description = "Réservation introuvable.", body = ApiError),
        (status = 422, description = "Délai dépassé, ou réservation déjà pointée ou annulée.", body = ApiError),
    )
)]
pub(super) async fn cancel_booking(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let settings = scheduling::settings(&state, &city).await?;
    let actor = api_actor(&principal);
    let cancelled = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            let booking = store::view(conn, id).await?;
            let activity = model::load(conn, booking.activity_id, &settings).await?;
            store::cancel(
                conn,
                &activity,
                &scheduling::calendar(),
                id,
                &actor,
                LateCancellation::Refuse,
            )
            .await
        })
    })
    .await?;
    scheduling::mail_offers(&state, &city, &cancelled.offers).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Pointage d'une unité réservée.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct AttendanceInput {
    /// `present`, `absent_justified` ou `absent_unjustified` ; absent : état inchangé.
    pub state: Option<String>,
    /// Heure d'arrivée (HH:MM).
    #[schema(value_type = Option<String>, example = "08:05")]
    pub arrival: Option<String>,
    /// Heure de départ (HH:MM).
    #[schema(value_type = Option<String>, example = "17:40")]
    pub departure: Option<String>,
    /// Heures d'adaptation (crèche).
    pub adaptation: Option<bool>,
    /// `false` : présence non facturée.
    pub billable: Option<bool>,
    /// Motif (absence justifiée...).
    pub reason: Option<String>,
}

impl Body for AttendanceInput {}

/// An "HH:MM" time, or a French error naming the field.
pub fn parse_time(value: Option<&str>, field: &str) -> AppResult<Option<NaiveTime>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => NaiveTime::parse_from_str(text, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
            .map(Some)
            .map_err(|_| {
                AppError::invalid(format!("« {field} » : heure invalide (HH:MM attendu)"))
            }),
    }
}

/// The mark a state code asks for.
pub fn parse_mark(state: Option<&str>) -> AppResult<Option<Mark>> {
    match state {
        None | Some("") => Ok(None),
        Some("present") => Ok(Some(Mark::Present)),
        Some("absent_justified") => Ok(Some(Mark::Absent { justified: true })),
        Some("absent_unjustified") => Ok(Some(Mark::Absent { justified: false })),
        Some(other) => Err(AppError::invalid(format!(
            "état « {other} » invalide : present, absent_justified ou absent_unjustified"
        ))),
    }
}

/// Pointer une unité réservée
///
/// Présent, absent (justifié ou non), heures d'arrivée et de départ, adaptation, présence
/// non facturée. La facturation lit cet état.
#[utoipa::path(
    patch,
    path = "/api/v1/bookings/{id}/attendance",
    tag = "pointage",
    params(("id" = i64, Path, description = "Identifiant de la réservation.")),
    request_body(content = AttendanceInput, content_type = "application/json"),
    responses(
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 200, description = "La réservation pointée.", body = BookingView),
        (status = 404, description = "Réservation introuvable.", body = ApiError),
        (status = 422, description = "Pointage impossible dans cet état.", body = ApiError),
    )
)]
pub(super) async fn record_attendance(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    id: web::Path<i64>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let input: AttendanceInput = strict(body.into_inner())?;
    let entry = AttendanceEntry {
        mark: parse_mark(input.state.as_deref())?,
        arrival: parse_time(input.arrival.as_deref(), "arrival")?,
        departure: parse_time(input.departure.as_deref(), "departure")?,
        adaptation: input.adaptation,
        billable: input.billable,
        reason: input.reason,
    };
    let settings = scheduling::settings(&state, &city).await?;
    let by = principal.actor();
    let booking = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            let booking = store::view(conn, id).await?;
            let activity = model::load(conn, booking.activity_id, &settings).await?;
            store::record_attendance(conn, &activity, id, entry, &by).await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(booking))
}

/// Les réservations d'un enfant.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingList {
    pub items: Vec<BookingView>,
    pub total: usize,
}

/// Période des réservations d'un enfant.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChildPeriod {
    /// Premier jour (AAAA-MM-JJ) ; aujourd'hui par défaut.
    #[param(value_type = Option<String>)]
    pub from: Option<NaiveDate>,
    /// Dernier jour inclus (AAAA-MM-JJ) ; 31 jours après `from` par défaut, 366 au plus.
    #[param(value_type = Option<String>)]
    pub to: Option<NaiveDate>,
}

/// Réservations d'un enfant
///
/// Toutes ses réservations de la période, toutes activités confondues, avec leur état.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/bookings",
    tag = "réservations",
    params(("id" = i64, Path, description = "Identifiant de l'enfant."), ChildPeriod),
    responses(
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 200, description = "Les réservations.", body = BookingList),
        (status = 404, description = "Enfant introuvable.", body = ApiError),
        (status = 422, description = "Période invalide.", body = ApiError),
    )
)]
pub(super) async fn child_bookings(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    id: web::Path<i64>,
    query: web::Query<ChildPeriod>,
) -> AppResult<HttpResponse> {
    let child = id.into_inner();
    let from = query.from.unwrap_or_else(crate::platform::clock::today);
    let to = query.to.unwrap_or(from + chrono::Days::new(31));
    if to < from || (to - from).num_days() > 366 {
        return Err(AppError::invalid(
            "période invalide : « to » suit « from » de 366 jours au plus",
        ));
    }
    let items = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            store::require_child(conn, child).await?;
            store::of_child(conn, child, from, to).await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(BookingList {
        total: items.len(),
        items,
    }))
}
