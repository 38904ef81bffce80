//! Documents of a family (upload, download, expiring soon) and its RGPD export and erasure.

use super::*;

/// The documents folder of a city.
fn documents_root(state: &State, city: &City) -> std::path::PathBuf {
    state.config.documents_dir.join(&city.schema)
}

/// The city's document limits (size, count).
async fn document_limits(state: &State, city: &City) -> AppResult<Limits> {
    let settings = state
        .settings
        .in_force(&state.db, city, &CATALOGUE, clock::today())
        .await?;
    Ok(Limits {
        max_bytes: settings["documents.max_size_mb"].as_u64().unwrap_or(10) * 1024 * 1024,
        max_count: settings["documents.max_count"].as_i64().unwrap_or(50),
    })
}

pub(super) async fn upload(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    multipart: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let limits = document_limits(&state, &city).await?;
    let form = super::super::upload::read(multipart, &csrf, limits.max_bytes).await?;
    let root = documents_root(&state, &city);
    let author = principal.actor();
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "La pièce est enregistrée.",
        move |conn| {
            Box::pin(async move {
                store::require_household(conn, id).await?;
                let owner = match form.field("person_id").trim() {
                    "" => Owner::Household(id),
                    person => {
                        let person: i64 = person
                            .parse()
                            .map_err(|_| AppError::invalid("personne invalide"))?;
                        store::person_in_household(conn, person, id).await?;
                        Owner::Person(person)
                    }
                };
                let upload = Upload {
                    owner,
                    household: id,
                    kind: form.field("kind"),
                    title: form.field("title"),
                    file_name: &form.file_name,
                    valid_until: date(form.field("valid_until"), "date de fin de validité")?,
                    bytes: &form.bytes,
                };
                documents::store(conn, &root, &author, limits, upload)
                    .await
                    .map(|_| ())
            })
        },
    )
    .await
}

/// A document's file, after the permission check, never cached by the browser.
pub(super) async fn download(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move { documents::get(conn, id).await })
        })
        .await?;
    let bytes = documents::read(&documents_root(&state, &city), &row).await?;
    Ok(HttpResponse::Ok()
        .content_type(row.mime.as_str())
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{}\"", row.file_name.replace('"', "")),
        ))
        .body(bytes))
}

pub(super) async fn expiring(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
) -> AppResult<HttpResponse> {
    let settings = state
        .settings
        .in_force(&state.db, &city, &CATALOGUE, clock::today())
        .await?;
    let days = settings["documents.expiry_warning_days"]
        .as_u64()
        .unwrap_or(30);
    let today = clock::today();
    let rows = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move { documents::expiring(conn, today, days).await })
        })
        .await?;
    let layout = agent_layout(
        &state,
        &city,
        &principal,
        &csrf,
        "Pièces arrivant à échéance",
        "/agent/documents/expirant",
    )
    .await?;
    html(
        &state.templates,
        &layout,
        "backoffice/documents_expiring",
        &json!({
            "days": days,
            "documents": rows.iter().map(|d| json!({
                "id": d.id, "title": d.title, "kind": documents::KINDS.iter().find(|(k, _)| *k == d.kind).map_or("", |(_, l)| *l),
                "household_id": d.household_id, "person_id": d.person_id,
                "valid_until": d.valid_until.map(|v| v.format("%d/%m/%Y").to_string()),
                "expired": d.valid_until.is_some_and(|v| v < today),
            })).collect::<Vec<_>>(),
        }),
    )
}

pub(super) async fn export(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let key = state.keys.city_key(&city.key_id);
    let actor = principal.actor();
    let author = actor.clone();
    let document = state
        .db
        .run(city.scope(&actor), move |conn| {
            let actor = author;
            Box::pin(async move {
                let document = rgpd::export(conn, &key, id, clock::today()).await?;
                audit::record(
                    conn,
                    audit::Event::Export,
                    &actor,
                    ("households", Some(&id.to_string())),
                    json!({}),
                )
                .await
                .map(|_| document)
            })
        })
        .await?;
    let number = document["household"]["number"].as_i64().unwrap_or_default();
    Ok(HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"famille-{number}.json\""),
        ))
        .body(serde_json::to_string_pretty(&document).map_err(AppError::internal)?))
}

pub(super) async fn erase(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let root = documents_root(&state, &city);
    let actor = principal.actor();
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "Les données personnelles de la famille sont effacées ; la comptabilité est conservée.",
        move |conn| {
            Box::pin(async move { rgpd::anonymise(conn, id, &root, &actor, &form.reason).await })
        },
    )
    .await
}
