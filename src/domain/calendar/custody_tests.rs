use super::*;
use proptest::prelude::*;

const H1: HouseholdRef = HouseholdRef(1);
const H2: HouseholdRef = HouseholdRef(2);

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}
fn pattern(
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    rule: CustodyRule,
) -> CustodyPattern {
    CustodyPattern {
        valid_from,
        valid_to,
        rule,
    }
}
fn alternate(reference_date: NaiveDate, week_start: Weekday, handover: Handover) -> CustodyPattern {
    pattern(
        d(2020, 1, 1),
        None,
        CustodyRule::AlternateWeeks {
            week_a: H1,
            week_b: H2,
            reference_date,
            week_start,
            handover,
        },
    )
}
fn sole(h: HouseholdRef) -> CustodyPattern {
    pattern(d(2020, 1, 1), None, CustodyRule::Sole { household: h })
}
fn range(from: NaiveDate, to: NaiveDate, h: HouseholdRef, handover: Handover) -> CustodyPattern {
    pattern(
        from,
        Some(to),
        CustodyRule::DateRange {
            household: h,
            handover,
        },
    )
}
fn wednesday_slot(overrides_date_ranges: bool) -> CustodyPattern {
    pattern(
        d(2020, 1, 1),
        None,
        CustodyRule::HourlySlot {
            household: H2,
            start_day: Weekday::Wed,
            start_time: t(12, 0),
            end_day: Weekday::Thu,
            end_time: t(8, 30),
            recurrence: SlotRecurrence::EveryWeek,
            overrides_date_ranges,
        },
    )
}
fn day(patterns: &[CustodyPattern], date: NaiveDate) -> Option<HouseholdRef> {
    household_on(patterns, date, None)
}
fn at(patterns: &[CustodyPattern], date: NaiveDate, time: NaiveTime) -> Option<HouseholdRef> {
    household_on(patterns, date, Some(time))
}

// ---- alternate weeks ------------------------------------------------------------------------

#[test]
fn alternate_weeks_from_the_reference_date() {
    // Reference Wednesday 09/09/2026: its week (Mon 07/09 - Sun 13/09) is week A.
    let p = [alternate(d(2026, 9, 9), Weekday::Mon, Handover::StartOfDay)];
    assert_eq!(day(&p, d(2026, 9, 7)), Some(H1));
    assert_eq!(day(&p, d(2026, 9, 13)), Some(H1));
    assert_eq!(day(&p, d(2026, 9, 14)), Some(H2));
    assert_eq!(day(&p, d(2026, 9, 20)), Some(H2));
    assert_eq!(day(&p, d(2026, 9, 21)), Some(H1));
    assert_eq!(
        day(&p, d(2026, 9, 6)),
        Some(H2),
        "the week before the reference is a week B"
    );
}

#[test]
fn weeks_may_start_on_friday() {
    let p = [alternate(d(2026, 9, 4), Weekday::Fri, Handover::StartOfDay)];
    assert_eq!(day(&p, d(2026, 9, 10)), Some(H1)); // Thursday, same week
    assert_eq!(day(&p, d(2026, 9, 11)), Some(H2)); // Friday starts week B
    assert_eq!(day(&p, d(2026, 9, 3)), Some(H2)); // Thursday before the reference
}

#[test]
fn handover_at_a_given_time() {
    let p = [alternate(
        d(2026, 9, 7),
        Weekday::Mon,
        Handover::At { time: t(18, 0) },
    )];
    let monday_b = d(2026, 9, 14);
    assert_eq!(
        day(&p, monday_b),
        Some(H2),
        "the day goes to the incoming household"
    );
    assert_eq!(at(&p, monday_b, t(17, 59)), Some(H1));
    assert_eq!(at(&p, monday_b, t(18, 0)), Some(H2));
    assert_eq!(
        at(&p, d(2026, 9, 15), t(7, 0)),
        Some(H2),
        "no handover on Tuesday"
    );
    let split = split_by_custody(&p, monday_b, monday_b);
    assert_eq!(
        split[0].segments,
        [
            CustodySegment {
                from: t(0, 0),
                household: Some(H1)
            },
            CustodySegment {
                from: t(18, 0),
                household: Some(H2)
            },
        ]
    );
    assert_eq!(split[0].day_household, Some(H2));
    assert_eq!(split[0].single_household(), None);
    assert_eq!(split[0].household_at(t(12, 0)), Some(H1));
}

