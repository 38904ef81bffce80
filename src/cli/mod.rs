//! The `marelle` command line. Every command reads `MARELLE_DATABASE_URL` (or
//! `marelle.toml`); without either, the embedded cluster under `var/pg` is used.

mod backup;
mod demo;
mod family;
mod identity;
mod tenant;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::platform::config::Config;
use crate::platform::db::Db;
use crate::platform::logging;
use crate::platform::pgcluster::Cluster;
use crate::platform::tenancy::provisioning::{Provisioner, migrate_all};

#[derive(Parser)]
#[command(
    name = "marelle",
    version,
    about = "Marelle — services enfance des villes du SITIV"
)]
struct Cli {
    /// Fichier de configuration (par défaut marelle.toml, ou MARELLE_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sert le portail, l'espace agents, l'API et la console SITIV.
    Serve {
        /// Adresse d'écoute (par défaut celle de la configuration, 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Migre le schéma platform puis le schéma de chaque ville (idempotent).
    Migrate,
    /// Base PostgreSQL embarquée sous var/pg.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Villes et environnements.
    Tenant {
        #[command(subcommand)]
        action: tenant::TenantAction,
    },
    /// Dossiers des familles.
    Family {
        #[command(subcommand)]
        action: family::FamilyAction,
    },
    /// Clients de l'API REST d'une ville.
    ApiClient {
        #[command(subcommand)]
        action: identity::ApiClientAction,
    },
    /// Agents d'une ville.
    Agent {
        #[command(subcommand)]
        action: identity::AgentAction,
    },
    /// Administrateurs SITIV de la console.
    Admin {
        #[command(subcommand)]
        action: identity::AdminAction,
    },
    /// Sauvegarde platform et les villes (une archive par schéma, sommes de contrôle).
    Backup(backup::BackupArgs),
    /// Restaure depuis une sauvegarde, après vérification, avec contrôle des lignes.
    Restore(backup::RestoreArgs),
    /// Crée les villes de démonstration et leurs données synthétiques (idempotent).
    Demo(demo::DemoArgs),
}

#[derive(Subcommand)]
enum DbAction {
    /// Initialise si besoin et démarre la base embarquée.
    Start,
    /// Arrête la base embarquée.
    Stop,
    /// Indique l'état de la base embarquée.
    Status,
    /// Affiche l'URL de connexion de l'application.
    Url,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    logging::init(&config.log_format);
    let outcome = match cli.command {
        Command::Db { action } => run_db(&config, action),
        Command::Serve { bind } => actix_web::rt::System::new().block_on(async move {
            let mut config = config;
            if let Some(bind) = bind {
                config.bind = bind;
            }
            let db = connect(&config)?;
            crate::web::serve(config, db).await
        }),
        command => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(run(config, command))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("erreur : {error:#}");
    ExitCode::FAILURE
}

async fn run(config: Config, command: Command) -> anyhow::Result<()> {
    let db = connect(&config)?;
    match command {
        Command::Migrate => {
            for (schema, applied) in migrate_all(&db).await? {
                println!("{schema} : {applied} migration(s) appliquée(s)");
            }
            Ok(())
        }
        Command::Tenant { action } => tenant::run(&config, &db, action).await,
        Command::Demo(args) => demo::run(&config, &db, args).await,
        Command::Family { action } => family::run(&config, &db, action).await,
        Command::ApiClient { action } => identity::api_client(&db, action).await,
        Command::Agent { action } => identity::agent(&db, action).await,
        Command::Admin { action } => identity::admin(&db, action).await,
        Command::Backup(args) => backup::run_backup(&config, &db, args).await,
        Command::Restore(args) => backup::run_restore(&config, &db, args).await,
        Command::Serve { .. } | Command::Db { .. } => unreachable!("handled in main"),
    }
}

fn run_db(config: &Config, action: DbAction) -> anyhow::Result<()> {
    let cluster = Cluster::new(&config.pg)?;
    match action {
        DbAction::Start => {
            cluster.start()?;
            println!("base embarquée {}", cluster.status());
        }
        DbAction::Stop => {
            cluster.stop()?;
            println!("base embarquée {}", cluster.status());
        }
        DbAction::Status => println!("base embarquée {}", cluster.status()),
        DbAction::Url => println!("{}", cluster.url()?),
    }
    Ok(())
}

/// The request pool on the configured database, or on the embedded cluster.
pub fn connect(config: &Config) -> anyhow::Result<Db> {
    let url = match &config.database_url {
        Some(url) => url.clone(),
        None => Cluster::new(&config.pg)?.url()?,
    };
    Db::connect(&url, config.pool_size)
}

/// The operator behind a CLI command, as recorded in audit trails.
pub fn cli_actor() -> String {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "inconnu".into());
    format!("cli:{user}")
}

fn provisioner<'a>(db: &'a Db, actor: &'a str) -> Provisioner<'a> {
    Provisioner {
        db,
        tenants: None,
        blueprint: &crate::domain::CITY_BLUEPRINT,
        actor,
    }
}
