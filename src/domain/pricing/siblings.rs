//! Sibling rank for degressive tariffs.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::settings::SiblingOrder;

/// A child of the household enrolled on the priced day. Which enrolments count (the same
/// activity, any activity of the city) is the caller's choice: it is a city rule of enrolment,
/// not of pricing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolledChild {
    pub child_id: i64,
    pub birth_date: NaiveDate,
}

/// The 1-based rank of `child_id` among `enrolled` in the city's order, or `None` if the child
/// is not in the list. Twins (same birth date) are ordered by child id so the rank never
/// depends on the order the list was loaded in. Ranks past 255 stay 255 (any "3 and more" rule
/// still matches).
pub fn sibling_rank(child_id: i64, enrolled: &[EnrolledChild], order: SiblingOrder) -> Option<u8> {
    let mut ordered: Vec<&EnrolledChild> = enrolled.iter().collect();
    ordered.sort_by(|a, b| {
        let by_age = a.birth_date.cmp(&b.birth_date);
        let by_age = match order {
            SiblingOrder::EldestFirst => by_age,
            SiblingOrder::YoungestFirst => by_age.reverse(),
        };
        by_age.then(a.child_id.cmp(&b.child_id))
    });
    let position = ordered
        .iter()
        .position(|child| child.child_id == child_id)?;
    Some(u8::try_from(position + 1).unwrap_or(u8::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(child_id: i64, birth: &str) -> EnrolledChild {
        EnrolledChild {
            child_id,
            birth_date: birth.parse().unwrap(),
        }
    }

    #[test]
    fn ranks_eldest_or_youngest_first() {
        let family = [
            child(7, "2018-03-01"),
            child(3, "2015-06-10"),
            child(9, "2020-01-20"),
        ];
        assert_eq!(sibling_rank(3, &family, SiblingOrder::EldestFirst), Some(1));
        assert_eq!(sibling_rank(7, &family, SiblingOrder::EldestFirst), Some(2));
        assert_eq!(sibling_rank(9, &family, SiblingOrder::EldestFirst), Some(3));
        assert_eq!(
            sibling_rank(9, &family, SiblingOrder::YoungestFirst),
            Some(1)
        );
        assert_eq!(
            sibling_rank(3, &family, SiblingOrder::YoungestFirst),
            Some(3)
        );
    }

    #[test]
    fn twins_are_ordered_by_id_whatever_the_input_order() {
        let one_way = [child(12, "2019-05-05"), child(11, "2019-05-05")];
        let other_way = [child(11, "2019-05-05"), child(12, "2019-05-05")];
        for family in [&one_way, &other_way] {
            assert_eq!(sibling_rank(11, family, SiblingOrder::EldestFirst), Some(1));
            assert_eq!(
                sibling_rank(11, family, SiblingOrder::YoungestFirst),
                Some(1)
            );
            assert_eq!(sibling_rank(12, family, SiblingOrder::EldestFirst), Some(2));
        }
    }

    #[test]
    fn a_child_not_enrolled_has_no_rank() {
        assert_eq!(
            sibling_rank(1, &[child(2, "2019-05-05")], SiblingOrder::EldestFirst),
            None
        );
        assert_eq!(sibling_rank(1, &[], SiblingOrder::EldestFirst), None);
    }
}
