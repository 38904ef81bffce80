//! Creating, cloning, dropping and migrating city environments.
//!
//! Creation and cloning each run as ONE transaction on a dedicated connection whose
//! search_path is the new schema: registry rows, schema, migrations, defaults and copied
//! data either all exist afterwards or none do. Dropping takes a verified dump first.

use std::path::{Path, PathBuf};

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_migrations::MigrationHarness;

use super::anonymise::{self, Rule};
use super::{City, Env, Status, Tenants, Theme, normalise_host, schema_for, validate_slug};
use futures_util::future::BoxFuture;

use crate::platform::backup;
use crate::platform::db::{
    BlockingConn, Conn, Db, MigrationSet, Scope, TENANT_MIGRATIONS, migrate_schema, open_blocking,
    quote_ident, with_search_path,
};
use crate::platform::error::{AppError, AppResult};
use crate::platform::schema::{cities, city_hosts};

/// What a new city schema holds beyond its migrations, declared by the domain layer.
pub trait Blueprint: Send + Sync + 'static {
    /// Default data of a new city (settings, profiles...), written in the creating
    /// transaction (search_path = the new schema).
    fn install_defaults<'c>(
        &'c self,
        conn: &'c mut Conn,
        city: &'c City,
    ) -> BoxFuture<'c, AppResult<()>>;
    /// Every column holding personal data, for anonymised copies.
    fn personal_data(&self) -> &'static [Rule];
    /// SQL run after an anonymisation (rebuilding what derives from the replaced data).
    fn after_anonymisation(&self) -> &'static str;
}

/// Who acts, on which database, with which blueprint.
#[derive(Clone, Copy)]
pub struct Provisioner<'a> {
    pub db: &'a Db,
    pub tenants: Option<&'a Tenants>,
    pub blueprint: &'static dyn Blueprint,
    pub actor: &'a str,
}

pub struct CityRequest {
    pub slug: String,
    pub name: String,
    pub env: Env,
    pub hosts: Vec<String>,
    pub theme: Theme,
}

pub struct CloneRequest {
    pub from: String,
    pub to: String,
    pub hosts: Vec<String>,
    pub env: Env,
    pub anonymise: bool,
}

