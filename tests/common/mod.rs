//! Test harness: a real PostgreSQL (the cluster `ops/test` starts, or one started here
//! under var/test-pg), a throwaway city per test, and the real HTTP server on a random
//! port reached by a real HTTP client that resolves every `*.localhost` to loopback.
#![allow(dead_code)]

pub mod api;
pub mod browser;
pub mod fixtures;
pub mod oidc;
pub mod pages;
pub mod smtp;

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
        master_key_file: repo_path("var/test-master.key"),
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
        Self::spawn_configured(|config| config.pool_size = pool_size).await
    }

    /// A server whose configuration `adjust` may change (SMTP relay, say).
    pub async fn spawn_configured(adjust: impl FnOnce(&mut Config)) -> TestApp {
        // Server errors show in the test output (warnings and above unless MARELLE_LOG).
        if std::env::var_os("MARELLE_LOG").is_none() {
            unsafe { std::env::set_var("MARELLE_LOG", "warn") };
        }
        marelle::platform::logging::init("text");
        let mut config = test_config(&database_url());
        adjust(&mut config);
        let db = test_db(config.pool_size).await;
        let city = new_city(&db, "Villeneuve-Test").await;
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

    /// A client without cookie jar (cookies and headers set by hand), no redirects.
    pub fn bare_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(Loopback))
            .build()
            .expect("client")
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
        .env("MARELLE_MASTER_KEY_FILE", repo_path("var/test-master.key"))
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

/// Test SMTP relay settings pointing at a real local server.
pub fn use_smtp(config: &mut Config, server: &smtp::SmtpServer) {
    config.smtp.host = "127.0.0.1".into();
    config.smtp.port = server.port;
    config.smtp.tls = "none".into();
    config.smtp.from = "ne-pas-repondre@sitiv.test".into();
}

pub const AGENT_PASSWORD: &str = "Une phrase de passe de test";

impl TestApp {
    /// Creates an agent of `city` holding `profiles` city-wide; returns its login.
    pub async fn agent_in(&self, city: &City, name: &str, profiles: &[&str]) -> String {
        use marelle::platform::auth::{accounts, directory, passwords};
        let login = unique("agent.");
        let hash = passwords::hash(AGENT_PASSWORD).unwrap();
        let profiles: Vec<String> = profiles.iter().map(|p| p.to_string()).collect();
        let (l, n) = (login.clone(), name.to_string());
        self.db()
            .run(city.scope("test"), move |conn| {
                Box::pin(async move {
                    let id = accounts::create_agent(
                        conn,
                        accounts::NewAgent {
                            login: &l,
                            display_name: &n,
                            email: Some(&format!("{l}@ville.test")),
                            oidc_subject: None,
                            password_hash: Some(&hash),
                            must_change_password: false,
                        },
                    )
                    .await?;
                    for profile in &profiles {
                        directory::grant(conn, id, profile, "city").await?;
                    }
                    Ok(())
                })
            })
            .await
            .expect("create an agent");
        login
    }

    pub async fn agent(&self, name: &str, profiles: &[&str]) -> String {
        self.agent_in(&self.city, name, profiles).await
    }

    /// Signs `login` in on `city`'s back-office with `client`; returns the answer.
    pub async fn sign_in(
        &self,
        client: &reqwest::Client,
        city: &City,
        base: &str,
        login: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = client
            .get(self.city_url(city, &format!("{base}/connexion")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_of(&page);
        client
            .post(self.city_url(city, &format!("{base}/connexion")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("login", login),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }

    /// A client signed in as a new agent holding `profiles`.
    pub async fn agent_client(&self, profiles: &[&str]) -> (reqwest::Client, String) {
        let login = self.agent("Agent de test", profiles).await;
        let client = self.client();
        let answer = self
            .sign_in(&client, &self.city, "/agent", &login, AGENT_PASSWORD)
            .await;
        assert_eq!(answer.status(), 303, "sign-in of {login}");
        (client, login)
    }

    /// The CSRF token of this client (from any page carrying a form).
    pub async fn csrf(&self, client: &reqwest::Client, city: &City) -> String {
        let page = client
            .get(self.city_url(city, "/agent/connexion"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        csrf_of(&page)
    }
}
