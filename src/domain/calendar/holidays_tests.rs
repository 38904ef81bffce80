use super::*;
use chrono::Weekday;
use proptest::prelude::*;

const DATA: &str = include_str!("../../../data/calendar/school-holidays.toml");

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn cal() -> SchoolCalendar {
    SchoolCalendar::from_toml_str(DATA).expect("the shipped file loads")
}

#[test]
fn shipped_file_loads_with_four_school_years() {
    let c = cal();
    let names: Vec<&str> = c.school_years().iter().map(|y| y.name.as_str()).collect();
    assert_eq!(names, ["2023-2024", "2024-2025", "2025-2026", "2026-2027"]);
    assert_eq!(c.holidays().len(), 40);
    assert_eq!(c.coverage(), (d(2023, 9, 4), d(2027, 8, 31)));
}

#[test]
fn rentrees() {
    let starts: Vec<NaiveDate> = cal().school_years().iter().map(|y| y.start).collect();
    assert_eq!(
        starts,
        [d(2023, 9, 4), d(2024, 9, 2), d(2025, 9, 1), d(2026, 9, 1)]
    );
}

#[test]
fn fin_des_cours_is_the_evening_before_the_first_day_off() {
    let c = cal();
    // Toussaint 2023: fin des cours samedi 21/10, reprise lundi 06/11.
    let h = c.holiday_on(Zone::A, d(2023, 10, 25)).unwrap();
    assert_eq!(h.name(), "Vacances de la Toussaint");
    assert_eq!(h.classes_end, d(2023, 10, 21));
    assert_eq!(h.classes_resume, d(2023, 11, 6));
    assert_eq!(h.first_day_off, d(2023, 10, 22));
    assert_eq!(h.last_day_off, d(2023, 11, 5));
    assert!(
        !c.is_school_holiday(Zone::A, d(2023, 10, 21)),
        "Saturday of fin des cours"
    );
    assert!(c.is_school_holiday(Zone::A, d(2023, 10, 22)));
    assert!(c.is_school_holiday(Zone::A, d(2023, 11, 5)));
    assert!(
        !c.is_school_holiday(Zone::A, d(2023, 11, 6)),
        "reprise morning"
    );
}

#[test]
fn winter_2024_is_staggered_by_zone() {
    let c = cal();
    // Zone A (Lyon): 17/02 → 04/03/2024; B: 24/02 → 11/03; C: 10/02 → 26/02.
    let monday = d(2024, 2, 19);
    assert!(c.is_school_holiday(Zone::A, monday));
    assert!(!c.is_school_holiday(Zone::B, monday));
    assert!(c.is_school_holiday(Zone::C, monday));
    assert!(!c.is_school_holiday(Zone::A, d(2024, 3, 4)));
    assert!(c.is_school_holiday(Zone::B, d(2024, 3, 4)));
    assert!(c.is_school_holiday(Zone::A, d(2024, 3, 3)));
    assert_eq!(
        c.holiday_on(Zone::B, d(2024, 3, 8)).map(Holiday::name),
        Some("Vacances d'hiver")
    );
    assert!(!c.is_school_holiday(Zone::C, d(2024, 2, 26)));
}

#[test]
fn zone_a_2025_2026() {
    let c = cal();
    let a = |date| c.holiday_on(Zone::A, date).map(|h| h.name());
    assert_eq!(a(d(2025, 10, 20)), Some("Vacances de la Toussaint"));
    assert_eq!(a(d(2025, 12, 22)), Some("Vacances de Noël"));
    assert_eq!(a(d(2026, 1, 5)), None);
    assert_eq!(a(d(2026, 2, 9)), Some("Vacances d'hiver"));
    assert_eq!(a(d(2026, 2, 23)), None);
    assert_eq!(a(d(2026, 4, 6)), Some("Vacances de printemps"));
    assert_eq!(a(d(2026, 4, 20)), None);
    assert_eq!(a(d(2026, 5, 15)), Some("Pont de l'Ascension"));
    assert_eq!(a(d(2026, 7, 6)), Some("Vacances d'été"));
    assert_eq!(a(d(2026, 8, 31)), Some("Vacances d'été"));
    assert_eq!(a(d(2026, 9, 1)), None);
}

