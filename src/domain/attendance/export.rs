//! Attendance exports (CSV, `;`-separated, UTF-8 with a byte-order mark so spreadsheets
//! read the accents): every row of a period with its state, times and who set it (the
//! input of post-billing), or a summary per activity and child (monthly, quarterly or
//! yearly reports).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::list::Row;
use crate::domain::pricing::AttendanceState;
use crate::platform::error::{AppError, AppResult};

/// Longest period exported at once.
pub const MAX_DAYS: i64 = 366;

/// The period `from`..=`to`, or why not in French.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> AppResult<()> {
    if to < from {
        return Err(AppError::invalid("la date de fin précède la date de début"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::invalid(format!(
            "la période dépasse {MAX_DAYS} jours : exportez-la en plusieurs fois"
        )));
    }
    Ok(())
}

/// One CSV field: quoted when needed; a leading `=`, `+`, `-`, `@` is neutralised so that a
/// spreadsheet never runs a name as a formula.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn line(out: &mut String, fields: &[String]) {
    let fields: Vec<String> = fields.iter().map(|f| field(f)).collect();
    out.push_str(&fields.join(";"));
    out.push_str("\r\n");
}

fn yes_no(flag: bool) -> String {
    if flag { "oui" } else { "non" }.to_string()
}

fn hm(time: Option<chrono::NaiveTime>) -> String {
    time.map(|t| t.format("%H:%M").to_string())
        .unwrap_or_default()
}

const BOM: &str = "\u{feff}";

/// Every row with its state: one line per child, unit and day.
pub fn detail(rows: &[Row]) -> AppResult<String> {
    let mut out = String::from(BOM);
    line(
        &mut out,
        &[
            "Date",
            "Structure",
            "Activité",
            "Code activité",
            "Groupe",
            "Unité",
            "Code unité",
            "N° enfant",
            "Nom",
            "Prénom",
            "État",
            "Code état",
            "Arrivée",
            "Départ",
            "Dépassement (min)",
            "Adaptation",
            "Facturé",
            "Origine",
            "Motif",
            "Pointé par",
            "Pointé le",
        ]
        .map(String::from),
    );
    for row in rows {
        let state = row.state()?;
        line(
            &mut out,
            &[
                row.day.format("%d/%m/%Y").to_string(),
                row.structure.clone().unwrap_or_default(),
                row.activity.clone(),
                row.activity_code.clone(),
                row.group_name.clone(),
                row.unit_label.clone(),
                row.unit.clone(),
                row.child_id.to_string(),
                row.last_name.clone(),
                row.first_name.clone(),
                state.label_fr().to_string(),
                row.state_code.clone(),
                hm(row.arrival),
                hm(row.departure),
                row.overtime_minutes()
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
                yes_no(row.adaptation),
                yes_no(row.billable),
                row.origin.clone(),
                row.reason.clone(),
                row.state_by.clone(),
                row.state_at
                    .with_timezone(&chrono_tz::Europe::Paris)
                    .format("%d/%m/%Y %H:%M")
                    .to_string(),
            ],
        );
    }
    Ok(out)
}

/// The states counted in the summary, in its columns' order.
const STATES: [AttendanceState; 7] = [
    AttendanceState::Booked,
    AttendanceState::Present,
    AttendanceState::PresentUnbooked,
    AttendanceState::AbsentJustified,
    AttendanceState::AbsentUnjustified,
    AttendanceState::CancelledInTime,
    AttendanceState::CancelledLate,
];

#[derive(Default)]
struct Tally {
    states: [u32; 7],
    not_billed: u32,
    adaptation: u32,
    minutes: i64,
    overtime: i64,
}

