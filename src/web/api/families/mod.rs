//! The family dossier over the API: households, their adults and their children. Reads
//! need `families` read, writes `families` write; incomes, bank details and each level of
//! the health sheet appear only when the token's scopes allow reading them.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::domain::family::dossier::{self, AdultView, ChildSummary, ChildView, Visibility};
use crate::domain::family::health::HealthAccess;
use crate::domain::family::model::{
    AddressInput, AdultInput, ChildInput, HouseholdPatch, NewFamily, PersonPatch,
};
use crate::domain::family::search::{self, Homonym, HouseholdSummary};
use crate::domain::family::store::{self, Creation};
use crate::platform::auth::authz::{Action, CITY};
use crate::platform::clock;
use crate::platform::db::{Conn, Work};
use crate::platform::error::{AppError, AppResult};
use crate::platform::tenancy::City;
use crate::web::State;
use crate::web::faces::CurrentCity;
use crate::web::forms::in_french;
use crate::web::guard::{Need, Principal, Routes};

mod members;

pub(super) use members::*;

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

pub fn routes(routes: &mut Routes) {
    let read = Need::Api("families", Action::Read);
    let write = Need::Api("families", Action::Write);
    routes
        .get("/api/v1/families", read, list_families)
        .post("/api/v1/families", write, create_family)
        .get("/api/v1/families/{id}", read, get_family)
        .patch("/api/v1/families/{id}", write, patch_family)
        .get("/api/v1/families/{id}/persons", read, list_persons)
        .post("/api/v1/families/{id}/persons", write, create_person)
        .get(
            "/api/v1/families/{id}/persons/{person_id}",
            read,
            get_person,
        )
        .patch(
            "/api/v1/families/{id}/persons/{person_id}",
            write,
            patch_person,
        )
        .get("/api/v1/families/{id}/children", read, list_children)
        .post("/api/v1/families/{id}/children", write, create_child)
        .get("/api/v1/families/{id}/children/{child_id}", read, get_child)
        .patch(
            "/api/v1/families/{id}/children/{child_id}",
            write,
            patch_child,
        );
}

// ---------------------------------------------------------------------------------------
// Shapes of the API (the dossier views themselves come from the domain).

/// Une erreur : un code court et un message en français.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    /// Code court : `introuvable`, `invalide`, `interdit`, `non_authentifie`, `conflit`...
    #[schema(example = "introuvable")]
    pub error: String,
    /// Message en français, à montrer tel quel.
    #[schema(example = "Famille introuvable.")]
    pub message: String,
}

/// Création refusée : des personnes ressemblent à celles de la demande.
#[derive(Debug, Serialize, ToSchema)]
pub struct HomonymsError {
    /// Toujours `homonymes`.
    #[schema(example = "homonymes")]
    pub error: String,
    pub message: String,
    /// Les personnes existantes qui ressemblent (avec leur famille) : vérifiez-les, puis
    /// renvoyez la demande avec `ignore_homonyms: true` s'il s'agit bien d'autres personnes.
    pub homonyms: Vec<Homonym>,
}

/// Une page de familles.
#[derive(Debug, Serialize, ToSchema)]
pub struct FamilyList {
    pub items: Vec<HouseholdSummary>,
    /// Nombre total de familles correspondant à la recherche (toutes pages confondues).
    pub total: i64,
}

/// Les adultes d'une famille.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonList {
    pub items: Vec<AdultView>,
    pub total: i64,
}

/// Les enfants d'une famille.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildList {
    pub items: Vec<ChildSummary>,
    pub total: i64,
}

