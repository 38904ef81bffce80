//! One month of one activity as the family reads it, and the days a family asks for.

use super::*;

/// The deadline of `rule` for `unit` on `day` (the unit's start when there is no rule).
pub fn notice_limit(
    rule: Option<&NoticeRule>,
    day: NaiveDate,
    unit: &Unit,
) -> AppResult<DateTime<Utc>> {
    match rule {
        Some(rule) => deadline(rule, day, unit.starts, &NoticeContext::default())
            .map_err(|e| AppError::invalid(e.to_string())),
        None => Ok(paris_instant(day, unit.starts)),
    }
}

/// One unit of one day, as the family sees it. `text` always says the state in words
/// (never by colour alone).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cell {
    pub unit: String,
    pub unit_label: String,
    /// `booked`, `held` (another state: present, absent...), `covered` (part of a booked
    /// unit), `waiting`, `offered`, `past`, `too_late`, `instead` (take the whole unit),
    /// `unavailable` (incompatible with a booked unit), `full`, `waitlist` (full, ask a
    /// place in the waitlist), `free`.
    pub kind: &'static str,
    pub text: String,
    pub detail: Option<String>,
    /// Checkbox value (`AAAA-MM-JJ|unit`) when the family may ask for it.
    pub slot: Option<String>,
    pub action: Option<&'static str>,
    pub booking_id: Option<i64>,
    /// The booking may be cancelled in time.
    pub cancel: bool,
    /// The cancelling delay has passed but the unit has not started: an absence may be
    /// reported (it becomes the activity's late state).
    pub absence: bool,
    pub waitlist_id: Option<i64>,
    /// The whole unit (code) to book instead, with the day (`AAAA-MM-JJ|unit`).
    pub instead: Option<String>,
    pub instead_label: Option<String>,
    /// The booking delay has passed (agents' view only): booking it needs a reason.
    pub late: bool,
}

/// One day of the month.
#[derive(Debug, Clone, Serialize)]
pub struct DayView {
    pub date: NaiveDate,
    pub label: String,
    pub open: bool,
    pub cells: Vec<Cell>,
}

/// What [`month`] reads.
pub struct MonthInput<'a> {
    pub activity: &'a Activity,
    pub school: &'a SchoolCalendar,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The child's bookings of this activity over the period.
    pub bookings: &'a [BookingView],
    /// The child's live waitlist entries of this activity over the period.
    pub waits: &'a [WaitEntry],
    /// Places per open day and unit (the child's group).
    pub availability: &'a [Availability],
    pub now: DateTime<Utc>,
    pub show_position: bool,
}

/// Who reads the month: the family, or an agent who may still book past the notice delay
/// (with a reason, which the store checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Family,
    Agent,
}

/// The days from `from` to `to` with, on open days, one cell per unit.
pub fn month(input: &MonthInput<'_>) -> AppResult<Vec<DayView>> {
    month_for(input, Reader::Family)
}

/// [`month`] as an agent reads it: a unit past the booking delay stays bookable, marked
/// `late` (the agent must give a reason).
pub fn agent_month(input: &MonthInput<'_>) -> AppResult<Vec<DayView>> {
    month_for(input, Reader::Agent)
}

fn month_for(input: &MonthInput<'_>, reader: Reader) -> AppResult<Vec<DayView>> {
    let mut days = Vec::new();
    for day in input.from.iter_days().take_while(|d| *d <= input.to) {
        let open = is_open(&input.activity.opening, input.school, day)
            .map_err(|e| AppError::invalid(e.to_string()))?;
        let cells = if open {
            input
                .activity
                .units
                .iter()
                .map(|unit| cell(input, day, unit, reader))
                .collect::<AppResult<Vec<Cell>>>()?
        } else {
            Vec::new()
        };
        days.push(DayView {
            date: day,
            label: day_label(day),
            open,
            cells,
        });
    }
    Ok(days)
}

pub(super) fn places_text(remaining: Option<i32>) -> String {
    match remaining {
        None => "Places disponibles".into(),
        Some(1) => "1 place restante".into(),
        Some(n) => format!("{n} places restantes"),
    }
}

