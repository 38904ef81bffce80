//! Calendars: school holidays (data in `data/calendar/`), public holidays, notice delays
//! (délais de prévenance), custody calendars and activity openings. Pure functions over
//! plain structs; the only input is [`holidays::SchoolCalendar::from_toml_str`].

pub mod custody;
pub mod error;
pub mod holidays;
pub mod notice;
pub mod opening;
pub mod paris;
pub mod public_holidays;

pub use custody::{
    CustodyDay, CustodyPattern, CustodyRule, CustodySegment, Handover, HouseholdRef, household_on,
    split_by_custody, validate_patterns,
};
pub use error::CalendarError;
pub use holidays::{Holiday, HolidayKind, SchoolCalendar, SchoolYear, Zone};
pub use notice::{DayCount, NoticeContext, NoticeRule, NoticeUnit, deadline, is_within_notice};
pub use opening::{OpeningCalendar, OpeningRule, is_open, open_days};
pub use public_holidays::{PublicHoliday, PublicHolidayKind, is_public_holiday, public_holidays};
