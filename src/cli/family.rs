//! `marelle family export <city> <number>`: everything a city holds about a family, as
//! JSON on standard output (RGPD portability).

use clap::Subcommand;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use super::{cli_actor, provisioner};
use crate::domain::family::{rgpd, schema::households};
use crate::platform::audit::{self, Event};
use crate::platform::config::Config;
use crate::platform::crypto::MasterKey;
use crate::platform::db::Db;
use crate::platform::error::AppError;

#[derive(Subcommand)]
pub enum FamilyAction {
    /// Exporte tout le dossier d'une famille en JSON (portabilité RGPD).
    Export {
        city: String,
        /// Numéro de famille.
        number: i32,
    },
}

pub async fn run(config: &Config, db: &Db, action: FamilyAction) -> anyhow::Result<()> {
    let FamilyAction::Export { city, number } = action;
    let actor = cli_actor();
    let city = provisioner(db, &actor).city(&city).await?;
    let key = MasterKey::load_or_create(&config.master_key_file)?.city_key(&city.key_id);
    let author = actor.clone();
    let document = db
        .run(city.scope(&actor), move |conn| {
            Box::pin(async move {
                let id: i64 = households::table
                    .filter(households::number.eq(number))
                    .select(households::id)
                    .first(conn)
                    .await
                    .optional()?
                    .ok_or_else(|| AppError::not_found(format!("famille n° {number} inconnue")))?;
                let document =
                    rgpd::export(conn, &key, id, crate::platform::clock::today()).await?;
                audit::record(
                    conn,
                    Event::Export,
                    &author,
                    ("households", Some(&id.to_string())),
                    serde_json::json!({}),
                )
                .await?;
                Ok(document)
            })
        })
        .await?;
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}
