//! Cost of a permission decision (Casbin, a city with 1,000 policy lines; target < 20 µs)
//! and of a password check at sign-in (argon2id; budget ≤ 50 ms).
//!
//!   cargo bench --bench identity

use std::hint::black_box;

use casbin::{CoreApi, DefaultModel, Enforcer, StringAdapter};
use criterion::{Criterion, criterion_group, criterion_main};
use marelle::platform::auth::authz::{
    self, Action, build_policy, decide, default_profiles, slice_for,
};
use marelle::platform::auth::passwords;

/// The default profiles plus enough agents (some held over one population) for the
/// policy to reach 1,000 lines, as in a large city.
fn large_city_policy() -> String {
    let permissions: Vec<(String, String, String)> = default_profiles()
        .into_iter()
        .flat_map(|p| {
            p.permissions
                .into_iter()
                .map(move |(o, a)| (p.id.clone(), o, a))
        })
        .collect();
    let profiles = [
        "school_agent",
        "animator",
        "structure_director",
        "regisseur",
        "medical",
        "auditor",
    ];
    let mut holdings = Vec::new();
    let mut agent = 0;
    while build_policy("corbas", &permissions, &holdings, &[])
        .lines()
        .count()
        < 1_000
    {
        agent += 1;
        let profile = profiles[agent % profiles.len()].to_string();
        let population = if agent % 10 == 0 {
            format!("group:{agent}")
        } else {
            "city".into()
        };
        holdings.push((agent as i64, profile, population));
    }
    build_policy("corbas", &permissions, &holdings, &[])
}

fn decisions(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let policy = large_city_policy();
    let lines = policy.lines().count();
    // What a request meets: the subject's slice, decisions cached; and uncached, on the
    // slice and on the whole city's policy for comparison.
    let cached = runtime
        .block_on(authz::enforcer_from(slice_for(&policy, "agent:7")))
        .unwrap();
    let plain = |text: String| {
        runtime.block_on(async {
            let model = DefaultModel::from_str(authz::MODEL).await.unwrap();
            Enforcer::new(model, StringAdapter::new(text))
                .await
                .unwrap()
        })
    };
    let slice = plain(slice_for(&policy, "agent:7"));
    let whole = plain(policy.clone());
    let mut group = c.benchmark_group(format!("casbin ({lines} lignes)"));
    group.bench_function("décision en cache", |b| {
        b.iter(|| {
            decide(
                &cached,
                black_box("agent:7"),
                "corbas",
                "attendance",
                "group:7",
                Action::Write,
            )
            .unwrap()
        })
    });
    for (label, enforcer) in [("tranche du sujet", &slice), ("politique entière", &whole)] {
        group.bench_function(format!("sans cache, {label}, autorisée"), |b| {
            b.iter(|| {
                enforcer
                    .enforce((
                        black_box("agent:7"),
                        "corbas",
                        "attendance",
                        "group:7",
                        "write",
                    ))
                    .unwrap()
            })
        });
        group.bench_function(format!("sans cache, {label}, refusée"), |b| {
            b.iter(|| {
                enforcer
                    .enforce((black_box("agent:7"), "corbas", "bank", "city", "write"))
                    .unwrap()
            })
        });
    }
    group.finish();

    let hash = passwords::hash("Une phrase de passe solide").unwrap();
    let mut group = c.benchmark_group("connexion");
    group.sample_size(20);
    group.bench_function("vérification argon2id", |b| {
        b.iter(|| passwords::verify(Some(&hash), black_box("Une phrase de passe solide")))
    });
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
