//! HTTP: actix handlers only (extract, authorise, call the domain, render).
//! One process serves every city: the host picks the face (a city's portal,
//! back-office and API, or the SITIV console on the admin host).

mod admin;
mod api;
mod assets;
mod backoffice;
mod faces;
mod flash;
mod forms;
pub mod guard;
mod health;
mod helpers;
mod page;
mod portal;
mod scheduling;
mod signin;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpServer, web};

pub use faces::Face;
pub use guard::{Need, Principal, Routes};

use crate::platform::auth::authz::Authz;
use crate::platform::auth::oidc::Oidc;
use crate::platform::config::Config;
use crate::platform::crypto::MasterKey;
use crate::platform::db::Db;
use crate::platform::error::AppError;
use crate::platform::mail::Mailer;
use crate::platform::settings::SettingsCache;
use crate::platform::templates::Templates;
use crate::platform::tenancy::Tenants;
use crate::platform::tenancy::provisioning::{Blueprint, Provisioner};

/// Everything a handler may need, shared by all workers.
pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub tenants: Tenants,
    pub templates: Templates,
    pub settings: SettingsCache,
    pub authz: Authz,
    pub oidc: Oidc,
    pub mailer: Mailer,
    pub keys: MasterKey,
    pub blueprint: &'static dyn Blueprint,
}

pub type State = web::Data<AppState>;

impl AppState {
    pub fn new(config: Config, db: Db) -> anyhow::Result<AppState> {
        Ok(AppState {
            templates: Templates::new(config.themes_dir.clone(), helpers::register)?,
            tenants: Tenants::new(db.clone()),
            settings: SettingsCache::default(),
            authz: Authz::default(),
            oidc: Oidc::default(),
            mailer: Mailer::new(&config)?,
            keys: MasterKey::load_or_create(&config.master_key_file)?,
            blueprint: &crate::domain::CITY_BLUEPRINT,
            config,
            db,
        })
    }

    /// Keeps the caches of this process in step with changes made anywhere.
    pub fn spawn_invalidation_listener(&self) {
        crate::platform::notify::spawn_listener(
            self.db.url().to_string(),
            self.tenants.clone(),
            self.settings.clone(),
            self.authz.clone(),
        );
    }

    pub fn provisioner<'a>(&'a self, actor: &'a str) -> Provisioner<'a> {
        Provisioner {
            db: &self.db,
            tenants: Some(&self.tenants),
            blueprint: self.blueprint,
            actor,
        }
    }
}

/// Every route of every face, with what it needs (see `guard`).
pub fn routes() -> Routes {
    let mut routes = Routes::default();
    routes.get("/healthz", Need::Public, health::healthz);
    assets::routes(&mut routes);
    admin::routes(&mut routes);
    signin::routes(&mut routes);
    backoffice::routes(&mut routes);
    portal::routes(&mut routes);
    api::routes(&mut routes);
    routes
}

/// The application. Used by `serve` and by the tests.
pub fn app(
    state: State,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(forms::query_config())
        .app_data(forms::path_config())
        .app_data(forms::json_config())
        .wrap(actix_web::middleware::from_fn(faces::faces))
        .configure(|cfg| routes().register(cfg))
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(AppError::not_found("Cette page n'existe pas."))
        }))
}

/// `marelle serve`: listens until interrupted.
pub async fn serve(config: Config, db: Db) -> anyhow::Result<()> {
    let bind = config.bind.clone();
    let workers = match config.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let state = web::Data::new(AppState::new(config, db)?);
    state.spawn_invalidation_listener();
    scheduling::spawn_offer_sweeper(state.clone());
    tracing::info!(%bind, workers, "Marelle à l'écoute");
    HttpServer::new(move || app(state.clone()))
        .workers(workers)
        .bind(&bind)
        .map_err(|e| anyhow::anyhow!("impossible d'écouter sur {bind} : {e}"))?
        .run()
        .await?;
    Ok(())
}
