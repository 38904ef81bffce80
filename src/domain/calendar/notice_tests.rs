use super::super::paris::paris_local;
use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}
fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}
fn working(amount: u32, excluded: &[Weekday], cutoff: Option<NaiveTime>) -> NoticeRule {
    NoticeRule {
        amount,
        unit: NoticeUnit::Days,
        count: DayCount::WorkingDays {
            excluded_weekdays: excluded.to_vec(),
        },
        cutoff_time: cutoff,
    }
}
fn calendar_days(amount: u32, cutoff: Option<NaiveTime>) -> NoticeRule {
    NoticeRule {
        amount,
        unit: NoticeUnit::Days,
        count: DayCount::CalendarDays,
        cutoff_time: cutoff,
    }
}
fn hours(amount: u32) -> NoticeRule {
    NoticeRule {
        amount,
        unit: NoticeUnit::Hours,
        count: DayCount::CalendarDays,
        cutoff_time: None,
    }
}
fn working_hours(amount: u32) -> NoticeRule {
    NoticeRule {
        amount,
        unit: NoticeUnit::Hours,
        count: DayCount::WorkingDays {
            excluded_weekdays: vec![],
        },
        cutoff_time: None,
    }
}
fn ctx() -> NoticeContext {
    NoticeContext::default()
}
fn dl(rule: &NoticeRule, date: NaiveDate, start: NaiveTime) -> DateTime<Utc> {
    deadline(rule, date, start, &ctx()).unwrap()
}

// ---- the documented examples ----------------------------------------------------------------

#[test]
fn two_working_days_at_ten_for_mondays_meal_is_previous_thursday_ten() {
    let rule = working(2, &[], Some(t(10, 0)));
    let monday = d(2026, 3, 16);
    let deadline = dl(&rule, monday, t(11, 45));
    assert_eq!(deadline, utc(2026, 3, 12, 9, 0)); // Thursday 10:00 CET
    assert_eq!(paris_local(deadline), d(2026, 3, 12).and_time(t(10, 0)));
    let at =
        |h, m| is_within_notice(utc(2026, 3, 12, h, m), &rule, monday, t(11, 45), &ctx()).unwrap();
    assert!(at(8, 59));
    assert!(!at(9, 0), "the deadline instant itself is too late");
}

#[test]
fn forty_eight_hours_is_before_the_units_start() {
    let deadline = dl(&hours(48), d(2026, 3, 16), t(11, 45));
    assert_eq!(deadline, utc(2026, 3, 14, 10, 45)); // Saturday 11:45 CET
}

#[test]
fn day_delay_without_cutoff_allows_the_whole_deadline_day() {
    // « 2 jours avant » for Wednesday 18/03: until Monday 16/03 23:59:59.
    let deadline = dl(&calendar_days(2, None), d(2026, 3, 18), t(8, 0));
    assert_eq!(deadline, utc(2026, 3, 16, 23, 0)); // Tuesday 00:00 CET
}

#[test]
fn zero_days_means_the_service_day_capped_at_the_start() {
    let date = d(2026, 3, 18);
    assert_eq!(
        dl(&calendar_days(0, None), date, t(8, 0)),
        utc(2026, 3, 18, 7, 0)
    );
    assert_eq!(
        dl(&calendar_days(0, Some(t(10, 0))), date, t(8, 0)),
        utc(2026, 3, 18, 7, 0)
    );
    assert_eq!(
        dl(&calendar_days(0, Some(t(7, 0))), date, t(8, 0)),
        utc(2026, 3, 18, 6, 0)
    );
    assert_eq!(
        dl(&working(0, &[], Some(t(7, 0))), d(2026, 3, 21), t(8, 0)),
        utc(2026, 3, 21, 6, 0)
    );
    assert_eq!(dl(&hours(0), date, t(8, 0)), utc(2026, 3, 18, 7, 0));
    assert_eq!(dl(&working_hours(0), date, t(8, 0)), utc(2026, 3, 18, 7, 0));
}

// ---- weekends, public holidays, excluded weekdays, closures ---------------------------------