#[test]
fn handover_at_school_exit() {
    let p = [alternate(
        d(2026, 9, 7),
        Weekday::Mon,
        Handover::SchoolExit { time: t(16, 30) },
    )];
    assert_eq!(
        at(&p, d(2026, 9, 14), t(11, 45)),
        Some(H1),
        "Monday lunch: outgoing household"
    );
    assert_eq!(
        at(&p, d(2026, 9, 14), t(16, 30)),
        Some(H2),
        "evening garderie: incoming"
    );
}

#[test]
fn week_parity_counts_weeks_across_a_53_week_iso_year() {
    // 2026 has 53 ISO weeks: ISO week 53 (28/12/2026) is followed by ISO week 1 (04/01/2027),
    // two odd numbers in a row. Counting weeks from the reference keeps the alternation.
    let reference = d(2026, 12, 21);
    let p = [alternate(reference, Weekday::Mon, Handover::StartOfDay)];
    let mondays = [
        d(2026, 12, 21),
        d(2026, 12, 28),
        d(2027, 1, 4),
        d(2027, 1, 11),
    ];
    let iso: Vec<u32> = mondays.iter().map(|m| m.iso_week().week()).collect();
    assert_eq!(iso, [52, 53, 1, 2]);
    let households: Vec<_> = mondays.iter().map(|m| day(&p, *m)).collect();
    assert_eq!(households, [Some(H1), Some(H2), Some(H1), Some(H2)]);
    let indexes: Vec<i64> = mondays
        .iter()
        .map(|m| week_index(*m, reference, Weekday::Mon))
        .collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
    // What ISO parity would have said: weeks 53 and 1 share a parity, yet alternate here.
    assert_eq!(iso[1] % 2, iso[2] % 2);
    assert_ne!(households[1], households[2]);
    // Whole days around the new year.
    for date in d(2026, 12, 28).iter_days().take(7) {
        assert_eq!(day(&p, date), Some(H2), "{date}");
    }
    for date in d(2027, 1, 4).iter_days().take(7) {
        assert_eq!(day(&p, date), Some(H1), "{date}");
    }
}

#[test]
fn week_index_is_floor_division() {
    let reference = d(2026, 9, 9);
    assert_eq!(week_index(d(2026, 9, 7), reference, Weekday::Mon), 0);
    assert_eq!(week_index(d(2026, 9, 6), reference, Weekday::Mon), -1);
    assert_eq!(week_index(d(2026, 8, 31), reference, Weekday::Mon), -1);
    assert_eq!(week_index(d(2026, 8, 30), reference, Weekday::Mon), -2);
    assert_eq!(week_start_of(d(2026, 9, 9), Weekday::Wed), d(2026, 9, 9));
    assert_eq!(week_start_of(d(2026, 9, 8), Weekday::Wed), d(2026, 9, 2));
}

// ---- given weekdays -------------------------------------------------------------------------

fn two_two_three(handover: Handover) -> CustodyPattern {
    pattern(
        d(2026, 9, 1),
        None,
        CustodyRule::Weekdays {
            days: vec![
                DayAssignment {
                    weekday: Weekday::Mon,
                    household: H1,
                },
                DayAssignment {
                    weekday: Weekday::Tue,
                    household: H1,
                },
                DayAssignment {
                    weekday: Weekday::Wed,
                    household: H2,
                },
                DayAssignment {
                    weekday: Weekday::Thu,
                    household: H2,
                },
            ],
            alternating: Some(AlternatingDays {
                days: vec![Weekday::Fri, Weekday::Sat, Weekday::Sun],
                first: H1,
                second: H2,
                reference_date: d(2026, 9, 11),
                week_start: Weekday::Mon,
            }),
            handover,
        },
    )
}

