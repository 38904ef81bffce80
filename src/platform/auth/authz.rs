//! Permissions with Casbin (`policies/model.conf`). Each city has its own policy, built
//! from its tables (profiles, their permissions, agents' holdings, API clients' scopes),
//! cached and dropped when those tables change (`NOTIFY marelle_authz`). Each subject
//! gets an enforcer over its slice of the policy (few lines, so a decision stays in the
//! microseconds however large the city); decisions are cached by casbin's `CachedEnforcer`.

use std::sync::Arc;
use std::time::Duration;

use casbin::{CachedEnforcer, CoreApi, DefaultModel, StringAdapter};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::{agent_profiles, api_clients, profile_permissions, profiles};
use crate::platform::db::{Conn, Db};
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;

pub const MODEL: &str = include_str!("../../../policies/model.conf");
pub const DEFAULT_POLICY: &str = include_str!("../../../policies/default.csv");

/// A population: the whole city, or one structure, school, activity or group.
pub const CITY: &str = "city";
/// "Anywhere": the coarse check made before the object is known.
pub const ANYWHERE: &str = "*";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Action {
    Read,
    Write,
    Process,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
            Action::Process => "process",
        }
    }
}

/// A profile of `policies/default.csv`.
#[derive(Debug, Clone)]
pub struct DefaultProfile {
    pub id: String,
    pub label: String,
    pub description: String,
    pub permissions: Vec<(String, String)>,
}

/// Parses `policies/default.csv` (`profile, id, label, description` and
/// `p, profile, object, action` lines).
pub fn default_profiles() -> Vec<DefaultProfile> {
    let mut profiles: Vec<DefaultProfile> = Vec::new();
    for line in DEFAULT_POLICY.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.splitn(4, ',').map(str::trim).collect();
        match fields.as_slice() {
            ["profile", id, label, description] => profiles.push(DefaultProfile {
                id: id.to_string(),
                label: label.to_string(),
                description: description.to_string(),
                permissions: Vec::new(),
            }),
            ["p", profile, object, action] => {
                if let Some(p) = profiles.iter_mut().find(|p| p.id == *profile) {
                    p.permissions.push((object.to_string(), action.to_string()));
                }
            }
            _ => {}
        }
    }
    profiles
}

/// Copies the default profiles into a new city.
pub async fn install_defaults(conn: &mut Conn) -> AppResult<()> {
    for profile in default_profiles() {
        diesel::insert_into(profiles::table)
            .values((
                profiles::id.eq(&profile.id),
                profiles::label.eq(&profile.label),
                profiles::description.eq(&profile.description),
                profiles::builtin.eq(true),
            ))
            .execute(conn)
            .await?;
        let rows: Vec<_> = profile
            .permissions
            .iter()
            .map(|(object, action)| {
                (
                    profile_permissions::profile_id.eq(&profile.id),
                    profile_permissions::object.eq(object),
                    profile_permissions::action.eq(action),
                )
            })
            .collect();
        diesel::insert_into(profile_permissions::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The policy lines of a city (Casbin CSV), from its tables.
pub async fn policy_lines(conn: &mut Conn, domain: &str) -> AppResult<String> {
    let permissions: Vec<(String, String, String)> = profile_permissions::table
        .select((
            profile_permissions::profile_id,
            profile_permissions::object,
            profile_permissions::action,
        ))
        .order(profile_permissions::id)
        .load(conn)
        .await?;
    let holdings: Vec<(i64, String, String)> = agent_profiles::table
        .select((
            agent_profiles::agent_id,
            agent_profiles::profile_id,
            agent_profiles::population,
        ))
        .order(agent_profiles::id)
        .load(conn)
        .await?;
    let clients: Vec<(i64, Vec<String>)> = api_clients::table
        .filter(api_clients::revoked_at.is_null())
        .select((api_clients::id, api_clients::scopes))
        .load(conn)
        .await?;
    Ok(build_policy(domain, &permissions, &holdings, &clients))
}

/// Pure construction of the Casbin policy text (see the model's header).
pub fn build_policy(
    domain: &str,
    permissions: &[(String, String, String)],
    holdings: &[(i64, String, String)],
    clients: &[(i64, Vec<String>)],
) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    for (profile, object, action) in permissions {
        let _ = writeln!(text, "p, {profile}, {domain}, {object}, *, {action}");
    }
    for (agent, profile, population) in holdings {
        if population == CITY {
            let _ = writeln!(text, "g, agent:{agent}, {profile}, {domain}");
        } else {
            // A derived role carrying the population on each of the profile's lines.
            let role = format!("{profile}@{population}");
            let _ = writeln!(text, "g, agent:{agent}, {role}, {domain}");
            for (_, object, action) in permissions.iter().filter(|(p, _, _)| p == profile) {
                let _ = writeln!(
                    text,
                    "p, {role}, {domain}, {object}, {population}, {action}"
                );
            }
        }
    }
    for (client, scopes) in clients {
        for scope in scopes {
            let _ = writeln!(text, "g, api:{client}, {scope}, {domain}");
        }
    }
    text
}

pub async fn enforcer_from(policy: String) -> AppResult<CachedEnforcer> {
    let model = DefaultModel::from_str(MODEL)
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("modèle Casbin : {e}")))?;
    CachedEnforcer::new(model, StringAdapter::new(policy))
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("politique Casbin : {e}")))
}

