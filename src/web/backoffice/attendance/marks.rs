//! Marking attendance: one tap, all present, times, unbooked presence, the states an agent sets.

use super::*;

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct MarkForm {
    /// present, absent_justified, absent_unjustified; empty: keep the state.
    etat: String,
    /// « arrivee » or « depart »: now.
    heure: String,
    arrivee: String,
    depart: String,
    adaptation: Option<String>,
    non_facture: Option<String>,
    motif: String,
    /// "1" when the details form was sent (its check boxes then count).
    details: String,
    retour: String,
}

pub(super) fn parse_mark(code: &str) -> AppResult<Option<Mark>> {
    match code.trim() {
        "" => Ok(None),
        "present" => Ok(Some(Mark::Present)),
        "absent_justified" => Ok(Some(Mark::Absent { justified: true })),
        "absent_unjustified" => Ok(Some(Mark::Absent { justified: false })),
        other => Err(AppError::invalid(format!("état « {other} » inconnu"))),
    }
}

impl MarkForm {
    fn entry(&self, day: NaiveDate) -> AppResult<AttendanceEntry> {
        let mut entry = AttendanceEntry {
            mark: parse_mark(&self.etat)?,
            arrival: time_of(&self.arrivee, "heure d'arrivée")?,
            departure: time_of(&self.depart, "heure de départ")?,
            ..AttendanceEntry::default()
        };
        if !self.heure.is_empty() && day != clock::today() {
            return Err(AppError::invalid(format!(
                "« maintenant » ne vaut que pour aujourd'hui : saisissez l'heure du {}",
                fr(day)
            )));
        }
        match self.heure.as_str() {
            "" => {}
            "arrivee" => {
                entry.mark = Some(Mark::Present);
                entry.arrival = Some(now_paris());
            }
            "depart" => entry.departure = Some(now_paris()),
            other => return Err(AppError::invalid(format!("heure « {other} » inconnue"))),
        }
        if self.details == "1" {
            entry.adaptation = Some(self.adaptation.is_some());
            entry.billable = Some(self.non_facture.is_none());
            entry.reason = Some(self.motif.clone());
        }
        Ok(entry)
    }
}

/// A booking's place once the caller may `action` on its group that day, and what else
/// the caller may do there.
pub(super) async fn booking_in(
    desk: &Desk,
    id: i64,
    action: Action,
) -> AppResult<(list::BookingPlace, Rights)> {
    let place = desk
        .run(move |conn| Box::pin(async move { list::booking_place(conn, id).await }))
        .await?;
    let at = Place {
        group: Some(place.group_id),
        activity: place.activity_id,
        structure: place.structure_id,
    };
    let rights = require_on(desk, place.day, at, action).await?;
    Ok((place, rights))
}

/// Checks the caller may `action` on the attendance of `place` on `day` (403, audited,
/// otherwise); returns its rights there.
pub(super) async fn require_on(
    desk: &Desk,
    day: NaiveDate,
    place: Place,
    action: Action,
) -> AppResult<Rights> {
    let gate = Gate::new(desk, Some(day)).await?;
    gate.require("attendance", action, place).await?;
    gate.rights(place).await
}

/// Group `id` and the day `jour` (today by default), once the caller may write there.
pub(super) async fn writable_group(
    desk: &Desk,
    id: i64,
    jour: &str,
) -> AppResult<(GroupMeta, NaiveDate)> {
    let group = desk
        .run(move |conn| Box::pin(async move { list::group(conn, id).await }))
        .await?;
    let day = day_of(jour, "date")?.unwrap_or_else(clock::today);
    require_on(desk, day, Place::of(&group), Action::Write).await?;
    Ok((group, day))
}

