//! Supervision ratios (taux d'encadrement, ACT-10), pure: how many children a group holds
//! at the busiest moment of each unit, planned and present, against what its staff allows.
//!
//! A child counts during its unit's hours, or from its arrival to its departure once they
//! are recorded; a child booked for the day counts in the morning as in the afternoon. The
//! headcount of a unit is the largest number of children there at once within its hours.

use chrono::NaiveTime;
use serde::Serialize;

use crate::domain::pricing::AttendanceState;

/// One child's time in the group (a row of the attendance list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub child: i64,
    pub from: NaiveTime,
    pub to: NaiveTime,
    pub state: AttendanceState,
}

/// Whether a row in `state` is a child still expected or already there.
pub fn planned(state: AttendanceState) -> bool {
    matches!(
        state,
        AttendanceState::Booked | AttendanceState::Present | AttendanceState::PresentUnbooked
    )
}

/// Whether a row in `state` is a child who is there.
pub fn present(state: AttendanceState) -> bool {
    matches!(
        state,
        AttendanceState::Present | AttendanceState::PresentUnbooked
    )
}

/// A unit's hours, over which the headcount is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub label: String,
    pub from: NaiveTime,
    pub to: NaiveTime,
}

/// The most children there at once within `window` among the stays `keep` selects.
fn peak(stays: &[Stay], window: &Window, keep: fn(AttendanceState) -> bool) -> u32 {
    let kept: Vec<&Stay> = stays
        .iter()
        .filter(|s| keep(s.state) && s.from < window.to && s.to > window.from)
        .collect();
    // The count only rises when someone arrives: the busiest moment is an arrival (or
    // the window's start, for those already there).
    let instants = std::iter::once(window.from).chain(
        kept.iter()
            .map(|s| s.from)
            .filter(|t| *t > window.from && *t < window.to),
    );
    instants
        .map(|t| {
            let mut children: Vec<i64> = kept
                .iter()
                .filter(|s| s.from <= t && t < s.to)
                .map(|s| s.child)
                .collect();
            children.sort_unstable();
            children.dedup();
            children.len() as u32
        })
        .max()
        .unwrap_or(0)
}

/// Children planned (expected or there) and present at the busiest moment of `window`.
pub fn headcount(stays: &[Stay], window: &Window) -> (u32, u32) {
    (peak(stays, window, planned), peak(stays, window, present))
}

/// The staff of a group on a day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Staffing {
    pub planned: u32,
    pub present: u32,
}

/// A unit's headcount against its staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RatioCheck {
    pub unit: String,
    /// Children per staff member (the group's age band).
    pub ratio: u32,
    pub planned: u32,
    pub present: u32,
    pub staff: Staffing,
    /// Children the staff present may supervise.
    pub allowed: u32,
    /// Staff the children need.
    pub needed: u32,
    /// Why the ratio is not met, in French; `None` when it is.
    pub alert: Option<String>,
}

fn count(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n > 1 { many } else { one })
}

