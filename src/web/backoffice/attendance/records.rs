//! What a list keeps beside the marks: staff present, the daily notebook, and the CSV exports.

use super::*;

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct StaffForm {
    nom: String,
    moi: Option<String>,
    present: Option<String>,
    jour: String,
    retour: String,
}

pub(super) async fn add_staff(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<StaffForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (group, day) = writable_group(&desk, id, &form.jour).await?;
    let me = match (&desk.principal, form.moi.is_some()) {
        (
            Principal::Agent {
                id: Some(agent), ..
            },
            true,
        ) => Some(*agent),
        _ => None,
    };
    let name = if form.nom.trim().is_empty() && me.is_some() {
        desk.principal.label().to_string()
    } else {
        form.nom.clone()
    };
    let new = staff::NewMember {
        group: id,
        day,
        name,
        agent_id: me,
        present: form.present.is_some(),
    };
    let outcome = desk
        .run(move |conn| Box::pin(async move { staff::add(conn, &new).await }))
        .await;
    match outcome {
        Ok(_) => Ok(flash::redirect(
            &back_to(&form.retour, day, &format!("g{id}")),
            &format!("L'équipe de « {} » est complétée.", group.group_name),
        )),
        Err(error) => {
            refused_on_list(&desk, &form.retour, day, format!("g{id}"), &form, error).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct StaffChange {
    present: String,
    retour: String,
}

/// The staff line `id` once the caller may change its group's staff that day.
pub(super) async fn writable_member(
    desk: &Desk,
    id: i64,
) -> AppResult<(staff::StaffMember, GroupMeta)> {
    let (member, group) = desk
        .run(move |conn| {
            Box::pin(async move {
                let member = staff::member(conn, id).await?;
                let group = list::group(conn, member.group_id).await?;
                Ok((member, group))
            })
        })
        .await?;
    require_on(desk, member.day, Place::of(&group), Action::Write).await?;
    Ok((member, group))
}

pub(super) async fn set_staff(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<StaffChange>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (member, group) = writable_member(&desk, id).await?;
    let present = form.present == "1";
    desk.run(move |conn| Box::pin(async move { staff::set_present(conn, id, present).await }))
        .await?;
    Ok(flash::redirect(
        &back_to(&form.retour, member.day, &format!("g{}", group.group_id)),
        &format!(
            "{} : {}.",
            member.name,
            if present { "présent(e)" } else { "absent(e)" }
        ),
    ))
}

pub(super) async fn remove_staff(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<StaffChange>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (member, group) = writable_member(&desk, id).await?;
    desk.run(move |conn| Box::pin(async move { staff::remove(conn, id).await }))
        .await?;
    Ok(flash::redirect(
        &back_to(&form.retour, member.day, &format!("g{}", group.group_id)),
        &format!(
            "{} ne fait plus partie de l'équipe de « {} » ce jour-là.",
            member.name, group.group_name
        ),
    ))
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct NoteForm {
    #[serde(rename = "type")]
    kind: String,
    heure: String,
    texte: String,
    retour: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct BackQuery {
    retour: String,
}

pub(super) async fn notebook_page(
    desk: Desk,
    id: web::Path<i64>,
    query: web::Query<BackQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let message = pending(&req);
    let response = render_notebook(
        &desk,
        id.into_inner(),
        &query.retour,
        message.as_deref(),
        None,
    )
    .await?;
    Ok(shown(response, &message))
}

pub(super) async fn render_notebook(
    desk: &Desk,
    id: i64,
    back: &str,
    message: Option<&str>,
    refused: Option<(String, &NoteForm)>,
) -> AppResult<HttpResponse> {
    let (place, rights) = booking_in(desk, id, Action::Read).await?;
    let key = desk.state.keys.city_key(&desk.city.key_id);
    let (child, activity, day) = (place.child_id, place.activity_id, place.day);
    let (booking, notes, watch) = desk
        .run(move |conn| {
            Box::pin(async move {
                let booking = crate::domain::booking::store::view(conn, id).await?;
                // Care notes (treatments given...) are health data: for health readers.
                let notes: Vec<notebook::NoteView> = notebook::of_day(conn, child, activity, day)
                    .await?
                    .into_iter()
                    .filter(|n| rights.health || n.note.kind != "care")
                    .collect();
                let watch = if rights.health {
                    list::watch_of(conn, &key, &[child]).await?.remove(&child)
                } else {
                    None
                };
                Ok((booking, notes, watch))
            })
        })
        .await?;
    let back = if back.starts_with("/agent/pointage/liste?") {
        back.to_string()
    } else {
        ListQuery {
            jour: day.to_string(),
            activite: activity.to_string(),
            groupe: place.group_id.to_string(),
            ..ListQuery::default()
        }
        .url()
    };
    let title = format!("Cahier de suivi — {} — {}", place.child_name, fr(day));
    let layout = desk.layout(&title, "/agent/pointage").await?.flash(message);
    let form = refused.as_ref().map(|r| r.1.clone()).unwrap_or_default();
    desk.page(
        &layout,
        "backoffice/attendance_notebook",
        &json!({
            "booking": booking,
            "child": place.child_name,
            "child_id": child,
            "day_text": fr_long(day),
            "notes": notes,
            "watch": watch.filter(|w| w.any()),
            "write": rights.write,
            "back": back,
            "error": refused.as_ref().map(|r| &r.0),
            "form": form,
            "kinds": super::super::activities::options(notebook::KINDS.iter().copied(), std::slice::from_ref(&form.kind)),
        }),
        refused.is_some(),
    )
}

pub(super) async fn add_note(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<NoteForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (place, _) = booking_in(&desk, id, Action::Write).await?;
    let author = desk.principal.label().to_string();
    let input = form.clone();
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let note = notebook::NewNote {
                    child: place.child_id,
                    activity: place.activity_id,
                    day: place.day,
                    at: time_of(&input.heure, "heure")?,
                    kind: input.kind,
                    text: input.texte,
                };
                notebook::add(conn, note, &author).await
            })
        })
        .await;
    let page = format!(
        "/agent/pointage/reservations/{id}/cahier?{}",
        serde_html_form::to_string([("retour", form.retour.as_str())]).unwrap_or_default()
    );
    match outcome {
        Ok(_) => Ok(flash::redirect(
            &page,
            "L'observation est ajoutée au cahier de suivi.",
        )),
        Err(error) => match refusal(&error) {
            Some(message) => {
                render_notebook(&desk, id, &form.retour, None, Some((message, &form))).await
            }
            None => Err(error),
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ExportQuery {
    du: String,
    au: String,
    structure: String,
    activite: String,
    groupe: String,
    format: String,
}

pub(super) async fn export(desk: Desk, query: web::Query<ExportQuery>) -> AppResult<HttpResponse> {
    let today = clock::today();
    let to = day_of(&query.au, "date de fin")?.unwrap_or(today);
    let from = day_of(&query.du, "date de début")?.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
    csv::check_period(from, to)?;
    let selection = Selection {
        from,
        to,
        structure: number(&query.structure, "la structure")?,
        activity: number(&query.activite, "l'activité")?,
        group: number(&query.groupe, "le groupe")?,
        with_cancelled: true,
        ..Selection::default()
    };
    let summary = query.format == "synthese";
    let sel = selection.clone();
    let rows = desk
        .run(move |conn| {
            Box::pin(async move {
                list::heading(conn, &sel).await?;
                list::rows(conn, &sel).await
            })
        })
        .await?;
    // Only the groups the caller may read (staff assignments do not open a period).
    let gate = Gate::new(&desk, None).await?;
    let mut readable: HashMap<i64, bool> = HashMap::new();
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let allowed = match readable.get(&row.group_id) {
            Some(allowed) => *allowed,
            None => {
                let place = Place {
                    group: Some(row.group_id),
                    activity: row.activity_id,
                    structure: row.structure_id,
                };
                let allowed = gate.may("attendance", Action::Read, place).await?;
                readable.insert(row.group_id, allowed);
                allowed
            }
        };
        if allowed {
            kept.push(row);
        }
    }
    let body = if summary {
        csv::summary(&kept)?
    } else {
        csv::detail(&kept)?
    };
    let name = format!(
        "pointage-{}{from}-{to}.csv",
        if summary { "synthese-" } else { "" }
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}
