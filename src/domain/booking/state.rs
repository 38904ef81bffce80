//! The life of a booking row, pure: one row per child, unit and day whose state moves from
//! « réservé » to what happened. Billing prices that state ([`AttendanceState`]).
//!
//! | from \ to            | present                 | absent (justified or not) | cancelled          |
//! |----------------------|-------------------------|---------------------------|--------------------|
//! | booked               | present                 | absent                    | in time, or late   |
//! | present / absent     | present (correction)    | absent (correction)       | refused            |
//! | cancelled late       | present                 | absent                    | refused            |
//! | present unbooked     | stays present unbooked  | refused (remove instead)  | removed (in time)  |
//! | cancelled in time    | present unbooked        | refused                   | refused            |
//!
//! Every state but « annulé dans les délais » holds a place.

use crate::domain::pricing::AttendanceState;
use crate::platform::error::{AppError, AppResult};

use AttendanceState::*;

/// The database code of a state (the snake_case serde name).
pub fn code(state: AttendanceState) -> &'static str {
    match state {
        Booked => "booked",
        Present => "present",
        AbsentJustified => "absent_justified",
        AbsentUnjustified => "absent_unjustified",
        PresentUnbooked => "present_unbooked",
        CancelledInTime => "cancelled_in_time",
        CancelledLate => "cancelled_late",
    }
}

/// Whether a row in this state counts against capacity.
pub fn holds_place(state: AttendanceState) -> bool {
    state != CancelledInTime
}

/// What an agent records on the attendance list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Present,
    Absent { justified: bool },
}

/// The state after `mark` on a row in state `from`.
pub fn mark(from: AttendanceState, mark: Mark) -> AppResult<AttendanceState> {
    match (from, mark) {
        (PresentUnbooked, Mark::Present) | (CancelledInTime, Mark::Present) => Ok(PresentUnbooked),
        (_, Mark::Present) => Ok(Present),
        (PresentUnbooked, Mark::Absent { .. }) => Err(AppError::invalid(
            "cet enfant n'était pas réservé : retirez-le de la liste plutôt que de le noter absent",
        )),
        (CancelledInTime, Mark::Absent { .. }) => Err(AppError::invalid(
            "cette réservation a été annulée dans les délais : pas d'absence à noter",
        )),
        (_, Mark::Absent { justified: true }) => Ok(AbsentJustified),
        (_, Mark::Absent { justified: false }) => Ok(AbsentUnjustified),
    }
}

/// The state after a cancellation, `in_time` or not; `late` is what a late cancellation
/// becomes in this activity. An unbooked presence entered by mistake is simply removed.
pub fn cancel(
    from: AttendanceState,
    in_time: bool,
    late: AttendanceState,
) -> AppResult<AttendanceState> {
    match from {
        Booked if in_time => Ok(CancelledInTime),
        Booked => Ok(late),
        PresentUnbooked => Ok(CancelledInTime),
        CancelledInTime => Err(AppError::invalid("cette réservation est déjà annulée")),
        _ => Err(AppError::invalid(format!(
            "cette réservation est déjà pointée ({}) : corrigez le pointage plutôt que de l'annuler",
            from.label_fr()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [AttendanceState; 7] = [
        Booked,
        Present,
        AbsentJustified,
        AbsentUnjustified,
        PresentUnbooked,
        CancelledInTime,
        CancelledLate,
    ];

    #[test]
    fn a_booked_child_is_marked_present_or_absent() {
        assert_eq!(mark(Booked, Mark::Present).unwrap(), Present);
        assert_eq!(
            mark(Booked, Mark::Absent { justified: false }).unwrap(),
            AbsentUnjustified
        );
        assert_eq!(
            mark(Booked, Mark::Absent { justified: true }).unwrap(),
            AbsentJustified
        );
    }

    #[test]
    fn marks_can_be_corrected_during_the_day() {
        assert_eq!(
            mark(Present, Mark::Absent { justified: true }).unwrap(),
            AbsentJustified
        );
        assert_eq!(mark(AbsentUnjustified, Mark::Present).unwrap(), Present);
        assert_eq!(mark(CancelledLate, Mark::Present).unwrap(), Present);
    }

    #[test]
    fn a_child_present_without_booking_stays_unbooked_for_billing() {
        assert_eq!(
            mark(CancelledInTime, Mark::Present).unwrap(),
            PresentUnbooked
        );
        assert_eq!(
            mark(PresentUnbooked, Mark::Present).unwrap(),
            PresentUnbooked
        );
        assert!(mark(PresentUnbooked, Mark::Absent { justified: false }).is_err());
        assert!(mark(CancelledInTime, Mark::Absent { justified: true }).is_err());
    }

    #[test]
    fn cancelling_in_time_frees_the_place_and_late_becomes_the_citys_choice() {
        assert_eq!(
            cancel(Booked, true, AbsentUnjustified).unwrap(),
            CancelledInTime
        );
        assert_eq!(
            cancel(Booked, false, AbsentUnjustified).unwrap(),
            AbsentUnjustified
        );
        assert_eq!(cancel(Booked, false, CancelledLate).unwrap(), CancelledLate);
        assert!(!holds_place(
            cancel(Booked, true, AbsentUnjustified).unwrap()
        ));
        assert!(holds_place(cancel(Booked, false, AbsentJustified).unwrap()));
    }

    #[test]
    fn a_marked_or_cancelled_row_cannot_be_cancelled() {
        for from in [
            Present,
            AbsentJustified,
            AbsentUnjustified,
            CancelledLate,
            CancelledInTime,
        ] {
            assert!(cancel(from, true, AbsentUnjustified).is_err(), "{from:?}");
        }
        assert_eq!(
            cancel(PresentUnbooked, false, AbsentUnjustified).unwrap(),
            CancelledInTime
        );
    }

    #[test]
    fn only_a_cancellation_in_time_gives_the_place_back() {
        for state in ALL {
            assert_eq!(holds_place(state), state != CancelledInTime);
        }
    }

    #[test]
    fn codes_are_the_serde_names() {
        for state in ALL {
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::from(code(state))
            );
        }
    }
}
