//! `marelle backup` and `marelle restore`: per-schema dumps with checksums and a restore
//! verified against the row counts recorded at backup time.

use std::path::PathBuf;

use clap::Args;

use super::provisioner;
use crate::platform::backup;
use crate::platform::config::Config;
use crate::platform::db::{Db, Scope};
use crate::platform::tenancy::list_cities;

#[derive(Args)]
pub struct BackupArgs {
    /// Dossier de la sauvegarde (par défaut <backups_dir>/<date>).
    #[arg(long)]
    to: Option<PathBuf>,
    /// Ne sauvegarde que ces villes (répétable) ; par défaut platform et toutes les villes.
    #[arg(long = "city")]
    cities: Vec<String>,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// Dossier d'une sauvegarde faite par `marelle backup`.
    #[arg(long)]
    from: PathBuf,
    /// Ville à restaurer (répétable).
    #[arg(long = "city")]
    cities: Vec<String>,
    /// Restaure aussi le schéma platform (registre des villes), en premier.
    #[arg(long)]
    platform: bool,
    /// Vérifie seulement les sommes de contrôle, sans rien restaurer.
    #[arg(long)]
    check: bool,
}

pub async fn run_backup(config: &Config, db: &Db, args: BackupArgs) -> anyhow::Result<()> {
    let cities = db
        .run(
            Scope::Platform {
                actor: "sauvegarde",
            },
            |conn| Box::pin(async move { list_cities(conn).await }),
        )
        .await?;
    let mut schemas = Vec::new();
    if args.cities.is_empty() {
        schemas.push("platform".to_string());
        schemas.extend(cities.into_iter().map(|(city, _)| city.schema));
    } else {
        for slug in &args.cities {
            let city = cities
                .iter()
                .find(|(city, _)| &city.slug == slug)
                .ok_or_else(|| anyhow::anyhow!("ville inconnue « {slug} »"))?;
            schemas.push(city.0.schema.clone());
        }
    }
    let dir = args
        .to
        .unwrap_or_else(|| backup::new_backup_dir(&config.backups_dir));
    let manifest = backup::backup(db, &schemas, &dir).await?;
    for dump in &manifest.schemas {
        let rows: i64 = dump.rows.values().sum();
        println!(
            "{} : {} ({} lignes, sha256 {})",
            dump.schema,
            dump.file,
            rows,
            &dump.sha256[..16]
        );
    }
    println!("sauvegarde vérifiée dans {}", dir.display());
    Ok(())
}

pub async fn run_restore(_config: &Config, db: &Db, args: RestoreArgs) -> anyhow::Result<()> {
    let manifest = backup::verify(&args.from)?;
    println!(
        "sauvegarde du {} : {} archive(s), sommes de contrôle correctes",
        manifest.taken_at,
        manifest.schemas.len()
    );
    if args.check {
        return Ok(());
    }
    anyhow::ensure!(
        args.platform || !args.cities.is_empty(),
        "précisez --platform et/ou --city <ville> à restaurer"
    );
    if args.platform {
        report(
            "platform",
            backup::restore(db, &args.from, "platform").await?,
        );
    }
    let actor = super::cli_actor();
    for slug in &args.cities {
        let city = provisioner(db, &actor).city(slug).await?;
        report(slug, backup::restore(db, &args.from, &city.schema).await?);
    }
    Ok(())
}

fn report(what: &str, replaced: Option<String>) {
    match replaced {
        Some(old) => println!(
            "{what} restauré et vérifié ; l'ancien schéma est conservé sous {old} (à supprimer après contrôle)"
        ),
        None => println!("{what} restauré et vérifié"),
    }
}