/// Recherche de familles.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Mots recherchés (noms et prénoms des adultes et des enfants, numéro de famille,
    /// date de naissance, adresse) ; sans accents ni majuscules obligatoires, fautes de
    /// frappe tolérées. Vide : toutes les familles, les plus récentes d'abord.
    pub q: Option<String>,
    /// Inclure les familles archivées (`false` par défaut).
    pub archived: Option<bool>,
    /// Nombre de familles par page : 50 par défaut, 200 au plus (une valeur plus grande
    /// est ramenée à 200).
    #[param(minimum = 1)]
    pub limit: Option<i64>,
    /// Nombre de familles à sauter (pagination), 0 par défaut.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Un adulte ajouté à une famille.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct NewPerson {
    /// Rôle dans le foyer : `partner` (conjoint) ou `other` (autre membre, par défaut). Le
    /// responsable du foyer est désigné à la création de la famille.
    #[schema(example = "partner")]
    pub role: Option<String>,
    #[serde(flatten)]
    pub person: AdultInput,
}

// ---------------------------------------------------------------------------------------
// Plumbing shared by the handlers.

/// What this caller may see beyond identity and contacts (incomes, bank details, health
/// levels), from the token's scopes.
async fn visibility(state: &State, city: &City, principal: &Principal) -> AppResult<Visibility> {
    let may = async |object: &str| principal.may(state, city, object, CITY, Action::Read).await;
    Ok(Visibility {
        income: may("family_income").await?,
        bank: may("bank").await?,
        health: HealthAccess {
            basic: may("health:basic").await?,
            medical: may("health:medical").await?,
            confidential: may("health:confidential").await?,
        },
    })
}

/// Runs `work` in the city's transaction, as this caller (for the audit trail).
pub(super) async fn run<T, F>(
    state: &State,
    city: &City,
    principal: &Principal,
    work: F,
) -> AppResult<T>
where
    T: Send,
    F: for<'c> FnOnce(&'c mut Conn) -> Work<'c, T> + Send,
{
    let actor = principal.actor();
    state.db.run(city.scope(&actor), work).await
}

/// A request body, and the shape of everything it may carry (for `strict`): its fields
/// with their defaults, and the fields of its nested objects and of its lists' items.
pub(super) trait Body: DeserializeOwned + Serialize + Default {
    fn template() -> Value {
        shape::<Self>()
    }
}

fn shape<T: Serialize + Default>() -> Value {
    serde_json::to_value(T::default()).unwrap_or(Value::Null)
}

impl Body for NewFamily {
    fn template() -> Value {
        let mut template = shape::<NewFamily>();
        if let Value::Object(fields) = &mut template {
            fields.insert("partner".into(), shape::<AdultInput>());
            fields.insert("billing_address".into(), shape::<AddressInput>());
            fields.insert("children".into(), Value::Array(vec![shape::<ChildInput>()]));
        }
        template
    }
}

impl Body for HouseholdPatch {
    fn template() -> Value {
        let mut template = shape::<HouseholdPatch>();
        if let Value::Object(fields) = &mut template {
            fields.insert("address".into(), shape::<AddressInput>());
            fields.insert("billing_address".into(), shape::<AddressInput>());
        }
        template
    }
}

impl Body for PersonPatch {}
impl Body for NewPerson {}
impl Body for ChildInput {}

/// A JSON body read strictly: a field the API does not know is refused (a misspelt field
/// would otherwise be ignored in silence), then the usual French messages.
pub(super) fn strict<T: Body>(body: Value) -> AppResult<T> {
    if !body.is_object() {
        return Err(AppError::invalid(
            "corps JSON invalide : un objet est attendu",
        ));
    }
    known_fields(&body, &T::template(), "")?;
    serde_json::from_value(body).map_err(|e| {
        AppError::invalid(format!(
            "corps JSON invalide : {}",
            in_french(&e.to_string())
        ))
    })
}

