//! Cross-process cache invalidation: every server LISTENs on the channels that triggers
//! NOTIFY when the registry or a city's settings change, and drops the stale entries.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;

use super::settings::SettingsCache;
use super::tenancy::Tenants;

const REGISTRY: &str = "marelle_registry";
const SETTINGS: &str = "marelle_settings";

/// Listens until the process ends, reconnecting after a failure (and then dropping
/// everything, since notifications may have been missed meanwhile).
pub fn spawn_listener(url: String, tenants: Tenants, settings: SettingsCache) {
    tokio::spawn(async move {
        loop {
            if let Err(error) = listen(&url, &tenants, &settings).await {
                tracing::warn!(%error, "cache invalidation listener disconnected; retrying");
            }
            tenants.invalidate();
            settings.invalidate_all();
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}

async fn listen(url: &str, tenants: &Tenants, settings: &SettingsCache) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    diesel::sql_query(format!("LISTEN {REGISTRY}"))
        .execute(&mut conn)
        .await?;
    diesel::sql_query(format!("LISTEN {SETTINGS}"))
        .execute(&mut conn)
        .await?;
    // Whatever changed before we listened is unknown: start afresh.
    tenants.invalidate();
    settings.invalidate_all();
    let mut notifications = std::pin::pin!(conn.notifications_stream());
    while let Some(notification) = notifications.next().await {
        let notification = notification?;
        match notification.channel.as_str() {
            REGISTRY => tenants.invalidate(),
            SETTINGS => settings.invalidate(&notification.payload).await,
            _ => {}
        }
    }
    anyhow::bail!("notification stream closed")
}
