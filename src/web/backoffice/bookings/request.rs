//! Booking requests: checked, then booked unit by unit in one transaction, reported.

use super::*;

/// Which form a request comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Days,
    Pattern,
    Period,
}

impl Kind {
    fn section(self) -> &'static str {
        match self {
            Kind::Days => "calendrier",
            Kind::Pattern => "reguliere",
            Kind::Period => "periode",
        }
    }
}

/// One line of the report: a unit of a day and what became of it.
#[derive(Debug, Serialize)]
struct Line {
    date: NaiveDate,
    day: String,
    unit: String,
    /// `booked`, `waitlisted`, `full`, `refused` or `closed`.
    status: &'static str,
    text: &'static str,
    detail: Option<String>,
}

impl Line {
    fn new(day: NaiveDate, unit: &str, status: &'static str, text: &'static str) -> Line {
        Line {
            date: day,
            day: day_label(day),
            unit: unit.to_string(),
            status,
            text,
            detail: None,
        }
    }

    fn with(mut self, detail: impl Into<String>) -> Line {
        self.detail = Some(detail.into());
        self
    }

    fn refused(day: NaiveDate, unit: &str, why: &str) -> Line {
        Line::new(day, unit, "refused", "Refusé").with(format!("{}.", capitalised(why)))
    }
}

/// One unit to book on one day.
struct Wish {
    day: NaiveDate,
    code: String,
    label: String,
    /// The booking delay, when it has passed.
    late: Option<DateTime<Utc>>,
}

/// A request checked, before anything is written.
struct Plan {
    /// In booking order (by day; units requiring others after them).
    wishes: Vec<Wish>,
    /// Lines already decided: closed days, units already started, units conflicting.
    lines: Vec<Line>,
    meal: Option<String>,
}

fn label_of(activity: &Activity, code: &str) -> String {
    activity
        .unit(code)
        .map_or_else(|_| code.to_string(), |u| u.label.clone())
}

/// The unit codes wished per day.
type Wanted = BTreeMap<NaiveDate, Vec<String>>;

/// The units wished per day: ticked in the month, or one day and one unit.
fn one_offs(form: &BookForm) -> AppResult<Wanted> {
    let mut days = Wanted::new();
    let mut add = |day: NaiveDate, unit: &str| {
        let wanted = days.entry(day).or_default();
        if !wanted.iter().any(|u| u == unit) {
            wanted.push(unit.to_string());
        }
    };
    for slot in &form.slot {
        let invalid = || AppError::invalid("une case cochée n'est pas valable : rechargez la page");
        let (day, unit) = slot.split_once('|').ok_or_else(invalid)?;
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| invalid())?;
        add(day, unit.trim());
    }
    if !form.jour.trim().is_empty() || !form.unite.trim().is_empty() {
        let day = date(&form.jour, "le jour")?;
        if form.unite.trim().is_empty() {
            return Err(AppError::invalid("choisissez l'unité à réserver"));
        }
        add(day, form.unite.trim());
    }
    if days.is_empty() {
        return Err(AppError::invalid(
            "cochez au moins une unité dans le calendrier, ou choisissez un jour et une unité",
        ));
    }
    Ok(days)
}

/// The open days of a recurring pattern or a period, for the units of the form, and the
/// closed days of a pattern.
fn spanned(
    activity: &Activity,
    form: &BookForm,
    kind: Kind,
) -> AppResult<(Wanted, Vec<NaiveDate>)> {
    let (from, to) = match form.periode.split_once('|') {
        Some((from, to)) if kind == Kind::Period => (
            date(from, "le début de la période")?,
            date(to, "la fin de la période")?,
        ),
        _ => (
            date(&form.du, "la date de début")?,
            date(&form.au, "la date de fin")?,
        ),
    };
    if from < clock::today() {
        return Err(AppError::invalid(
            "la période commence au plus tôt aujourd'hui",
        ));
    }
    let weekdays = if kind == Kind::Period {
        WEEKDAYS.iter().map(|(w, ..)| *w).collect()
    } else {
        form.jours
            .iter()
            .map(|code| {
                WEEKDAYS
                    .iter()
                    .find(|(_, c, _)| c == code)
                    .map(|(w, ..)| *w)
                    .ok_or_else(|| AppError::invalid(format!("jour « {code} » inconnu")))
            })
            .collect::<AppResult<Vec<_>>>()?
    };
    if form.unites.is_empty() {
        return Err(AppError::invalid("choisissez au moins une unité"));
    }
    let order = family::plan_day(activity, &form.unites)
        .map_err(|conflict| AppError::invalid(conflict.to_string()))?;
    let school = scheduling::calendar().school;
    let (open, closed) = family::pattern_days(activity, school, from, to, &weekdays)?;
    if open.is_empty() {
        return Err(AppError::invalid(
            "l'activité n'ouvre aucun de ces jours sur la période choisie",
        ));
    }
    let closed = if kind == Kind::Pattern {
        closed
    } else {
        Vec::new()
    };
    Ok((
        open.into_iter().map(|d| (d, order.clone())).collect(),
        closed,
    ))
}

