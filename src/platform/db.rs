//! The connection pool, the one transaction helper every data access goes through, and
//! the per-schema migrations.

use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::future::BoxFuture;

use super::error::{AppError, AppResult};

pub type Conn = AsyncPgConnection;

pub const PLATFORM_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/platform");
pub const TENANT_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/tenant");

/// Schema holding the shared extensions (pg_trgm, unaccent); on every search_path.
pub const EXTENSIONS_SCHEMA: &str = "ext";

/// Where a unit of work runs: a city schema, or the platform registry only.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// A city environment: `search_path` = its schema (then the extensions).
    City { schema: &'a str, actor: &'a str },
    /// The platform schema (registry, SITIV admins): no city schema is visible.
    Platform { actor: &'a str },
}

impl Scope<'_> {
    fn search_path(&self) -> String {
        match self {
            Scope::City { schema, .. } => format!("{}, {EXTENSIONS_SCHEMA}", quote_ident(schema)),
            Scope::Platform { .. } => format!("platform, {EXTENSIONS_SCHEMA}"),
        }
    }

    fn actor(&self) -> &str {
        match self {
            Scope::City { actor, .. } | Scope::Platform { actor } => actor,
        }
    }
}

/// Work handed to [`Db::run`]: borrows the connection for the transaction's duration.
pub type Work<'c, T> = BoxFuture<'c, AppResult<T>>;

/// The request pool. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Conn>,
    url: String,
}

/// What the pool does to a connection before lending it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recycle {
    /// Production: `RESET ALL` undoes any session-level setting a careless query left.
    ResetSession,
    /// Lend as is: lets tests prove the transaction helper is safe on its own.
    AsIs,
}

impl Db {
    pub fn connect(url: &str, size: usize) -> anyhow::Result<Db> {
        Self::connect_with(url, size, Recycle::ResetSession)
    }

    pub fn connect_with(url: &str, size: usize, recycle: Recycle) -> anyhow::Result<Db> {
        let mut config = ManagerConfig::default();
        // Recycling happens at the next checkout, before the connection is lent again.
        config.recycling_method = match recycle {
            Recycle::ResetSession => RecyclingMethod::CustomQuery("RESET ALL".into()),
            Recycle::AsIs => RecyclingMethod::Fast,
        };
        // Every pooled connection starts with an empty search_path (a startup option, not a
        // SET): a query that bypasses the transaction helper finds no table of any city.
        let manager = AsyncDieselConnectionManager::<Conn>::new_with_config(
            with_options(url, "-csearch_path="),
            config,
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .context("création du pool de connexions")?;
        Ok(Db {
            pool,
            url: url.to_string(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// THE transaction helper. Opens a transaction, makes the scope's schema and actor
    /// transaction-local (`set_config(..., true)`: they cannot outlive the transaction nor
    /// leak through the pool), runs `work`, commits on success and rolls back on error.
    pub async fn run<T, F>(&self, scope: Scope<'_>, work: F) -> AppResult<T>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut Conn) -> Work<'c, T> + Send,
    {
        let search_path = scope.search_path();
        let actor = scope.actor().to_string();
        let mut conn = self.pool.get().await?;
        conn.transaction::<T, AppError, _>(async move |conn| {
            diesel::sql_query(
                "SELECT set_config('search_path', $1, true), set_config('marelle.user_id', $2, true)",
            )
            .bind::<diesel::sql_types::Text, _>(search_path)
            .bind::<diesel::sql_types::Text, _>(actor)
            .execute(conn)
            .await?;
            work(conn).await
        })
        .await
    }

    /// A pooled connection outside any scope: its search_path is the role's empty
    /// default. Only for diagnostics and the tests proving unscoped queries fail.
    pub async fn unscoped(
        &self,
    ) -> AppResult<diesel_async::pooled_connection::deadpool::Object<Conn>> {
        Ok(self.pool.get().await?)
    }

    /// Checks the database answers (for `/healthz`).
    pub async fn ping(&self) -> AppResult<()> {
        let mut conn = self.pool.get().await?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await?;
        Ok(())
    }

    pub fn pool_status(&self) -> (usize, usize) {
        let status = self.pool.status();
        (status.size, status.available)
    }
}

/// Shorthand for [`Db::run`]: `tx!(db, scope, |conn| { ...; Ok(value) })`.
#[macro_export]
macro_rules! tx {
    ($db:expr, $scope:expr, |$conn:ident| $body:block) => {
        $db.run($scope, move |$conn| Box::pin(async move $body))
    };
}

/// Quotes an identifier for SQL. Schema names come from the registry and are checked
/// against `^[a-z][a-z0-9_]{0,62}$` before reaching here; quoting is the second guard.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Which migration set to apply to a schema.
#[derive(Clone, Copy, Debug)]
pub enum MigrationSet {
    Platform,
    Tenant,
}

/// Applies the pending migrations of `set` to `schema`, on a dedicated connection opened
/// with that schema as its search_path (never a pooled one). A per-schema advisory lock
/// keeps concurrent runs (tests, two operators) from racing. Returns how many ran.
pub async fn migrate_schema(url: &str, schema: &str, set: MigrationSet) -> anyhow::Result<usize> {
    anyhow::ensure!(
        is_valid_schema_name(schema),
        "nom de schéma invalide : {schema}"
    );
    // Data migrations touching audited tables are recorded as made by « migration »: the
    // actor is a startup option of this dedicated connection, like its search_path.
    let url = with_options(
        url,
        &format!("-csearch_path={schema},{EXTENSIONS_SCHEMA} -cmarelle.user_id=migration"),
    );
    let schema = schema.to_string();
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut conn = open_blocking(&url)?;
        conn.batch_execute(&format!(
            "SELECT pg_advisory_lock(hashtext('marelle-migrate:' || {lit}));
             CREATE SCHEMA IF NOT EXISTS {ident};",
            lit = quote_literal(&schema),
            ident = quote_ident(&schema)
        ))?;
        let migrations = match set {
            MigrationSet::Platform => PLATFORM_MIGRATIONS,
            MigrationSet::Tenant => TENANT_MIGRATIONS,
        };
        let applied = conn
            .run_pending_migrations(migrations)
            .map_err(|e| anyhow::anyhow!("migration du schéma {schema} : {e}"))?;
        Ok(applied.len())
    })
    .await?
}

/// A synchronous diesel connection (for migrations and bulk copies) on the blocking pool.
pub type BlockingConn = AsyncConnectionWrapper<AsyncPgConnection>;

pub fn open_blocking(url: &str) -> anyhow::Result<BlockingConn> {
    <BlockingConn as diesel::Connection>::establish(url).context("connexion à PostgreSQL")
}

/// The URL with a startup `search_path` option: the dedicated connection sees only
/// `schema` (then the extensions), without any SET statement.
pub fn with_search_path(url: &str, schema: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        is_valid_schema_name(schema),
        "nom de schéma invalide : {schema}"
    );
    Ok(with_options(
        url,
        &format!("-csearch_path={schema},{EXTENSIONS_SCHEMA}"),
    ))
}

/// The URL with libpq startup `options` (`-cname=value ...`), percent-encoded.
fn with_options(url: &str, options: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    let encoded = options
        .replace('%', "%25")
        .replace('=', "%3D")
        .replace(',', "%2C")
        .replace(' ', "%20");
    format!("{url}{separator}options={encoded}")
}

pub fn is_valid_schema_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
