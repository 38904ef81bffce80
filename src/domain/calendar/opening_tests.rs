use super::*;
use chrono::Days;
use proptest::prelude::*;

const DATA: &str = include_str!("../../../data/calendar/school-holidays.toml");

fn school() -> SchoolCalendar {
    SchoolCalendar::from_toml_str(DATA).unwrap()
}
fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
fn cal(zone: Zone, rules: Vec<OpeningRule>) -> OpeningCalendar {
    OpeningCalendar { zone, rules }
}
fn school_days() -> OpeningRule {
    OpeningRule::SchoolDays {
        weekdays: school_weekdays(),
    }
}
fn holidays() -> OpeningRule {
    OpeningRule::Holidays {
        weekdays: monday_to_friday(),
        kinds: vec![],
    }
}
fn open(c: &OpeningCalendar, date: NaiveDate) -> bool {
    is_open(c, &school(), date).unwrap()
}
fn days(c: &OpeningCalendar, from: NaiveDate, to: NaiveDate) -> Vec<u32> {
    open_days(c, &school(), from, to)
        .unwrap()
        .iter()
        .map(|x| x.day())
        .collect()
}

#[test]
fn periscolaire_opens_on_school_days() {
    let c = cal(Zone::A, vec![school_days()]);
    assert_eq!(days(&c, d(2026, 3, 16), d(2026, 3, 22)), [16, 17, 19, 20]);
    // Zone A winter holidays (08/02 → 22/02/2026): closed; zone B still at school.
    assert!(days(&c, d(2026, 2, 9), d(2026, 2, 15)).is_empty());
    let b = cal(Zone::B, vec![school_days()]);
    assert_eq!(days(&b, d(2026, 2, 9), d(2026, 2, 15)), [9, 10, 12, 13]);
}

#[test]
fn four_and_a_half_day_week() {
    let c = cal(
        Zone::A,
        vec![OpeningRule::SchoolDays {
            weekdays: monday_to_friday(),
        }],
    );
    assert_eq!(
        days(&c, d(2026, 3, 16), d(2026, 3, 22)),
        [16, 17, 18, 19, 20]
    );
}

#[test]
fn public_holidays_close_even_in_school_periods() {
    // Easter Monday 06/04/2026 is in school time for zone B (holidays from 12/04).
    let b = cal(Zone::B, vec![school_days()]);
    assert_eq!(days(&b, d(2026, 4, 6), d(2026, 4, 10)), [7, 9, 10]);
    // Armistice, Wednesday 11/11/2026, for a Wednesday activity.
    let w = cal(Zone::A, vec![OpeningRule::Wednesdays]);
    assert!(!open(&w, d(2026, 11, 11)));
    assert!(open(&w, d(2026, 11, 18)));
}

#[test]
fn ascension_bridge_is_a_holiday() {
    let periscolaire = cal(Zone::A, vec![school_days()]);
    let leisure = cal(Zone::A, vec![OpeningRule::Wednesdays, holidays()]);
    let friday = d(2026, 5, 15);
    assert!(!open(&periscolaire, friday));
    assert!(open(&leisure, friday));
    assert!(
        !open(&leisure, d(2026, 5, 14)),
        "Ascension Day itself is a public holiday"
    );
    assert!(
        open(&leisure, d(2026, 5, 13)),
        "Wednesday before the bridge"
    );
    let summer_only = cal(
        Zone::A,
        vec![OpeningRule::Holidays {
            weekdays: monday_to_friday(),
            kinds: vec![HolidayKind::Summer],
        }],
    );
    assert!(!open(&summer_only, friday));
}

#[test]
fn leisure_centre_in_february_2026_zone_a() {
    let c = cal(Zone::A, vec![OpeningRule::Wednesdays, holidays()]);
    assert_eq!(
        days(&c, d(2026, 2, 1), d(2026, 2, 28)),
        [4, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 25]
    );
}

#[test]
fn summer_camp_with_closure_and_exceptional_opening() {
    let c = cal(
        Zone::A,
        vec![
            OpeningRule::Holidays {
                weekdays: monday_to_friday(),
                kinds: vec![HolidayKind::Summer],
            },
            OpeningRule::Closure {
                from: d(2026, 8, 3),
                to: d(2026, 8, 14),
                label: Some("Fermeture estivale".into()),
            },
            OpeningRule::ExceptionalOpening {
                date: d(2026, 8, 7),
                label: Some("Journée portes ouvertes".into()),
            },
        ],
    );
    assert_eq!(
        days(&c, d(2026, 7, 1), d(2026, 7, 17)),
        [6, 7, 8, 9, 10, 13, 15, 16, 17]
    );
    assert_eq!(
        days(&c, d(2026, 8, 1), d(2026, 8, 21)),
        [7, 17, 18, 19, 20, 21]
    );
    assert!(open(&c, d(2026, 8, 31)));
    assert!(!open(&c, d(2026, 9, 1)), "rentrée");
    assert!(!open(&c, d(2026, 2, 9)), "not the summer");
}

