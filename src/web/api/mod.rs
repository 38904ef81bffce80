//! The REST API of a city, at `/api/v1/` on its host, for bearer-token clients (the GRC,
//! dashboard widgets). JSON in, JSON out, French messages in errors.

use actix_web::HttpResponse;
use serde_json::json;

use super::faces::CurrentCity;
use super::guard::{Need, Principal, Routes};
use crate::platform::error::AppResult;

pub fn routes(routes: &mut Routes) {
    routes.get("/api/v1/me", Need::AnyApi, me);
}

/// The token's identity: `{"city", "name", "scopes"}`.
async fn me(CurrentCity(city): CurrentCity, principal: Principal) -> AppResult<HttpResponse> {
    let Principal::Api { name, scopes, .. } = principal else {
        return Err(crate::platform::error::AppError::Unauthorized);
    };
    Ok(HttpResponse::Ok().json(json!({ "city": city.slug, "name": name, "scopes": scopes })))
}
