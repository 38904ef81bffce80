//! One activity's page: its sections, the forms they carry and what each form changes.

use super::forms::*;
use super::*;

/// A form of the activity page that was refused: its section (anchor), its key, why, and
/// what was typed (shown again).
pub(super) struct Refused {
    section: &'static str,
    key: String,
    message: String,
    input: Value,
}

/// Where a change comes from on the activity page.
pub(super) struct Origin {
    section: &'static str,
    key: String,
    input: Value,
}

impl Origin {
    fn new(section: &'static str, key: impl Into<String>, input: &impl Serialize) -> Origin {
        Origin {
            section,
            key: key.into(),
            input: serde_json::to_value(input).unwrap_or(Value::Null),
        }
    }
}

impl Refused {
    /// The typed input of form `key` if it is the refused one, else `default`.
    fn or<T: DeserializeOwned>(refused: &Option<Refused>, key: &str, default: T) -> T {
        refused
            .as_ref()
            .filter(|r| r.key == key)
            .and_then(|r| serde_json::from_value(r.input.clone()).ok())
            .unwrap_or(default)
    }

    fn is(refused: &Option<Refused>, key: &str) -> bool {
        refused.as_ref().is_some_and(|r| r.key == key)
    }
}

/// 404 unless the activity is this city's, 403 unless the caller may `action` on it.
pub(super) async fn allowed(desk: &Desk, id: i64, action: Action) -> AppResult<()> {
    let structure = desk
        .run(move |conn| Box::pin(async move { catalogue::structure_of(conn, id).await }))
        .await?;
    desk.require_in("activities", &populations(id, structure), action)
        .await
}

pub(super) async fn activity_page(
    desk: Desk,
    id: web::Path<i64>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    allowed(&desk, id, Action::Read).await?;
    let message = pending(&req);
    let response = render_activity(&desk, id, message.as_deref(), None).await?;
    Ok(shown(response, &message))
}

/// Runs a change of activity `id`; bad input brings the page back with the French error
/// by the form and what was typed (nothing changed), otherwise a redirect with `done`.
pub(super) async fn change<F>(
    desk: Desk,
    id: i64,
    origin: Origin,
    done: &str,
    work: F,
) -> AppResult<HttpResponse>
where
    F: for<'c> FnOnce(&'c mut Conn) -> Work<'c, ()> + Send,
{
    allowed(&desk, id, Action::Write).await?;
    match desk.run(work).await {
        Ok(()) => Ok(flash::redirect(
            &format!("/agent/activites/{id}#{}", origin.section),
            done,
        )),
        Err(error) => match refusal(&error) {
            Some(message) => {
                let refused = Refused {
                    section: origin.section,
                    key: origin.key,
                    message,
                    input: origin.input,
                };
                render_activity(&desk, id, None, Some(refused)).await
            }
            None => Err(error),
        },
    }
}

