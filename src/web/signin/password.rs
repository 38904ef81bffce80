//! Passwords: the change (forced at first sign-in, or chosen) and the forgotten password
//! (a single-use link by e-mail).

use super::*;

pub(super) async fn password_page(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    csrf: CsrfToken,
    principal: Principal,
) -> AppResult<HttpResponse> {
    render_password(door, &state, &city, &csrf, &principal, None).await
}

pub(super) async fn min_length(state: &State, city: &City) -> AppResult<i64> {
    Ok(
        city_settings(state, city).await?["security.password_min_length"]
            .as_i64()
            .unwrap_or(12),
    )
}

pub(super) async fn render_password(
    door: &Door,
    state: &State,
    city: &City,
    csrf: &CsrfToken,
    principal: &Principal,
    error: Option<&str>,
) -> AppResult<HttpResponse> {
    let forced = matches!(
        principal,
        Principal::Agent {
            must_change_password: true,
            ..
        } | Principal::Family {
            must_change_password: true,
            ..
        }
    );
    // A chosen change keeps the face's menu; a forced one offers only signing out.
    let layout = match (door.kind, forced) {
        (Kind::Agent, false) => {
            crate::web::backoffice::agent_layout(state, city, principal, csrf, "Mot de passe", "")
                .await?
        }
        (Kind::Family, false) => {
            crate::web::portal::portal_layout(state, city, principal, csrf, "Mot de passe", "")
                .await?
        }
        (_, true) => layout(door, "Mot de passe", city, csrf).user(
            principal.label(),
            if door.kind == Kind::Agent {
                "/agent/deconnexion"
            } else {
                "/deconnexion"
            },
        ),
    };
    let mut response = html(
        &state.templates,
        &layout,
        "signin/password",
        &json!({
            "forced": forced, "error": error, "current": true,
            "action": format!("{}/mot-de-passe", door.base),
            "min_length": min_length(state, city).await?,
        }),
    )?;
    if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirmation: String,
}

pub(super) async fn change_password(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    csrf: CsrfToken,
    principal: Principal,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    let id = match &principal {
        Principal::Agent { id: Some(id), .. } | Principal::Family { id, .. } => *id,
        _ => {
            return Err(AppError::forbidden(
                "Cette session ne possède pas de mot de passe.",
            ));
        }
    };
    let settings = city_settings(&state, &city).await?;
    let min_length = settings["security.password_min_length"]
        .as_i64()
        .unwrap_or(12) as usize;
    let kind = door.kind;
    let actor = principal.actor();
    let outcome = state
        .db
        .run(city.scope(&actor), move |conn| {
            Box::pin(async move {
                let account = accounts::by_id(conn, kind, id)
                    .await?
                    .ok_or(AppError::Unauthorized)?;
                if !passwords::verify(account.password_hash.as_deref(), &form.current) {
                    return Err(AppError::invalid("le mot de passe actuel est incorrect"));
                }
                set_new_password(
                    conn,
                    kind,
                    &account,
                    &form.password,
                    &form.confirmation,
                    &form.current,
                    min_length,
                )
                .await
            })
        })
        .await;
    match outcome {
        Ok(()) => Ok(flash::redirect(door.home, "Votre mot de passe est changé.")),
        Err(AppError::Invalid(message)) => {
            render_password(door, &state, &city, &csrf, &principal, Some(&message)).await
        }
        Err(other) => Err(other),
    }
}

pub(super) async fn set_new_password(
    conn: &mut crate::platform::db::Conn,
    kind: Kind,
    account: &Account,
    password: &str,
    confirmation: &str,
    previous: &str,
    min_length: usize,
) -> AppResult<()> {
    if password != confirmation {
        return Err(AppError::invalid(
            "les deux saisies du nouveau mot de passe diffèrent",
        ));
    }
    if password == previous {
        return Err(AppError::invalid(
            "le nouveau mot de passe doit différer de l'ancien",
        ));
    }
    passwords::check_policy(password, &account.login, min_length)?;
    accounts::set_password(conn, kind, account.id, &passwords::hash(password)?, false).await
}

// ---- forgotten password: a single-use link by e-mail ----

pub(super) async fn forgot_page(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    csrf: CsrfToken,
) -> AppResult<HttpResponse> {
    let layout = layout(door, "Mot de passe oublié", &city, &csrf);
    html(
        &state.templates,
        &layout,
        "signin/forgot",
        &json!({ "action": format!("{}/mot-de-passe-oublie", door.base) }),
    )
}