#[test]
fn exceptional_opening_beats_public_holiday() {
    let c = cal(
        Zone::A,
        vec![
            school_days(),
            OpeningRule::ExceptionalOpening {
                date: d(2026, 5, 8),
                label: None,
            },
        ],
    );
    assert!(open(&c, d(2026, 5, 8)));
    assert!(!open(&c, d(2026, 5, 1)));
}

#[test]
fn weekdays_all_year_and_the_fin_des_cours_saturday() {
    let saturdays = cal(
        Zone::A,
        vec![OpeningRule::Weekdays {
            weekdays: vec![Weekday::Sat],
        }],
    );
    assert!(open(&saturdays, d(2026, 2, 14)));
    assert!(open(&saturdays, d(2026, 3, 14)));
    assert!(!open(&saturdays, d(2026, 8, 15)), "Assomption");
    assert!(open(&saturdays, d(2035, 3, 17)), "needs no school calendar");
    let holiday_saturdays = cal(
        Zone::A,
        vec![OpeningRule::Holidays {
            weekdays: vec![Weekday::Sat],
            kinds: vec![],
        }],
    );
    assert!(
        !open(&holiday_saturdays, d(2026, 2, 7)),
        "fin des cours: classes may run that morning"
    );
    assert!(open(&holiday_saturdays, d(2026, 2, 14)));
}

#[test]
fn outside_the_school_calendar_is_an_error_not_a_guess() {
    let c = cal(Zone::A, vec![school_days()]);
    let err = is_open(&c, &school(), d(2027, 10, 4)).unwrap_err();
    assert!(matches!(err, CalendarError::NotCovered { .. }));
    assert!(open_days(&c, &school(), d(2027, 8, 25), d(2027, 9, 5)).is_err());
    // Exceptions and public holidays do not need the school calendar.
    let c = cal(
        Zone::A,
        vec![
            school_days(),
            OpeningRule::ExceptionalOpening {
                date: d(2027, 10, 4),
                label: None,
            },
        ],
    );
    assert_eq!(is_open(&c, &school(), d(2027, 10, 4)), Ok(true));
    assert_eq!(is_open(&c, &school(), d(2027, 11, 11)), Ok(false));
    assert!(
        open_days(&c, &school(), d(2027, 9, 5), d(2027, 9, 4))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn validation() {
    let c = cal(
        Zone::A,
        vec![OpeningRule::Closure {
            from: d(2026, 8, 14),
            to: d(2026, 8, 3),
            label: None,
        }],
    );
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "Règle d'ouverture invalide : la fermeture se termine le 03/08/2026 avant de commencer le 14/08/2026."
    );
    let c = cal(Zone::A, vec![OpeningRule::Weekdays { weekdays: vec![] }]);
    assert!(c.validate().is_err());
    assert!(
        cal(Zone::A, vec![school_days(), holidays()])
            .validate()
            .is_ok()
    );
}

#[test]
fn json_with_defaults() {
    let json = r#"{"zone": "A", "rules": [
        {"type": "school_days"},
        {"type": "wednesdays"},
        {"type": "holidays", "kinds": ["summer", "all_saints"]},
        {"type": "closure", "from": "2026-08-03", "to": "2026-08-14", "label": "Fermeture estivale"},
        {"type": "exceptional_opening", "date": "2026-05-08"}
    ]}"#;
    let c: OpeningCalendar = serde_json::from_str(json).unwrap();
    assert_eq!(c.rules[0], school_days());
    assert_eq!(
        c.rules[2],
        OpeningRule::Holidays {
            weekdays: monday_to_friday(),
            kinds: vec![HolidayKind::Summer, HolidayKind::AllSaints],
        }
    );
    let again: OpeningCalendar = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(again, c);
}

proptest! {
    #[test]
    fn open_days_agree_with_is_open(start in 0u64..1390, len in 0u64..60, zone in 0usize..3) {
        let zone = Zone::ALL[zone];
        let c = cal(zone, vec![school_days(), OpeningRule::Wednesdays, holidays()]);
        let from = d(2023, 9, 4) + Days::new(start);
        let to = from + Days::new(len);
        let s = school();
        let listed = open_days(&c, &s, from, to).unwrap();
        let expected: Vec<NaiveDate> = from.iter_days().take_while(|x| *x <= to).filter(|x| is_open(&c, &s, *x).unwrap()).collect();
        prop_assert_eq!(&listed, &expected);
        // School days + Wednesdays + holidays = every weekday that is not a public holiday.
        for x in from.iter_days().take_while(|x| *x <= to) {
            let weekend = matches!(x.weekday(), Weekday::Sat | Weekday::Sun);
            prop_assert_eq!(listed.contains(&x), !weekend && !is_public_holiday(x));
        }
    }
}
