//! Signing in through the city's OpenID Connect provider, and the break-glass entry.

use super::*;

pub(super) fn redirect_uri(door: &Door, req: &HttpRequest) -> String {
    let path = if door.kind == Kind::Agent {
        "/agent/sso/retour"
    } else {
        "/franceconnect/retour"
    };
    format!("{}{path}", origin(req))
}

pub(super) async fn sso_start(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let settings = city_settings(&state, &city).await?;
    let provider = provider(door, &settings).ok_or_else(|| {
        AppError::not_found("La connexion unique n'est pas configurée pour cette ville.")
    })?;
    let (url, pending) = state
        .oidc
        .begin(&provider, &redirect_uri(door, &req))
        .await?;
    let kind = door.kind;
    state
        .db
        .run(city.scope("anonyme"), move |conn| {
            Box::pin(async move { oidc::save_pending(conn, kind, &pending).await })
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .finish())
}

#[derive(Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub(super) async fn sso_return(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    req: HttpRequest,
    query: web::Query<Callback>,
) -> AppResult<HttpResponse> {
    let login_page = format!("{}/connexion", door.base);
    if query.error.is_some() {
        return Ok(flash::redirect(
            &login_page,
            "La connexion a été annulée ou refusée par le fournisseur d'identité.",
        ));
    }
    let (Some(code), Some(returned_state)) = (query.code.clone(), query.state.clone()) else {
        return Err(AppError::invalid(
            "réponse du fournisseur d'identité incomplète",
        ));
    };
    let settings = city_settings(&state, &city).await?;
    let provider = provider(door, &settings).ok_or_else(|| {
        AppError::not_found("La connexion unique n'est pas configurée pour cette ville.")
    })?;
    let kind = door.kind;
    let pending = state
        .db
        .run(city.scope("anonyme"), move |conn| Box::pin(async move { oidc::take_pending(conn, kind, &returned_state).await }))
        .await?
        // An unknown state: forged, replayed or expired answer.
        .ok_or_else(|| AppError::forbidden("Cette réponse de connexion n'est pas attendue (lien expiré ou rejoué). Recommencez."))?;
    let identity = state
        .oidc
        .finish(&provider, &redirect_uri(door, &req), &code, &pending)
        .await?;
    let lifetime = chrono::Duration::hours(
        settings["security.session_absolute_hours"]
            .as_i64()
            .unwrap_or(10),
    );
    let auto_create = flag(&settings, "sso.agents.auto_create");
    let ip = client_address(&req);
    let outcome = state
        .db
        .run(city.scope("anonyme"), move |conn| {
            Box::pin(async move {
                let account = match kind {
                    Kind::Agent => agent_for(conn, &identity, auto_create).await?,
                    Kind::Family => match accounts::family_by_franceconnect(conn, &identity.subject, identity.email.as_deref()).await? {
                        Some(id) => accounts::by_id(conn, Kind::Family, id).await?,
                        None => None,
                    },
                };
                let Some(account) = account.filter(|a| a.active) else {
                    audit::record(conn, Event::LoginFailed, "anonyme", (kind_table(kind), None), json!({ "sujet": identity.subject, "adresse": ip, "méthode": "OpenID Connect" })).await?;
                    return Ok(None);
                };
                let token = open_session(conn, kind, &account, Some(&identity.id_token), lifetime, json!({ "méthode": "OpenID Connect", "adresse": ip })).await?;
                Ok(Some(token))
            })
        })
        .await?;
    match outcome {
        Some(token) => Ok(signed_in(door, &state, token, door.home)),
        None if kind == Kind::Agent => Ok(flash::redirect(
            &login_page,
            "Votre compte n'est pas ouvert dans Marelle pour cette ville : contactez son administrateur.",
        )),
        None => Ok(flash::redirect(
            "/demande-de-compte",
            "Aucun compte famille ne correspond à votre identité FranceConnect : faites une demande de compte.",
        )),
    }
}

/// The agent an identity maps to: already linked, or created beforehand under the same
/// login or e-mail (then linked), or created without rights if the city allows it.
pub(super) async fn agent_for(
    conn: &mut crate::platform::db::Conn,
    identity: &Identity,
    auto_create: bool,
) -> AppResult<Option<Account>> {
    if let Some(agent) = accounts::agent_by_subject(conn, &identity.subject).await? {
        return accounts::by_id(conn, Kind::Agent, agent.id).await;
    }
    let login = identity
        .preferred_username
        .clone()
        .or_else(|| identity.email.clone())
        .unwrap_or_else(|| identity.subject.clone());
    if let Some(agent) = accounts::agent_to_link(conn, &login, identity.email.as_deref()).await? {
        accounts::link_agent_subject(conn, agent.id, &identity.subject).await?;
        return accounts::by_id(conn, Kind::Agent, agent.id).await;
    }
    if !auto_create {
        return Ok(None);
    }
    let id = accounts::create_agent(
        conn,
        NewAgent {
            login: &accounts::normalise_login(&login)
                .unwrap_or_else(|_| format!("sso-{}", identity.subject.len())),
            display_name: &identity.display_name(),
            email: identity.email.as_deref(),
            oidc_subject: Some(&identity.subject),
            password_hash: None,
            must_change_password: false,
        },
    )
    .await?;
    accounts::by_id(conn, Kind::Agent, id).await
}

// ---- break glass ----

/// A SITIV administrator's one-time entry, opened from the console with a reason: the
/// console left a two-minute handover session; it is spent here for a fresh one.
pub(super) async fn break_glass_entry(
    state: State,
    CurrentCity(city): CurrentCity,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let handover = token.into_inner();
    let fresh = state
        .db
        .run(city.scope("system"), move |conn| {
            Box::pin(async move {
                let Some(session) = sessions::close(conn, &handover)
                    .await?
                    .filter(|s| s.break_glass)
                else {
                    return Ok(None);
                };
                if !sessions::was_live(&session) {
                    return Ok(None);
                }
                let token = sessions::open(
                    conn,
                    NewSession {
                        kind: Kind::Agent,
                        subject_id: None,
                        label: &session.subject_label,
                        break_glass: true,
                        id_token: None,
                        lifetime: chrono::Duration::hours(1),
                    },
                )
                .await?;
                Ok(Some(token))
            })
        })
        .await?
        .ok_or_else(|| AppError::not_found("Ce lien d'accès d'urgence n'est plus valable."))?;
    Ok(signed_in(&AGENTS, &state, fresh, AGENTS.home))
}