fn cell(input: &MonthInput<'_>, day: NaiveDate, unit: &Unit, reader: Reader) -> AppResult<Cell> {
    let activity = input.activity;
    let now = input.now;
    let base = Cell {
        unit: unit.code.clone(),
        unit_label: unit.label.clone(),
        ..Cell::default()
    };
    let slot = format!("{day}|{}", unit.code);
    let starts = paris_instant(day, unit.starts);
    let held: Vec<&BookingView> = input
        .bookings
        .iter()
        .filter(|b| b.date == day && holds_place(b.state))
        .collect();
    if let Some(booking) = held.iter().find(|b| b.unit == unit.code) {
        if booking.state != AttendanceState::Booked {
            let label = booking.state.label_fr();
            return Ok(Cell {
                kind: "held",
                text: capitalised(label),
                booking_id: Some(booking.id),
                ..base
            });
        }
        let cancel_limit = notice_limit(activity.cancel_notice.as_ref(), day, unit)?;
        let meal = booking
            .meal_choice
            .as_deref()
            .map(|m| format!("Repas : {m}. "))
            .unwrap_or_default();
        let (cancel, absence, detail) = if now < cancel_limit {
            (
                true,
                false,
                format!("{meal}Annulable jusqu'au {}.", fr_instant(cancel_limit)),
            )
        } else if now < starts {
            (
                false,
                true,
                format!(
                    "{meal}Délai d'annulation dépassé : une annulation devient « {} ».",
                    activity.late_cancellation.label_fr()
                ),
            )
        } else {
            (false, false, meal.trim_end().to_string())
        };
        return Ok(Cell {
            kind: "booked",
            text: "Réservé".into(),
            detail: Some(detail).filter(|d| !d.is_empty()),
            booking_id: Some(booking.id),
            cancel,
            absence,
            ..base
        });
    }
    let held_codes: Vec<&str> = held.iter().map(|b| b.unit.as_str()).collect();
    if let Some(whole) = activity
        .units
        .iter()
        .find(|u| held_codes.contains(&u.code.as_str()) && u.includes.contains(&unit.code))
    {
        return Ok(Cell {
            kind: "covered",
            text: format!("Compris dans « {} »", whole.label),
            ..base
        });
    }
    if let Some(entry) = input
        .waits
        .iter()
        .find(|w| w.day == day && w.unit_id == unit.id)
    {
        return Ok(if entry.status == "offered" {
            let open = entry.offer_deadline.is_some_and(|d| now < d);
            Cell {
                kind: "offered",
                text: "Place proposée".into(),
                detail: entry.deadline_label.as_ref().map(|d| {
                    if open {
                        format!("Répondez avant le {d}.")
                    } else {
                        format!("Le délai de réponse est passé ({d}).")
                    }
                }),
                waitlist_id: Some(entry.id),
                ..base
            }
        } else {
            Cell {
                kind: "waiting",
                text: "En liste d'attente".into(),
                detail: entry
                    .position
                    .filter(|_| input.show_position)
                    .map(|p| format!("Rang {p}.")),
                waitlist_id: Some(entry.id),
                ..base
            }
        });
    }
    if now >= starts {
        return Ok(Cell {
            kind: "past",
            text: "Passé".into(),
            ..base
        });
    }
    let book_limit = notice_limit(activity.booking_notice.as_ref(), day, unit)?;
    let late = now >= book_limit;
    if late && reader == Reader::Family {
        return Ok(Cell {
            kind: "too_late",
            text: "Délai de réservation dépassé".into(),
            detail: Some(format!(
                "Il fallait réserver avant le {}.",
                fr_instant(book_limit)
            )),
            ..base
        });
    }
    match activity.unit_set().check_booking(&held_codes, &unit.code) {
        Ok(()) | Err(UnitConflict::Requires { .. }) => {}
        Err(conflict) => {
            if let Some(whole) = instead_of(activity, &conflict) {
                return Ok(Cell {
                    kind: "instead",
                    text: format!("Avec ce qui est réservé : « {} »", whole.label),
                    detail: Some(format!("{}.", capitalised(&conflict.to_string()))),
                    instead: Some(format!("{day}|{}", whole.code)),
                    instead_label: Some(whole.label.clone()),
                    ..base
                });
            }
            return Ok(Cell {
                kind: "unavailable",
                text: "Non réservable".into(),
                detail: Some(format!("{}.", capitalised(&conflict.to_string()))),
                ..base
            });
        }
    }
    let remaining = input
        .availability
        .iter()
        .find(|a| a.date == day && a.unit == unit.code)
        .and_then(|a| a.remaining);
    // Only an agent gets here past the delay: the unit is bookable with a reason.
    let base = Cell {
        late,
        detail: late.then(|| {
            format!(
                "Délai de réservation dépassé depuis le {} : motif obligatoire.",
                fr_instant(book_limit)
            )
        }),
        ..base
    };
    if remaining.is_some_and(|r| r <= 0) {
        return Ok(if activity.when_full == WhenFull::Waitlist {
            Cell {
                kind: "waitlist",
                text: "Complet".into(),
                slot: Some(slot),
                action: Some("Demander une place en liste d'attente"),
                ..base
            }
        } else {
            Cell {
                kind: "full",
                text: "Complet".into(),
                ..base
            }
        });
    }
    Ok(Cell {
        kind: "free",
        text: places_text(remaining),
        slot: Some(slot),
        action: Some("Réserver"),
        ..base
    })
}