pub(super) async fn render_activity(
    desk: &Desk,
    id: i64,
    message: Option<&str>,
    refused: Option<Refused>,
) -> AppResult<HttpResponse> {
    let today = clock::today();
    let (view, structures, schools) = desk
        .run(move |conn| {
            Box::pin(async move {
                let view = catalogue::view(conn, id, today).await?;
                let structures = catalogue::structures(conn).await?;
                let schools = school_model::schools(
                    conn,
                    &crate::domain::activity::facts::school_year(today),
                )
                .await?;
                Ok((view, structures, schools))
            })
        })
        .await?;
    let write = desk
        .may_in(
            "activities",
            &populations(id, view.general.structure_id),
            Action::Write,
        )
        .await?;
    let r = &refused;
    let general = Refused::or(r, "general", GeneralForm::of(&view.general));
    let units: Vec<Value> = view
        .units
        .iter()
        .map(|unit| {
            let key = format!("unit-{}", unit.id);
            let form = Refused::or(r, &key, UnitForm::of(unit));
            json!({
                "unit": unit, "form": form, "others": form.others(&view.units, Some(unit.id)),
                "open": Refused::is(r, &key),
                "hours": format!("{} – {}", hm(unit.starts), hm(unit.ends)),
            })
        })
        .collect();
    let new_unit = Refused::or(r, "unit_new", UnitForm::default());
    let levels = LEVELS.iter().copied();
    let groups: Vec<Value> = view
        .groups
        .iter()
        .map(|group| {
            let key = format!("group-{}", group.id);
            let form = Refused::or(r, &key, GroupForm::of(group));
            json!({
                "group": group, "levels": options(levels.clone(), &form.levels), "form": form,
                "open": Refused::is(r, &key),
                "ages": ages_text(group.min_age_months, group.max_age_months),
                "ratio": group.children_per_staff.map_or_else(
                    || "—".to_string(),
                    |n| format!("1 adulte pour {n} enfant{}", if n > 1 { "s" } else { "" }),
                ),
            })
        })
        .collect();
    let new_group = Refused::or(r, "group_new", GroupForm::default());
    let new_capacity = Refused::or(
        r,
        "capacity_new",
        CapacityForm {
            kind: "permanent".into(),
            valid_from: today.format("%Y-%m-%d").to_string(),
            ..CapacityForm::default()
        },
    );
    let new_opening = Refused::or(
        r,
        "opening_new",
        OpeningForm {
            rule: "closure".into(),
            ..OpeningForm::default()
        },
    );
    let notices: Vec<Value> = [
        (
            "booking",
            "Réservation",
            &view.booking_notice,
            &view.booking_notice_text,
        ),
        (
            "cancel",
            "Annulation",
            &view.cancel_notice,
            &view.cancel_notice_text,
        ),
    ]
    .into_iter()
    .map(|(which, title, rule, text)| {
        let key = format!("notice-{which}");
        let form = Refused::or(r, &key, NoticeForm::of(which, rule.as_ref()));
        json!({
            "which": which, "title": title, "text": text, "open": Refused::is(r, &key),
            "excluded": options(WEEKDAYS[..5].iter().map(|(_, c, l)| (*c, *l)), &form.excluded),
            "form": form,
        })
    })
    .collect();
    let new_period = Refused::or(r, "period_new", PeriodForm::default());
    let new_criterion = Refused::or(r, "criterion_new", CriterionForm::default());
    let school_names: Vec<(String, String)> = schools
        .iter()
        .map(|s| (s.school.id.to_string(), s.school.name.clone()))
        .collect();
    let school_list = || school_names.iter().map(|(i, n)| (i.as_str(), n.as_str()));
    let facts = catalogue::FACTS.iter().copied();
    let title = format!("{} — activité", view.general.name);
    let layout = desk
        .layout(&title, "/agent/activites")
        .await?
        .flash(message);
    let data = json!({
        "activity": view,
        "write": write,
        "error": refused.as_ref().map(|r| json!({ "section": r.section, "message": r.message })),
        "general": general,
        "structures": structure_options(&structures, &general.structure_id),
        "when_full": options(catalogue::WHEN_FULL.iter().copied(), std::slice::from_ref(&general.when_full)),
        "late_absences": options(catalogue::LATE_ABSENCES.iter().copied(), std::slice::from_ref(&general.late_absence)),
        "documents": options(documents::KINDS.iter().copied(), &general.required_documents),
        "facts": options(facts, &general.required_facts),
        "units": units,
        "new_unit": { "form": new_unit, "others": new_unit.others(&view.units, None), "open": Refused::is(r, "unit_new") },
        "groups": groups,
        "new_group": { "form": new_group, "levels": options(levels.clone(), &new_group.levels), "open": Refused::is(r, "group_new") },
        "new_capacity": {
            "form": new_capacity, "open": Refused::is(r, "capacity_new"),
            "punctual": new_capacity.kind == "punctual",
            "groups": view.groups.iter().map(|g| json!({ "id": g.id, "name": g.name, "chosen": g.id.to_string() == new_capacity.group_id })).collect::<Vec<_>>(),
            "units": view.units.iter().map(|u| json!({ "id": u.id, "label": u.label, "chosen": u.id.to_string() == new_capacity.unit_id })).collect::<Vec<_>>(),
        },
        "today": today.format("%Y-%m-%d").to_string(),
        "new_opening": {
            "form": new_opening, "open": Refused::is(r, "opening_new"),
            "kinds": options(OPENING_KINDS.iter().copied(), std::slice::from_ref(&new_opening.rule)),
            "weekdays": options(WEEKDAYS.iter().map(|(_, c, l)| (*c, *l)), &new_opening.weekdays),
            "holidays": options(HOLIDAY_KINDS.iter().map(|(k, c)| (*c, k.label())), &new_opening.holidays),
        },
        "notices": notices,
        "new_period": {
            "form": new_period, "open": Refused::is(r, "period_new"),
            "levels": options(levels, &new_period.levels),
            "schools": options(school_list(), &new_period.school_ids),
        },
        "new_criterion": {
            "form": new_criterion, "open": Refused::is(r, "criterion_new"),
            "kinds": options(commission::KINDS.iter().copied(), std::slice::from_ref(&new_criterion.kind)),
            "schools": options(school_list(), std::slice::from_ref(&new_criterion.school_id)),
        },
    });
    desk.page(&layout, "backoffice/activity", &data, refused.is_some())
}

pub(super) async fn update_general(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<GeneralForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("general", "general", &form);
    change(
        desk,
        id,
        origin,
        "L'activité est enregistrée.",
        move |conn| {
            Box::pin(async move { catalogue::update_activity(conn, id, &form.patch()?).await })
        },
    )
    .await
}

pub(super) async fn add_unit(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<UnitForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("unites", "unit_new", &form);
    change(desk, id, origin, "L'unité est ajoutée.", move |conn| {
        Box::pin(async move {
            catalogue::add_unit(conn, id, &form.input()?)
                .await
                .map(|_| ())
        })
    })
    .await
}

pub(super) async fn update_unit(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<UnitForm>,
) -> AppResult<HttpResponse> {
    let (id, unit) = path.into_inner();
    let origin = Origin::new("unites", format!("unit-{unit}"), &form);
    change(desk, id, origin, "L'unité est enregistrée.", move |conn| {
        Box::pin(async move { catalogue::update_unit(conn, id, unit, &form.input()?).await })
    })
    .await
}

