//! Permissions with Casbin (`policies/model.conf`). Each city has its own enforcer, built
//! from its tables (profiles, their permissions, agents' holdings, API clients' scopes),
//! cached per city and dropped when those tables change (`NOTIFY marelle_authz`).
//! Decisions themselves are cached by the enforcer (casbin's `CachedEnforcer`).

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

/// Per-city enforcers.
#[derive(Clone)]
pub struct Authz {
    enforcers: moka::future::Cache<String, Arc<CachedEnforcer>>,
}

impl Default for Authz {
    fn default() -> Self {
        Authz {
            enforcers: moka::future::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
        }
    }
}

impl Authz {
    pub async fn enforcer(&self, db: &Db, city: &City) -> AppResult<Arc<CachedEnforcer>> {
        let domain = city.slug.clone();
        self.enforcers
            .try_get_with(city.schema.clone(), async {
                let policy = db
                    .run(city.scope("system"), move |conn| {
                        Box::pin(async move { policy_lines(conn, &domain).await })
                    })
                    .await?;
                enforcer_from(policy).await.map(Arc::new)
            })
            .await
            .map_err(|e: Arc<AppError>| AppError::internal(anyhow::anyhow!("{e}")))
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
        let enforcer = self.enforcer(db, city).await?;
        decide(&enforcer, subject, &city.slug, object, population, action)
    }

    pub async fn invalidate(&self, schema: &str) {
        self.enforcers.invalidate(schema).await;
    }

    pub fn invalidate_all(&self) {
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