impl Provisioner<'_> {
    /// Provisions a city environment: registry, schema, migrations, defaults.
    pub async fn create(&self, request: CityRequest) -> AppResult<City> {
        validate_slug(&request.slug)?;
        if request.name.trim().is_empty() {
            return Err(AppError::invalid("le nom de la ville est obligatoire"));
        }
        request.theme.validate()?;
        let hosts = normalise_hosts(&request.hosts)?;
        let city = City {
            id: 0,
            schema: schema_for(&request.slug),
            key_id: new_key_id(),
            slug: request.slug,
            name: request.name.trim().to_string(),
            env: request.env,
            status: Status::Active,
            theme: request.theme,
            hosts,
        };
        let blueprint = self.blueprint;
        let city = self
            .in_new_schema(city, None, move |conn, city| {
                // The blocking thread may wait on the async work of the same connection.
                tokio::runtime::Handle::current().block_on(blueprint.install_defaults(conn, city))
            })
            .await?;
        self.registry_changed();
        Ok(city)
    }

    /// Copies a city environment (structure from the migrations, then every row) into a
    /// new one; with `anonymise`, personal data is replaced and the audit trail of the
    /// source (which holds personal data) is not copied.
    pub async fn clone_city(&self, request: CloneRequest) -> AppResult<City> {
        validate_slug(&request.to)?;
        let hosts = normalise_hosts(&request.hosts)?;
        let source = self.city(&request.from).await?;
        // The copy's structure comes from the migrations: bring the source up to date first.
        migrate_schema(self.db.url(), &source.schema, MigrationSet::Tenant).await?;
        let production_id = (request.env == Env::Recette)
            .then(|| self.production_of(&source))
            .flatten();
        let city = City {
            id: 0,
            schema: schema_for(&request.to),
            // A plain copy reads the source's encrypted columns; an anonymised one holds none.
            key_id: if request.anonymise {
                new_key_id()
            } else {
                source.key_id.clone()
            },
            slug: request.to,
            name: source.name.clone(),
            env: request.env,
            status: Status::Active,
            theme: source.theme.clone(),
            hosts,
        };
        let rules = self.blueprint.personal_data();
        let blueprint = self.blueprint;
        let anonymised = request.anonymise;
        let source_schema = source.schema.clone();
        let city = self
            .in_new_schema(city, production_id, move |conn, city| {
                copy_rows(conn, &source_schema, &city.schema, anonymised)?;
                // A copy must not answer to the source's API tokens.
                conn.batch_execute(
                    "UPDATE api_clients SET revoked_at = now() WHERE revoked_at IS NULL",
                )?;
                if anonymised {
                    // One run, one key: a name gets the same pseudonym in every table.
                    let all: Vec<Rule> = anonymise::IDENTITY_RULES
                        .iter()
                        .chain(rules)
                        .copied()
                        .collect();
                    anonymise::run(conn, &all, &city.slug)?;
                    conn.batch_execute(blueprint.after_anonymisation())?;
                }
                Ok(())
            })
            .await?;
        self.registry_changed();
        Ok(city)
    }

    /// Dumps the city's schema to `backups_dir` (verified readable, with a SHA-256
    /// checksum beside it), then drops the schema and its registry entry.
    pub async fn drop_city(&self, slug: &str, backups_dir: &Path) -> AppResult<PathBuf> {
        let city = self.city(slug).await?;
        let dump = dump_schema(self.db.url(), &city, backups_dir).await?;
        let schema = city.schema.clone();
        let id = city.id;
        self.db
            .run(Scope::Platform { actor: self.actor }, move |conn| {
                Box::pin(async move {
                    diesel_async::RunQueryDsl::execute(
                        diesel::sql_query(format!("DROP SCHEMA {} CASCADE", quote_ident(&schema))),
                        conn,
                    )
                    .await?;
                    diesel_async::RunQueryDsl::execute(
                        diesel::delete(cities::table.filter(cities::id.eq(id))),
                        conn,
                    )
                    .await?;
                    Ok(())
                })
            })
            .await?;
        self.registry_changed();
        Ok(dump)
    }

    /// Recette refresh: a verified dump of the recette environment, then a fresh copy of
    /// its production under the same slug and hosts.
    pub async fn refresh(
        &self,
        slug: &str,
        anonymise: bool,
        backups_dir: &Path,
    ) -> AppResult<(City, PathBuf)> {
        let recette = self.city(slug).await?;
        let production = self
            .db
            .run(Scope::Platform { actor: self.actor }, |conn| {
                Box::pin(async move { super::list_cities(conn).await })
            })
            .await?
            .into_iter()
            .find(|(city, _)| city.slug == recette.slug)
            .and_then(|(_, production)| production)
            .filter(|_| recette.env == Env::Recette)
            .ok_or_else(|| {
                AppError::invalid(format!(
                    "« {slug} » n'est pas une recette rattachée à une production : rien à rafraîchir"
                ))
            })?;
        let dump = self.drop_city(slug, backups_dir).await?;
        let city = self
            .clone_city(CloneRequest {
                from: production,
                to: recette.slug.clone(),
                hosts: recette.hosts.clone(),
                env: Env::Recette,
                anonymise,
            })
            .await?;
        Ok((city, dump))
    }

    pub async fn set_status(&self, slug: &str, status: Status) -> AppResult<()> {
        let slug = slug.to_string();
        self.db
            .run(Scope::Platform { actor: self.actor }, move |conn| {
                Box::pin(async move { super::set_status(conn, &slug, status).await })
            })
            .await?;
        self.registry_changed();
        Ok(())
    }

    pub async fn city(&self, slug: &str) -> AppResult<City> {
        let slug = slug.to_string();
        self.db
            .run(Scope::Platform { actor: self.actor }, move |conn| {
                Box::pin(async move { super::load_city_by_slug(conn, &slug).await })
            })
            .await
    }

    fn production_of(&self, source: &City) -> Option<i64> {
        // A recette copy mirrors the production environment it comes from.
        (source.env == Env::Production).then_some(source.id)
    }

    fn registry_changed(&self) {
        if let Some(tenants) = self.tenants {
            tenants.invalidate();
        }
    }

    /// Registers `city`, creates its schema, migrates it and runs `fill`, all in one
    /// transaction on a dedicated connection whose search_path is the new schema.
    async fn in_new_schema<F>(
        &self,
        mut city: City,
        production_id: Option<i64>,
        fill: F,
    ) -> AppResult<City>
    where
        F: FnOnce(&mut BlockingConn, &City) -> AppResult<()> + Send + 'static,
    {
        let url = with_search_path(self.db.url(), &city.schema)?;
        let actor = self.actor.to_string();
        tokio::task::spawn_blocking(move || -> AppResult<City> {
            let mut conn = open_blocking(&url)?;
            conn.transaction::<_, AppError, _>(|conn| {
                diesel::sql_query("SELECT set_config('marelle.user_id', $1, true)")
                    .bind::<Text, _>(&actor)
                    .execute(conn)?;
                check_free(conn, &city)?;
                city.id = register(conn, &city, production_id)?;
                conn.batch_execute(&format!("CREATE SCHEMA {}", quote_ident(&city.schema)))?;
                conn.run_pending_migrations(TENANT_MIGRATIONS)
                    .map_err(|e| AppError::internal(anyhow::anyhow!("migrations : {e}")))?;
                fill(conn, &city)?;
                Ok(())
            })?;
            Ok(city)
        })
        .await
        .map_err(AppError::internal)?
    }
}

