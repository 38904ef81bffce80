//! Effective dating: everything priced is valid from a day to a day (both inclusive), so a past
//! day is always priced with what was in force on it.

use chrono::NaiveDate;

use super::error::ConfigError;

/// Something in force from `valid_from` to `valid_to`, both inclusive (`valid_to` absent = until
/// further notice). Inclusive ends match how délibérations are written: « jusqu'au 31 août ».
pub trait EffectiveDated {
    fn valid_from(&self) -> NaiveDate;
    fn valid_to(&self) -> Option<NaiveDate>;

    fn in_force_on(&self, day: NaiveDate) -> bool {
        self.valid_from() <= day && self.valid_to().is_none_or(|to| day <= to)
    }
}

/// The item in force on `day`. Validated lists never overlap, so "the first" is "the only one".
pub fn in_force_on<T: EffectiveDated>(items: &[T], day: NaiveDate) -> Option<&T> {
    items.iter().find(|item| item.in_force_on(day))
}

/// Refuses periods that end before they start and periods that overlap (whatever their order
/// in the file): two versions in force on the same day would make a price depend on file order.
pub(crate) fn check_periods<T: EffectiveDated>(items: &[T], what: &str) -> Result<(), ConfigError> {
    for item in items {
        if let Some(to) = item.valid_to().filter(|to| *to < item.valid_from()) {
            return Err(ConfigError::EndsBeforeStart {
                what: what.to_owned(),
                from: item.valid_from(),
                to,
            });
        }
    }
    let mut sorted: Vec<&T> = items.iter().collect();
    sorted.sort_by_key(|item| item.valid_from());
    for pair in sorted.windows(2) {
        let (earlier, later) = (pair[0], pair[1]);
        if earlier.valid_to().is_none_or(|to| to >= later.valid_from()) {
            return Err(ConfigError::OverlappingPeriods {
                what: what.to_owned(),
                first: earlier.valid_from(),
                second: later.valid_from(),
            });
        }
    }
    Ok(())
}

/// Implements [`EffectiveDated`] for a struct with `valid_from` / `valid_to` fields. Invoked
/// from direct children of the pricing module (the path is resolved where it is invoked, which
/// keeps the module free of its crate position).
macro_rules! effective_dated {
    ($type:ty) => {
        impl super::dated::EffectiveDated for $type {
            fn valid_from(&self) -> chrono::NaiveDate {
                self.valid_from
            }
            fn valid_to(&self) -> Option<chrono::NaiveDate> {
                self.valid_to
            }
        }
    };
}
pub(crate) use effective_dated;

#[cfg(test)]
mod tests {
    use super::*;

    struct Period(NaiveDate, Option<NaiveDate>);
    impl EffectiveDated for Period {
        fn valid_from(&self) -> NaiveDate {
            self.0
        }
        fn valid_to(&self) -> Option<NaiveDate> {
            self.1
        }
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn bounds_are_inclusive() {
        let period = Period(day("2024-09-01"), Some(day("2025-08-31")));
        assert!(!period.in_force_on(day("2024-08-31")));
        assert!(period.in_force_on(day("2024-09-01")));
        assert!(period.in_force_on(day("2025-08-31")));
        assert!(!period.in_force_on(day("2025-09-01")));
        assert!(Period(day("2024-09-01"), None).in_force_on(day("2099-01-01")));
    }

    #[test]
    fn adjacent_periods_are_accepted_in_any_order() {
        let periods = [
            Period(day("2025-09-01"), None),
            Period(day("2024-09-01"), Some(day("2025-08-31"))),
        ];
        assert_eq!(check_periods(&periods, "grille"), Ok(()));
        assert_eq!(
            in_force_on(&periods, day("2025-08-31")).map(|p| p.0),
            Some(day("2024-09-01"))
        );
    }

    #[test]
    fn overlapping_or_reversed_periods_are_refused() {
        let overlapping = [
            Period(day("2024-09-01"), Some(day("2025-09-01"))),
            Period(day("2025-09-01"), None),
        ];
        assert!(matches!(
            check_periods(&overlapping, "grille"),
            Err(ConfigError::OverlappingPeriods { .. })
        ));
        let open_then_later = [
            Period(day("2024-09-01"), None),
            Period(day("2030-01-01"), None),
        ];
        assert!(check_periods(&open_then_later, "grille").is_err());
        let reversed = [Period(day("2024-09-01"), Some(day("2024-08-31")))];
        assert!(matches!(
            check_periods(&reversed, "grille"),
            Err(ConfigError::EndsBeforeStart { .. })
        ));
    }
}