/// The lines of a city's policy that concern one subject: its role links and the
/// permission lines of those roles (and its own). Casbin evaluates every policy line at
/// each decision; a subject's slice is a few dozen lines instead of the city's thousand.
pub fn slice_for(policy: &str, subject: &str) -> String {
    let field = |line: &str, n: usize| {
        line.split(',')
            .nth(n)
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    };
    let mut roles: Vec<String> = vec![subject.to_string()];
    let mut slice = String::new();
    for line in policy
        .lines()
        .filter(|l| l.starts_with("g,") && field(l, 1) == subject)
    {
        roles.push(field(line, 2));
        slice.push_str(line);
        slice.push('\n');
    }
    for line in policy
        .lines()
        .filter(|l| l.starts_with("p,") && roles.contains(&field(l, 1)))
    {
        slice.push_str(line);
        slice.push('\n');
    }
    slice
}

/// Per-city policies and per-subject enforcers.
#[derive(Clone)]
pub struct Authz {
    policies: moka::future::Cache<String, Arc<String>>,
    enforcers: moka::future::Cache<(String, String), Arc<CachedEnforcer>>,
}

impl Default for Authz {
    fn default() -> Self {
        Authz {
            policies: moka::future::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
            enforcers: moka::future::Cache::builder()
                .max_capacity(20_000)
                .time_to_live(Duration::from_secs(300))
                .support_invalidation_closures()
                .build(),
        }
    }
}

impl Authz {
    async fn policy(&self, db: &Db, city: &City) -> AppResult<Arc<String>> {
        let domain = city.slug.clone();
        self.policies
            .try_get_with(city.schema.clone(), async {
                db.run(city.scope("system"), move |conn| {
                    Box::pin(async move { policy_lines(conn, &domain).await })
                })
                .await
                .map(Arc::new)
            })
            .await
            .map_err(AppError::from_shared)
    }

    /// The enforcer holding `subject`'s slice of the city's policy.
    pub async fn enforcer(
        &self,
        db: &Db,
        city: &City,
        subject: &str,
    ) -> AppResult<Arc<CachedEnforcer>> {
        let key = (city.schema.clone(), subject.to_string());
        if let Some(enforcer) = self.enforcers.get(&key).await {
            return Ok(enforcer);
        }
        let policy = self.policy(db, city).await?;
        self.enforcers
            .try_get_with(key, async {
                enforcer_from(slice_for(&policy, subject))
                    .await
                    .map(Arc::new)
            })
            .await
            .map_err(AppError::from_shared)
    }

    /// Whether `subject` may `action` on `object` within `population` in `city`.
    pub async fn allows(
        &self,
        db: &Db,
        city: &City,
        subject: &str,
        object: &str,
        population: &str,
        action: Action,
    ) -> AppResult<bool> {
        let enforcer = self.enforcer(db, city, subject).await?;
        decide(&enforcer, subject, &city.slug, object, population, action)
    }

    pub async fn invalidate(&self, schema: &str) {
        self.policies.invalidate(schema).await;
        let schema = schema.to_string();
        // Only fails if closures were not enabled at build time (they are).
        let _ = self
            .enforcers
            .invalidate_entries_if(move |(s, _), _| *s == schema);
    }

    pub fn invalidate_all(&self) {
        self.policies.invalidate_all();
        self.enforcers.invalidate_all();
    }
}