fn new_key_id() -> String {
    use rand::Rng;
    hex::encode(rand::rng().random::<[u8; 16]>())
}

fn normalise_hosts(hosts: &[String]) -> AppResult<Vec<String>> {
    if hosts.is_empty() {
        return Err(AppError::invalid(
            "au moins un nom d'hôte (--host) est obligatoire",
        ));
    }
    let mut normalised = hosts
        .iter()
        .map(|h| normalise_host(h))
        .collect::<AppResult<Vec<_>>>()?;
    normalised.sort();
    normalised.dedup();
    Ok(normalised)
}

/// Refuses a slug, schema or host already taken, with a French message.
fn check_free(conn: &mut BlockingConn, city: &City) -> AppResult<()> {
    let slug_taken: i64 = cities::table
        .filter(cities::slug.eq(&city.slug))
        .count()
        .get_result(conn)?;
    if slug_taken > 0 {
        return Err(AppError::conflict(format!(
            "la ville « {} » existe déjà",
            city.slug
        )));
    }
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let schema_taken =
        diesel::sql_query("SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1")
            .bind::<Text, _>(&city.schema)
            .get_result::<Exists>(conn)?;
    if schema_taken.n > 0 {
        return Err(AppError::conflict(format!(
            "le schéma {} existe déjà dans la base",
            city.schema
        )));
    }
    let used: Vec<String> = city_hosts::table
        .filter(city_hosts::host.eq_any(&city.hosts))
        .select(city_hosts::host)
        .load(conn)?;
    if !used.is_empty() {
        return Err(AppError::conflict(format!(
            "nom d'hôte déjà utilisé : {}",
            used.join(", ")
        )));
    }
    Ok(())
}