#[test]
fn working_days_skip_easter_monday() {
    // Tuesday 07/04/2026, 1 working day: Monday 06/04 is Lundi de Pâques → Friday 03/04.
    let deadline = dl(&working(1, &[], Some(t(10, 0))), d(2026, 4, 7), t(8, 0));
    assert_eq!(deadline, utc(2026, 4, 3, 8, 0)); // 10:00 CEST
}

#[test]
fn working_days_skip_ascension_and_optionally_wednesdays() {
    let friday = d(2026, 5, 15);
    assert_eq!(
        dl(&working(1, &[], Some(t(10, 0))), friday, t(8, 0)),
        utc(2026, 5, 13, 8, 0)
    );
    assert_eq!(
        dl(
            &working(1, &[Weekday::Wed], Some(t(10, 0))),
            friday,
            t(8, 0)
        ),
        utc(2026, 5, 12, 8, 0)
    );
}

#[test]
fn working_days_skip_context_closures() {
    let mut ctx = NoticeContext::default();
    ctx.extra_non_working_days.insert(d(2026, 3, 13));
    let deadline = deadline(
        &working(2, &[], Some(t(10, 0))),
        d(2026, 3, 16),
        t(11, 45),
        &ctx,
    )
    .unwrap();
    assert_eq!(deadline, utc(2026, 3, 11, 9, 0)); // Wednesday
}

#[test]
fn calendar_days_ignore_weekends_and_holidays() {
    let deadline = dl(&calendar_days(2, Some(t(10, 0))), d(2026, 3, 16), t(11, 45));
    assert_eq!(deadline, utc(2026, 3, 14, 9, 0)); // Saturday 10:00 CET
}

// ---- year ends ------------------------------------------------------------------------------

#[test]
fn working_days_across_new_year() {
    // Monday 04/01/2027: Friday 01/01 is Jour de l'an, Thursday 31/12 (1), Wednesday 30/12 (2).
    let monday = d(2027, 1, 4);
    assert_eq!(
        dl(&working(2, &[], Some(t(10, 0))), monday, t(8, 0)),
        utc(2026, 12, 30, 9, 0)
    );
    assert_eq!(
        dl(
            &working(2, &[Weekday::Wed], Some(t(10, 0))),
            monday,
            t(8, 0)
        ),
        utc(2026, 12, 29, 9, 0)
    );
}

#[test]
fn working_days_across_christmas() {
    // Monday 28/12/2026: Friday 25/12 is Noël → Thursday 24 (1), Wednesday 23 (2).
    assert_eq!(
        dl(&working(2, &[], None), d(2026, 12, 28), t(8, 0)),
        utc(2026, 12, 23, 23, 0) // end of Wednesday 23/12
    );
}

#[test]
fn hours_across_new_year() {
    assert_eq!(
        dl(&hours(72), d(2027, 1, 2), t(8, 0)),
        utc(2026, 12, 30, 7, 0)
    );
}

// ---- DST: days are wall-clock, hours are absolute --------------------------------------------

#[test]
fn spring_dst_hours_are_absolute() {
    // Sunday 29/03/2026 12:00 CEST (10:00 UTC) minus 24 h = Saturday 10:00 UTC = 11:00 CET.
    let deadline = dl(&hours(24), d(2026, 3, 29), t(12, 0));
    assert_eq!(deadline, utc(2026, 3, 28, 10, 0));
    assert_eq!(paris_local(deadline), d(2026, 3, 28).and_time(t(11, 0)));
    // Monday 30/03 08:00 CEST minus 48 h = Saturday 28/03 07:00 CET.
    let deadline = dl(&hours(48), d(2026, 3, 30), t(8, 0));
    assert_eq!(paris_local(deadline), d(2026, 3, 28).and_time(t(7, 0)));
    assert_eq!(
        paris_instant(d(2026, 3, 30), t(8, 0)) - deadline,
        TimeDelta::hours(48)
    );
}