/// Checks the form and lays out what to book. Units already started are refused here (their
/// presence is marked at attendance); units past the booking delay are marked.
fn plan(
    activity: &Activity,
    form: &BookForm,
    kind: Kind,
    meals: &[String],
    now: DateTime<Utc>,
) -> AppResult<Plan> {
    let meal = family::meal_choice(activity, meals, &form.meal_choice)?;
    let (days, closed) = match kind {
        Kind::Days => (one_offs(form)?, Vec::new()),
        Kind::Pattern | Kind::Period => spanned(activity, form, kind)?,
    };
    let mut lines: Vec<Line> = closed
        .into_iter()
        .map(|day| Line::new(day, "—", "closed", "Fermé").with("L'activité est fermée ce jour-là."))
        .collect();
    let mut wishes = Vec::new();
    for (day, wanted) in days {
        let order = match family::plan_day(activity, &wanted) {
            Ok(order) => order,
            Err(conflict) => {
                for code in &wanted {
                    let label = label_of(activity, code);
                    lines.push(Line::refused(day, &label, &conflict.to_string()));
                }
                continue;
            }
        };
        for code in order {
            let unit = activity.unit(&code)?;
            if now >= paris_instant(day, unit.starts) {
                lines.push(Line::refused(
                    day,
                    &unit.label,
                    "l'unité a déjà commencé : la présence se note au pointage",
                ));
                continue;
            }
            let limit = notice_limit(activity.booking_notice.as_ref(), day, unit)?;
            wishes.push(Wish {
                day,
                label: unit.label.clone(),
                code,
                late: (now >= limit).then_some(limit),
            });
        }
    }
    Ok(Plan {
        wishes,
        lines,
        meal,
    })
}

/// « lundi 7 décembre 2026 (Repas), … »: the units past the delay, the first ones named.
fn late_units(wishes: &[&Wish]) -> String {
    let mut named: Vec<String> = wishes
        .iter()
        .take(5)
        .map(|w| format!("{} ({})", day_label(w.day), w.label))
        .collect();
    if wishes.len() > 5 {
        named.push(format!("et {} autre(s)", wishes.len() - 5));
    }
    named.join(", ")
}

pub(super) async fn book_days(
    desk: Desk,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<BookForm>,
) -> AppResult<HttpResponse> {
    book(desk, path.into_inner(), form, Kind::Days).await
}

pub(super) async fn book_pattern(
    desk: Desk,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<BookForm>,
) -> AppResult<HttpResponse> {
    book(desk, path.into_inner(), form, Kind::Pattern).await
}

pub(super) async fn book_period(
    desk: Desk,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<BookForm>,
) -> AppResult<HttpResponse> {
    book(desk, path.into_inner(), form, Kind::Period).await
}

/// The child and the activity a request is about, with the activity's rules; 404 when the
/// child is not of this city or may not book the activity.
async fn target(desk: &Desk, child: i64, activity: i64) -> AppResult<(String, Activity)> {
    let settings = scheduling::settings(&desk.state, &desk.city).await?;
    let today = clock::today();
    desk.run(move |conn| {
        Box::pin(async move {
            let child = family::child(conn, child).await?;
            family::require_bookable(conn, child.id, activity, today).await?;
            let activity = model::load(conn, activity, &settings).await?;
            Ok((
                format!("{} {}", child.first_name, child.last_name),
                activity,
            ))
        })
    })
    .await
}