#[test]
fn given_weekdays_with_alternating_weekends() {
    let p = [two_two_three(Handover::StartOfDay)];
    let week: Vec<_> = d(2026, 9, 7)
        .iter_days()
        .take(14)
        .map(|x| day(&p, x))
        .collect();
    let (a, b) = (Some(H1), Some(H2));
    assert_eq!(week, [a, a, b, b, a, a, a, a, a, b, b, b, b, b]);
    // Across the 53-week year end: Friday 01/01/2027 is 16 weeks after 11/09/2026 → H1.
    assert_eq!(week_index(d(2027, 1, 1), d(2026, 9, 11), Weekday::Mon), 16);
    assert_eq!(day(&p, d(2027, 1, 1)), Some(H1));
    assert_eq!(day(&p, d(2027, 1, 8)), Some(H2));
    assert_eq!(day(&p, d(2026, 8, 31)), None, "before the pattern is valid");
}

#[test]
fn given_weekdays_with_handover_time() {
    let p = [two_two_three(Handover::At { time: t(8, 30) })];
    let wednesday = d(2026, 9, 9);
    assert_eq!(at(&p, wednesday, t(7, 0)), Some(H1));
    assert_eq!(at(&p, wednesday, t(8, 30)), Some(H2));
    assert_eq!(
        at(&p, d(2026, 9, 10), t(7, 0)),
        Some(H2),
        "Thursday: no change"
    );
}

#[test]
fn unassigned_weekday_has_no_household() {
    let p = [pattern(
        d(2026, 9, 1),
        None,
        CustodyRule::Weekdays {
            days: vec![DayAssignment {
                weekday: Weekday::Mon,
                household: H1,
            }],
            alternating: None,
            handover: Handover::At { time: t(9, 0) },
        },
    )];
    assert_eq!(day(&p, d(2026, 9, 7)), Some(H1));
    assert_eq!(day(&p, d(2026, 9, 8)), None);
    assert_eq!(at(&p, d(2026, 9, 8), t(7, 0)), None);
}

// ---- explicit date ranges -------------------------------------------------------------------

#[test]
fn explicit_ranges_override_weekly_patterns() {
    let handover = Handover::At { time: t(10, 0) };
    let weekly = alternate(d(2026, 9, 7), Weekday::Mon, Handover::StartOfDay);
    let p = [
        weekly.clone(),
        range(d(2026, 7, 4), d(2026, 7, 31), H2, handover),
        range(d(2026, 8, 1), d(2026, 8, 31), H1, handover),
    ];
    // The week of 13/07/2026 is 8 weeks before the reference: a week A (H1) for the weekly
    // pattern, but the first half of the summer is H2's.
    assert_eq!(day(&[weekly], d(2026, 7, 15)), Some(H1));
    assert_eq!(day(&p, d(2026, 7, 15)), Some(H2));
    assert_eq!(day(&p, d(2026, 8, 1)), Some(H1));
    assert_eq!(at(&p, d(2026, 8, 1), t(9, 59)), Some(H2));
    assert_eq!(at(&p, d(2026, 8, 1), t(10, 0)), Some(H1));
    // Back to the weekly pattern on Tuesday 01/09 (week B → H2); its handover is at midnight.
    assert_eq!(day(&p, d(2026, 9, 1)), Some(H2));
    assert_eq!(at(&p, d(2026, 9, 1), t(7, 0)), Some(H2));
    // 07/09 starts week A → H1.
    assert_eq!(day(&p, d(2026, 9, 7)), Some(H1));
}

#[test]
fn return_from_a_range_uses_the_weekly_patterns_handover() {
    let p = [
        alternate(d(2026, 9, 7), Weekday::Mon, Handover::At { time: t(18, 0) }),
        range(d(2026, 8, 15), d(2026, 9, 6), H2, Handover::StartOfDay),
    ];
    // Monday 07/09 is week A (H1); H2 had the child on Sunday from the range.
    assert_eq!(at(&p, d(2026, 9, 7), t(12, 0)), Some(H2));
    assert_eq!(at(&p, d(2026, 9, 7), t(18, 0)), Some(H1));
}

