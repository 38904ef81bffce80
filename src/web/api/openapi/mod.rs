//! The OpenAPI 3 description of the API, built from the handlers' annotations (utoipa),
//! served at `/api/v1/openapi.json` for anyone (it holds no data).

use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{bookings, families};
use crate::domain::family::{dossier, health, model, search, store};
use crate::platform::error::{AppError, AppResult};

mod french;

use french::in_french;

/// Name of the security scheme in the document.
const BEARER: &str = "jeton";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Marelle – API de la ville",
        version = "1",
        description = "API REST d'une ville servie par Marelle : dossiers des familles, de \
                       leurs adultes et de leurs enfants ; activités, places disponibles, \
                       réservations et pointage ; taux horaire PSU des crèches et simulation \
                       tarifaire d'un mois (devis). Chaque ville a sa propre adresse \
                       (`https://<ville>/api/v1/`) et ses propres jetons ; un identifiant \
                       d'une autre ville répond 404. Authentification par jeton porteur \
                       (`Authorization: Bearer <jeton>`), créé par l'administrateur avec \
                       `marelle api-client create`. Les droits du jeton sont ceux de ses \
                       profils : les revenus, les coordonnées bancaires et chaque niveau de \
                       la fiche sanitaire n'apparaissent que si ses profils permettent de les \
                       lire. Les erreurs répondent `{\"error\": code, \"message\": texte en \
                       français}`.",
    ),
    paths(
        super::me,
        families::list_families,
        families::create_family,
        families::get_family,
        families::patch_family,
        families::list_persons,
        families::create_person,
        families::get_person,
        families::patch_person,
        families::list_children,
        families::create_child,
        families::get_child,
        families::patch_child,
        bookings::list_activities,
        bookings::availability,
        bookings::create_booking,
        bookings::get_booking,
        bookings::cancel_booking,
        bookings::record_attendance,
        bookings::child_bookings,
        super::pricing::psu_rate,
        super::pricing::simulation::simulate,
    ),
    components(schemas(
        super::Me,
        super::pricing::PsuAnswer,
        super::pricing::simulation::SimulationInput,
        super::pricing::simulation::HypotheticalSituation,
        super::pricing::simulation::WeekUnit,
        super::pricing::simulation::SimulationAnswer,
        super::pricing::simulation::SituationUsed,
        super::pricing::simulation::SimulationLine,
        super::pricing::simulation::AppliedAid,
        bookings::ActivityList,
        bookings::AvailabilityList,
        bookings::NewBooking,
        bookings::Waitlisted,
        bookings::AttendanceInput,
        bookings::BookingList,
        crate::domain::activity::model::ActivitySummary,
        crate::domain::activity::model::Unit,
        crate::domain::activity::model::Group,
        crate::domain::booking::store::BookingView,
        crate::domain::booking::store::Availability,
        families::ApiError,
        families::HomonymsError,
        families::FamilyList,
        families::PersonList,
        families::ChildList,
        families::NewPerson,
        model::NewFamily,
        model::AdultInput,
        model::ChildInput,
        model::AddressInput,
        model::HouseholdPatch,
        model::PersonPatch,
        search::HouseholdSummary,
        search::Homonym,
        store::CreatedFamily,
        dossier::HouseholdView,
        dossier::AdultView,
        dossier::PersonView,
        dossier::AddressView,
        dossier::ChildSummary,
        dossier::HouseholdRef,
        dossier::IncomeView,
        dossier::BankView,
        dossier::MandateView,
        dossier::ChildView,
        dossier::GuardianView,
        dossier::AuthorisationView,
        dossier::ContactView,
        dossier::SchoolYearView,
        health::HealthSheet,
        health::BasicHealth,
        health::MedicalHealth,
        health::ConfidentialHealth,
        health::Vaccination,
    )),
    modifiers(&BearerToken),
    security(("jeton" = [])),
    tags(
        (name = "familles", description = "Dossiers des familles, de leurs adultes et de leurs enfants."),
        (name = "jeton", description = "Le jeton utilisé."),
        (name = "activités", description = "Activités et places disponibles en temps réel."),
        (name = "réservations", description = "Réservations par enfant, jour et unité, liste d'attente et pointage."),
        (name = "tarification", description = "Tarifs : taux horaire PSU des crèches selon le barème CNAF en vigueur ; simulation d'un mois pour une famille ou une situation hypothétique, ligne à ligne, aides déduites."),
    ),
)]
pub struct ApiDoc;

/// Declares the bearer token scheme.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Jeton d'un client de l'API de la ville, à envoyer dans l'en-tête \
                         `Authorization: Bearer <jeton>`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as JSON, built once.
pub fn json() -> AppResult<&'static str> {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    if let Some(document) = DOCUMENT.get() {
        return Ok(document);
    }
    let mut document = serde_json::to_value(ApiDoc::openapi()).map_err(AppError::internal)?;
    in_french(&mut document);
    let document = serde_json::to_string(&document).map_err(AppError::internal)?;
    Ok(DOCUMENT.get_or_init(|| document))
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(json()?))
}
