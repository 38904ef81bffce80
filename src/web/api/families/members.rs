//! The adults and the children of a family, through the API.

use super::*;

// Adults of a family.

/// Lister les adultes d'une famille
///
/// Les adultes actuellement membres du foyer, le responsable en premier.
#[utoipa::path(
    get,
    path = "/api/v1/families/{id}/persons",
    tag = "familles",
    params(("id" = i64, Path, description = "Identifiant de la famille.")),
    responses(
        (status = 200, description = "Les adultes du foyer.", body = PersonList),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de lire les familles.", body = ApiError),
        (status = 404, description = "Famille introuvable dans cette ville.", body = ApiError),
    )
)]
pub(super) async fn list_persons(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let items = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            Ok(
                dossier::household(conn, id, clock::today(), Visibility::default())
                    .await?
                    .adults,
            )
        })
    })
    .await?;
    let total = items.len() as i64;
    Ok(HttpResponse::Ok().json(PersonList { items, total }))
}

/// Ajouter un adulte à une famille
///
/// Ajoute un conjoint (`role: partner`) ou un autre membre (`role: other`, par défaut) au
/// foyer. Réponse : l'adulte créé.
#[utoipa::path(
    post,
    path = "/api/v1/families/{id}/persons",
    tag = "familles",
    params(("id" = i64, Path, description = "Identifiant de la famille.")),
    request_body(content = NewPerson, description = "L'adulte à ajouter.", content_type = "application/json"),
    responses(
        (status = 201, description = "Adulte ajouté.", body = AdultView,
         headers(("Location" = String, description = "Adresse de l'adulte créé."))),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de modifier les familles.", body = ApiError),
        (status = 404, description = "Famille introuvable dans cette ville.", body = ApiError),
        (status = 422, description = "Donnée invalide : rien n'a été créé.", body = ApiError),
    )
)]
pub(super) async fn create_person(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    path: web::Path<i64>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let input: NewPerson = strict(body.into_inner())?;
    // One head per household, named at creation: the domain would accept a second one.
    let role = match input.role.as_deref().map(str::trim) {
        None | Some("") => "other",
        Some(role @ ("partner" | "other")) => role,
        Some("head") => {
            return Err(AppError::invalid(
                "le responsable du foyer est désigné à la création de la famille : \
                 ajoutez cet adulte comme conjoint (partner) ou autre membre (other)",
            ));
        }
        Some(other) => {
            return Err(AppError::invalid(format!(
                "rôle inconnu « {other} » : partner (conjoint) ou other (autre membre)"
            )));
        }
    }
    .to_string();
    let view = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            let person = store::add_adult(conn, id, &input.person, &role, clock::today()).await?;
            adult_of(conn, id, person).await
        })
    })
    .await?;
    Ok(created(
        format!("/api/v1/families/{id}/persons/{}", view.person.id),
        &view,
    ))
}

