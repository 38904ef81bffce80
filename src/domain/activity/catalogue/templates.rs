//! Kind templates: what a new activity of each kind starts with.

use super::*;

/// A unit as entered (codes of the same activity in `includes`, `excludes`, `requires`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Insertable, AsChangeset)]
#[diesel(table_name = activity_units)]
pub struct UnitInput {
    pub code: String,
    pub label: String,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
    pub hourly: bool,
    pub includes: Vec<String>,
    pub excludes: Vec<String>,
    pub requires: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Insertable, AsChangeset)]
#[diesel(table_name = activity_groups, treat_none_as_null = true)]
pub struct GroupInput {
    pub name: String,
    pub min_age_months: Option<i32>,
    pub max_age_months: Option<i32>,
    /// School levels (PS … CM2); empty: any.
    pub levels: Vec<String>,
    pub children_per_staff: Option<i32>,
}

/// What an activity of a kind starts with; everything is editable afterwards.
#[derive(Debug, Clone)]
pub struct Template {
    pub units: Vec<UnitInput>,
    pub groups: Vec<GroupInput>,
    pub opening: Vec<OpeningRule>,
    pub booking_notice: Option<NoticeRule>,
    pub cancel_notice: Option<NoticeRule>,
    pub requires_enrolment: bool,
    pub meal_choice: bool,
    pub when_full: &'static str,
}

pub(super) fn hm(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN)
}

pub(super) fn unit(code: &str, label: &str, from: (u32, u32), to: (u32, u32)) -> UnitInput {
    UnitInput {
        code: code.into(),
        label: label.into(),
        starts: hm(from.0, from.1),
        ends: hm(to.0, to.1),
        hourly: false,
        includes: vec![],
        excludes: vec![],
        requires: vec![],
    }
}

pub(super) fn codes(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

pub(super) fn group(name: &str, ages: Option<(i32, i32)>, ratio: Option<i32>) -> GroupInput {
    GroupInput {
        name: name.into(),
        min_age_months: ages.map(|a| a.0),
        max_age_months: ages.map(|a| a.1),
        levels: vec![],
        children_per_staff: ratio,
    }
}

pub(super) fn days_before(
    amount: u32,
    working: bool,
    cutoff: Option<NaiveTime>,
) -> Option<NoticeRule> {
    Some(NoticeRule {
        amount,
        unit: NoticeUnit::Days,
        count: if working {
            DayCount::WorkingDays {
                excluded_weekdays: vec![],
            }
        } else {
            DayCount::CalendarDays
        },
        cutoff_time: cutoff,
    })
}

pub(super) fn centre_units(meal_requires: &[&str]) -> Vec<UnitInput> {
    vec![
        unit("matin", "Matin", (8, 0), (12, 0)),
        UnitInput {
            requires: codes(meal_requires),
            ..unit("repas", "Repas", (12, 0), (13, 30))
        },
        unit("apres_midi", "Après-midi", (13, 30), (18, 0)),
        UnitInput {
            includes: codes(&["matin", "apres_midi"]),
            ..unit("journee", "Journée", (8, 0), (18, 0))
        },
    ]
}

pub(super) fn centre_groups() -> Vec<GroupInput> {
    vec![
        group("Maternelles (3-5 ans)", Some((36, 71)), Some(8)),
        group("Élémentaires (6-11 ans)", Some((72, 143)), Some(12)),
    ]
}

/// The template of an activity kind (see `model::KINDS`), with realistic French defaults.
pub fn template(kind: &str) -> Template {
    use Weekday::*;
    let school_days = vec![OpeningRule::SchoolDays {
        weekdays: vec![Mon, Tue, Thu, Fri],
    }];
    let everyone = || vec![group("Tous les enfants", None, Some(14))];
    let periscolaire = |unit: UnitInput| Template {
        units: vec![unit],
        groups: everyone(),
        opening: school_days.clone(),
        booking_notice: days_before(1, false, Some(hm(18, 0))),
        cancel_notice: days_before(1, false, Some(hm(18, 0))),
        requires_enrolment: false,
        meal_choice: false,
        when_full: "greyed",
    };
    match kind {
        "canteen" => Template {
            units: vec![unit("repas", "Repas", (11, 30), (13, 30))],
            groups: everyone(),
            opening: school_days.clone(),
            booking_notice: days_before(2, true, Some(hm(10, 0))),
            cancel_notice: days_before(2, true, Some(hm(10, 0))),
            requires_enrolment: false,
            meal_choice: true,
            when_full: "greyed",
        },
        "morning" => periscolaire(unit("matin", "Accueil du matin", (7, 30), (8, 30))),
        "evening" => periscolaire(unit("soir", "Accueil du soir", (16, 30), (18, 30))),
        "wednesday" | "holiday_centre" => {
            let holidays = kind == "holiday_centre";
            Template {
                units: centre_units(if holidays {
                    &["matin", "apres_midi"]
                } else {
                    &["matin"]
                }),
                groups: centre_groups(),
                opening: vec![if holidays {
                    OpeningRule::Holidays {
                        weekdays: vec![Mon, Tue, Wed, Thu, Fri],
                        kinds: vec![],
                    }
                } else {
                    OpeningRule::Wednesdays
                }],
                booking_notice: days_before(7, false, None),
                cancel_notice: days_before(7, false, None),
                requires_enrolment: true,
                meal_choice: false,
                when_full: if holidays { "waitlist" } else { "greyed" },
            }
        }
        "nursery" => Template {
            units: vec![UnitInput {
                hourly: true,
                ..unit("journee", "Journée", (7, 30), (18, 30))
            }],
            groups: vec![
                group("Bébés", Some((0, 17)), Some(5)),
                group("Moyens-grands", Some((18, 47)), Some(8)),
            ],
            opening: vec![OpeningRule::Weekdays {
                weekdays: vec![Mon, Tue, Wed, Thu, Fri],
            }],
            booking_notice: days_before(2, true, None),
            cancel_notice: days_before(2, true, None),
            requires_enrolment: true,
            meal_choice: false,
            when_full: "greyed",
        },
        _ => Template {
            units: vec![unit("seance", "Séance", (14, 0), (16, 0))],
            groups: vec![group("Tous les participants", None, None)],
            opening: vec![OpeningRule::Weekdays {
                weekdays: vec![Wed, Sat],
            }],
            booking_notice: None,
            cancel_notice: None,
            requires_enrolment: true,
            meal_choice: false,
            when_full: "greyed",
        },
    }
}
