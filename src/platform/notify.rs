//! Cross-process cache invalidation: every server LISTENs on the channels that triggers
//! NOTIFY when the registry, a city's settings or its permissions change, and drops the
//! stale entries.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;

use super::auth::authz::Authz;
use super::settings::SettingsCache;
use super::tenancy::Tenants;

const REGISTRY: &str = "marelle_registry";
const SETTINGS: &str = "marelle_settings";
const AUTHZ: &str = "marelle_authz";

/// The caches kept in step.
#[derive(Clone)]
struct Caches {
    tenants: Tenants,
    settings: SettingsCache,
    authz: Authz,
}

impl Caches {
    fn clear(&self) {
        self.tenants.invalidate();
        self.settings.invalidate_all();
        self.authz.invalidate_all();
    }
}

/// Listens until the process ends, reconnecting after a failure (and then dropping
/// everything, since notifications may have been missed meanwhile).
pub fn spawn_listener(url: String, tenants: Tenants, settings: SettingsCache, authz: Authz) {
    let caches = Caches {
        tenants,
        settings,
        authz,
    };
    tokio::spawn(async move {
        loop {
            if let Err(error) = listen(&url, &caches).await {
                tracing::warn!(%error, "cache invalidation listener disconnected; retrying");
            }
            caches.clear();
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}

async fn listen(url: &str, caches: &Caches) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    for channel in [REGISTRY, SETTINGS, AUTHZ] {
        diesel::sql_query(format!("LISTEN {channel}"))
            .execute(&mut conn)
            .await?;
    }
    // Whatever changed before we listened is unknown: start afresh.
    caches.clear();
    let mut notifications = std::pin::pin!(conn.notifications_stream());
    while let Some(notification) = notifications.next().await {
        let notification = notification?;
        match notification.channel.as_str() {
            REGISTRY => caches.tenants.invalidate(),
            SETTINGS => caches.settings.invalidate(&notification.payload).await,
            AUTHZ => caches.authz.invalidate(&notification.payload).await,
            _ => {}
        }
    }
    anyhow::bail!("notification stream closed")
}
