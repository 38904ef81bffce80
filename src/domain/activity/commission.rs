//! Commission scoring (ACT-03), pure: each criterion the city weighs gives its points when
//! the family's situation meets it; the score is their sum plus the points the commission
//! adds by hand. Ties are broken by the request date (earlier first), see [`rank`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The criteria a city may weigh.
pub const KINDS: &[(&str, &str)] = &[
    ("siblings", "Frère ou sœur déjà accueilli dans l'activité"),
    (
        "both_parents_working",
        "Parents qui travaillent tous les deux (ou parent seul qui travaille)",
    ),
    ("single_parent", "Famille monoparentale"),
    ("qf_at_most", "Quotient familial au plus égal au seuil"),
    ("resident", "Famille résidant dans la commune"),
    ("school", "Enfant scolarisé dans l'école indiquée"),
    ("disability", "Enfant en situation de handicap (AEEH)"),
];

pub fn kind_label(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, l)| l)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub kind: String,
    /// QF threshold in euros for `qf_at_most`, school id for `school`.
    pub parameter: String,
    pub weight: i32,
}

/// The facts of a request the criteria look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub siblings_enrolled: u32,
    pub both_parents_working: bool,
    pub single_parent: bool,
    pub family_quotient: Option<i64>,
    pub resident: bool,
    pub school_id: Option<i64>,
    pub disability: bool,
}

/// One line of the score, shown to the commission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreLine {
    pub label: String,
    pub points: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub total: i32,
    pub lines: Vec<ScoreLine>,
}

fn met(criterion: &Criterion, facts: &Facts) -> bool {
    match criterion.kind.as_str() {
        "siblings" => facts.siblings_enrolled > 0,
        "both_parents_working" => facts.both_parents_working,
        "single_parent" => facts.single_parent,
        "qf_at_most" => match (
            criterion.parameter.trim().parse::<i64>(),
            facts.family_quotient,
        ) {
            (Ok(threshold), Some(qf)) => qf <= threshold,
            _ => false,
        },
        "resident" => facts.resident,
        "school" => criterion
            .parameter
            .trim()
            .parse::<i64>()
            .is_ok_and(|school| facts.school_id == Some(school)),
        "disability" => facts.disability,
        _ => false,
    }
}

/// The score of a request: every met criterion's weight, then the commission's own points.
pub fn score(criteria: &[Criterion], facts: &Facts, bonus_points: i32) -> Score {
    let mut lines: Vec<ScoreLine> = criteria
        .iter()
        .filter(|c| met(c, facts))
        .map(|c| ScoreLine {
            label: match c.kind.as_str() {
                "qf_at_most" => format!("Quotient familial ≤ {} €", c.parameter.trim()),
                _ => kind_label(&c.kind).to_string(),
            },
            points: c.weight,
        })
        .collect();
    if bonus_points != 0 {
        lines.push(ScoreLine {
            label: "Points ajoutés par la commission".into(),
            points: bonus_points,
        });
    }
    Score {
        total: lines.iter().map(|l| l.points).sum(),
        lines,
    }
}

/// Orders requests for the commission and the waitlist: higher score first, then the
/// earlier request, then the lower id (stable, whatever the input order).
pub fn rank<T>(items: &mut [T], key: impl Fn(&T) -> (i32, DateTime<Utc>, i64)) {
    items.sort_by(|a, b| {
        let (sa, da, ia) = key(a);
        let (sb, db, ib) = key(b);
        sb.cmp(&sa).then(da.cmp(&db)).then(ia.cmp(&ib))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn criterion(kind: &str, parameter: &str, weight: i32) -> Criterion {
        Criterion {
            kind: kind.into(),
            parameter: parameter.into(),
            weight,
        }
    }

    fn city_criteria() -> Vec<Criterion> {
        vec![
            criterion("siblings", "", 30),
            criterion("both_parents_working", "", 20),
            criterion("qf_at_most", "700", 15),
            criterion("resident", "", 50),
            criterion("disability", "", 40),
        ]
    }

    #[test]
    fn the_score_adds_the_weights_of_the_met_criteria_with_their_reasons() {
        let facts = Facts {
            siblings_enrolled: 1,
            both_parents_working: true,
            family_quotient: Some(742),
            resident: true,
            ..Default::default()
        };
        let score = score(&city_criteria(), &facts, 5);
        assert_eq!(score.total, 30 + 20 + 50 + 5);
        let labels: Vec<&str> = score.lines.iter().map(|l| l.label.as_str()).collect();
        assert!(labels.contains(&"Frère ou sœur déjà accueilli dans l'activité"));
        assert!(
            !labels.iter().any(|l| l.contains("Quotient")),
            "QF 742 > 700"
        );
        assert_eq!(labels.last(), Some(&"Points ajoutés par la commission"));
    }

    #[test]
    fn a_qf_at_the_threshold_counts_and_an_unknown_qf_does_not() {
        let criteria = vec![criterion("qf_at_most", "700", 15)];
        let at = Facts {
            family_quotient: Some(700),
            ..Default::default()
        };
        assert_eq!(score(&criteria, &at, 0).total, 15);
        assert_eq!(score(&criteria, &Facts::default(), 0).total, 0);
    }

    #[test]
    fn ranking_puts_higher_scores_then_earlier_requests_first() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let mut requests = vec![
            (3, 40, t("2026-03-02T10:00:00Z")),
            (1, 55, t("2026-03-05T10:00:00Z")),
            (2, 40, t("2026-03-01T10:00:00Z")),
        ];
        rank(&mut requests, |r| (r.1, r.2, r.0));
        let order: Vec<i64> = requests.iter().map(|r| r.0).collect();
        assert_eq!(order, vec![1, 2, 3]);
    }

    proptest! {
        #[test]
        fn the_total_is_the_sum_of_the_lines(
            siblings in 0u32..3, working: bool, single: bool, resident: bool, disability: bool,
            qf in proptest::option::of(0i64..3000), bonus in -50i32..50,
        ) {
            let facts = Facts {
                siblings_enrolled: siblings, both_parents_working: working, single_parent: single,
                family_quotient: qf, resident, school_id: None, disability,
            };
            let score = score(&city_criteria(), &facts, bonus);
            prop_assert_eq!(score.total, score.lines.iter().map(|l| l.points).sum::<i32>());
            // Meeting one more criterion never lowers a score made of positive weights.
            let more = Facts { resident: true, ..facts.clone() };
            prop_assert!(super::score(&city_criteria(), &more, bonus).total >= score.total);
        }
    }
}