fn known_fields(body: &Value, template: &Value, path: &str) -> AppResult<()> {
    match (body, template) {
        (Value::Object(body), Value::Object(template)) => {
            for (key, value) in body {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let Some(expected) = template.get(key) else {
                    return Err(AppError::invalid(format!(
                        "corps JSON invalide : le champ « {field} » est inconnu"
                    )));
                };
                known_fields(value, expected, &field)?;
            }
            Ok(())
        }
        (Value::Array(items), Value::Array(template)) => match template.first() {
            Some(expected) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| known_fields(item, expected, &format!("{path}[{i}]"))),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// A child view as JSON, keeping only the health levels the caller may read.
fn child_json(view: &ChildView, access: HealthAccess) -> AppResult<Value> {
    let mut value = serde_json::to_value(view).map_err(AppError::internal)?;
    keep_health_levels(&mut value, access);
    Ok(value)
}

/// Removes the health levels `access` does not allow (and the whole sheet if none is).
fn keep_health_levels(value: &mut Value, access: HealthAccess) {
    let Value::Object(object) = value else { return };
    if !(access.basic || access.medical || access.confidential) {
        object.remove("health");
        return;
    }
    if let Some(Value::Object(health)) = object.get_mut("health") {
        for (level, allowed) in [
            ("basic", access.basic),
            ("medical", access.medical),
            ("confidential", access.confidential),
        ] {
            if !allowed {
                health.remove(level);
            }
        }
    }
}

pub(super) fn created(location: String, body: &impl Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body)
}

/// The adult `person` among the current adults of `family` (404 otherwise).
async fn adult_of(conn: &mut Conn, family: i64, person: i64) -> AppResult<AdultView> {
    dossier::household(conn, family, clock::today(), Visibility::default())
        .await?
        .adults
        .into_iter()
        .find(|a| a.person.id == person)
        .ok_or_else(|| AppError::not_found("Personne introuvable dans cette famille."))
}

/// Checks that `child` is a child of `family` (404 otherwise, whatever the reason).
async fn require_child(conn: &mut Conn, family: i64, child: i64) -> AppResult<()> {
    let kind = store::person_in_household(conn, child, family)
        .await
        .map_err(|_| AppError::not_found("Enfant introuvable dans cette famille."))?;
    if kind == "child" {
        Ok(())
    } else {
        Err(AppError::not_found(
            "Enfant introuvable dans cette famille.",
        ))
    }
}

// ---------------------------------------------------------------------------------------
// Families.

/// Rechercher des familles
///
/// Familles dont les membres, le numéro ou l'adresse correspondent à tous les mots de `q`
/// (sans `q` : toutes les familles). Les familles archivées sont exclues sauf avec
/// `archived=true`. Réponse paginée : `items` (au plus `limit`) et `total`.
#[utoipa::path(
    get,
    path = "/api/v1/families",
    tag = "familles",
    params(ListQuery),
    responses(
        (status = 200, description = "Les familles trouvées.", body = FamilyList),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de lire les familles.", body = ApiError),
        (status = 422, description = "Paramètres invalides.", body = ApiError),
    )
)]
pub(super) async fn list_families(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let ListQuery {
        q,
        archived,
        limit,
        offset,
    } = query.into_inner();
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    let offset = offset.unwrap_or(0);
    if limit < 1 {
        return Err(AppError::invalid(
            "paramètre « limit » invalide : 1 au moins (200 au plus)",
        ));
    }
    if offset < 0 {
        return Err(AppError::invalid(
            "paramètre « offset » invalide : 0 au moins",
        ));
    }
    let limit = limit.min(MAX_LIMIT);
    let q = q.unwrap_or_default();
    let include_archived = archived.unwrap_or(false);
    let (items, total) = run(&state, &city, &principal, move |conn| {
        Box::pin(async move { search::search(conn, &q, include_archived, limit, offset).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(FamilyList { items, total }))
}

/// Créer une famille
///
/// Crée le foyer avec son responsable, éventuellement son conjoint et ses enfants, et son
/// adresse. Si des personnes semblables existent déjà (homonymes), rien n'est créé et la
/// réponse 409 les liste : renvoyez la demande avec `ignore_homonyms: true` après les avoir
/// vérifiées. Une donnée invalide est refusée (422) sans rien créer.
#[utoipa::path(
    post,
    path = "/api/v1/families",
    tag = "familles",
    request_body(content = NewFamily, description = "La famille à créer.", content_type = "application/json"),
    responses(
        (status = 201, description = "Famille créée : son dossier, avec `id` et `number`.", body = dossier::HouseholdView,
         headers(("Location" = String, description = "Adresse de la famille créée."))),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de modifier les familles.", body = ApiError),
        (status = 409, description = "Homonymes trouvés : rien n'a été créé.", body = HomonymsError),
        (status = 422, description = "Donnée invalide : rien n'a été créé.", body = ApiError),
    )
)]
pub(super) async fn create_family(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let input: NewFamily = strict(body.into_inner())?;
    let seen = visibility(&state, &city, &principal).await?;
    let outcome = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            let today = clock::today();
            match store::create_family(conn, &input, today).await? {
                Creation::Created(family) => {
                    Ok(Ok(dossier::household(conn, family.id, today, seen).await?))
                }
                Creation::Homonyms(homonyms) => Ok(Err(homonyms)),
            }
        })
    })
    .await?;
    match outcome {
        Ok(view) => Ok(created(format!("/api/v1/families/{}", view.id), &view)),
        Err(homonyms) => Ok(HttpResponse::Conflict().json(json!({
            "error": "homonymes",
            "message": "Des personnes semblables sont déjà enregistrées : vérifiez qu'il ne \
                        s'agit pas de la même famille, puis renvoyez la demande avec \
                        « ignore_homonyms » à true pour la créer quand même.",
            "homonyms": homonyms,
        }))),
    }
}

