//! Test harness: a real PostgreSQL (the cluster `ops/test` starts, or one started here
//! under var/test-pg), a throwaway city per test, and the real HTTP server on a random
//! port reached by a real HTTP client that resolves every `*.localhost` to loopback.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::{HttpServer, web};
use marelle::platform::config::{Config, PgConfig};
use marelle::platform::db::{Db, MigrationSet, migrate_schema};
use marelle::platform::pgcluster::Cluster;
use marelle::platform::tenancy::provisioning::{CityRequest, Provisioner};
use marelle::platform::tenancy::{City, Env, Theme};
use marelle::web::AppState;
use tokio::sync::OnceCell;

pub const ADMIN_PASSWORD: &str = "mot-de-passe-de-test";

pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The test database URL: `MARELLE_TEST_DATABASE_URL` (set by ops/test), otherwise the
/// throwaway cluster under var/test-pg, started on first use (file-locked, since
/// nextest runs every test in its own process).
pub fn database_url() -> String {
    if let Ok(url) = std::env::var("MARELLE_TEST_DATABASE_URL") {
        return url;
    }
    let lock_path = repo_path("var/test-pg.lock");
    std::fs::create_dir_all(repo_path("var")).expect("var/");
    let lock = std::fs::File::create(&lock_path).expect("lock file");
    lock.lock().expect("lock");
    let cluster = Cluster::new(&PgConfig {
        data_dir: repo_path("var/test-pg"),
        port: 54330,
        unsafe_fast: true,
    })
    .expect("cluster");
    if !cluster.is_running() {
        cluster.start().expect("start the test cluster");
    }
    cluster.url().expect("test cluster url")
}

static PLATFORM_READY: OnceCell<()> = OnceCell::const_new();

/// A pool on the test database with the platform schema migrated.
pub async fn test_db(pool_size: usize) -> Db {
    let url = database_url();
    PLATFORM_READY
        .get_or_init(|| async {
            migrate_schema(&url, "platform", MigrationSet::Platform)
                .await
                .expect("platform migrations");
        })
        .await;
    Db::connect(&url, pool_size).expect("pool")
}

pub fn test_config(db_url: &str) -> Config {
    Config {
        database_url: Some(db_url.to_string()),
        admin_password: Some(ADMIN_PASSWORD.to_string()),
        admin_host: "admin.test.localhost".into(),
        secure_cookies: false,
        pool_size: 4,
        themes_dir: repo_path("themes"),
        var_dir: unique_dir("var"),
        documents_dir: unique_dir("documents"),
        generated_dir: unique_dir("generated"),
        backups_dir: unique_dir("backups"),
        tenants_dir: unique_dir("tenants"),
        ..Config::default()
    }
}

fn unique_dir(kind: &str) -> PathBuf {
    std::env::temp_dir().join(format!("marelle-test-{}/{kind}", unique("run")))
}

/// `<prefix><10 random hex digits>`: a slug no other test uses.
pub fn unique(prefix: &str) -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{prefix}{:010x}", n & 0xff_ffff_ffff)
}

pub fn provisioner(db: &Db) -> Provisioner<'_> {
    Provisioner {
        db,
        tenants: None,
        blueprint: &marelle::domain::CITY_BLUEPRINT,
        actor: "test",
    }
}

/// Provisions a throwaway production city named `name`.
pub async fn new_city(db: &Db, name: &str) -> Arc<City> {
    let slug = unique("t");
    let city = provisioner(db)
        .create(CityRequest {
            slug: slug.clone(),
            name: name.to_string(),
            env: Env::Production,
            hosts: vec![format!("{slug}.test.localhost")],
            theme: Theme::default(),
        })
        .await
        .expect("provision a test city");
    Arc::new(city)
}

/// The running application and the cities it serves.
pub struct TestApp {
    pub state: web::Data<AppState>,
    pub addr: SocketAddr,
    pub city: Arc<City>,
}

impl TestApp {
    /// A server with one fresh city.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(4).await
    }

    pub async fn spawn_with(pool_size: usize) -> TestApp {
        let db = test_db(pool_size).await;
        let city = new_city(&db, "Villeneuve-Test").await;
        let mut config = test_config(db.url());
        config.pool_size = pool_size;
        let state = web::Data::new(AppState::new(config, db).expect("state"));
        state.spawn_invalidation_listener();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app_state = state.clone();
        let server = HttpServer::new(move || marelle::web::app(app_state.clone()))
            .workers(2)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        actix_web::rt::spawn(server);
        TestApp { state, addr, city }
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Another city served by the same process.
    pub async fn add_city(&self, name: &str) -> Arc<City> {
        let city = new_city(self.db(), name).await;
        self.state.tenants.invalidate();
        city
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    pub fn city_url(&self, city: &City, path: &str) -> String {
        self.url(&city.hosts[0], path)
    }

    pub fn admin_url(&self, path: &str) -> String {
        self.url(&self.state.config.admin_host, path)
    }

    /// A browser-like client: cookie jar, no automatic redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(Loopback))
            .build()
            .expect("client")
    }
}

/// Resolves every name to 127.0.0.1, as browsers do for `*.localhost`.
struct Loopback;

impl reqwest::dns::Resolve for Loopback {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async {
            let addrs: reqwest::dns::Addrs =
                Box::new(std::iter::once(SocketAddr::from(([127, 0, 0, 1], 0))));
            Ok(addrs)
        })
    }
}

/// The value of the hidden `csrf` field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a csrf field") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Runs the `marelle` binary against the test database; returns (success, stdout, stderr).
pub fn marelle(args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_marelle"))
        .args(args)
        .env("MARELLE_DATABASE_URL", database_url())
        .env(
            "MARELLE_BACKUPS_DIR",
            std::env::temp_dir().join("marelle-test-backups"),
        )
        .env_remove("MARELLE_CONFIG")
        .current_dir(repo_path(""))
        .output()
        .expect("run marelle");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
