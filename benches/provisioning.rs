//! Provisioning one city: registry rows, schema, migrations and default settings, in
//! one transaction (target < 1 s). Needs a PostgreSQL: `MARELLE_BENCH_DATABASE_URL`, or
//! the embedded cluster of `marelle db start`.
//!
//!   cargo bench --bench provisioning

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use marelle::platform::config::Config;
use marelle::platform::db::{Db, MigrationSet, migrate_schema};
use marelle::platform::pgcluster::Cluster;
use marelle::platform::tenancy::provisioning::{CityRequest, Provisioner};
use marelle::platform::tenancy::{Env, Theme};

fn database_url() -> String {
    std::env::var("MARELLE_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        let config = Config::load(None).expect("configuration");
        Cluster::new(&config.pg)
            .and_then(|c| c.url())
            .expect("a database: MARELLE_BENCH_DATABASE_URL or `marelle db start`")
    })
}

fn provisioning(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = database_url();
    let db = runtime.block_on(async {
        migrate_schema(&url, "platform", MigrationSet::Platform)
            .await
            .unwrap();
        Db::connect(&url, 2).unwrap()
    });
    let provisioner = Provisioner {
        db: &db,
        tenants: None,
        blueprint: &marelle::domain::CITY_BLUEPRINT,
        actor: "bench",
    };
    let run = std::process::id();
    let mut created = Vec::new();
    let mut group = c.benchmark_group("provisioning");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("one city", |b| {
        b.iter_custom(|iterations| {
            let started = Instant::now();
            for _ in 0..iterations {
                let slug = format!("bench{run}x{}", created.len());
                runtime
                    .block_on(provisioner.create(CityRequest {
                        slug: slug.clone(),
                        name: "Ville de banc d'essai".into(),
                        env: Env::Production,
                        hosts: vec![format!("{slug}.bench.localhost")],
                        theme: Theme::default(),
                    }))
                    .unwrap();
                created.push(slug);
            }
            started.elapsed()
        })
    });
    group.finish();
    // Leave the database as it was.
    let backups = std::env::temp_dir().join("marelle-bench-backups");
    for slug in created {
        runtime
            .block_on(provisioner.drop_city(&slug, &backups))
            .unwrap();
    }
    let _ = std::fs::remove_dir_all(backups);
}

criterion_group!(benches, provisioning);
criterion_main!(benches);
