use super::*;
use chrono::Weekday;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn easter_known_dates() {
    let known = [
        (1818, 3, 22), // earliest possible
        (1943, 4, 25), // latest possible
        (1961, 4, 2),
        (2000, 4, 23),
        (2008, 3, 23),
        (2011, 4, 24),
        (2019, 4, 21),
        (2023, 4, 9),
        (2024, 3, 31),
        (2025, 4, 20),
        (2026, 4, 5),
        (2027, 3, 28),
        (2028, 4, 16),
        (2038, 4, 25),
        (2285, 3, 22),
    ];
    for (y, m, day) in known {
        assert_eq!(easter_sunday(y), Some(d(y, m, day)), "{y}");
    }
}

#[test]
fn unsupported_years() {
    assert_eq!(easter_sunday(1582), None);
    assert_eq!(easter_sunday(10_000), None);
    assert!(public_holidays(1582).is_empty());
    assert!(easter_sunday(FIRST_SUPPORTED_YEAR).is_some());
    assert!(easter_sunday(LAST_SUPPORTED_YEAR).is_some());
}

fn listed(year: i32) -> Vec<(NaiveDate, &'static str)> {
    public_holidays(year)
        .iter()
        .map(|h| (h.date, h.name()))
        .collect()
}

#[test]
fn year_2024() {
    assert_eq!(
        listed(2024),
        [
            (d(2024, 1, 1), "Jour de l'an"),
            (d(2024, 4, 1), "Lundi de Pâques"),
            (d(2024, 5, 1), "Fête du Travail"),
            (d(2024, 5, 8), "Victoire 1945"),
            (d(2024, 5, 9), "Ascension"),
            (d(2024, 5, 20), "Lundi de Pentecôte"),
            (d(2024, 7, 14), "Fête nationale"),
            (d(2024, 8, 15), "Assomption"),
            (d(2024, 11, 1), "Toussaint"),
            (d(2024, 11, 11), "Armistice 1918"),
            (d(2024, 12, 25), "Noël"),
        ]
    );
}

#[test]
fn moving_holidays_of_several_years() {
    let moving = |year| {
        public_holidays(year)
            .into_iter()
            .filter(|h| {
                matches!(
                    h.kind,
                    PublicHolidayKind::EasterMonday
                        | PublicHolidayKind::AscensionDay
                        | PublicHolidayKind::WhitMonday
                )
            })
            .map(|h| h.date)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        moving(2023),
        [d(2023, 4, 10), d(2023, 5, 18), d(2023, 5, 29)]
    );
    assert_eq!(
        moving(2025),
        [d(2025, 4, 21), d(2025, 5, 29), d(2025, 6, 9)]
    );
    assert_eq!(
        moving(2026),
        [d(2026, 4, 6), d(2026, 5, 14), d(2026, 5, 25)]
    );
    assert_eq!(
        moving(2027),
        [d(2027, 3, 29), d(2027, 5, 6), d(2027, 5, 17)]
    );
    assert_eq!(
        moving(2028),
        [d(2028, 4, 17), d(2028, 5, 25), d(2028, 6, 5)]
    );
}

#[test]
fn ascension_on_labour_day_2008_keeps_both() {
    let on_may_first: Vec<PublicHolidayKind> = public_holidays(2008)
        .into_iter()
        .filter(|h| h.date == d(2008, 5, 1))
        .map(|h| h.kind)
        .collect();
    assert_eq!(
        on_may_first,
        [
            PublicHolidayKind::LabourDay,
            PublicHolidayKind::AscensionDay
        ]
    );
    assert_eq!(public_holidays(2008).len(), 11);
    assert_eq!(
        public_holiday_on(d(2008, 5, 1)).unwrap().name(),
        "Fête du Travail"
    );
}

#[test]
fn lookups() {
    assert!(is_public_holiday(d(2026, 5, 25)));
    assert_eq!(
        public_holiday_on(d(2026, 5, 14)).unwrap().name(),
        "Ascension"
    );
    assert!(!is_public_holiday(d(2026, 5, 15)));
    assert!(!is_public_holiday(d(2026, 12, 26)), "Alsace-Moselle only");
    assert!(
        !is_public_holiday(d(2026, 4, 3)),
        "Vendredi saint: Alsace-Moselle only"
    );
    assert!(is_public_holiday(d(2026, 12, 25)));
}

proptest! {
    #[test]
    fn easter_is_a_sunday_between_march_22_and_april_25(year in FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR) {
        let e = easter_sunday(year).unwrap();
        prop_assert_eq!(e.weekday(), Weekday::Sun);
        prop_assert!(e >= d(year, 3, 22) && e <= d(year, 4, 25));
    }

    #[test]
    fn eleven_sorted_holidays_every_year(year in FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR) {
        let all = public_holidays(year);
        prop_assert_eq!(all.len(), 11);
        prop_assert!(all.windows(2).all(|w| w[0].date <= w[1].date));
        prop_assert!(all.iter().all(|h| h.date.year() == year));
        let by = |k| all.iter().find(|h| h.kind == k).unwrap().date;
        prop_assert_eq!(by(PublicHolidayKind::EasterMonday).weekday(), Weekday::Mon);
        prop_assert_eq!(by(PublicHolidayKind::AscensionDay).weekday(), Weekday::Thu);
        prop_assert_eq!(by(PublicHolidayKind::WhitMonday).weekday(), Weekday::Mon);
    }
}
