//! `marelle demo`: the demonstration cities (Corbas and Givors, production and recette),
//! so a newcomer running `ops/run` sees the whole product at work. Idempotent.

use clap::Args;

use super::{cli_actor, provisioner};
use crate::domain::family;
use crate::platform::auth::accounts::{self, NewAgent};
use crate::platform::auth::{directory, passwords};
use crate::platform::config::Config;
use crate::platform::crypto::MasterKey;
use crate::platform::db::Db;
use crate::platform::error::AppError;
use crate::platform::tenancy::provisioning::{CityRequest, CloneRequest, Provisioner};
use crate::platform::tenancy::{Env, Theme};

#[derive(Args)]
pub struct DemoArgs {
    /// Ne prépare que cette ville de démonstration.
    #[arg(long)]
    city: Option<String>,
    /// Ajoute ce nombre de familles synthétiques (par défaut : 150 si la ville n'en a aucune).
    #[arg(long)]
    families: Option<usize>,
}

/// Families of a new demonstration city.
const DEFAULT_FAMILIES: usize = 150;

struct DemoCity {
    slug: &'static str,
    name: &'static str,
    primary: &'static str,
    accent: &'static str,
    address: &'static [&'static str],
    postal_code: &'static str,
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
        postal_code: "69960",
        phone: "04 72 00 00 01",
        email: "enfance@corbas.example",
    },
    DemoCity {
        slug: "givors",
        name: "Givors",
        primary: "#7d1d3f",
        accent: "#1f5f7a",
        address: &["Hôtel de ville", "Place Camille-Vallin", "69700 Givors"],
        postal_code: "69700",
        phone: "04 72 00 00 02",
        email: "enfance@givors.example",
    },
];

pub async fn run(config: &Config, db: &Db, args: DemoArgs) -> anyhow::Result<()> {
    let master = MasterKey::load_or_create(&config.master_key_file)?;
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
        populate(&provisioner, &master, city, args.families).await?;
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

/// Synthetic families: `requested` more, or the default number in a city without any.
async fn populate(
    provisioner: &Provisioner<'_>,
    master: &MasterKey,
    demo: &DemoCity,
    requested: Option<usize>,
) -> anyhow::Result<()> {
    let city = provisioner.city(demo.slug).await?;
    let key = master.city_key(&city.key_id);
    let held: i64 = provisioner
        .db
        .run(city.scope(provisioner.actor), |conn| {
            Box::pin(async move {
                use diesel::QueryDsl;
                use diesel_async::RunQueryDsl;
                Ok(family::schema::households::table
                    .count()
                    .get_result(conn)
                    .await?)
            })
        })
        .await?;
    let wanted = match requested {
        Some(n) => n,
        None if held == 0 => DEFAULT_FAMILIES,
        None => return Ok(()),
    };
    let locality = family::demo::Locality {
        postal_code: demo.postal_code,
        town: demo.name,
    };
    let progress = indicatif::ProgressBar::new(wanted as u64)
        .with_message(format!("familles de {}", demo.name));
    progress.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let mut report = family::demo::Report::default();
    // Batches of 100 families per transaction: steady progress, bounded transactions.
    for batch in 0..wanted.div_ceil(100) {
        let count = 100.min(wanted - batch * 100);
        let city_seed = demo.slug.bytes().fold(0u64, |acc, b| {
            acc.wrapping_mul(31).wrapping_add(u64::from(b))
        });
        let seed = city_seed.wrapping_add((held as u64) * 7919 + batch as u64);
        let key = key.clone();
        let locality = family::demo::Locality {
            postal_code: locality.postal_code,
            town: locality.town,
        };
        let part = provisioner
            .db
            .run(city.scope(provisioner.actor), move |conn| {
                Box::pin(async move {
                    family::demo::generate(
                        conn,
                        &key,
                        &locality,
                        seed,
                        count,
                        crate::platform::clock::today(),
                    )
                    .await
                })
            })
            .await?;
        report.households += part.households;
        report.children += part.children;
        report.shared_custody += part.shared_custody;
        progress.inc(count as u64);
    }
    progress.finish_and_clear();
    println!(
        "{} : {} foyers synthétiques ({} enfants, {} familles en garde partagée)",
        demo.slug, report.households, report.children, report.shared_custody
    );
    seed_activities(provisioner, &city).await?;
    if held == 0 {
        let login = open_demo_family_account(provisioner, &city).await?;
        println!(
            "{} : compte du portail famille « {login} » (mot de passe de démonstration)",
            demo.slug
        );
    }
    Ok(())
}

/// Activities, schools, enrolments, bookings, attendance and tariff grids (once per city).
async fn seed_activities(
    provisioner: &Provisioner<'_>,
    city: &crate::platform::tenancy::City,
) -> anyhow::Result<()> {
    use crate::domain::activity::{demo, model::CitySettings};
    use crate::domain::booking::store::Calendar;
    let name = city.name.clone();
    let (seeded, tariffs) = provisioner
        .db
        .run(city.scope(provisioner.actor), move |conn| {
            Box::pin(async move {
                let settings = CitySettings::read(conn, &name).await?;
                let calendar = Calendar {
                    school: crate::domain::calendar::holidays::shipped(),
                    now: crate::platform::clock::now(),
                };
                let report =
                    demo::seed(conn, &settings, &calendar, crate::platform::clock::today()).await?;
                if report.is_some() {
                    // Staff on duty, notebooks and the past month's marks on the new bookings.
                    crate::domain::attendance::seed_demo_attendance(
                        conn,
                        crate::platform::clock::today(),
                    )
                    .await?;
                }
                let tariffs = crate::domain::tariffs::seed_demo_tariffs(conn, &settings).await?;
                Ok((report, tariffs))
            })
        })
        .await?;
    if tariffs > 0 {
        println!(
            "{} : grilles tarifaires de démonstration ({tariffs} textes)",
            city.slug
        );
    }
    if let Some(report) = seeded {
        println!(
            "{} : {} activités, {} élèves placés en classe, {} inscriptions, {} réservations \
             dont {} pointées",
            city.slug,
            report.activities,
            report.pupils,
            report.enrolments,
            report.bookings,
            report.attended
        );
    }
    Ok(())
}

/// A portal account for the first synthetic family with children, so the portal can be
/// visited as a parent.
async fn open_demo_family_account(
    provisioner: &Provisioner<'_>,
    city: &crate::platform::tenancy::City,
) -> anyhow::Result<String> {
    let hash = passwords::hash(DEMO_PASSWORD)?;
    Ok(provisioner
        .db
        .run(city.scope(provisioner.actor), move |conn| {
            Box::pin(async move {
                let (household, head) = family::demo::first_family_with_children(conn).await?;
                family::accounts::open_for_adult(conn, household, head, &hash, false).await
            })
        })
        .await?)
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
