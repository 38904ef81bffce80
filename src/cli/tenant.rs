//! `marelle tenant ...`: provisioning and paramétrage of city environments.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::{cli_actor, provisioner};
use crate::domain::settings::CATALOGUE;
use crate::platform::config::Config;
use crate::platform::db::{Db, Scope};
use crate::platform::error::AppError;
use crate::platform::settings;
use crate::platform::tenancy::provisioning::{CityRequest, CloneRequest};
use crate::platform::tenancy::{Status, Theme, list_cities};

#[derive(Subcommand)]
pub enum TenantAction {
    /// Crée une ville (schéma, migrations, paramétrage par défaut).
    Create {
        slug: String,
        #[arg(long)]
        name: String,
        /// Nom d'hôte servi (répétable).
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
        #[arg(long, default_value = "production")]
        env: String,
        /// Couleur principale (#rrvvbb).
        #[arg(long)]
        primary: Option<String>,
        /// Couleur secondaire (#rrvvbb).
        #[arg(long)]
        accent: Option<String>,
        /// Ligne d'adresse postale (répétable).
        #[arg(long = "address")]
        address: Vec<String>,
    },
    /// Liste les villes et environnements.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Copie une ville vers un nouvel environnement (recette par défaut).
    Clone {
        from: String,
        to: String,
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
        /// Remplace les données personnelles de la copie.
        #[arg(long)]
        anonymise: bool,
        #[arg(long, default_value = "recette")]
        env: String,
    },
    /// Rafraîchit une recette depuis sa production (sauvegarde, suppression, copie).
    Refresh {
        slug: String,
        /// Remplace les données personnelles de la copie.
        #[arg(long)]
        anonymise: bool,
    },
    /// Suspend une ville (ses pages répondent « service suspendu »).
    Suspend { slug: String },
    /// Remet en service une ville suspendue.
    Resume { slug: String },
    /// Supprime une ville après en avoir sauvegardé le schéma.
    Drop {
        slug: String,
        /// Confirme la suppression.
        #[arg(long)]
        yes: bool,
    },
    /// Exporte le paramétrage en fichiers TOML (tenants/<ville>/ par exemple).
    ExportSettings {
        slug: String,
        #[arg(long)]
        to: PathBuf,
    },
    /// Rejoue un paramétrage exporté (versions absentes seulement, tout ou rien).
    ImportSettings {
        slug: String,
        #[arg(long)]
        from: PathBuf,
    },
}

pub async fn run(config: &Config, db: &Db, action: TenantAction) -> anyhow::Result<()> {
    let actor = cli_actor();
    let provisioner = provisioner(db, &actor);
    match action {
        TenantAction::Create {
            slug,
            name,
            hosts,
            env,
            primary,
            accent,
            address,
        } => {
            let defaults = Theme::default();
            let city = provisioner
                .create(CityRequest {
                    slug,
                    name,
                    env: env.parse()?,
                    hosts,
                    theme: Theme {
                        primary: primary.unwrap_or(defaults.primary),
                        accent: accent.unwrap_or(defaults.accent),
                        address,
                        ..defaults
                    },
                })
                .await?;
            println!(
                "ville « {} » créée : schéma {}, environnement {}, adresse(s) {}",
                city.slug,
                city.schema,
                city.env.as_str(),
                city.hosts.join(", ")
            );
        }
        TenantAction::List { json } => {
            let cities = db
                .run(Scope::Platform { actor: &actor }, |conn| {
                    Box::pin(async move { list_cities(conn).await })
                })
                .await?;
            if json {
                let items: Vec<_> = cities
                    .iter()
                    .map(|(city, production)| {
                        json!({
                            "slug": city.slug,
                            "name": city.name,
                            "hosts": city.hosts,
                            "schema": city.schema,
                            "env": city.env.as_str(),
                            "status": city.status.as_str(),
                            "production": production,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else {
                println!(
                    "{:<24} {:<20} {:<11} {:<10} hôtes",
                    "ville", "nom", "env", "état"
                );
                for (city, _) in &cities {
                    println!(
                        "{:<24} {:<20} {:<11} {:<10} {}",
                        city.slug,
                        city.name,
                        city.env.as_str(),
                        city.status.label(),
                        city.hosts.join(", ")
                    );
                }
            }
        }
        TenantAction::Clone {
            from,
            to,
            hosts,
            anonymise,
            env,
        } => {
            let city = provisioner
                .clone_city(CloneRequest {
                    from: from.clone(),
                    to,
                    hosts,
                    env: env.parse()?,
                    anonymise,
                })
                .await?;
            println!(
                "« {from} » copiée vers « {} » (schéma {}){}",
                city.slug,
                city.schema,
                if anonymise {
                    ", données personnelles anonymisées"
                } else {
                    ""
                }
            );
        }
        TenantAction::Refresh { slug, anonymise } => {
            let (city, dump) = provisioner
                .refresh(&slug, anonymise, &config.backups_dir)
                .await?;
            println!(
                "recette « {} » rafraîchie depuis sa production{} ; ancienne recette sauvegardée : {}",
                city.slug,
                if anonymise { " (anonymisée)" } else { "" },
                dump.display()
            );
        }
        TenantAction::Suspend { slug } => {
            provisioner.set_status(&slug, Status::Suspended).await?;
            println!("ville « {slug} » suspendue");
        }
        TenantAction::Resume { slug } => {
            provisioner.set_status(&slug, Status::Active).await?;
            println!("ville « {slug} » de nouveau active");
        }
        TenantAction::Drop { slug, yes } => {
            if !yes {
                return Err(AppError::invalid(format!(
                    "la suppression de « {slug} » est définitive : ajoutez --yes pour confirmer \
                     (une sauvegarde sera faite avant)"
                ))
                .into());
            }
            let dump = provisioner.drop_city(&slug, &config.backups_dir).await?;
            println!(
                "ville « {slug} » supprimée ; sauvegarde : {}",
                dump.display()
            );
        }
        TenantAction::ExportSettings { slug, to } => {
            let city = provisioner.city(&slug).await?;
            let versions = db
                .run(city.scope(&actor), |conn| {
                    Box::pin(async move { settings::all_versions(conn).await })
                })
                .await?;
            let header = format!(
                "Paramétrage de {} ({}) — produit par `marelle tenant export-settings`, \
                 rejouable par `marelle tenant import-settings`.",
                city.name, city.slug
            );
            let files = settings::export_files(&CATALOGUE, &versions, &header)?;
            std::fs::create_dir_all(&to)?;
            for (name, content) in &files {
                std::fs::write(to.join(name), content)?;
            }
            println!(
                "{} version(s) de paramètres exportée(s) dans {} ({} fichier(s))",
                versions.len(),
                to.display(),
                files.len()
            );
        }
        TenantAction::ImportSettings { slug, from } => {
            let city = provisioner.city(&slug).await?;
            let incoming = settings::parse_files(&settings::read_dir(&from)?)?;
            let total = incoming.len();
            let added = db
                .run(city.scope(&actor), move |conn| {
                    Box::pin(async move {
                        let existing = settings::all_versions(conn).await?;
                        let new = settings::versions_to_import(&CATALOGUE, &existing, incoming)?;
                        if !new.is_empty() {
                            settings::insert_versions(conn, &new).await?;
                        }
                        Ok(new.len())
                    })
                })
                .await?;
            println!(
                "{added} version(s) ajoutée(s) à « {slug} », {} déjà présente(s)",
                total - added
            );
        }
    }
    Ok(())
}