#[test]
fn spring_dst_days_are_wall_clock() {
    // « La veille à 12 h » for Sunday 29/03 12:00: Saturday 12:00 CET, only 23 real hours before.
    let start = paris_instant(d(2026, 3, 29), t(12, 0));
    let deadline = dl(&calendar_days(1, Some(t(12, 0))), d(2026, 3, 29), t(12, 0));
    assert_eq!(paris_local(deadline), d(2026, 3, 28).and_time(t(12, 0)));
    assert_eq!(start - deadline, TimeDelta::hours(23));
    // « 2 jours avant à 8 h » for Monday 30/03 08:00: Saturday 08:00 CET, 47 real hours.
    let deadline = dl(&calendar_days(2, Some(t(8, 0))), d(2026, 3, 30), t(8, 0));
    assert_eq!(deadline, utc(2026, 3, 28, 7, 0));
    assert_eq!(
        paris_instant(d(2026, 3, 30), t(8, 0)) - deadline,
        TimeDelta::hours(47)
    );
}

#[test]
fn autumn_dst_hours_are_absolute() {
    // Monday 26/10/2026 08:00 CET (07:00 UTC) minus 48 h = Saturday 24/10 07:00 UTC = 09:00 CEST.
    let deadline = dl(&hours(48), d(2026, 10, 26), t(8, 0));
    assert_eq!(deadline, utc(2026, 10, 24, 7, 0));
    assert_eq!(paris_local(deadline), d(2026, 10, 24).and_time(t(9, 0)));
}

#[test]
fn autumn_dst_days_are_wall_clock() {
    let deadline = dl(&calendar_days(2, Some(t(8, 0))), d(2026, 10, 26), t(8, 0));
    assert_eq!(paris_local(deadline), d(2026, 10, 24).and_time(t(8, 0)));
    assert_eq!(
        paris_instant(d(2026, 10, 26), t(8, 0)) - deadline,
        TimeDelta::hours(49)
    );
}

#[test]
fn working_hours_skip_whole_non_working_days_across_autumn_dst() {
    // Monday 26/10/2026 08:00 CET, 24 working hours: Monday 00:00-08:00 gives 8 h, the 25-hour
    // Sunday and Saturday are skipped, Friday 23/10 gives the other 16 h → Friday 08:00 CEST.
    let deadline = dl(&working_hours(24), d(2026, 10, 26), t(8, 0));
    assert_eq!(deadline, utc(2026, 10, 23, 6, 0));
    assert_eq!(paris_local(deadline), d(2026, 10, 23).and_time(t(8, 0)));
}

#[test]
fn working_hours_skip_public_holidays() {
    // Tuesday 07/04/2026 06:00, 30 working hours: Tuesday 6 h, Easter Monday skipped,
    // weekend skipped, Friday 03/04 gives 24 h → Friday 00:00 CEST.
    let deadline = dl(&working_hours(30), d(2026, 4, 7), t(6, 0));
    assert_eq!(paris_local(deadline), d(2026, 4, 3).and_time(t(0, 0)));
}

#[test]
fn service_start_in_the_spring_gap() {
    // 02:30 does not exist on 29/03/2026: read as 03:30 CEST (01:30 UTC).
    assert_eq!(
        dl(&hours(1), d(2026, 3, 29), t(2, 30)),
        utc(2026, 3, 29, 0, 30)
    );
}

#[test]
fn hour_delay_with_cutoff_goes_back_to_the_latest_cutoff() {
    // Monday 16/03 08:00 minus 48 h = Saturday 08:00; latest 10:00 before that: Friday 10:00.
    let mut rule = hours(48);
    rule.cutoff_time = Some(t(10, 0));
    assert_eq!(dl(&rule, d(2026, 3, 16), t(8, 0)), utc(2026, 3, 13, 9, 0));
    rule.cutoff_time = Some(t(6, 0));
    assert_eq!(dl(&rule, d(2026, 3, 16), t(8, 0)), utc(2026, 3, 14, 5, 0));
    rule.cutoff_time = Some(t(8, 0));
    assert_eq!(dl(&rule, d(2026, 3, 16), t(8, 0)), utc(2026, 3, 14, 7, 0));
}

// ---- validation and storage -----------------------------------------------------------------