// ---- hourly slots ---------------------------------------------------------------------------

#[test]
fn hourly_slot_overrides_the_day() {
    let p = [sole(H1), wednesday_slot(false)];
    let wednesday = d(2026, 9, 9);
    let thursday = d(2026, 9, 10);
    assert_eq!(at(&p, wednesday, t(11, 59)), Some(H1));
    assert_eq!(at(&p, wednesday, t(12, 0)), Some(H2));
    assert_eq!(at(&p, thursday, t(8, 29)), Some(H2));
    assert_eq!(at(&p, thursday, t(8, 30)), Some(H1));
    assert_eq!(day(&p, wednesday), Some(H1), "day level ignores slots");
    let split = split_by_custody(&p, wednesday, thursday);
    assert_eq!(
        split[0].segments,
        [
            CustodySegment {
                from: t(0, 0),
                household: Some(H1)
            },
            CustodySegment {
                from: t(12, 0),
                household: Some(H2)
            },
        ]
    );
    assert_eq!(
        split[1].segments,
        [
            CustodySegment {
                from: t(0, 0),
                household: Some(H2)
            },
            CustodySegment {
                from: t(8, 30),
                household: Some(H1)
            },
        ]
    );
}

#[test]
fn hourly_slots_are_suspended_in_explicit_ranges_unless_told() {
    let holidays = range(d(2026, 10, 17), d(2026, 11, 1), H1, Handover::StartOfDay);
    let wednesday = d(2026, 10, 21);
    let p = [sole(H1), wednesday_slot(false), holidays.clone()];
    assert_eq!(at(&p, wednesday, t(13, 0)), Some(H1));
    let p = [sole(H1), wednesday_slot(true), holidays];
    assert_eq!(at(&p, wednesday, t(13, 0)), Some(H2));
}

#[test]
fn slot_across_the_week_end_every_other_week() {
    let weekend = pattern(
        d(2026, 9, 1),
        None,
        CustodyRule::HourlySlot {
            household: H2,
            start_day: Weekday::Fri,
            start_time: t(18, 0),
            end_day: Weekday::Mon,
            end_time: t(8, 30),
            recurrence: SlotRecurrence::AlternateWeeks {
                reference_date: d(2026, 9, 11),
                week_start: Weekday::Mon,
            },
            overrides_date_ranges: false,
        },
    );
    let p = [sole(H1), weekend];
    assert_eq!(at(&p, d(2026, 9, 11), t(17, 59)), Some(H1));
    assert_eq!(at(&p, d(2026, 9, 11), t(18, 0)), Some(H2));
    assert_eq!(at(&p, d(2026, 9, 13), t(12, 0)), Some(H2));
    assert_eq!(
        at(&p, d(2026, 9, 14), t(8, 29)),
        Some(H2),
        "Monday morning belongs to Friday's week"
    );
    assert_eq!(at(&p, d(2026, 9, 14), t(8, 30)), Some(H1));
    assert_eq!(
        at(&p, d(2026, 9, 19), t(12, 0)),
        Some(H1),
        "odd week: no slot"
    );
    assert_eq!(at(&p, d(2026, 9, 26), t(12, 0)), Some(H2));
    // 53-week year end: Friday 01/01/2027 is 16 weeks after the reference → slot applies.
    assert_eq!(at(&p, d(2027, 1, 2), t(12, 0)), Some(H2));
    assert_eq!(at(&p, d(2026, 12, 26), t(12, 0)), Some(H1));
}

#[test]
fn slot_validity_is_checked_on_the_occurrence_start() {
    let mut slot = wednesday_slot(false);
    slot.valid_to = Some(d(2026, 9, 9));
    let p = [sole(H1), slot];
    assert_eq!(
        at(&p, d(2026, 9, 10), t(7, 0)),
        Some(H2),
        "started on a valid Wednesday"
    );
    assert_eq!(
        at(&p, d(2026, 9, 16), t(13, 0)),
        Some(H1),
        "no longer valid"
    );
}

// ---- precedence within a layer, absence of information --------------------------------------