/// Lire une famille
///
/// Le dossier du foyer : situation, adresses, adultes, enfants (avec la garde alternée) ;
/// les revenus et les coordonnées bancaires seulement si le jeton permet de les lire.
#[utoipa::path(
    get,
    path = "/api/v1/families/{id}",
    tag = "familles",
    params(("id" = i64, Path, description = "Identifiant de la famille.")),
    responses(
        (status = 200, description = "Le dossier de la famille.", body = dossier::HouseholdView),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de lire les familles.", body = ApiError),
        (status = 404, description = "Famille introuvable dans cette ville.", body = ApiError),
    )
)]
pub(super) async fn get_family(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let seen = visibility(&state, &city, &principal).await?;
    let view = run(&state, &city, &principal, move |conn| {
        Box::pin(async move { dossier::household(conn, id, clock::today(), seen).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Modifier une famille
///
/// Change la situation, le régime, le numéro d'allocataire ou les adresses (un champ absent
/// reste inchangé). Une nouvelle adresse prend effet aujourd'hui ; l'ancienne est gardée
/// dans l'historique. Réponse : le dossier à jour.
#[utoipa::path(
    patch,
    path = "/api/v1/families/{id}",
    tag = "familles",
    params(("id" = i64, Path, description = "Identifiant de la famille.")),
    request_body(content = HouseholdPatch, description = "Les champs à changer.", content_type = "application/json"),
    responses(
        (status = 200, description = "Le dossier à jour.", body = dossier::HouseholdView),
        (status = 401, description = "Jeton absent ou inconnu.", body = ApiError),
        (status = 403, description = "Le jeton ne permet pas de modifier les familles.", body = ApiError),
        (status = 404, description = "Famille introuvable dans cette ville.", body = ApiError),
        (status = 422, description = "Donnée invalide : rien n'a été modifié.", body = ApiError),
    )
)]
pub(super) async fn patch_family(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    path: web::Path<i64>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let patch: HouseholdPatch = strict(body.into_inner())?;
    let seen = visibility(&state, &city, &principal).await?;
    let view = run(&state, &city, &principal, move |conn| {
        Box::pin(async move {
            let today = clock::today();
            store::update_household(conn, id, &patch, today).await?;
            dossier::household(conn, id, today, seen).await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