/// Checks a unit whose headcount is `planned`/`present` against the staff present, at
/// `ratio` children per adult. No ratio set for the group: nothing to check.
pub fn check(
    unit: &str,
    ratio: Option<i32>,
    (planned, present): (u32, u32),
    staff: Staffing,
) -> Option<RatioCheck> {
    let ratio = u32::try_from(ratio?).ok().filter(|r| *r > 0)?;
    let allowed = staff.present * ratio;
    let needed = planned.max(present).div_ceil(ratio);
    let alert = if present > allowed || planned > allowed {
        let (children, what) = if present > allowed {
            (
                present,
                count(present, "enfant présent", "enfants présents"),
            )
        } else {
            (
                planned,
                count(planned, "enfant attendu", "enfants attendus"),
            )
        };
        debug_assert!(children > allowed);
        let mut text = format!(
            "Taux d'encadrement dépassé ({unit}) : {what} pour {} ({} au plus à raison de \
             {ratio} par adulte) ; il faut {}.",
            count(staff.present, "encadrant présent", "encadrants présents"),
            count(allowed, "enfant", "enfants"),
            count(needed, "encadrant", "encadrants"),
        );
        if staff.planned < needed {
            text.push_str(&format!(
                " L'équipe prévue ({}) ne suffit pas non plus.",
                count(staff.planned, "personne", "personnes")
            ));
        }
        Some(text)
    } else {
        None
    };
    Some(RatioCheck {
        unit: unit.to_string(),
        ratio,
        planned,
        present,
        staff,
        allowed,
        needed,
        alert,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttendanceState::*;

    fn t(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    fn stay(child: i64, from: &str, to: &str, state: AttendanceState) -> Stay {
        Stay {
            child,
            from: t(from),
            to: t(to),
            state,
        }
    }

    fn window(from: &str, to: &str) -> Window {
        Window {
            label: "Matin".into(),
            from: t(from),
            to: t(to),
        }
    }

    #[test]
    fn the_headcount_is_the_busiest_moment_of_the_unit() {
        let stays = [
            stay(1, "08:00", "12:00", Booked),
            stay(2, "08:00", "10:00", Present),
            stay(3, "10:00", "12:00", Present),
            stay(4, "08:00", "18:00", PresentUnbooked),
            stay(5, "08:00", "12:00", AbsentUnjustified),
            stay(6, "13:30", "18:00", Booked),
        ];
        // 2 leaves at 10:00 when 3 arrives: never more than 3 at once.
        assert_eq!(headcount(&stays, &window("08:00", "12:00")), (3, 2));
        // The afternoon: 4 (all day) and 6.
        assert_eq!(headcount(&stays, &window("13:30", "18:00")), (2, 1));
    }

    #[test]
    fn a_child_with_two_units_counts_once() {
        let stays = [
            stay(1, "08:00", "12:00", Present),
            stay(1, "08:00", "18:00", Present),
        ];
        assert_eq!(headcount(&stays, &window("08:00", "12:00")), (1, 1));
    }

    #[test]
    fn an_absent_or_cancelled_child_needs_no_one() {
        let stays = [
            stay(1, "08:00", "12:00", AbsentJustified),
            stay(2, "08:00", "12:00", CancelledLate),
            stay(3, "08:00", "12:00", CancelledInTime),
        ];
        assert_eq!(headcount(&stays, &window("08:00", "12:00")), (0, 0));
        assert_eq!(headcount(&[], &window("08:00", "12:00")), (0, 0));
    }

    #[test]
    fn the_ratio_is_met_or_the_alert_says_how_many_adults_are_needed() {
        let staff = Staffing {
            planned: 2,
            present: 1,
        };
        let ok = check("Matin", Some(8), (8, 5), staff).unwrap();
        assert_eq!((ok.allowed, ok.needed, ok.alert), (8, 1, None));

        let planned = check("Matin", Some(8), (9, 5), staff).unwrap();
        assert_eq!(planned.needed, 2);
        assert_eq!(
            planned.alert.as_deref(),
            Some(
                "Taux d'encadrement dépassé (Matin) : 9 enfants attendus pour 1 encadrant \
                 présent (8 enfants au plus à raison de 8 par adulte) ; il faut 2 encadrants."
            )
        );

        let present = check("Repas", Some(5), (11, 11), staff).unwrap();
        let alert = present.alert.unwrap();
        assert!(
            alert.contains("11 enfants présents pour 1 encadrant présent"),
            "{alert}"
        );
        assert!(
            alert.ends_with(
                "il faut 3 encadrants. L'équipe prévue (2 personnes) ne suffit pas non plus."
            ),
            "{alert}"
        );
    }

    #[test]
    fn without_staff_present_any_child_raises_the_alert() {
        let none = Staffing::default();
        let alert = check("Journée", Some(5), (1, 0), none)
            .unwrap()
            .alert
            .unwrap();
        assert!(alert.contains("1 enfant attendu pour 0 encadrant présent (0 enfant au plus"));
        assert_eq!(check("Journée", Some(5), (0, 0), none).unwrap().alert, None);
    }

    #[test]
    fn a_group_without_ratio_is_not_checked() {
        assert_eq!(check("Séance", None, (40, 40), Staffing::default()), None);
        assert_eq!(
            check("Séance", Some(0), (40, 40), Staffing::default()),
            None
        );
    }
}
