//! Opening calendar and notice delays.

use super::*;

pub(super) async fn opening_of(conn: &mut Conn, activity: i64) -> AppResult<Vec<OpeningRule>> {
    let value: serde_json::Value = activities::table
        .find(activity)
        .select(activities::opening)
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Activité introuvable."))?;
    serde_json::from_value(value)
        .map_err(|e| AppError::internal(anyhow::anyhow!("calendrier d'ouverture illisible : {e}")))
}

pub(super) async fn save_opening(
    conn: &mut Conn,
    activity: i64,
    rules: &[OpeningRule],
) -> AppResult<()> {
    diesel::update(activities::table.find(activity))
        .set(activities::opening.eq(to_json(&rules)?))
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds one rule to the opening calendar, checked with the others.
pub async fn add_opening_rule(conn: &mut Conn, activity: i64, rule: OpeningRule) -> AppResult<()> {
    let mut rules = opening_of(conn, activity).await?;
    if rules.contains(&rule) {
        return Err(AppError::invalid(
            "cette règle figure déjà au calendrier d'ouverture",
        ));
    }
    rules.push(rule);
    OpeningCalendar {
        zone: Zone::A,
        rules: rules.clone(),
    }
    .validate()
    .map_err(|e| AppError::invalid(e.to_string()))?;
    save_opening(conn, activity, &rules).await
}

/// Removes the rule at `index` (as listed).
pub async fn remove_opening_rule(conn: &mut Conn, activity: i64, index: usize) -> AppResult<()> {
    let mut rules = opening_of(conn, activity).await?;
    if index >= rules.len() {
        return Err(AppError::not_found("Règle d'ouverture introuvable."));
    }
    rules.remove(index);
    save_opening(conn, activity, &rules).await
}

/// Which notice delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Booking,
    Cancel,
}

/// Sets (or clears: until the unit starts) the booking or cancelling notice delay.
pub async fn set_notice(
    conn: &mut Conn,
    activity: i64,
    which: Notice,
    rule: Option<&NoticeRule>,
) -> AppResult<()> {
    require_activity(conn, activity).await?;
    if let Some(rule) = rule {
        rule.validate()
            .map_err(|e| AppError::invalid(e.to_string()))?;
    }
    let value = rule.map(to_json).transpose()?;
    let target = activities::table.find(activity);
    match which {
        Notice::Booking => {
            diesel::update(target)
                .set(activities::booking_notice.eq(value))
                .execute(conn)
                .await?
        }
        Notice::Cancel => {
            diesel::update(target)
                .set(activities::cancel_notice.eq(value))
                .execute(conn)
                .await?
        }
    };
    Ok(())
}

pub(super) fn weekday_name(day: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|(w, ..)| *w == day)
        .map_or("", |(_, _, name)| name)
}

/// « lundi, mardi et jeudi », « du lundi au vendredi ».
pub(super) fn weekdays_text(days: &[Weekday]) -> String {
    let mut days = days.to_vec();
    days.sort_by_key(Weekday::num_days_from_monday);
    days.dedup();
    let numbers: Vec<u32> = days.iter().map(Weekday::num_days_from_monday).collect();
    if days.len() >= 3 && numbers.windows(2).all(|w| w[1] == w[0] + 1) {
        return format!(
            "du {} au {}",
            weekday_name(days[0]),
            weekday_name(days[days.len() - 1])
        );
    }
    let names: Vec<&str> = days.iter().map(|d| weekday_name(*d)).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} et {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

pub(super) fn fr_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// « 10 h », « 9 h 30 ».
pub fn fr_time(time: NaiveTime) -> String {
    use chrono::Timelike;
    match time.minute() {
        0 => format!("{} h", time.hour()),
        m => format!("{} h {m:02}", time.hour()),
    }
}

pub(super) fn with_label(text: String, label: &Option<String>) -> String {
    match label.as_deref().map(str::trim) {
        Some(label) if !label.is_empty() => format!("{text} ({label})"),
        _ => text,
    }
}

/// One opening rule in French, for the screens.
pub fn describe_opening(rule: &OpeningRule) -> String {
    match rule {
        OpeningRule::SchoolDays { weekdays } => format!(
            "Jours d'école, hors vacances scolaires : {}",
            weekdays_text(weekdays)
        ),
        OpeningRule::Wednesdays => "Mercredis, hors vacances scolaires".into(),
        OpeningRule::Holidays { weekdays, kinds } => {
            let which = if kinds.is_empty() {
                "Vacances scolaires".to_string()
            } else {
                kinds
                    .iter()
                    .map(|k| k.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!("{which} : {}", weekdays_text(weekdays))
        }
        OpeningRule::Weekdays { weekdays } => {
            format!("Toute l'année : {}", weekdays_text(weekdays))
        }
        OpeningRule::Closure { from, to, label } if from == to => {
            with_label(format!("Fermeture le {}", fr_date(*from)), label)
        }
        OpeningRule::Closure { from, to, label } => with_label(
            format!("Fermeture du {} au {}", fr_date(*from), fr_date(*to)),
            label,
        ),
        OpeningRule::ExceptionalOpening { date, label } => with_label(
            format!("Ouverture exceptionnelle le {}", fr_date(*date)),
            label,
        ),
    }
}

/// A notice delay in French: « 2 jours ouvrés avant, 10 h », « la veille, 18 h ».
pub fn describe_notice(rule: Option<&NoticeRule>) -> String {
    let Some(rule) = rule else {
        return "jusqu'au début de l'unité".into();
    };
    let (working, excluded) = match &rule.count {
        DayCount::CalendarDays => (false, &[][..]),
        DayCount::WorkingDays { excluded_weekdays } => (true, excluded_weekdays.as_slice()),
    };
    let n = rule.amount;
    let plural = if n > 1 { "s" } else { "" };
    let mut text = match (rule.unit, working, n) {
        (NoticeUnit::Days, _, 0) => "le jour même".to_string(),
        (NoticeUnit::Days, false, 1) => "la veille".to_string(),
        (NoticeUnit::Days, false, _) => format!("{n} jours avant"),
        (NoticeUnit::Days, true, _) => format!("{n} jour{plural} ouvré{plural} avant"),
        (NoticeUnit::Hours, false, _) => format!("{n} heure{plural} avant"),
        (NoticeUnit::Hours, true, _) => format!("{n} heure{plural} ouvrée{plural} avant"),
    };
    if let Some(cutoff) = rule.cutoff_time {
        text.push_str(&match rule.unit {
            NoticeUnit::Days => format!(", {}", fr_time(cutoff)),
            NoticeUnit::Hours => format!(", clôture à {}", fr_time(cutoff)),
        });
    }
    if !excluded.is_empty() {
        text.push_str(&format!(" (hors {})", weekdays_text(excluded)));
    }
    text
}
