//! The REST API of a city, at `/api/v1/` on its host, for bearer-token clients (the GRC,
//! dashboard widgets). JSON in, JSON out, French messages in errors. Its description
//! (OpenAPI 3) is served at `/api/v1/openapi.json`.

mod bookings;
mod families;
mod openapi;
mod pricing;

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::faces::CurrentCity;
use super::guard::{Need, Principal, Routes};
use crate::platform::error::{AppError, AppResult};

pub fn routes(routes: &mut Routes) {
    routes.get("/api/v1/me", Need::AnyApi, me);
    routes.get("/api/v1/openapi.json", Need::Public, openapi::document);
    families::routes(routes);
    bookings::routes(routes);
    pricing::routes(routes);
}

/// L'identité d'un jeton.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Identifiant court de la ville (slug).
    #[schema(example = "corbas")]
    pub city: String,
    /// Nom donné au client de l'API à sa création.
    #[schema(example = "GRC Publik")]
    pub name: String,
    /// Profils de droits accordés au jeton.
    #[schema(example = json!(["school_agent"]))]
    pub scopes: Vec<String>,
}

/// Identité du jeton
///
/// La ville, le nom du client et les profils de droits du jeton utilisé.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "jeton",
    responses(
        (status = 200, description = "L'identité du jeton.", body = Me),
        (status = 401, description = "Jeton absent ou inconnu.", body = families::ApiError),
    )
)]
async fn me(CurrentCity(city): CurrentCity, principal: Principal) -> AppResult<HttpResponse> {
    let Principal::Api { name, scopes, .. } = principal else {
        return Err(AppError::Unauthorized);
    };
    Ok(HttpResponse::Ok().json(Me {
        city: city.slug.clone(),
        name,
        scopes,
    }))
}
