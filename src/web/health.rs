//! `GET /healthz` on any host: process and database status, for monitoring.

use actix_web::HttpResponse;
use serde_json::json;

use super::State;

pub async fn healthz(state: State) -> HttpResponse {
    let started = std::time::Instant::now();
    let database = state.db.ping().await;
    let (size, available) = state.db.pool_status();
    let body = json!({
        "status": if database.is_ok() { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "checks": {
            "database": {
                "status": if database.is_ok() { "ok" } else { "error" },
                "latency_ms": (started.elapsed().as_secs_f64() * 1e4).round() / 10.0,
                "pool": { "size": size, "available": available },
            }
        }
    });
    if database.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
