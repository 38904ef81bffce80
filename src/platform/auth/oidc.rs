//! OpenID Connect relying party (authorization code + PKCE), for agents (the city's IdP,
//! LemonLDAP::NG at SITIV) and for families (FranceConnect): one code path, two
//! configurations. Discovery documents are cached per issuer.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
    CoreUserInfoClaims,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthenticationContextClass, AuthorizationCode, ClientId,
    ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::schema::oidc_pending;
use super::sessions::Kind;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// The discovery document fields the core crate leaves out: RP-initiated logout.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct LogoutMetadata {
    pub end_session_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for LogoutMetadata {}

type ProviderMetadata = openidconnect::ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A provider as a city configured it.
#[derive(Debug, Clone)]
pub struct Provider {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    /// Authentication context required (FranceConnect: `eidas1`).
    pub acr: Option<String>,
}

/// Who the provider says signed in.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub subject: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub birthdate: Option<String>,
    pub preferred_username: Option<String>,
    pub acr: Option<String>,
    pub id_token: String,
}

impl Identity {
    pub fn display_name(&self) -> String {
        let name = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            self.preferred_username
                .clone()
                .unwrap_or_else(|| self.subject.clone())
        } else {
            name
        }
    }
}

/// What we keep between the redirect to the provider and its answer.
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

#[derive(Clone)]
pub struct Oidc {
    http: reqwest::Client,
    metadata: moka::future::Cache<String, Arc<ProviderMetadata>>,
}

impl Default for Oidc {
    fn default() -> Self {
        Oidc {
            // Following redirects would expose us to SSRF through a hostile provider.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
            metadata: moka::future::Cache::builder()
                .max_capacity(100)
                .time_to_live(Duration::from_secs(600))
                .build(),
        }
    }
}

fn unavailable(what: &str, error: impl std::fmt::Display) -> AppError {
    tracing::warn!(%error, "OpenID Connect: {what}");
    AppError::Unavailable(
        "Le service d'authentification ne répond pas correctement. Réessayez dans quelques \
         instants ou utilisez votre compte local."
            .into(),
    )
}

impl Oidc {
    async fn metadata(&self, issuer: &str) -> AppResult<Arc<ProviderMetadata>> {
        let http = self.http.clone();
        let issuer_url = IssuerUrl::new(issuer.to_string()).map_err(|e| {
            AppError::invalid(format!("adresse du fournisseur d'identité invalide : {e}"))
        })?;
        self.metadata
            .try_get_with(issuer.to_string(), async move {
                ProviderMetadata::discover_async(issuer_url, &http)
                    .await
                    .map(Arc::new)
                    .map_err(|e| unavailable("discovery", e))
            })
            .await
            .map_err(AppError::from_shared)
    }

