//! `marelle demo`: the demonstration cities (Corbas and Givors, production and recette),
//! so a newcomer running `ops/run` sees the whole product at work. Idempotent.

use clap::Args;

use super::{cli_actor, provisioner};
use crate::platform::auth::accounts::{self, NewAgent};
use crate::platform::auth::{directory, passwords};
use crate::platform::config::Config;
use crate::platform::db::Db;
use crate::platform::error::AppError;
use crate::platform::tenancy::provisioning::{CityRequest, CloneRequest, Provisioner};
use crate::platform::tenancy::{Env, Theme};

#[derive(Args)]
pub struct DemoArgs {
    /// Ne prépare que cette ville de démonstration.
    #[arg(long)]
    city: Option<String>,
}

struct DemoCity {
    slug: &'static str,
    name: &'static str,
    primary: &'static str,
    accent: &'static str,
    address: &'static [&'static str],
    phone: &'static str,
    email: &'static str,
}

/// Password of every demonstration account (demo cities hold synthetic data only).
pub const DEMO_PASSWORD: &str = "Marelle-demo-2026";

/// Demonstration agents: (login, name, profile) — one per default profile.
const AGENTS: &[(&str, &str, &str)] = &[
    ("admin", "Sophie Garnier (administratrice)", "city_admin"),
    (
        "scolaire",
        "Karim Haddad (service scolaire)",
        "school_agent",
    ),
    (
        "petite-enfance",
        "Claire Rousseau (petite enfance)",
        "early_childhood_agent",
    ),
    ("regie", "Thomas Lambert (régisseur)", "regisseur"),
    (
        "direction",
        "Nadia Benali (directrice de centre)",
        "structure_director",
    ),
    ("animation", "Lucas Fontaine (animateur)", "animator"),
    ("infirmerie", "Hélène Marchal (infirmière)", "medical"),
    ("audit", "Paul Renaud (auditeur)", "auditor"),
];

const CITIES: &[DemoCity] = &[
    DemoCity {
        slug: "corbas",
        name: "Corbas",
        primary: "#17603a",
        accent: "#8a6d00",
        address: &["Hôtel de ville", "Place de la Mairie", "69960 Corbas"],
        phone: "04 72 00 00 01",
        email: "enfance@corbas.example",
    },
    DemoCity {
        slug: "givors",
        name: "Givors",
        primary: "#7d1d3f",
        accent: "#1f5f7a",
        address: &["Hôtel de ville", "Place Camille-Vallin", "69700 Givors"],
        phone: "04 72 00 00 02",
        email: "enfance@givors.example",
    },
];

pub async fn run(_config: &Config, db: &Db, args: DemoArgs) -> anyhow::Result<()> {
    let actor = cli_actor();
    let provisioner = provisioner(db, &actor);
    let chosen: Vec<&DemoCity> = CITIES
        .iter()
        .filter(|c| args.city.as_deref().is_none_or(|slug| slug == c.slug))
        .collect();
    if chosen.is_empty() {
        anyhow::bail!(
            "ville de démonstration inconnue : {}",
            args.city.unwrap_or_default()
        );
    }
    for city in chosen {
        ensure_production(&provisioner, city).await?;
        ensure_recette(&provisioner, city).await?;
    }
    Ok(())
}

async fn exists(provisioner: &Provisioner<'_>, slug: &str) -> anyhow::Result<bool> {
    match provisioner.city(slug).await {
        Ok(_) => Ok(true),
        Err(AppError::NotFound(_)) => Ok(false),
        Err(other) => Err(other.into()),
    }
}

async fn ensure_production(provisioner: &Provisioner<'_>, city: &DemoCity) -> anyhow::Result<()> {
    if exists(provisioner, city.slug).await? {
        println!("{} : déjà en place", city.slug);
        return Ok(());
    }
    provisioner
        .create(CityRequest {
            slug: city.slug.into(),
            name: city.name.into(),
            env: Env::Production,
            hosts: vec![format!("{}.localhost", city.slug)],
            theme: Theme {
                primary: city.primary.into(),
                accent: city.accent.into(),
                address: city.address.iter().map(|l| l.to_string()).collect(),
                phone: city.phone.into(),
                email: city.email.into(),
                website: String::new(),
            },
        })
        .await?;
    create_agents(provisioner, city.slug).await?;
    println!(
        "{} : ville créée (http://{}.localhost:8080/)",
        city.slug, city.slug
    );
    Ok(())
}

/// One agent per default profile, all with the demonstration password.
async fn create_agents(provisioner: &Provisioner<'_>, slug: &str) -> anyhow::Result<()> {
    let city = provisioner.city(slug).await?;
    let hash = passwords::hash(DEMO_PASSWORD)?;
    let slug = slug.to_string();
    provisioner
        .db
        .run(city.scope(provisioner.actor), move |conn| {
            Box::pin(async move {
                for (login, name, profile) in AGENTS {
                    let id = accounts::create_agent(
                        conn,
                        NewAgent {
                            login,
                            display_name: name,
                            email: Some(&format!("{login}@{slug}.example")),
                            oidc_subject: None,
                            password_hash: Some(&hash),
                            must_change_password: false,
                        },
                    )
                    .await?;
                    directory::grant(conn, id, profile, "city").await?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(())
}

/// The recette environment is an anonymised copy of the demo production.
async fn ensure_recette(provisioner: &Provisioner<'_>, city: &DemoCity) -> anyhow::Result<()> {
    let slug = format!("{}-recette", city.slug);
    if exists(provisioner, &slug).await? {
        println!("{slug} : déjà en place");
        return Ok(());
    }
    provisioner
        .clone_city(CloneRequest {
            from: city.slug.into(),
            to: slug.clone(),
            hosts: vec![format!("{slug}.localhost")],
            env: Env::Recette,
            anonymise: true,
        })
        .await?;
    println!("{slug} : recette anonymisée créée (http://{slug}.localhost:8080/)");
    Ok(())
}