#[test]
fn spring_2025_zone_b_resumes_on_tuesday_after_easter_monday() {
    let c = cal();
    let h = c.holiday_on(Zone::B, d(2025, 4, 21)).unwrap();
    assert_eq!(h.classes_resume, d(2025, 4, 22));
    assert_eq!(h.classes_resume.weekday(), Weekday::Tue);
    assert!(!c.is_school_holiday(Zone::B, d(2025, 4, 22)));
}

#[test]
fn ascension_bridges_run_thursday_to_sunday() {
    let c = cal();
    let bridges: Vec<&Holiday> = c
        .holidays()
        .iter()
        .filter(|h| h.kind == HolidayKind::AscensionBridge)
        .collect();
    assert_eq!(bridges.len(), 4);
    for b in bridges {
        assert_eq!(b.zones, Zone::ALL.to_vec());
        assert_eq!(b.classes_end.weekday(), Weekday::Wed, "{b:?}");
        assert_eq!(b.first_day_off.weekday(), Weekday::Thu, "{b:?}");
        assert_eq!(b.last_day_off.weekday(), Weekday::Sun, "{b:?}");
        // The Thursday is Ascension Day.
        let easter = super::super::public_holidays::easter_sunday(b.first_day_off.year()).unwrap();
        assert_eq!(b.first_day_off, easter + chrono::Days::new(39));
    }
    assert!(!c.is_school_holiday(Zone::C, d(2025, 5, 28)));
    assert!(c.is_school_holiday(Zone::C, d(2025, 5, 30)));
    assert!(!c.is_school_holiday(Zone::C, d(2025, 6, 2)));
}

#[test]
fn shape_of_every_holiday() {
    for h in cal().holidays() {
        let days = (h.last_day_off - h.first_day_off).num_days() + 1;
        match h.kind {
            HolidayKind::AscensionBridge => assert_eq!(days, 4, "{h:?}"),
            HolidayKind::Summer => {
                assert!((55..=60).contains(&days), "{h:?}");
                assert_eq!(h.classes_end.weekday(), Weekday::Sat, "{h:?}");
            }
            _ => {
                // Two weeks, Sunday to Sunday, or to Monday when Easter Monday delays the reprise.
                assert!(days == 15 || days == 16, "{h:?}");
                assert_eq!(h.classes_end.weekday(), Weekday::Sat, "{h:?}");
                assert_eq!(h.first_day_off.weekday(), Weekday::Sun, "{h:?}");
            }
        }
    }
}

#[test]
fn summer_belongs_to_the_ending_school_year() {
    let c = cal();
    assert_eq!(
        c.school_year_of(d(2024, 9, 1)),
        Some((d(2023, 9, 4), d(2024, 9, 1)))
    );
    assert_eq!(
        c.school_year_of(d(2024, 9, 2)),
        Some((d(2024, 9, 2), d(2025, 8, 31)))
    );
    assert_eq!(
        c.school_year_of(d(2024, 7, 14)),
        Some((d(2023, 9, 4), d(2024, 9, 1)))
    );
    assert_eq!(c.school_year(d(2027, 8, 31)).unwrap().name, "2026-2027");
    assert_eq!(c.school_year_of(d(2023, 9, 3)), None);
    assert_eq!(c.school_year_of(d(2027, 9, 1)), None);
}

#[test]
fn coverage_is_explicit() {
    let c = cal();
    assert!(c.covers(d(2023, 9, 4)));
    assert!(!c.covers(d(2023, 9, 3)));
    assert!(c.covers(d(2027, 8, 31)));
    assert!(
        !c.is_school_holiday(Zone::A, d(2027, 10, 25)),
        "no data, no holiday"
    );
    let err = c.ensure_covers(d(2027, 10, 25)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Le calendrier scolaire chargé ne couvre pas le 25/10/2027 (il couvre du 04/09/2023 au \
         31/08/2027) : mettez à jour le calendrier avant de poursuivre."
    );
}

