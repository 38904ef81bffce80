//! Backups: one `pg_dump` archive per schema (platform and every city), a manifest with
//! their SHA-256 and the row count of every table. Restore checks the checksums before
//! touching anything, restores a schema beside the live one, verifies the row counts,
//! then swaps (the replaced schema is kept under another name until the operator drops it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::db::{Db, quote_ident};
use super::pgcluster::client_program;

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub taken_at: String,
    pub schemas: Vec<SchemaDump>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SchemaDump {
    pub schema: String,
    pub file: String,
    pub sha256: String,
    /// Rows per table at dump time, to verify a restore.
    pub rows: BTreeMap<String, i64>,
}

const MANIFEST: &str = "manifest.json";

/// Dumps `schemas` into `dir` and writes the manifest.
pub async fn backup(db: &Db, schemas: &[String], dir: &Path) -> Result<Manifest> {
    std::fs::create_dir_all(dir).with_context(|| format!("création de {}", dir.display()))?;
    let mut dumps = Vec::new();
    for schema in schemas {
        let file = format!("{schema}.dump");
        let path = dir.join(&file);
        pg_dump(db.url(), schema, &path).await?;
        dumps.push(SchemaDump {
            rows: row_counts(db, schema).await?,
            sha256: sha256_of(&path)?,
            schema: schema.clone(),
            file,
        });
    }
    let manifest = Manifest {
        taken_at: chrono::Utc::now().to_rfc3339(),
        schemas: dumps,
    };
    std::fs::write(dir.join(MANIFEST), serde_json::to_string_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Reads the manifest of `dir` and checks every archive against its checksum.
pub fn verify(dir: &Path) -> Result<Manifest> {
    let text = std::fs::read_to_string(dir.join(MANIFEST))
        .with_context(|| format!("{} : manifeste de sauvegarde introuvable", dir.display()))?;
    let manifest: Manifest = serde_json::from_str(&text).context("manifeste illisible")?;
    for dump in &manifest.schemas {
        let actual = sha256_of(&dir.join(&dump.file))?;
        ensure!(
            actual == dump.sha256,
            "{} est corrompu (somme SHA-256 différente) : restauration refusée",
            dump.file
        );
    }
    Ok(manifest)
}

/// Restores `schema` from a verified backup: the live schema (if any) is renamed
/// `<schema>_remplace_<date>`, the archive restored in one transaction and its row counts
/// compared with the manifest; on any failure the live schema is put back untouched.
/// Returns the name of the replaced schema, if there was one.
pub async fn restore(db: &Db, dir: &Path, schema: &str) -> Result<Option<String>> {
    let manifest = verify(dir)?;
    let dump = manifest
        .schemas
        .iter()
        .find(|d| d.schema == schema)
        .with_context(|| format!("le schéma {schema} n'est pas dans cette sauvegarde"))?;
    // Prove the archive readable before anything moves.
    let listing = tokio::process::Command::new(client_program("pg_restore"))
        .arg("--list")
        .arg(dir.join(&dump.file))
        .output()
        .await?;
    ensure!(
        listing.status.success(),
        "{} illisible par pg_restore",
        dump.file
    );

    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
    let replaced = format!("{schema}_remplace_{stamp}");
    let live_exists = schema_exists(db, schema).await?;
    if live_exists {
        execute(
            db,
            &format!(
                "ALTER SCHEMA {} RENAME TO {}",
                quote_ident(schema),
                quote_ident(&replaced)
            ),
        )
        .await?;
    }
    let restored = pg_restore(db.url(), &dir.join(&dump.file)).await;
    let verified = match restored {
        Ok(()) => compare_rows(db, schema, &dump.rows).await,
        Err(error) => Err(error),
    };
    if let Err(error) = verified {
        // Put the live schema back as it was.
        execute(
            db,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(schema)),
        )
        .await?;
        if live_exists {
            execute(
                db,
                &format!(
                    "ALTER SCHEMA {} RENAME TO {}",
                    quote_ident(&replaced),
                    quote_ident(schema)
                ),
            )
            .await?;
        }
        bail!("restauration de {schema} annulée, rien n'a changé : {error:#}");
    }
    Ok(live_exists.then_some(replaced))
}

async fn compare_rows(db: &Db, schema: &str, expected: &BTreeMap<String, i64>) -> Result<()> {
    let actual = row_counts(db, schema).await?;
    for (table, rows) in expected {
        let found = actual.get(table).copied().unwrap_or(-1);
        ensure!(
            found == *rows,
            "table {schema}.{table} : {found} ligne(s) restaurée(s), {rows} attendue(s)"
        );
    }
    Ok(())
}

async fn row_counts(db: &Db, schema: &str) -> Result<BTreeMap<String, i64>> {
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.unscoped().await?;
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .bind::<Text, _>(schema)
    .load(&mut conn)
    .await?;
    let mut counts = BTreeMap::new();
    for table in tables {
        let count: Count = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM {}.{}",
            quote_ident(schema),
            quote_ident(&table.name)
        ))
        .get_result(&mut conn)
        .await?;
        counts.insert(table.name, count.n);
    }
    Ok(counts)
}

async fn schema_exists(db: &Db, schema: &str) -> Result<bool> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.unscoped().await?;
    let count: Count =
        diesel::sql_query("SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1")
            .bind::<Text, _>(schema)
            .get_result(&mut conn)
            .await?;
    Ok(count.n > 0)
}

async fn execute(db: &Db, sql: &str) -> Result<()> {
    let mut conn = db.unscoped().await?;
    diesel::sql_query(sql).execute(&mut conn).await?;
    Ok(())
}

/// `pg_dump` of one schema in custom format, checked readable by `pg_restore --list`.
pub async fn pg_dump(url: &str, schema: &str, path: &Path) -> Result<()> {
    let output = tokio::process::Command::new(client_program("pg_dump"))
        .args([
            "--format=custom",
            "--no-owner",
            "--schema",
            schema,
            "--file",
        ])
        .arg(path)
        .arg(format!("--dbname={url}"))
        .output()
        .await
        .context("lancement de pg_dump")?;
    ensure!(
        output.status.success(),
        "pg_dump a échoué : {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing = tokio::process::Command::new(client_program("pg_restore"))
        .arg("--list")
        .arg(path)
        .output()
        .await
        .context("lancement de pg_restore")?;
    ensure!(
        listing.status.success(),
        "la sauvegarde {} est illisible",
        path.display()
    );
    Ok(())
}

async fn pg_restore(url: &str, path: &Path) -> Result<()> {
    let output = tokio::process::Command::new(client_program("pg_restore"))
        .args(["--no-owner", "--single-transaction", "--exit-on-error"])
        .arg(format!("--dbname={url}"))
        .arg(path)
        .output()
        .await
        .context("lancement de pg_restore")?;
    ensure!(
        output.status.success(),
        "pg_restore a échoué : {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

pub fn sha256_of(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("lecture de {}", path.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// Default folder of a new backup: `<backups_dir>/<UTC timestamp>`.
pub fn new_backup_dir(backups_dir: &Path) -> PathBuf {
    backups_dir.join(chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string())
}