pub fn decide(
    enforcer: &CachedEnforcer,
    subject: &str,
    domain: &str,
    object: &str,
    population: &str,
    action: Action,
) -> AppResult<bool> {
    enforcer
        .enforce((subject, domain, object, population, action.as_str()))
        .map_err(|e| AppError::internal(anyhow::anyhow!("décision Casbin : {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permissions() -> Vec<(String, String, String)> {
        default_profiles()
            .into_iter()
            .flat_map(|p| {
                p.permissions
                    .into_iter()
                    .map(move |(o, a)| (p.id.clone(), o, a))
            })
            .collect()
    }

    #[actix_web::test]
    async fn a_subject_slice_decides_like_the_whole_policy() {
        let holdings = vec![
            (1, "animator".to_string(), "group:7".to_string()),
            (2, "school_agent".to_string(), CITY.to_string()),
            (2, "medical".to_string(), "structure:3".to_string()),
        ];
        let policy = build_policy("corbas", &permissions(), &holdings, &[]);
        let whole = enforcer_from(policy.clone()).await.unwrap();
        for subject in ["agent:1", "agent:2", "agent:3", "family"] {
            let slice = enforcer_from(slice_for(&policy, subject)).await.unwrap();
            assert!(slice_for(&policy, subject).lines().count() < policy.lines().count() / 3);
            for (object, _) in crate::platform::auth::directory::OBJECTS {
                for population in ["city", "group:7", "group:8", "structure:3", ANYWHERE] {
                    for action in [Action::Read, Action::Write, Action::Process] {
                        assert_eq!(
                            decide(&slice, subject, "corbas", object, population, action).unwrap(),
                            decide(&whole, subject, "corbas", object, population, action).unwrap(),
                            "{subject} {object} {population} {action:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_default_policy_has_the_fixed_profiles() {
        let ids: Vec<String> = default_profiles().into_iter().map(|p| p.id).collect();
        for id in [
            "city_admin",
            "school_agent",
            "early_childhood_agent",
            "regisseur",
            "structure_director",
            "animator",
            "medical",
            "auditor",
            "family",
        ] {
            assert!(ids.contains(&id.to_string()), "{id}");
        }
    }

    #[actix_web::test]
    async fn populations_restrict_what_a_profile_allows() {
        let holdings = vec![
            (1, "animator".to_string(), "group:7".to_string()),
            (2, "medical".to_string(), CITY.to_string()),
            (3, "auditor".to_string(), CITY.to_string()),
        ];
        let policy = build_policy(
            "corbas",
            &permissions(),
            &holdings,
            &[(9, vec!["school_agent".into()])],
        );
        let e = enforcer_from(policy).await.unwrap();
        let can = |sub: &str, obj: &str, pop: &str, act: Action| {
            decide(&e, sub, "corbas", obj, pop, act).unwrap()
        };
        // The animator takes attendance of group 7 only.
        assert!(can("agent:1", "attendance", "group:7", Action::Write));
        assert!(!can("agent:1", "attendance", "group:8", Action::Write));
        assert!(can("agent:1", "attendance", ANYWHERE, Action::Write));
        // ... and never sees incomes or full health sheets.
        assert!(!can("agent:1", "family_income", ANYWHERE, Action::Read));
        assert!(!can("agent:1", "health:medical", "group:7", Action::Read));
        assert!(can("agent:1", "health:basic", "group:7", Action::Read));
        // Medical staff read health sheets everywhere; the auditor reads but never writes.
        assert!(can("agent:2", "health:medical", "group:8", Action::Read));
        assert!(can("agent:3", "families", CITY, Action::Read));
        assert!(!can("agent:3", "families", CITY, Action::Write));
        assert!(!can("agent:3", "health:medical", CITY, Action::Read));
        // Another city's domain grants nothing.
        assert!(!decide(&e, "agent:2", "givors", "families", CITY, Action::Read).unwrap());
        // API clients act through their scopes; family accounts through their profile.
        assert!(can("api:9", "families", CITY, Action::Write));
        assert!(!can("api:9", "health:basic", CITY, Action::Write));
        assert!(can("family", "portal:bookings", CITY, Action::Write));
        assert!(!can(
            "family_payment_only",
            "portal:bookings",
            CITY,
            Action::Read
        ));
        assert!(can(
            "family_payment_only",
            "portal:payments",
            CITY,
            Action::Process
        ));
        assert!(!can("agent:404", "families", CITY, Action::Read));
    }
}