#[test]
fn unconfirmed_dates_are_flagged() {
    let c = cal();
    let y = &c.school_years()[3];
    assert!(y.uncertain.is_some());
    let flagged: Vec<(HolidayKind, &str)> = c
        .holidays()
        .iter()
        .filter(|h| h.uncertain.is_some())
        .map(|h| (h.kind, h.school_year.as_str()))
        .collect();
    assert!(flagged.contains(&(HolidayKind::AscensionBridge, "2026-2027")));
    assert!(flagged.contains(&(HolidayKind::Summer, "2026-2027")));
    assert!(flagged.contains(&(HolidayKind::Summer, "2025-2026")));
    assert!(c.school_years()[..3].iter().all(|y| y.uncertain.is_none()));
}

#[test]
fn labels_are_french() {
    let labels: Vec<&str> = [
        HolidayKind::AllSaints,
        HolidayKind::Christmas,
        HolidayKind::Winter,
        HolidayKind::Spring,
        HolidayKind::AscensionBridge,
        HolidayKind::Summer,
    ]
    .iter()
    .map(|k| k.label())
    .collect();
    assert_eq!(
        labels,
        [
            "Vacances de la Toussaint",
            "Vacances de Noël",
            "Vacances d'hiver",
            "Vacances de printemps",
            "Pont de l'Ascension",
            "Vacances d'été"
        ]
    );
    assert_eq!(Zone::A.to_string(), "Zone A");
}

// ---- validation -------------------------------------------------------------------------------

/// A minimal valid file: one school year 2030-2031, every holiday for all zones.
fn minimal() -> String {
    let mut s = String::from(
        "[[school_years]]\nname = \"2030-2031\"\nschool_start = 2030-09-02\nsource = \"test\"\n",
    );
    for (kind, end, resume) in [
        ("all_saints", "2030-10-19", "2030-11-04"),
        ("christmas", "2030-12-21", "2031-01-06"),
        ("winter", "2031-02-15", "2031-03-03"),
        ("spring", "2031-04-12", "2031-04-28"),
        ("summer", "2031-07-05", "2031-09-01"),
    ] {
        s.push_str(&format!(
            "\n[[holidays]]\nschool_year = \"2030-2031\"\nkind = \"{kind}\"\nzones = [\"A\", \"B\", \"C\"]\nclasses_end = {end}\nclasses_resume = {resume}\n"
        ));
    }
    s
}

fn load_err(text: &str) -> String {
    SchoolCalendar::from_toml_str(text).unwrap_err().to_string()
}

#[test]
fn minimal_file_loads() {
    let c = SchoolCalendar::from_toml_str(&minimal()).unwrap();
    assert_eq!(c.coverage(), (d(2030, 9, 2), d(2031, 8, 31)));
}

#[test]
fn rejects_a_datetime_where_a_date_is_expected() {
    let text = minimal().replace(
        "classes_end = 2030-10-19",
        "classes_end = 2030-10-19T18:00:00",
    );
    assert_eq!(
        load_err(&text),
        "Valeur « 2030-10-19T18:00:00 » invalide pour « classes_end » : une date seule est attendue (AAAA-MM-JJ)."
    );
}

#[test]
fn rejects_a_missing_holiday() {
    let text = minimal().replace("kind = \"winter\"", "kind = \"spring\"");
    let err = load_err(&text);
    assert!(
        err.contains("Vacances d'hiver doit figurer une fois"),
        "{err}"
    );
}

#[test]
fn rejects_a_holiday_missing_for_one_zone() {
    let text = minimal().replacen("zones = [\"A\", \"B\", \"C\"]", "zones = [\"A\", \"B\"]", 1);
    let err = load_err(&text);
    assert!(
        err.contains("Vacances de la Toussaint doit figurer une fois pour la Zone C"),
        "{err}"
    );
}