fn register(conn: &mut BlockingConn, city: &City, production_id: Option<i64>) -> AppResult<i64> {
    let id: i64 = diesel::insert_into(cities::table)
        .values((
            cities::slug.eq(&city.slug),
            cities::name.eq(&city.name),
            cities::env.eq(city.env.as_str()),
            cities::schema_name.eq(&city.schema),
            cities::theme.eq(serde_json::to_value(&city.theme).map_err(AppError::internal)?),
            cities::production_id.eq(production_id),
            cities::key_id.eq(&city.key_id),
        ))
        .returning(cities::id)
        .get_result(conn)?;
    let hosts: Vec<_> = city
        .hosts
        .iter()
        .map(|h| (city_hosts::host.eq(h), city_hosts::city_id.eq(id)))
        .collect();
    diesel::insert_into(city_hosts::table)
        .values(hosts)
        .execute(conn)?;
    Ok(id)
}

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Dependency {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

/// Copies every row of every table of `from` into the same table of `to` (parents
/// before children), in copy mode so the copy is not audited as new changes, then moves
/// the sequences past the copied values.
fn copy_rows(conn: &mut BlockingConn, from: &str, to: &str, skip_audit: bool) -> AppResult<()> {
    let tables: Vec<String> = diesel::sql_query(
        "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> '__diesel_schema_migrations'
         ORDER BY c.relname",
    )
    .bind::<Text, _>(to)
    .load::<TableName>(conn)?
    .into_iter()
    .map(|t| t.name)
    .filter(|name| !(skip_audit && name == "audit_log"))
    .filter(|name| !anonymise::NOT_COPIED.contains(&name.as_str()))
    .collect();
    let dependencies: Vec<(String, String)> = diesel::sql_query(
        "SELECT child.relname AS child, parent.relname AS parent
         FROM pg_constraint k
         JOIN pg_class child ON child.oid = k.conrelid
         JOIN pg_class parent ON parent.oid = k.confrelid
         JOIN pg_namespace n ON n.oid = child.relnamespace
         WHERE k.contype = 'f' AND NOT k.condeferrable AND n.nspname = $1",
    )
    .bind::<Text, _>(to)
    .load::<Dependency>(conn)?
    .into_iter()
    .map(|d| (d.child, d.parent))
    .collect();
    // Deferrable references (cycles, such as persons and their photo documents) are checked
    // at commit, once every table is in. Row triggers (audit, search) stand aside for the
    // rest of the transaction: copied rows are not changes (see `audit_row()`).
    conn.batch_execute(
        "SET CONSTRAINTS ALL DEFERRED; SELECT set_config('marelle.copying', 'on', true);",
    )?;
    // Rows the migrations seeded (reference lists) give way to the source's own.
    if !tables.is_empty() {
        let all: Vec<String> = tables
            .iter()
            .map(|t| format!("{}.{}", quote_ident(to), quote_ident(t)))
            .collect();
        conn.batch_execute(&format!("TRUNCATE {} CASCADE", all.join(", ")))?;
    }
    for table in parents_first(tables, &dependencies) {
        let columns = copyable_columns(conn, to, &table)?;
        if columns.is_empty() {
            continue;
        }
        let target = format!("{}.{}", quote_ident(to), quote_ident(&table));
        let source = format!("{}.{}", quote_ident(from), quote_ident(&table));
        conn.batch_execute(&format!(
            "INSERT INTO {target} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM {source};"
        ))?;
    }
    reset_sequences(conn, to)
}

/// Moves every sequence owned by a column of `schema` (identities, family numbers) past
/// the largest value copied.
fn reset_sequences(conn: &mut BlockingConn, schema: &str) -> AppResult<()> {
    #[derive(QueryableByName)]
    struct Owned {
        #[diesel(sql_type = Text)]
        sequence: String,
        #[diesel(sql_type = Text)]
        table: String,
        #[diesel(sql_type = Text)]
        column: String,
    }
    let owned: Vec<Owned> = diesel::sql_query(
        "SELECT s.relname AS sequence, t.relname AS table, a.attname AS column
         FROM pg_class s
         JOIN pg_namespace n ON n.oid = s.relnamespace
         JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.refobjsubid > 0
         JOIN pg_class t ON t.oid = d.refobjid
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
         WHERE s.relkind = 'S' AND n.nspname = $1",
    )
    .bind::<Text, _>(schema)
    .load(conn)?;
    for o in owned {
        let schema = quote_ident(schema);
        conn.batch_execute(&format!(
            "SELECT setval('{schema}.{seq}', coalesce((SELECT max({col}) FROM {schema}.{table}), 0) + 1, false)",
            seq = quote_ident(&o.sequence),
            col = quote_ident(&o.column),
            table = quote_ident(&o.table),
        ))?;
    }
    Ok(())
}

/// Stored (non-generated) columns of a table, quoted and comma-separated.
fn copyable_columns(conn: &mut BlockingConn, schema: &str, table: &str) -> AppResult<String> {
    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let columns = diesel::sql_query(
        "SELECT a.attname AS name FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attgenerated = ''
         ORDER BY a.attnum",
    )
    .bind::<Text, _>(schema)
    .bind::<Text, _>(table)
    .load::<Column>(conn)?;
    Ok(columns
        .iter()
        .map(|c| quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", "))
}

/// Orders tables so that every referenced table comes before the tables referencing it.
fn parents_first(mut tables: Vec<String>, dependencies: &[(String, String)]) -> Vec<String> {
    let mut ordered = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let pending = tables.clone();
        // Ready: no parent other than itself is still waiting to be copied.
        let (ready, waiting): (Vec<String>, Vec<String>) = tables.into_iter().partition(|t| {
            dependencies
                .iter()
                .all(|(child, parent)| child != t || parent == t || !pending.contains(parent))
        });
        if ready.is_empty() {
            // A reference cycle: copy the rest as they come; the constraints will tell.
            ordered.extend(waiting);
            break;
        }
        ordered.extend(ready);
        tables = waiting;
    }
    ordered
}

