//! Host → city resolution, cached with moka. Any registry change (from this process, the
//! CLI or another node) fires `NOTIFY marelle_registry`; every server listens (see
//! `platform::notify`) and drops its cache. A short time-to-live covers a missed
//! notification while reconnecting.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use super::City;
use super::registry::load_city_by_host;
use crate::platform::db::{Db, Scope};
use crate::platform::error::{AppError, AppResult};

#[derive(Clone)]
pub struct Tenants {
    db: Db,
    by_host: Cache<String, Option<Arc<City>>>,
}

impl Tenants {
    pub fn new(db: Db) -> Tenants {
        Tenants {
            db,
            by_host: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }

    /// The city environment serving `host` (port already stripped), if any.
    pub async fn by_host(&self, host: &str) -> AppResult<Option<Arc<City>>> {
        let db = self.db.clone();
        let key = host.to_string();
        self.by_host
            .try_get_with(key.clone(), async move {
                db.run(Scope::Platform { actor: "system" }, move |conn| {
                    Box::pin(async move { load_city_by_host(conn, &key).await })
                })
                .await
                .map(|city| city.map(Arc::new))
            })
            .await
            .map_err(AppError::from_shared)
    }

    /// Forgets every cached resolution (after a registry change in this process; other
    /// processes learn it through the notification).
    pub fn invalidate(&self) {
        self.by_host.invalidate_all();
    }
}