#[test]
fn rejects_overlapping_holidays() {
    let text = minimal().replace("classes_end = 2030-12-21", "classes_end = 2030-11-01");
    let err = load_err(&text);
    assert!(err.contains("chevauchent"), "{err}");
}

#[test]
fn rejects_a_reprise_without_any_day_off() {
    let text = minimal().replace("classes_resume = 2030-11-04", "classes_resume = 2030-10-20");
    let err = load_err(&text);
    assert!(err.contains("ne laisse aucun jour de vacances"), "{err}");
}

#[test]
fn rejects_summer_not_ending_at_next_rentree() {
    let mut text = minimal();
    text.push_str(&minimal().replace("2031", "2032").replace("2030", "2031"));
    // Second year's rentrée is 02/09/2031 but the first summer resumes 01/09/2031.
    let err = load_err(&text);
    assert!(err.contains("n'est pas la rentrée suivante"), "{err}");
}

#[test]
fn rejects_a_gap_between_school_years() {
    let mut text = minimal();
    text.push_str(
        "\n[[school_years]]\nname = \"2032-2033\"\nschool_start = 2032-09-01\nsource = \"x\"\n",
    );
    let err = load_err(&text);
    assert!(
        err.contains("il manque l'année qui suit 2030-2031"),
        "{err}"
    );
}

#[test]
fn rejects_bad_year_names_and_rentrees() {
    let text = minimal().replace("name = \"2030-2031\"", "name = \"2030-2032\"");
    assert!(load_err(&text).contains("de la forme « 2023-2024 »"));
    let text = minimal().replace("school_start = 2030-09-02", "school_start = 2030-10-02");
    assert!(load_err(&text).contains("n'est pas fin août ou en septembre 2030"));
}

#[test]
fn rejects_unknown_school_year_duplicate_zone_and_unknown_field() {
    let text = minimal().replacen(
        "school_year = \"2030-2031\"",
        "school_year = \"2029-2030\"",
        1,
    );
    assert!(load_err(&text).contains("année scolaire « 2029-2030 » inconnue"));
    let text = minimal().replacen(
        "zones = [\"A\", \"B\", \"C\"]",
        "zones = [\"A\", \"A\", \"B\", \"C\"]",
        1,
    );
    assert!(load_err(&text).contains("zone en double"));
    let text = minimal().replacen("kind = \"winter\"", "kind = \"winter\"\nlabel = \"x\"", 1);
    assert!(load_err(&text).starts_with("Fichier du calendrier scolaire illisible"));
    assert!(load_err("").contains("aucune année scolaire"));
}

#[test]
fn rejects_holidays_before_rentree_or_after_summer() {
    let text = minimal().replace("classes_end = 2030-10-19", "classes_end = 2030-08-30");
    assert!(load_err(&text).contains("la fin des cours précède la rentrée"));
    let text = minimal()
        .replace("classes_end = 2031-04-12", "classes_end = 2031-07-12")
        .replace("classes_resume = 2031-04-28", "classes_resume = 2031-07-28");
    let err = load_err(&text);
    assert!(err.contains("après le début des vacances d'été"), "{err}");
}

proptest! {
    #[test]
    fn every_covered_day_is_in_exactly_one_school_year(offset in 0u64..1458) {
        let c = cal();
        let date = d(2023, 9, 4) + chrono::Days::new(offset);
        prop_assert!(c.covers(date));
        let years = c.school_years().iter().filter(|y| y.start <= date && date <= y.end).count();
        prop_assert_eq!(years, 1);
        for zone in Zone::ALL {
            let n = c.holidays().iter().filter(|h| h.applies_to(zone) && h.contains(date)).count();
            prop_assert!(n <= 1);
            prop_assert_eq!(c.is_school_holiday(zone, date), n == 1);
        }
    }
}