    async fn client(
        &self,
        provider: &Provider,
        redirect: &str,
    ) -> AppResult<(
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        Arc<ProviderMetadata>,
    )> {
        let metadata = self.metadata(&provider.issuer).await?;
        let redirect = RedirectUrl::new(redirect.to_string())
            .map_err(|e| AppError::internal(anyhow::anyhow!("adresse de retour : {e}")))?;
        let client = CoreClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(provider.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        Ok((client, metadata))
    }

    /// The provider's authorization URL (PKCE S256, state, nonce) and what to keep.
    pub async fn begin(&self, provider: &Provider, redirect: &str) -> AppResult<(String, Pending)> {
        let (client, _) = self.client(provider, redirect).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in provider.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(acr) = &provider.acr {
            request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok((
            url.to_string(),
            Pending {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        ))
    }

    /// Exchanges the code (with the PKCE verifier), verifies the ID token (signature,
    /// issuer, audience, expiry, nonce, and the required acr), reads userinfo.
    pub async fn finish(
        &self,
        provider: &Provider,
        redirect: &str,
        code: &str,
        pending: &Pending,
    ) -> AppResult<Identity> {
        let (client, _) = self.client(provider, redirect).await?;
        let refused = |why: &str| {
            tracing::warn!(reason = why, "OpenID Connect sign-in refused");
            AppError::forbidden(
                "La connexion n'a pas pu être vérifiée. Recommencez depuis la page de connexion.",
            )
        };
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| unavailable("token endpoint", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "code exchange failed");
                refused("code exchange")
            })?;
        let id_token = token.id_token().ok_or_else(|| refused("no ID token"))?;
        let claims = id_token
            .claims(
                &client.id_token_verifier(),
                &Nonce::new(pending.nonce.clone()),
            )
            .map_err(|e| {
                tracing::warn!(error = %e, "ID token rejected");
                refused("ID token")
            })?;
        let acr = claims.auth_context_ref().map(|a| a.to_string());
        if let Some(required) = &provider.acr
            && acr.as_deref() != Some(required.as_str())
        {
            return Err(refused("authentication context"));
        }
        let mut identity = Identity {
            subject: claims.subject().to_string(),
            given_name: claims
                .given_name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
            family_name: claims
                .family_name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
            email: claims.email().map(|e| e.to_string()),
            birthdate: claims.birthdate().map(|b| b.to_string()),
            preferred_username: claims.preferred_username().map(|u| u.to_string()),
            acr,
            id_token: id_token.to_string(),
        };
        // Names and e-mail usually come from userinfo rather than the ID token.
        if let Ok(request) =
            client.user_info(token.access_token().clone(), Some(claims.subject().clone()))
            && let Ok(info) = request
                .request_async::<_, _, _>(&self.http)
                .await
                .map(|info: CoreUserInfoClaims| info)
        {
            identity.given_name = identity.given_name.or(info
                .given_name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()));
            identity.family_name = identity.family_name.or(info
                .family_name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()));
            identity.email = identity.email.or(info.email().map(|e| e.to_string()));
            identity.birthdate = identity
                .birthdate
                .or(info.birthdate().map(|b| b.to_string()));
            identity.preferred_username = identity
                .preferred_username
                .or(info.preferred_username().map(|u| u.to_string()));
        }
        Ok(identity)
    }

    /// The provider's end-session URL (RP-initiated logout), if it offers one.
    pub async fn logout_url(
        &self,
        provider: &Provider,
        id_token: &str,
        back_to: &str,
    ) -> AppResult<Option<String>> {
        let metadata = self.metadata(&provider.issuer).await?;
        let Some(endpoint) = metadata.additional_metadata().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let mut url = url::Url::parse(&endpoint)
            .map_err(|e| AppError::internal(anyhow::anyhow!("end_session_endpoint : {e}")))?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("post_logout_redirect_uri", back_to)
            .append_pair("client_id", &provider.client_id);
        Ok(Some(url.to_string()))
    }
}

/// Keeps a sign-in under way (ten minutes at most).
pub async fn save_pending(conn: &mut Conn, kind: Kind, pending: &Pending) -> AppResult<()> {
    diesel::delete(
        oidc_pending::table
            .filter(oidc_pending::created_at.lt(Utc::now() - chrono::Duration::minutes(10))),
    )
    .execute(conn)
    .await?;
    diesel::insert_into(oidc_pending::table)
        .values((
            oidc_pending::state.eq(&pending.state),
            oidc_pending::kind.eq(kind.as_str()),
            oidc_pending::nonce.eq(&pending.nonce),
            oidc_pending::pkce_verifier.eq(&pending.pkce_verifier),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes (and forgets) the sign-in under way for `state`; an unknown or stale state
/// (replayed or forged answer) gives nothing.
pub async fn take_pending(conn: &mut Conn, kind: Kind, state: &str) -> AppResult<Option<Pending>> {
    let row: Option<(String, String, String)> = diesel::delete(
        oidc_pending::table
            .filter(oidc_pending::state.eq(state))
            .filter(oidc_pending::kind.eq(kind.as_str()))
            .filter(oidc_pending::created_at.gt(Utc::now() - chrono::Duration::minutes(10))),
    )
    .returning((
        oidc_pending::state,
        oidc_pending::nonce,
        oidc_pending::pkce_verifier,
    ))
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(|(state, nonce, pkce_verifier)| Pending {
        state,
        nonce,
        pkce_verifier,
    }))
}
