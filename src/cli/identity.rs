//! `marelle api-client`, `marelle agent`, `marelle admin`: identities that need a command
//! line (the first agent of a new city, API clients, SITIV administrators).

use std::path::PathBuf;

use clap::Subcommand;

use super::{cli_actor, provisioner};
use crate::platform::auth::accounts::{self, NewAgent};
use crate::platform::auth::{api_clients, directory, passwords, tokens};
use crate::platform::db::{Db, Scope};
use crate::platform::error::AppError;

#[derive(Subcommand)]
pub enum ApiClientAction {
    /// Crée un client d'API ; le jeton est affiché une seule fois, seul sur la dernière ligne.
    Create {
        city: String,
        #[arg(long)]
        name: String,
        /// Profil accordé au client (répétable) : city_admin, school_agent, auditor...
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum AgentAction {
    /// Crée un agent d'une ville (le premier administrateur, par exemple).
    Create {
        city: String,
        login: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// Profil pour toute la ville (répétable).
        #[arg(long = "profile")]
        profiles: Vec<String>,
        /// Fichier contenant le mot de passe ; sinon un mot de passe provisoire est affiché.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum AdminAction {
    /// Crée un administrateur SITIV (la console cesse alors d'accepter le mot de passe d'amorçage).
    Create {
        login: String,
        #[arg(long)]
        name: String,
        /// Fichier contenant le mot de passe (12 caractères au moins).
        #[arg(long)]
        password_file: PathBuf,
    },
}

fn read_password(file: &PathBuf) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        anyhow::anyhow!("fichier de mot de passe {} illisible : {e}", file.display())
    })?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

pub async fn api_client(db: &Db, action: ApiClientAction) -> anyhow::Result<()> {
    let ApiClientAction::Create { city, name, scopes } = action;
    let actor = cli_actor();
    let city = provisioner(db, &actor).city(&city).await?;
    let (client, token) = db
        .run(city.scope(&actor), move |conn| {
            Box::pin(async move { api_clients::create(conn, &name, &scopes).await })
        })
        .await?;
    println!(
        "client d'API « {} » créé pour {} (profils : {})",
        client.name,
        city.slug,
        client.scopes.join(", ")
    );
    println!("conservez ce jeton, il ne sera plus affiché :");
    println!("{token}");
    Ok(())
}

pub async fn agent(db: &Db, action: AgentAction) -> anyhow::Result<()> {
    let AgentAction::Create {
        city,
        login,
        name,
        email,
        profiles,
        password_file,
    } = action;
    let actor = cli_actor();
    let city = provisioner(db, &actor).city(&city).await?;
    let (password, temporary) = match &password_file {
        Some(file) => (read_password(file)?, false),
        None => (tokens::temporary_password(), true),
    };
    if !temporary {
        passwords::check_policy(&password, &login, 12)?;
    }
    let hash = passwords::hash(&password)?;
    let created_login = db
        .run(city.scope(&actor), move |conn| {
            Box::pin(async move {
                let email = email
                    .as_deref()
                    .map(accounts::normalise_email)
                    .transpose()?;
                let id = accounts::create_agent(
                    conn,
                    NewAgent {
                        login: &login,
                        display_name: &name,
                        email: email.as_deref(),
                        oidc_subject: None,
                        password_hash: Some(&hash),
                        must_change_password: temporary,
                    },
                )
                .await?;
                for profile in &profiles {
                    directory::grant(conn, id, profile, "city").await?;
                }
                accounts::normalise_login(&login)
            })
        })
        .await?;
    println!("agent « {created_login} » créé dans {}", city.slug);
    if temporary {
        println!("mot de passe provisoire (à changer à la première connexion) :");
        println!("{password}");
    }
    Ok(())
}

pub async fn admin(db: &Db, action: AdminAction) -> anyhow::Result<()> {
    let AdminAction::Create {
        login,
        name,
        password_file,
    } = action;
    let password = read_password(&password_file)?;
    let actor = cli_actor();
    db.run(Scope::Platform { actor: &actor }, move |conn| {
        Box::pin(
            async move { crate::platform::admins::create(conn, &login, &name, &password).await },
        )
    })
    .await
    .map_err(|e: AppError| anyhow::anyhow!("{e}"))?;
    println!("administrateur SITIV créé");
    Ok(())
}