#[test]
fn latest_valid_from_wins_within_a_layer() {
    let old = sole(H1);
    let mut new = alternate(d(2026, 9, 7), Weekday::Mon, Handover::StartOfDay);
    new.valid_from = d(2026, 9, 1);
    let p = [new.clone(), old.clone()];
    assert_eq!(day(&p, d(2026, 8, 31)), Some(H1));
    assert_eq!(day(&p, d(2026, 9, 14)), Some(H2));
    // Same valid_from: the later in the list wins.
    let p = [sole(H1), sole(H2)];
    assert_eq!(day(&p, d(2026, 9, 14)), Some(H2));
}

#[test]
fn nothing_known_means_none() {
    assert_eq!(day(&[], d(2026, 9, 14)), None);
    assert_eq!(at(&[], d(2026, 9, 14), t(8, 0)), None);
    let p = [pattern(
        d(2026, 9, 1),
        Some(d(2026, 9, 30)),
        CustodyRule::Sole { household: H1 },
    )];
    assert_eq!(day(&p, d(2026, 10, 1)), None);
    let split = split_by_custody(&p, d(2026, 9, 30), d(2026, 10, 1));
    assert_eq!(split[0].single_household(), Some(H1));
    assert_eq!(split[1].single_household(), None);
    assert_eq!(
        split[1].segments,
        [CustodySegment {
            from: t(0, 0),
            household: None
        }]
    );
}

#[test]
fn split_counts_days_per_household() {
    let p = [alternate(d(2026, 9, 7), Weekday::Mon, Handover::StartOfDay)];
    let split = split_by_custody(&p, d(2026, 9, 7), d(2026, 10, 4));
    assert_eq!(split.len(), 28);
    let count = |h| split.iter().filter(|x| x.day_household == Some(h)).count();
    assert_eq!((count(H1), count(H2)), (14, 14));
    assert!(split_by_custody(&p, d(2026, 9, 8), d(2026, 9, 7)).is_empty());
}

// ---- validation -----------------------------------------------------------------------------

fn invalid(patterns: &[CustodyPattern]) -> String {
    validate_patterns(patterns).unwrap_err().to_string()
}

#[test]
fn validation() {
    assert!(
        validate_patterns(&[two_two_three(Handover::StartOfDay), wednesday_slot(false)]).is_ok()
    );
    let mut p = sole(H1);
    p.valid_to = Some(d(2019, 1, 1));
    assert_eq!(
        invalid(&[p]),
        "Mode de garde invalide : la fin de validité (01/01/2019) précède le début (01/01/2020)."
    );
    let same = pattern(
        d(2026, 1, 1),
        None,
        CustodyRule::AlternateWeeks {
            week_a: H1,
            week_b: H1,
            reference_date: d(2026, 1, 5),
            week_start: Weekday::Mon,
            handover: Handover::StartOfDay,
        },
    );
    assert!(invalid(&[same]).contains("deux foyers différents"));
    let mut twice = two_two_three(Handover::StartOfDay);
    if let CustodyRule::Weekdays { days, .. } = &mut twice.rule {
        days.push(DayAssignment {
            weekday: Weekday::Fri,
            household: H2,
        });
    }
    assert_eq!(
        invalid(&[twice]),
        "Mode de garde invalide : le jour vendredi est attribué deux fois."
    );
    let empty = pattern(
        d(2026, 1, 1),
        None,
        CustodyRule::Weekdays {
            days: vec![],
            alternating: None,
            handover: Handover::StartOfDay,
        },
    );
    assert!(invalid(&[empty]).contains("aucun jour"));
    let open_range = pattern(
        d(2026, 1, 1),
        None,
        CustodyRule::DateRange {
            household: H1,
            handover: Handover::StartOfDay,
        },
    );
    assert!(invalid(&[open_range]).contains("date de fin"));
    let mut backwards = wednesday_slot(false);
    if let CustodyRule::HourlySlot { end_day, .. } = &mut backwards.rule {
        *end_day = Weekday::Wed;
    }
    assert!(invalid(&[backwards]).contains("finir après son début"));
    assert!(invalid(&[sole(H1), sole(H2), sole(HouseholdRef(3))]).contains("deux foyers au plus"));
}

