//! Which capacity applies to a unit on a day (ACT-04), pure.
//!
//! A capacity row gives places to an activity, optionally narrowed to a group and/or a unit,
//! either permanently (`valid_from`..`valid_to`) or for one day (a punctual override). Two
//! levels apply independently and both must have room:
//! - the **activity level** (rows without group): places shared by all groups;
//! - the **group level** (rows of the child's group).
//!
//! Within a level, the row that applies to (unit, day) is, in order of preference: a punctual
//! row for that day over a permanent one; a row for that unit over a row for every unit; the
//! latest `valid_from`; the last entered (highest id). No row at a level: no limit there.

use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityRow {
    pub id: i64,
    pub group_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub day: Option<NaiveDate>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub places: i32,
}

impl CapacityRow {
    fn in_force(&self, day: NaiveDate) -> bool {
        match self.day {
            Some(only) => only == day,
            None => self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to),
        }
    }
}

/// The capacity level a counter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Activity,
    Group(i64),
}

impl Level {
    /// The `group_id` of the level's counter (0 for the activity level).
    pub fn counter_group(self) -> i64 {
        match self {
            Level::Activity => 0,
            Level::Group(id) => id,
        }
    }
}

/// The places at `level` for `unit` on `day`; `None` when nothing limits that level.
pub fn places(rows: &[CapacityRow], level: Level, unit: i64, day: NaiveDate) -> Option<i32> {
    rows.iter()
        .filter(|row| match level {
            Level::Activity => row.group_id.is_none(),
            Level::Group(group) => row.group_id == Some(group),
        })
        .filter(|row| row.unit_id.is_none_or(|u| u == unit) && row.in_force(day))
        .max_by_key(|row| {
            (
                row.day.is_some(),
                row.unit_id.is_some(),
                row.valid_from,
                row.id,
            )
        })
        .map(|row| row.places)
}

/// Places left at one level: `None` when unlimited, never negative (a capacity lowered under
/// the places already taken leaves 0, not a debt).
pub fn remaining(places: Option<i32>, taken: i32) -> Option<i32> {
    places.map(|p| (p - taken).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn row(id: i64, group: Option<i64>, unit: Option<i64>, places: i32) -> CapacityRow {
        CapacityRow {
            id,
            group_id: group,
            unit_id: unit,
            day: None,
            valid_from: day("2026-09-01"),
            valid_to: None,
            places,
        }
    }

    #[test]
    fn levels_are_kept_apart() {
        let rows = vec![row(1, None, None, 60), row(2, Some(7), None, 20)];
        let monday = day("2026-10-05");
        assert_eq!(places(&rows, Level::Activity, 3, monday), Some(60));
        assert_eq!(places(&rows, Level::Group(7), 3, monday), Some(20));
        assert_eq!(
            places(&rows, Level::Group(8), 3, monday),
            None,
            "group 8 unlimited"
        );
    }

    #[test]
    fn a_unit_row_beats_an_all_units_row_and_a_punctual_row_beats_both() {
        let mut punctual = row(3, Some(7), None, 12);
        punctual.day = Some(day("2026-10-07"));
        let rows = vec![
            row(1, Some(7), None, 20),
            row(2, Some(7), Some(4), 16),
            punctual,
        ];
        assert_eq!(
            places(&rows, Level::Group(7), 4, day("2026-10-06")),
            Some(16)
        );
        assert_eq!(
            places(&rows, Level::Group(7), 5, day("2026-10-06")),
            Some(20)
        );
        assert_eq!(
            places(&rows, Level::Group(7), 4, day("2026-10-07")),
            Some(12)
        );
    }

    #[test]
    fn permanent_values_follow_their_dates() {
        let mut old = row(1, None, None, 40);
        old.valid_to = Some(day("2026-12-31"));
        let mut new = row(2, None, None, 48);
        new.valid_from = day("2027-01-01");
        let rows = vec![old, new];
        assert_eq!(
            places(&rows, Level::Activity, 1, day("2026-12-31")),
            Some(40)
        );
        assert_eq!(
            places(&rows, Level::Activity, 1, day("2027-01-01")),
            Some(48)
        );
        assert_eq!(places(&rows, Level::Activity, 1, day("2026-08-31")), None);
    }

    #[test]
    fn among_equals_the_last_entered_wins() {
        let rows = vec![row(1, None, None, 40), row(2, None, None, 45)];
        assert_eq!(
            places(&rows, Level::Activity, 1, day("2026-10-05")),
            Some(45)
        );
    }

    #[test]
    fn remaining_places_are_never_negative() {
        assert_eq!(remaining(Some(20), 5), Some(15));
        assert_eq!(remaining(Some(10), 12), Some(0));
        assert_eq!(remaining(None, 12), None);
    }
}
