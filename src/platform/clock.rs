//! Business time: rules and "today" are evaluated in Europe/Paris.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Paris;

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Today's date in Paris (not UTC: at 00:30 in Paris, UTC is still yesterday).
pub fn today() -> NaiveDate {
    now().with_timezone(&Paris).date_naive()
}
