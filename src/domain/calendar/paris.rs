//! Wall-clock time in Europe/Paris, where every business rule is evaluated (DESIGN §3).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::Paris;

/// The instant of Paris wall-clock `time` on `date`.
///
/// Wall-clock times that do not exist or exist twice are resolved like `java.time` does:
/// - in the spring gap (last Sunday of March, 02:00–02:59 does not exist), the time is moved
///   forward by the length of the gap: 02:30 → 03:30 CEST;
/// - in the autumn overlap (last Sunday of October, 02:00–02:59 happens twice), the earlier
///   instant (still CEST) is taken.
pub fn paris_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = NaiveDateTime::new(date, time);
    if let Some(t) = Paris.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    // In a gap: the first valid wall-clock time `k` hours later is the gap's far side.
    for hours in 1..=3 {
        if let Some(t) = local
            .checked_add_signed(TimeDelta::hours(hours))
            .and_then(|shifted| Paris.from_local_datetime(&shifted).earliest())
        {
            return t.with_timezone(&Utc);
        }
    }
    // Paris gaps last one hour; reaching this means a malformed tz database. Read as UTC+1.
    Utc.from_utc_datetime(&(local - TimeDelta::hours(1)))
}

/// The Paris calendar date of `instant`.
pub fn paris_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&Paris).date_naive()
}

/// The Paris wall-clock date and time of `instant`.
pub fn paris_local(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&Paris).naive_local()
}

/// Paris midnight starting `date` (midnight always exists in Paris: changes happen at 02:00/03:00).
pub fn paris_day_start(date: NaiveDate) -> DateTime<Utc> {
    paris_instant(date, NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }
    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn winter_and_summer_offsets() {
        assert_eq!(
            paris_instant(d(2026, 1, 15), t(10, 0)),
            utc(2026, 1, 15, 9, 0)
        );
        assert_eq!(
            paris_instant(d(2026, 7, 15), t(10, 0)),
            utc(2026, 7, 15, 8, 0)
        );
    }

    #[test]
    fn spring_gap_moves_forward() {
        // 29 March 2026: 02:00 CET becomes 03:00 CEST.
        assert_eq!(
            paris_instant(d(2026, 3, 29), t(1, 59)),
            utc(2026, 3, 29, 0, 59)
        );
        assert_eq!(
            paris_instant(d(2026, 3, 29), t(2, 0)),
            utc(2026, 3, 29, 1, 0)
        );
        assert_eq!(
            paris_instant(d(2026, 3, 29), t(2, 30)),
            utc(2026, 3, 29, 1, 30)
        );
        assert_eq!(
            paris_instant(d(2026, 3, 29), t(3, 0)),
            utc(2026, 3, 29, 1, 0)
        );
    }

    #[test]
    fn autumn_overlap_takes_the_earlier_instant() {
        // 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
        assert_eq!(
            paris_instant(d(2026, 10, 25), t(2, 30)),
            utc(2026, 10, 25, 0, 30)
        );
        assert_eq!(
            paris_instant(d(2026, 10, 25), t(3, 0)),
            utc(2026, 10, 25, 2, 0)
        );
    }

    #[test]
    fn dates_of_instants() {
        assert_eq!(paris_date(utc(2026, 12, 31, 23, 30)), d(2027, 1, 1));
        assert_eq!(
            paris_local(utc(2026, 7, 1, 22, 15)),
            d(2026, 7, 2).and_time(t(0, 15))
        );
        assert_eq!(paris_day_start(d(2026, 3, 29)), utc(2026, 3, 28, 23, 0));
        assert_eq!(paris_day_start(d(2026, 3, 30)), utc(2026, 3, 29, 22, 0));
    }
}