// ---- storage --------------------------------------------------------------------------------

#[test]
fn patterns_are_stored_as_json() {
    let json = r#"[
        {"valid_from": "2026-09-01", "type": "alternate_weeks", "week_a": 1, "week_b": 2,
         "reference_date": "2026-09-07", "handover": {"type": "school_exit", "time": "16:30"}},
        {"valid_from": "2026-09-01", "type": "hourly_slot", "household": 2,
         "start_day": "Wed", "start_time": "12:00", "end_day": "thursday", "end_time": "08:30"},
        {"valid_from": "2027-07-03", "valid_to": "2027-07-31", "type": "date_range", "household": 1},
        {"valid_from": "2026-09-01", "type": "weekdays", "days": [{"weekday": "Mon", "household": 1}],
         "alternating": {"days": ["Fri", "Sat", "Sun"], "first": 1, "second": 2, "reference_date": "2026-09-04"}},
        {"valid_from": "2020-01-01", "type": "sole", "household": 1}
    ]"#;
    let patterns: Vec<CustodyPattern> = serde_json::from_str(json).unwrap();
    assert_eq!(
        patterns[0].rule,
        CustodyRule::AlternateWeeks {
            week_a: H1,
            week_b: H2,
            reference_date: d(2026, 9, 7),
            week_start: Weekday::Mon,
            handover: Handover::SchoolExit { time: t(16, 30) },
        }
    );
    assert_eq!(
        patterns[1],
        wednesday_slot(false).clone_with_from(d(2026, 9, 1))
    );
    assert_eq!(patterns[2].valid_to, Some(d(2027, 7, 31)));
    assert_eq!(patterns[4], sole(H1));
    let again: Vec<CustodyPattern> =
        serde_json::from_str(&serde_json::to_string(&patterns).unwrap()).unwrap();
    assert_eq!(again, patterns);
    assert!(validate_patterns(&patterns).is_ok());
    let unknown = r#"{"valid_from": "2026-09-01", "type": "every_full_moon", "household": 1}"#;
    assert!(serde_json::from_str::<CustodyPattern>(unknown).is_err());
}

impl CustodyPattern {
    fn clone_with_from(&self, valid_from: NaiveDate) -> CustodyPattern {
        CustodyPattern {
            valid_from,
            ..self.clone()
        }
    }
}

// ---- properties -----------------------------------------------------------------------------

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (0u64..(366 * 40)).prop_map(|n| d(2010, 1, 1) + Days::new(n))
}

proptest! {
    #[test]
    fn alternate_weeks_alternate_forever(date in any_date(), reference in any_date(), ws in 0u8..7) {
        let week_start = Weekday::try_from(ws).unwrap();
        let mut p = alternate(reference, week_start, Handover::StartOfDay);
        p.valid_from = d(2000, 1, 1);
        let p = [p];
        let this = day(&p, date);
        prop_assert!(this.is_some());
        prop_assert_ne!(this, day(&p, date + Days::new(7)));
        prop_assert_eq!(this, day(&p, date + Days::new(14)));
        prop_assert_eq!(day(&p, reference), Some(H1));
        prop_assert_eq!(day(&p, week_start_of(date, week_start)), this);
    }

    #[test]
    fn split_agrees_with_household_on(date in any_date(), h in 0u32..24, m in 0u32..60) {
        let p = [
            two_two_three(Handover::At { time: t(8, 30) }),
            wednesday_slot(false),
            range(d(2026, 7, 4), d(2026, 7, 31), H2, Handover::At { time: t(10, 0) }),
        ];
        let split = split_by_custody(&p, date, date);
        prop_assert_eq!(split.len(), 1);
        let x = &split[0];
        prop_assert_eq!(x.segments[0].from, NaiveTime::MIN);
        prop_assert!(x.segments.windows(2).all(|w| w[0].from < w[1].from && w[0].household != w[1].household));
        prop_assert_eq!(x.household_at(t(h, m)), household_on(&p, date, Some(t(h, m))));
        prop_assert_eq!(x.day_household, household_on(&p, date, None));
    }
}