/// Lire un adulte d'une famille
#[utoipa::path(
    get,
    path = "/api/v1/families/{id}/persons/{person_id}",
    tag = "familles",
    params(
        ("id" = i64, Path, description = "Identifiant de la famille."),
        ("person_id" = i64, Path, description = "Identifiant de l'adulte."),
    ),
    responses(
        (status = 200, description = "L'adulte.", body = AdultView),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de lire les familles.", body = ApiError),
        (status = 404, description = "Famille introuvable, ou adulte qui n'en est pas membre.", body = ApiError),
    )
)]
pub(super) async fn get_person(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let (id, person) = path.into_inner();
    let view = run(&state, &city, &principal, move |conn| {
        Box::pin(async move { adult_of(conn, id, person).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Modifier un adulte d'une famille
///
/// Change l'identité ou les coordonnées d'un adulte (un champ absent reste inchangé ; une
/// chaîne vide efface un champ facultatif). Réponse : l'adulte à jour.
#[utoipa::path(
    patch,
    path = "/api/v1/families/{id}/persons/{person_id}",
    tag = "familles",
    params(
        ("id" = i64, Path, description = "Identifiant de la famille."),
        ("person_id" = i64, Path, description = "Identifiant de l'adulte."),
    ),
    request_body(content = PersonPatch, description = "Les champs à changer.", content_type = "application/json"),
    responses(
        (status = 200, description = "L'adulte à jour.", body = AdultView),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de modifier les familles.", body = ApiError),
        (status = 404, description = "Famille introuvable, ou adulte qui n'en est pas membre.", body = ApiError),
        (status = 422, description = "Donnée invalide : rien n'a été modifié.", body = ApiError),
    )
)]
pub(super) async fn patch_person(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    path: web::Path<(i64, i64)>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let (id, person) = path.into_inner();
    let patch: PersonPatch = strict(body.into_inner())?;
    let view = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            adult_of(conn, id, person).await?;
            store::update_person(conn, person, &patch, clock::today()).await?;
            adult_of(conn, id, person).await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

// ---------------------------------------------------------------------------------------
// Children of a family.

/// Lister les enfants d'une famille
///
/// Les enfants rattachés au foyer, du plus âgé au plus jeune, avec leur garde.
#[utoipa::path(
    get,
    path = "/api/v1/families/{id}/children",
    tag = "familles",
    params(("id" = i64, Path, description = "Identifiant de la famille.")),
    responses(
        (status = 200, description = "Les enfants du foyer.", body = ChildList),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de lire les familles.", body = ApiError),
        (status = 404, description = "Famille introuvable dans cette ville.", body = ApiError),
    )
)]
pub(super) async fn list_children(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let items = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            Ok(
                dossier::household(conn, id, clock::today(), Visibility::default())
                    .await?
                    .children,
            )
        })
    })
    .await?;
    let total = items.len() as i64;
    Ok(HttpResponse::Ok().json(ChildList { items, total }))
}

/// Ajouter un enfant à une famille
///
/// Rattache un nouvel enfant au foyer (résidence habituelle) ; les responsables du foyer
/// deviennent ses responsables légaux. Réponse : le dossier de l'enfant.
#[utoipa::path(
    post,
    path = "/api/v1/families/{id}/children",
    tag = "familles",
    params(("id" = i64, Path, description = "Identifiant de la famille.")),
    request_body(content = ChildInput, description = "L'enfant à ajouter.", content_type = "application/json"),
    responses(
        (status = 201, description = "Enfant ajouté : son dossier.", body = ChildView,
         headers(("Location" = String, description = "Adresse de l'enfant créé."))),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de modifier les familles.", body = ApiError),
        (status = 404, description = "Famille introuvable dans cette ville.", body = ApiError),
        (status = 422, description = "Donnée invalide : rien n'a été créé.", body = ApiError),
    )
)]
pub(super) async fn create_child(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    path: web::Path<i64>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let input: ChildInput = strict(body.into_inner())?;
    let seen = visibility(&state, &city, &principal).await?;
    let key = state.keys.city_key(&city.key_id);
    let view = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            let today = clock::today();
            let child = store::add_child(conn, id, &input, today).await?;
            dossier::child(conn, &key, child, today, seen).await
        })
    })
    .await?;
    Ok(created(
        format!("/api/v1/families/{id}/children/{}", view.person.id),
        &child_json(&view, seen.health)?,
    ))
}

/// Lire le dossier d'un enfant
///
/// Identité, foyers, responsables légaux, garde, autorisations, personnes à contacter,
/// scolarité ; la fiche sanitaire seulement pour les niveaux que le jeton permet de lire
/// (`basic`, `medical`, `confidential`), absente sinon.
#[utoipa::path(
    get,
    path = "/api/v1/families/{id}/children/{child_id}",
    tag = "familles",
    params(
        ("id" = i64, Path, description = "Identifiant de la famille."),
        ("child_id" = i64, Path, description = "Identifiant de l'enfant."),
    ),
    responses(
        (status = 200, description = "Le dossier de l'enfant.", body = ChildView),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de lire les familles.", body = ApiError),
        (status = 404, description = "Famille introuvable, ou enfant qui n'y est pas rattaché.", body = ApiError),
    )
)]
pub(super) async fn get_child(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let (id, child) = path.into_inner();
    let seen = visibility(&state, &city, &principal).await?;
    let key = state.keys.city_key(&city.key_id);
    let view = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            require_child(conn, id, child).await?;
            dossier::child(conn, &key, child, clock::today(), seen).await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(child_json(&view, seen.health)?))
}

