//! Custody of children of separated parents, on top of the calendar module's patterns:
//! which household has the child on a day, and a French summary for the dossier.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveTime};

use crate::domain::calendar::{CustodyPattern, CustodyRule, HouseholdRef, household_on};

/// Households a set of patterns names.
pub fn households_named(patterns: &[CustodyPattern]) -> BTreeSet<i64> {
    let mut named = BTreeSet::new();
    for pattern in patterns {
        match &pattern.rule {
            CustodyRule::Sole { household }
            | CustodyRule::DateRange { household, .. }
            | CustodyRule::HourlySlot { household, .. } => {
                named.insert(household.0);
            }
            CustodyRule::AlternateWeeks { week_a, week_b, .. } => {
                named.insert(week_a.0);
                named.insert(week_b.0);
            }
            CustodyRule::Weekdays {
                days, alternating, ..
            } => {
                named.extend(days.iter().map(|d| d.household.0));
                if let Some(alt) = alternating {
                    named.insert(alt.first.0);
                    named.insert(alt.second.0);
                }
            }
        }
    }
    named
}

/// The household in charge of the child on `date` (at `time` if given); without a
/// calendar, the usual residence.
pub fn household_in_charge(
    patterns: &[CustodyPattern],
    usual_residence: Option<i64>,
    date: NaiveDate,
    time: Option<NaiveTime>,
) -> Option<i64> {
    household_on(patterns, date, time)
        .map(|HouseholdRef(id)| id)
        .or(usual_residence)
}

/// A French sentence describing the calendar in force on `date`, for the dossier.
pub fn describe(
    patterns: &[CustodyPattern],
    numbers: &dyn Fn(i64) -> String,
    date: NaiveDate,
) -> String {
    let in_force: Vec<&CustodyPattern> = patterns.iter().filter(|p| p.is_valid_on(date)).collect();
    if in_force.is_empty() {
        return "Pas de calendrier de garde : résidence habituelle.".to_string();
    }
    in_force
        .iter()
        .map(|p| match &p.rule {
            CustodyRule::Sole { household } => format!("Garde au foyer {}", numbers(household.0)),
            CustodyRule::AlternateWeeks { week_a, week_b, reference_date, .. } => format!(
                "Garde alternée une semaine sur deux : semaine A au foyer {}, semaine B au foyer {} (semaine A : celle du {})",
                numbers(week_a.0),
                numbers(week_b.0),
                reference_date.format("%d/%m/%Y")
            ),
            CustodyRule::Weekdays { .. } => "Garde répartie par jours de la semaine".to_string(),
            CustodyRule::DateRange { household, .. } => format!(
                "Du {} au {} au foyer {}",
                p.valid_from.format("%d/%m/%Y"),
                p.valid_to.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
                numbers(household.0)
            ),
            CustodyRule::HourlySlot { household, start_day, start_time, end_day, end_time, .. } => format!(
                "Créneau au foyer {} du {} {} au {} {}",
                numbers(household.0),
                crate::domain::calendar::custody::weekday_fr(*start_day),
                start_time.format("%H h %M"),
                crate::domain::calendar::custody::weekday_fr(*end_day),
                end_time.format("%H h %M")
            ),
        })
        .collect::<Vec<_>>()
        .join(" ; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    #[test]
    fn alternate_weeks_follow_the_reference_across_year_end() {
        // 2026 has 53 ISO weeks: counting weeks from the reference keeps the rhythm.
        let patterns = vec![CustodyPattern {
            valid_from: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            valid_to: None,
            rule: CustodyRule::AlternateWeeks {
                week_a: HouseholdRef(1),
                week_b: HouseholdRef(2),
                reference_date: NaiveDate::from_ymd_opt(2026, 12, 21).unwrap(),
                week_start: Weekday::Mon,
                handover: Default::default(),
            },
        }];
        let on = |y, m, d| {
            household_in_charge(
                &patterns,
                Some(1),
                NaiveDate::from_ymd_opt(y, m, d).unwrap(),
                None,
            )
        };
        assert_eq!(on(2026, 12, 23), Some(1));
        assert_eq!(on(2026, 12, 30), Some(2));
        assert_eq!(on(2027, 1, 6), Some(1));
        assert_eq!(on(2027, 1, 13), Some(2));
        assert_eq!(households_named(&patterns), BTreeSet::from([1, 2]));
        let text = describe(
            &patterns,
            &|id| format!("n° {id}"),
            NaiveDate::from_ymd_opt(2027, 1, 6).unwrap(),
        );
        assert!(text.contains("semaine A au foyer n° 1"), "{text}");
    }

    #[test]
    fn without_a_calendar_the_usual_residence_has_the_child() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(household_in_charge(&[], Some(7), day, None), Some(7));
    }
}