#[derive(Deserialize, Serialize, Default)]
pub(super) struct Empty {}

pub(super) async fn remove_unit(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, unit) = path.into_inner();
    let origin = Origin::new("unites", format!("unit-{unit}"), &form);
    change(desk, id, origin, "L'unité est supprimée.", move |conn| {
        Box::pin(async move { catalogue::remove_unit(conn, id, unit).await })
    })
    .await
}

pub(super) async fn add_group(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<GroupForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("groupes", "group_new", &form);
    change(desk, id, origin, "Le groupe est ajouté.", move |conn| {
        Box::pin(async move {
            catalogue::add_group(conn, id, &form.input()?)
                .await
                .map(|_| ())
        })
    })
    .await
}

pub(super) async fn update_group(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<GroupForm>,
) -> AppResult<HttpResponse> {
    let (id, group) = path.into_inner();
    let origin = Origin::new("groupes", format!("group-{group}"), &form);
    change(desk, id, origin, "Le groupe est enregistré.", move |conn| {
        Box::pin(async move { catalogue::update_group(conn, id, group, &form.input()?).await })
    })
    .await
}

pub(super) async fn remove_group(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, group) = path.into_inner();
    let origin = Origin::new("groupes", format!("group-{group}"), &form);
    change(desk, id, origin, "Le groupe est supprimé.", move |conn| {
        Box::pin(async move { catalogue::remove_group(conn, id, group).await })
    })
    .await
}

pub(super) async fn add_capacity(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<CapacityForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("capacites", "capacity_new", &form);
    change(
        desk,
        id,
        origin,
        "La capacité est enregistrée.",
        move |conn| {
            Box::pin(async move {
                catalogue::add_capacity(conn, id, &form.input()?)
                    .await
                    .map(|_| ())
            })
        },
    )
    .await
}

pub(super) async fn end_capacity(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<EndForm>,
) -> AppResult<HttpResponse> {
    let (id, capacity) = path.into_inner();
    let origin = Origin::new("capacites", format!("capacity-{capacity}"), &form);
    change(
        desk,
        id,
        origin,
        "La fin de la capacité est enregistrée.",
        move |conn| {
            Box::pin(async move {
                let to = needed(day(&form.valid_to, "le dernier jour")?, "le dernier jour")?;
                catalogue::end_capacity(conn, id, capacity, to).await
            })
        },
    )
    .await
}

pub(super) async fn add_opening(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<OpeningForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("ouverture", "opening_new", &form);
    change(
        desk,
        id,
        origin,
        "La règle est ajoutée au calendrier d'ouverture.",
        move |conn| {
            Box::pin(async move { catalogue::add_opening_rule(conn, id, form.rule()?).await })
        },
    )
    .await
}

pub(super) async fn remove_opening(
    desk: Desk,
    path: web::Path<(i64, usize)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, index) = path.into_inner();
    let origin = Origin::new("ouverture", format!("opening-{index}"), &form);
    change(
        desk,
        id,
        origin,
        "La règle est retirée du calendrier d'ouverture.",
        move |conn| Box::pin(async move { catalogue::remove_opening_rule(conn, id, index).await }),
    )
    .await
}

pub(super) async fn set_notice(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<NoticeForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("delais", format!("notice-{}", form.which), &form);
    change(
        desk,
        id,
        origin,
        "Le délai de prévenance est enregistré.",
        move |conn| {
            Box::pin(async move {
                let which = form.which()?;
                let rule = form.rule()?;
                catalogue::set_notice(conn, id, which, rule.as_ref()).await
            })
        },
    )
    .await
}

pub(super) async fn add_period(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<PeriodForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("periodes", "period_new", &form);
    change(
        desk,
        id,
        origin,
        "La période d'inscription est ajoutée.",
        move |conn| {
            Box::pin(async move {
                catalogue::add_period(conn, id, &form.input()?)
                    .await
                    .map(|_| ())
            })
        },
    )
    .await
}

pub(super) async fn remove_period(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, period) = path.into_inner();
    let origin = Origin::new("periodes", format!("period-{period}"), &form);
    change(
        desk,
        id,
        origin,
        "La période d'inscription est supprimée.",
        move |conn| Box::pin(async move { catalogue::remove_period(conn, id, period).await }),
    )
    .await
}

pub(super) async fn add_criterion(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<CriterionForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let origin = Origin::new("criteres", "criterion_new", &form);
    change(desk, id, origin, "Le critère est ajouté.", move |conn| {
        Box::pin(async move {
            catalogue::add_criterion(conn, id, &form.input()?)
                .await
                .map(|_| ())
        })
    })
    .await
}

pub(super) async fn remove_criterion(
    desk: Desk,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, criterion) = path.into_inner();
    let origin = Origin::new("criteres", format!("criterion-{criterion}"), &form);
    change(desk, id, origin, "Le critère est supprimé.", move |conn| {
        Box::pin(async move { catalogue::remove_criterion(conn, id, criterion).await })
    })
    .await
}