#[test]
fn rejects_rules_without_any_working_day() {
    let all = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let err = deadline(&working(1, &all, None), d(2026, 3, 16), t(8, 0), &ctx()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Délai de prévenance invalide : tous les jours de la semaine sont exclus : aucun jour ouvré ne reste."
    );
    assert!(
        is_within_notice(
            utc(2026, 1, 1, 0, 0),
            &working(1, &all, None),
            d(2026, 3, 16),
            t(8, 0),
            &ctx()
        )
        .is_err()
    );
}

#[test]
fn rejects_huge_amounts() {
    let err = calendar_days(MAX_DAYS + 1, None).validate().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Délai de prévenance invalide : 367 jours dépasse le maximum de 366 jours."
    );
    assert!(hours(MAX_HOURS + 1).validate().is_err());
    assert!(hours(MAX_HOURS).validate().is_ok());
    assert!(dl(&working(MAX_DAYS, &[], None), d(2026, 3, 16), t(8, 0)) < utc(2025, 1, 1, 0, 0));
}

#[test]
fn json_round_trip() {
    let json = r#"{"amount":2,"unit":"days","count":{"type":"working_days","excluded_weekdays":["Wed"]},"cutoff_time":"10:00:00"}"#;
    let rule: NoticeRule = serde_json::from_str(json).unwrap();
    assert_eq!(rule, working(2, &[Weekday::Wed], Some(t(10, 0))));
    assert_eq!(serde_json::to_string(&rule).unwrap(), json);
    let short: NoticeRule =
        serde_json::from_str(r#"{"amount":48,"unit":"hours","count":{"type":"calendar_days"}}"#)
            .unwrap();
    assert_eq!(short, hours(48));
    let minutes: NoticeRule = serde_json::from_str(
        r#"{"amount":1,"unit":"days","count":{"type":"working_days"},"cutoff_time":"09:30"}"#,
    )
    .unwrap();
    assert_eq!(minutes, working(1, &[], Some(t(9, 30))));
}

// ---- properties -----------------------------------------------------------------------------

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (0u64..(365 * 12)).prop_map(|n| d(2020, 1, 1) + Days::new(n))
}
fn any_time() -> impl Strategy<Value = NaiveTime> {
    (0u32..24, 0u32..60).prop_map(|(h, m)| t(h, m))
}

proptest! {
    #[test]
    fn calendar_hours_are_exact_elapsed_time(date in any_date(), start in any_time(), n in 0u32..200) {
        let s = paris_instant(date, start);
        prop_assert_eq!(s - dl(&hours(n), date, start), TimeDelta::hours(i64::from(n)));
    }

    #[test]
    fn day_deadlines_land_on_the_cutoff_wall_time(date in any_date(), n in 1u32..30, h in 4u32..23) {
        let deadline = dl(&calendar_days(n, Some(t(h, 0))), date, t(23, 59));
        prop_assert_eq!(paris_local(deadline), (date - Days::new(u64::from(n))).and_time(t(h, 0)));
    }

    #[test]
    fn working_day_deadline_counts_exactly_n_working_days(date in any_date(), n in 1u32..15, wed in any::<bool>()) {
        let excluded = if wed { vec![Weekday::Wed] } else { vec![] };
        let rule = working(n, &excluded, Some(t(10, 0)));
        let deadline = dl(&rule, date, t(23, 0));
        let day = paris_local(deadline).date();
        prop_assert!(rule.is_counted_day(day, &ctx()));
        let counted = day.iter_days().take_while(|x| *x < date).filter(|x| rule.is_counted_day(*x, &ctx())).count();
        prop_assert_eq!(counted, n as usize);
    }

    #[test]
    fn deadlines_are_monotonic_and_never_after_start(date in any_date(), start in any_time(), n in 0u32..20, kind in 0usize..4) {
        let rules = |n| match kind {
            0 => calendar_days(n, Some(t(10, 0))),
            1 => working(n, &[Weekday::Wed], None),
            2 => hours(n * 7),
            _ => working_hours(n * 7),
        };
        let this = dl(&rules(n), date, start);
        let longer = dl(&rules(n + 1), date, start);
        prop_assert!(this <= paris_instant(date, start));
        prop_assert!(longer <= this);
    }
}