async fn book(desk: Desk, child: i64, form: BookForm, kind: Kind) -> AppResult<HttpResponse> {
    let activity_id = activity_param(&form.activite)?
        .ok_or_else(|| AppError::not_found("Activité introuvable."))?;
    let (child_name, activity) = target(&desk, child, activity_id).await?;
    let places = places(&activity);
    desk.require_in("bookings", &places, Action::Write).await?;
    let may_override = desk.may_in("bookings", &places, Action::Process).await?;
    let meals = city_meals(&desk).await?;
    let now = clock::now();
    let first = month_start(&form.mois)
        .ok()
        .flatten()
        .unwrap_or_else(|| first_of(clock::today()));
    let at = At {
        child,
        activity: Some(activity_id),
        first,
    };
    let section = if kind == Kind::Days && form.slot.is_empty() {
        "ponctuelle"
    } else {
        kind.section()
    };
    let mut plan = match plan(&activity, &form, kind, &meals, now) {
        Ok(plan) => plan,
        Err(error) if correctable(&error) => {
            return refuse(&desk, at, section, &error, Some(form)).await;
        }
        Err(error) => return Err(error),
    };
    // Past the booking delay: only with a reason, and the right to give one.
    let motif = form.motif.trim().to_string();
    let late: Vec<&Wish> = plan.wishes.iter().filter(|w| w.late.is_some()).collect();
    let any_late = !late.is_empty();
    if any_late {
        if motif.is_empty() && may_override {
            let error = AppError::invalid(format!(
                "le délai de réservation est dépassé pour {} : indiquez le motif de la \
                 réservation hors délai (il est conservé dans l'historique), ou retirez ces \
                 jours de la demande",
                late_units(&late)
            ));
            return refuse(&desk, at, section, &error, Some(form)).await;
        }
        if !motif.is_empty() {
            desk.require_in("bookings", &places, Action::Process)
                .await?;
        }
    }
    if !may_override {
        // Refused here, as the store would: the agent may not go past the delay.
        let (late, in_time): (Vec<Wish>, Vec<Wish>) =
            plan.wishes.into_iter().partition(|w| w.late.is_some());
        plan.wishes = in_time;
        for wish in late {
            let limit = wish.late.map(family::fr_instant).unwrap_or_default();
            plan.lines.push(Line::refused(
                wish.day,
                &wish.label,
                &format!(
                    "le délai de réservation est dépassé depuis le {limit} : seul un agent \
                     habilité peut réserver hors délai, avec un motif"
                ),
            ));
        }
    }
    let overriding = any_late && may_override && !motif.is_empty();
    let actor = Actor {
        name: desk.principal.actor(),
        origin: if kind == Kind::Period {
            Origin::Mass
        } else {
            Origin::Agent
        },
        override_reason: overriding.then(|| motif.clone()),
    };
    let (wishes, decided, meal) = (plan.wishes, plan.lines, plan.meal);
    let booking = activity.clone();
    let mut lines = desk
        .run(move |conn| {
            Box::pin(async move {
                let calendar = Calendar {
                    school: scheduling::calendar().school,
                    now,
                };
                let mut lines = decided;
                for wish in wishes {
                    let request = BookRequest {
                        child_id: child,
                        unit: wish.code,
                        day: wish.day,
                        meal_choice: meal.clone(),
                    };
                    let line = book_one(conn, &booking, &calendar, &actor, request).await?;
                    lines.push(Line {
                        unit: wish.label,
                        ..line
                    });
                }
                Ok(lines)
            })
        })
        .await?;
    lines.sort_by_key(|l| l.date);
    let count = |status: &str| lines.iter().filter(|l| l.status == status).count();
    let title = format!("Réservations de {child_name} : résultat");
    let layout = desk.layout(&title, "/agent/familles").await?;
    let back = month_href(child, activity_id, lines.first().map_or(first, |l| l.date));
    desk.page(
        &layout,
        "backoffice/bookings_result",
        &json!({
            "child": child_name,
            "activity": activity.name,
            "booked": count("booked"),
            "waitlisted": count("waitlisted"),
            "full": count("full"),
            "refused": count("refused"),
            "closed": count("closed"),
            "motif": overriding.then_some(&motif),
            "lines": lines,
            "back": back,
            "all": base(child),
        }),
        false,
    )
}

/// Books one unit in its own savepoint: a refusal rolls back this unit only and becomes a
/// line; any other error goes up and rolls back the whole request.
async fn book_one(
    conn: &mut Conn,
    activity: &Activity,
    calendar: &Calendar<'_>,
    actor: &Actor,
    request: BookRequest,
) -> AppResult<Line> {
    let day = request.day;
    let outcome = conn
        .transaction::<Booked, AppError, _>(async |conn| {
            store::book(conn, activity, calendar, request, actor).await
        })
        .await;
    Ok(match outcome {
        Ok(Booked::Booked { booking }) => {
            let line = Line::new(day, "", "booked", "Réservé");
            let late = (!booking.reason.is_empty())
                .then(|| format!("Hors délai, motif : « {} ». ", booking.reason));
            let meal = booking.meal_choice.map(|m| format!("Repas : {m}."));
            match (late, meal) {
                (None, None) => line,
                (late, meal) => line.with(format!(
                    "{}{}",
                    late.unwrap_or_default(),
                    meal.unwrap_or_default()
                )),
            }
        }
        Ok(Booked::Waitlisted { position, .. }) => {
            Line::new(day, "", "waitlisted", "En liste d'attente").with(format!(
                "Complet : demande en liste d'attente, rang {position}."
            ))
        }
        Err(AppError::Full(why)) => {
            Line::new(day, "", "full", "Complet").with(format!("{}.", capitalised(&why)))
        }
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            Line::refused(day, "", &error.to_string())
        }
        Err(other) => return Err(other),
    })
}