/// The text with its first letter in capitals (the store's messages start in lower case).
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The unit the family is offered instead, when `conflict` says to take it (matin +
/// après-midi → journée).
pub fn instead_of<'a>(activity: &'a Activity, conflict: &UnitConflict) -> Option<&'a Unit> {
    match conflict {
        UnitConflict::TakeInstead { instead, .. } => {
            activity.units.iter().find(|u| &u.label == instead)
        }
        _ => None,
    }
}

/// The units wished on one day, in an order that books cleanly (units requiring others
/// last), or the conflict among them (matin + après-midi where a journée exists: the
/// family is offered the journée). What the child already holds is checked by the store.
pub fn plan_day(activity: &Activity, wanted: &[String]) -> Result<Vec<String>, UnitConflict> {
    if let Some(unknown) = wanted
        .iter()
        .find(|code| !activity.units.iter().any(|u| &u.code == *code))
    {
        return Err(UnitConflict::Unknown {
            unit: unknown.clone(),
        });
    }
    let mut ordered: Vec<&Unit> = activity
        .units
        .iter()
        .filter(|u| wanted.contains(&u.code))
        .collect();
    ordered.sort_by_key(|u| !u.requires.is_empty());
    let set = activity.unit_set();
    let mut planned: Vec<&str> = Vec::new();
    for unit in &ordered {
        match set.check_booking(&planned, &unit.code) {
            Ok(()) | Err(UnitConflict::Requires { .. }) => planned.push(&unit.code),
            Err(conflict) => return Err(conflict),
        }
    }
    Ok(planned.into_iter().map(str::to_string).collect())
}

/// The days a recurring pattern covers: the `weekdays` from `from` to `to` (a year at
/// most), split into open and closed days of the activity.
pub fn pattern_days(
    activity: &Activity,
    school: &SchoolCalendar,
    from: NaiveDate,
    to: NaiveDate,
    weekdays: &[Weekday],
) -> AppResult<(Vec<NaiveDate>, Vec<NaiveDate>)> {
    if to < from {
        return Err(AppError::invalid("la date de fin précède la date de début"));
    }
    if (to - from).num_days() > 366 {
        return Err(AppError::invalid(
            "une réservation régulière couvre un an au plus : raccourcissez la période",
        ));
    }
    if weekdays.is_empty() {
        return Err(AppError::invalid(
            "choisissez au moins un jour de la semaine",
        ));
    }
    let mut open = Vec::new();
    let mut closed = Vec::new();
    for day in from
        .iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| weekdays.contains(&d.weekday()))
    {
        match is_open(&activity.opening, school, day) {
            Ok(true) => open.push(day),
            Ok(false) => closed.push(day),
            Err(error) => return Err(AppError::invalid(error.to_string())),
        }
    }
    Ok((open, closed))
}