/// Modifier un enfant
///
/// Change l'identité ou les coordonnées d'un enfant (un champ absent reste inchangé).
/// Réponse : le dossier de l'enfant à jour.
#[utoipa::path(
    patch,
    path = "/api/v1/families/{id}/children/{child_id}",
    tag = "familles",
    params(
        ("id" = i64, Path, description = "Identifiant de la famille."),
        ("child_id" = i64, Path, description = "Identifiant de l'enfant."),
    ),
    request_body(content = PersonPatch, description = "Les champs à changer.", content_type = "application/json"),
    responses(
        (status = 200, description = "Le dossier de l'enfant à jour.", body = ChildView),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de modifier les familles.", body = ApiError),
        (status = 404, description = "Famille introuvable, ou enfant qui n'y est pas rattaché.", body = ApiError),
        (status = 422, description = "Donnée invalide : rien n'a été modifié.", body = ApiError),
    )
)]
pub(super) async fn patch_child(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    path: web::Path<(i64, i64)>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let (id, child) = path.into_inner();
    let patch: PersonPatch = strict(body.into_inner())?;
    let seen = visibility(&state, &city, &principal).await?;
    let key = state.keys.city_key(&city.key_id);
    let view = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            let today = clock::today();
            require_child(conn, id, child).await?;
            store::update_person(conn, child, &patch, today).await?;
            dossier::child(conn, &key, child, today, seen).await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(child_json(&view, seen.health)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_refused_in_french_at_any_depth() {
        let ok: HouseholdPatch = strict(json!({ "regime": "msa" })).unwrap();
        assert_eq!(ok.regime.as_deref(), Some("msa"));
        let typo = strict::<HouseholdPatch>(json!({ "regim": "msa" })).unwrap_err();
        assert!(typo.to_string().contains("« regim » est inconnu"), "{typo}");
        let nested =
            strict::<NewFamily>(json!({ "head": { "last_name": "A", "nom": "B" } })).unwrap_err();
        assert!(nested.to_string().contains("« head.nom »"), "{nested}");
        let partner = strict::<NewFamily>(json!({ "partner": { "telephone": "06" } })).unwrap_err();
        assert!(
            partner.to_string().contains("« partner.telephone »"),
            "{partner}"
        );
        let child =
            strict::<NewFamily>(json!({ "children": [{}, { "prenom": "Léo" }] })).unwrap_err();
        assert!(
            child.to_string().contains("« children[1].prenom »"),
            "{child}"
        );
        let moved =
            strict::<HouseholdPatch>(json!({ "address": { "ville": "Lyon" } })).unwrap_err();
        assert!(moved.to_string().contains("« address.ville »"), "{moved}");
        let complete: NewFamily = strict(json!({
            "partner": { "last_name": "A", "first_name": "B" },
            "billing_address": { "line1": "1 rue", "postal_code": "69000", "town": "Lyon" },
            "children": [{ "last_name": "A", "first_name": "C", "own_email_consent": true }],
        }))
        .unwrap();
        assert_eq!(complete.children.len(), 1);
        let flattened: NewPerson =
            strict(json!({ "role": "partner", "last_name": "Martin" })).unwrap();
        assert_eq!(flattened.person.last_name, "Martin");
        assert!(strict::<PersonPatch>(json!([1, 2])).is_err());
        let wrong_type = strict::<NewFamily>(json!({ "ignore_homonyms": "oui" })).unwrap_err();
        assert!(matches!(wrong_type, AppError::Invalid(_)));
    }

    #[test]
    fn health_levels_not_allowed_are_left_out() {
        let sheet = || {
            json!({ "id": 1, "health": {
                "basic": null, "medical": { "notes": "x" }, "confidential": { "aeeh": true } } })
        };
        let mut basic_only = sheet();
        keep_health_levels(
            &mut basic_only,
            HealthAccess {
                basic: true,
                ..HealthAccess::default()
            },
        );
        assert_eq!(basic_only, json!({ "id": 1, "health": { "basic": null } }));
        let mut none = sheet();
        keep_health_levels(&mut none, HealthAccess::default());
        assert_eq!(none, json!({ "id": 1 }));
    }
}
