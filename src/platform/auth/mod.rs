//! Identity and permissions: accounts (agents, families, API clients), passwords,
//! sessions, sign-in throttling, OpenID Connect, and Casbin decisions per city.

pub mod accounts;
pub mod api_clients;
pub mod authz;
pub mod directory;
pub mod oidc;
pub mod passwords;
pub mod schema;
pub mod sessions;
pub mod throttle;
pub mod tokens;