/// One line per activity and child: units in each state, units not billed, hours of
/// presence (where arrival and departure are recorded) and minutes past closing.
pub fn summary(rows: &[Row]) -> AppResult<String> {
    // One tally per (activity, child), with the first row seen for the names.
    let mut tallies: Vec<(&Row, Tally)> = Vec::new();
    let mut index_of: HashMap<(i64, i64), usize> = HashMap::new();
    for row in rows {
        let index = *index_of
            .entry((row.activity_id, row.child_id))
            .or_insert_with(|| {
                tallies.push((row, Tally::default()));
                tallies.len() - 1
            });
        let tally = &mut tallies[index].1;
        let state = row.state()?;
        if let Some(column) = STATES.iter().position(|s| *s == state) {
            tally.states[column] += 1;
        }
        tally.not_billed += u32::from(!row.billable);
        tally.adaptation += u32::from(row.adaptation);
        tally.minutes += row.minutes_present().unwrap_or(0);
        tally.overtime += row.overtime_minutes().unwrap_or(0);
    }
    tallies.sort_by(|(a, _), (b, _)| {
        (
            &a.activity,
            a.activity_id,
            &a.last_name,
            &a.first_name,
            a.child_id,
        )
            .cmp(&(
                &b.activity,
                b.activity_id,
                &b.last_name,
                &b.first_name,
                b.child_id,
            ))
    });
    let mut out = String::from(BOM);
    let mut header: Vec<String> = ["Activité", "Code activité", "N° enfant", "Nom", "Prénom"]
        .map(String::from)
        .to_vec();
    header.extend(STATES.iter().map(|s| capitalised(s.label_fr())));
    header.extend(
        [
            "Non facturé",
            "Adaptation",
            "Heures de présence",
            "Dépassement (min)",
        ]
        .map(String::from),
    );
    line(&mut out, &header);
    for (row, tally) in &tallies {
        let mut fields = vec![
            row.activity.clone(),
            row.activity_code.clone(),
            row.child_id.to_string(),
            row.last_name.clone(),
            row.first_name.clone(),
        ];
        fields.extend(tally.states.iter().map(u32::to_string));
        fields.extend([
            tally.not_billed.to_string(),
            tally.adaptation.to_string(),
            hours(tally.minutes),
            tally.overtime.to_string(),
        ]);
        line(&mut out, &fields);
    }
    Ok(out)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// « 7,50 »: hours with two decimals and a French comma.
fn hours(minutes: i64) -> String {
    let hundredths = (minutes * 100 + 30) / 60;
    format!("{},{:02}", hundredths / 100, hundredths % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, TimeZone, Utc};

    fn t(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    fn row(child: i64, last: &str, state: &str) -> Row {
        Row {
            booking_id: child * 10,
            day: NaiveDate::from_ymd_opt(2026, 9, 14).unwrap(),
            child_id: child,
            first_name: "Léa".into(),
            last_name: last.into(),
            birth_date: None,
            class_name: None,
            activity_id: 3,
            activity: "Crèche des Lilas".into(),
            activity_code: "creche-lilas".into(),
            structure_id: None,
            structure: None,
            group_id: 4,
            group_name: "Bébés".into(),
            unit: "journee".into(),
            unit_label: "Journée".into(),
            unit_starts: t("07:30"),
            unit_ends: t("18:30"),
            hourly: true,
            state_code: state.into(),
            arrival: None,
            departure: None,
            adaptation: false,
            billable: true,
            meal_choice: None,
            origin: "agent".into(),
            reason: String::new(),
            state_by: "agent:1".into(),
            state_at: Utc.with_ymd_and_hms(2026, 9, 14, 16, 45, 0).unwrap(),
        }
    }

    #[test]
    fn fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(field("Martin"), "Martin");
        assert_eq!(field("Dupont; fils"), "\"Dupont; fils\"");
        assert_eq!(field("dit \"Jo\""), "\"dit \"\"Jo\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("-2"), "'-2");
    }

    #[test]
    fn the_detail_has_one_line_per_row_with_state_times_and_author() {
        let mut present = row(1, "Martin", "present");
        present.arrival = Some(t("08:05"));
        present.departure = Some(t("18:42"));
        present.billable = false;
        let csv = detail(&[present, row(2, "Bernard", "absent_justified")]).unwrap();
        let lines: Vec<&str> = csv.trim_start_matches(BOM).lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("Date;Structure;Activité;"));
        assert_eq!(
            lines[1],
            "14/09/2026;;Crèche des Lilas;creche-lilas;Bébés;Journée;journee;1;Martin;Léa;\
             présent;present;08:05;18:42;12;non;non;agent;;agent:1;14/09/2026 18:45"
        );
        assert!(lines[2].contains(";absence justifiée;absent_justified;;;;non;oui;"));
        assert!(csv.starts_with(BOM));
    }

    #[test]
    fn the_summary_counts_each_state_per_child() {
        let mut long = row(1, "Martin", "present");
        long.arrival = Some(t("08:00"));
        long.departure = Some(t("15:30"));
        let csv = summary(&[
            long,
            row(1, "Martin", "absent_unjustified"),
            row(2, "Bernard", "present_unbooked"),
        ])
        .unwrap();
        let lines: Vec<&str> = csv.trim_start_matches(BOM).lines().collect();
        assert_eq!(
            lines[0],
            "Activité;Code activité;N° enfant;Nom;Prénom;Réservé;Présent;\
             Présent sans réservation;Absence justifiée;Absence injustifiée;\
             Annulé dans les délais;Annulé hors délai;Non facturé;Adaptation;\
             Heures de présence;Dépassement (min)"
        );
        assert_eq!(
            lines[1],
            "Crèche des Lilas;creche-lilas;2;Bernard;Léa;0;0;1;0;0;0;0;0;0;0,00;0"
        );
        assert_eq!(
            lines[2],
            "Crèche des Lilas;creche-lilas;1;Martin;Léa;0;1;0;0;1;0;0;0;0;7,50;0"
        );
    }

    #[test]
    fn periods_are_checked() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 9, d).unwrap();
        assert!(check_period(day(1), day(30)).is_ok());
        assert!(check_period(day(2), day(1)).is_err());
        assert!(check_period(day(1), day(1) + chrono::Days::new(366)).is_err());
        assert!(check_period(day(1), day(1) + chrono::Days::new(365)).is_ok());
    }
}