/// A verified `pg_dump` of the city's schema in `dir`, with its SHA-256 in a `.sha256`
/// file beside it.
pub async fn dump_schema(url: &str, city: &City, dir: &Path) -> AppResult<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("création de {}", dir.display()))
        .map_err(AppError::internal)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let path = dir.join(format!("{}-{stamp}.dump", city.slug));
    backup::pg_dump(url, &city.schema, &path).await?;
    let digest = backup::sha256_of(&path)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    std::fs::write(
        path.with_extension("dump.sha256"),
        format!("{digest}  {name}\n"),
    )
    .map_err(AppError::internal)?;
    Ok(path)
}

/// `marelle migrate`: the platform schema, then every city schema. Idempotent.
pub async fn migrate_all(db: &Db) -> anyhow::Result<Vec<(String, usize)>> {
    let mut report = vec![(
        "platform".to_string(),
        migrate_schema(db.url(), "platform", MigrationSet::Platform).await?,
    )];
    let cities = db
        .run(Scope::Platform { actor: "migration" }, |conn| {
            Box::pin(async move { super::list_cities(conn).await })
        })
        .await?;
    for (city, _) in cities {
        let applied = migrate_schema(db.url(), &city.schema, MigrationSet::Tenant).await?;
        report.push((city.schema, applied));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::parents_first;

    #[test]
    fn parents_are_copied_before_children() {
        let tables = ["child", "audit_log", "parent", "grandchild", "self_ref"]
            .map(String::from)
            .to_vec();
        let deps = [
            ("child", "parent"),
            ("grandchild", "child"),
            ("self_ref", "self_ref"),
        ]
        .map(|(c, p)| (c.to_string(), p.to_string()));
        let order = parents_first(tables, &deps);
        let pos = |t: &str| order.iter().position(|x| x == t).unwrap();
        assert!(pos("parent") < pos("child"));
        assert!(pos("child") < pos("grandchild"));
        assert_eq!(order.len(), 5);
    }
}