pub(super) async fn mark(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<MarkForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (place, _) = booking_in(&desk, id, Action::Write).await?;
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let by = desk.principal.actor();
    let entry = form.entry(place.day);
    let outcome = match entry {
        Ok(entry) => {
            desk.run(move |conn| {
                Box::pin(async move {
                    let activity = model::load(conn, place.activity_id, &settings).await?;
                    marking::mark(conn, &activity, id, entry, clock::today(), &by).await
                })
            })
            .await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(booking) => Ok(flash::redirect(
            &back_to(&form.retour, booking.date, &format!("r{id}")),
            &format!(
                "{} : {} ({}).",
                place.child_name, booking.state_label, booking.unit_label
            ),
        )),
        Err(error) => {
            refused_on_list(
                &desk,
                &form.retour,
                place.day,
                format!("r{id}"),
                &form,
                error,
            )
            .await
        }
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct GroupForm {
    jour: String,
    unite: String,
    retour: String,
}

pub(super) async fn all_present(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<GroupForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (group, day) = writable_group(&desk, id, &form.jour).await?;
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let by = desk.principal.actor();
    let unit = Some(form.unite.trim().to_string()).filter(|u| !u.is_empty());
    let activity = group.activity_id;
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let activity = model::load(conn, activity, &settings).await?;
                marking::all_present(
                    conn,
                    &activity,
                    id,
                    day,
                    unit.as_deref(),
                    clock::today(),
                    &by,
                )
                .await
            })
        })
        .await;
    match outcome {
        Ok(n) => Ok(flash::redirect(
            &back_to(&form.retour, day, &format!("g{id}")),
            &match n {
                0 => format!("Aucun enfant à pointer dans « {} ».", group.group_name),
                1 => format!("1 enfant marqué présent dans « {} ».", group.group_name),
                n => format!(
                    "{n} enfants marqués présents dans « {} ».",
                    group.group_name
                ),
            },
        )),
        Err(error) => {
            refused_on_list(&desk, &form.retour, day, format!("g{id}"), &form, error).await
        }
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct UnbookedForm {
    enfant: String,
    unite: String,
    jour: String,
    arrivee: String,
    retour: String,
}

pub(super) async fn add_unbooked(
    desk: Desk,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<UnbookedForm>,
) -> AppResult<HttpResponse> {
    let activity_id = id.into_inner();
    let day = day_of(&form.jour, "date")?.unwrap_or_else(clock::today);
    let groups = desk
        .run(move |conn| {
            Box::pin(async move {
                catalogue::structure_of(conn, activity_id).await?;
                list::groups(
                    conn,
                    &Selection {
                        activity: Some(activity_id),
                        ..Selection::day(day)
                    },
                )
                .await
            })
        })
        .await?;
    let gate = Gate::new(&desk, Some(day)).await?;
    let mut writable = Vec::new();
    for group in &groups {
        if gate
            .may("attendance", Action::Write, Place::of(group))
            .await?
        {
            writable.push(group.group_id);
        }
    }
    let structure = groups.first().and_then(|g| g.structure_id);
    let activity_place = Place {
        group: None,
        activity: activity_id,
        structure,
    };
    if writable.is_empty() {
        gate.require("attendance", Action::Write, activity_place)
            .await?;
    }
    let key = format!("a{activity_id}");
    let child: Option<i64> = match number(&form.enfant, "le numéro de l'enfant") {
        Ok(child) => child,
        Err(error) => {
            return refused_on_list(&desk, &form.retour, day, key, &form, error).await;
        }
    };
    let arrival = match time_of(&form.arrivee, "heure d'arrivée") {
        Ok(arrival) => arrival,
        Err(error) => return refused_on_list(&desk, &form.retour, day, key, &form, error).await,
    };
    let Some(child) = child else {
        let error = AppError::invalid("choisissez l'enfant à ajouter");
        return refused_on_list(&desk, &form.retour, day, key, &form, error).await;
    };
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let by = desk.principal.actor();
    let unit = form.unite.trim().to_string();
    // The child's group is known once the row exists: outside the caller's groups, the
    // transaction is undone and the refusal audited on that group.
    let landed = Arc::new(AtomicI64::new(0));
    let seen = landed.clone();
    let outcome = desk
        .run(move |conn| {
            Box::pin(async move {
                let activity = model::load(conn, activity_id, &settings).await?;
                let booking = marking::add_unbooked(
                    conn,
                    &activity,
                    shipped(),
                    child,
                    &unit,
                    day,
                    arrival,
                    clock::today(),
                    &by,
                )
                .await?;
                if !writable.contains(&booking.group_id) {
                    seen.store(booking.group_id, Ordering::SeqCst);
                    return Err(AppError::forbidden("groupe non autorisé"));
                }
                let name = crate::domain::activity::schools::child_name(conn, child).await?;
                Ok((booking, name))
            })
        })
        .await;
    match outcome {
        Ok((booking, name)) => Ok(flash::redirect(
            &back_to(&form.retour, day, &format!("r{}", booking.id)),
            &format!(
                "{name} est ajouté(e) présent(e) sans réservation ({}).",
                booking.unit_label
            ),
        )),
        Err(AppError::Forbidden(_)) if landed.load(Ordering::SeqCst) != 0 => {
            let group = landed.load(Ordering::SeqCst);
            desk.require_in(
                "attendance",
                &Place {
                    group: Some(group),
                    ..activity_place
                }
                .populations(),
                Action::Write,
            )
            .await?;
            Err(AppError::forbidden("groupe non autorisé"))
        }
        Err(error) => refused_on_list(&desk, &form.retour, day, key, &form, error).await,
    }
}