#[derive(Deserialize)]
pub(super) struct ForgotForm {
    #[serde(default)]
    login: String,
}

pub(super) async fn forgot(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> AppResult<HttpResponse> {
    let kind = door.kind;
    let login = form.login.trim().to_lowercase();
    let found = state
        .db
        .run(city.scope("anonyme"), move |conn| {
            Box::pin(async move {
                let Some(account) = accounts::by_login(conn, kind, &login)
                    .await?
                    .filter(|a| a.active && a.email.is_some())
                else {
                    return Ok(None);
                };
                let token = accounts::new_password_link(conn, kind, account.id, 2).await?;
                Ok(Some((account, token)))
            })
        })
        .await?;
    if let Some((account, token)) = found {
        let link = format!("{}{}/nouveau-mot-de-passe/{token}", origin(&req), door.base);
        send_mail(
            &state,
            &city,
            account.email.as_deref().unwrap_or_default(),
            "mail/password_reset",
            &json!({ "name": account.display_name, "link": link, "hours": 2 }),
        )
        .await?;
    }
    // The same answer whether or not the account exists: no enumeration.
    Ok(flash::redirect(
        &format!("{}/connexion", door.base),
        "Si un compte correspond, un courriel contenant un lien vient d'être envoyé. Le lien est valable deux heures.",
    ))
}

pub(super) async fn link_page(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    csrf: CsrfToken,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let valid = link_target(&state, &city, door, &token).await?.is_some();
    render_link(door, &state, &city, &csrf, &token, valid, None).await
}

pub(super) async fn render_link(
    door: &Door,
    state: &State,
    city: &City,
    csrf: &CsrfToken,
    token: &str,
    valid: bool,
    error: Option<&str>,
) -> AppResult<HttpResponse> {
    let layout = layout(door, "Choisir un mot de passe", city, csrf);
    let mut response = html(
        &state.templates,
        &layout,
        "signin/password",
        &json!({
            "link": true, "valid": valid, "error": error, "current": false,
            "action": format!("{}/nouveau-mot-de-passe/{token}", door.base),
            "forgot": format!("{}/mot-de-passe-oublie", door.base),
            "min_length": min_length(state, city).await?,
        }),
    )?;
    if !valid {
        *response.status_mut() = actix_web::http::StatusCode::GONE;
    } else if error.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub(super) async fn link_target(
    state: &State,
    city: &City,
    door: &Door,
    token: &str,
) -> AppResult<Option<i64>> {
    let token = token.to_string();
    let kind = door.kind;
    state
        .db
        .run(city.scope("anonyme"), move |conn| {
            Box::pin(async move {
                Ok(accounts::link_account(conn, &token)
                    .await?
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, id)| id))
            })
        })
        .await
}

pub(super) async fn use_link(
    door: &Door,
    state: State,
    CurrentCity(city): CurrentCity,
    csrf: CsrfToken,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let Some(id) = link_target(&state, &city, door, &token).await? else {
        return render_link(door, &state, &city, &csrf, &token, false, None).await;
    };
    let settings = city_settings(&state, &city).await?;
    let min_length = settings["security.password_min_length"]
        .as_i64()
        .unwrap_or(12) as usize;
    let kind = door.kind;
    let actor = format!(
        "{}:{id}",
        if kind == Kind::Agent {
            "agent"
        } else {
            "famille"
        }
    );
    let outcome = state
        .db
        .run(city.scope(&actor), move |conn| {
            Box::pin(async move {
                let account = accounts::by_id(conn, kind, id)
                    .await?
                    .ok_or_else(|| AppError::not_found("Compte introuvable."))?;
                set_new_password(
                    conn,
                    kind,
                    &account,
                    &form.password,
                    &form.confirmation,
                    "",
                    min_length,
                )
                .await?;
                accounts::spend_links(conn, kind, id).await?;
                // Whoever held the old password is signed out everywhere.
                sessions::close_all(conn, kind, id).await
            })
        })
        .await;
    match outcome {
        Ok(()) => Ok(flash::redirect(
            &format!("{}/connexion", door.base),
            "Votre mot de passe est enregistré : vous pouvez vous connecter.",
        )),
        Err(AppError::Invalid(message)) => {
            render_link(door, &state, &city, &csrf, &token, true, Some(&message)).await
        }
        Err(other) => Err(other),
    }
}
