//! French public holidays (jours fériés) of metropolitan France, computed for any year.
//!
//! Eleven days: eight fixed dates and three tied to Easter (Lundi de Pâques = Easter + 1,
//! Ascension = Easter + 39, Lundi de Pentecôte = Easter + 50). Alsace-Moselle's two extra days
//! (Vendredi saint, 26 décembre) and overseas days are not included. The list is the one in force
//! since 1982 (8 mai restored); earlier years are computed with today's list.
//!
//! Supported years: 1583 (first full Gregorian year) to 9999. Outside that range
//! [`easter_sunday`] returns `None` and [`public_holidays`] an empty list.

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

pub const FIRST_SUPPORTED_YEAR: i32 = 1583;
pub const LAST_SUPPORTED_YEAR: i32 = 9999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicHolidayKind {
    NewYearsDay,
    EasterMonday,
    LabourDay,
    VictoryInEurope,
    AscensionDay,
    WhitMonday,
    NationalDay,
    Assumption,
    AllSaintsDay,
    Armistice,
    ChristmasDay,
}

impl PublicHolidayKind {
    /// Usual French name.
    pub fn label(self) -> &'static str {
        match self {
            PublicHolidayKind::NewYearsDay => "Jour de l'an",
            PublicHolidayKind::EasterMonday => "Lundi de Pâques",
            PublicHolidayKind::LabourDay => "Fête du Travail",
            PublicHolidayKind::VictoryInEurope => "Victoire 1945",
            PublicHolidayKind::AscensionDay => "Ascension",
            PublicHolidayKind::WhitMonday => "Lundi de Pentecôte",
            PublicHolidayKind::NationalDay => "Fête nationale",
            PublicHolidayKind::Assumption => "Assomption",
            PublicHolidayKind::AllSaintsDay => "Toussaint",
            PublicHolidayKind::Armistice => "Armistice 1918",
            PublicHolidayKind::ChristmasDay => "Noël",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PublicHoliday {
    pub date: NaiveDate,
    pub kind: PublicHolidayKind,
}

impl PublicHoliday {
    /// Usual French name, e.g. « Lundi de Pentecôte ».
    pub fn name(&self) -> &'static str {
        self.kind.label()
    }
}

/// Easter Sunday of `year` (Gregorian computus, Meeus/Jones/Butcher algorithm).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    if !(FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR).contains(&year) {
        return None;
    }
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The eleven public holidays of `year`, sorted by date. When Ascension falls on 1 May or 8 May
/// (2008: 1 May), both entries are kept, the fixed one first.
pub fn public_holidays(year: i32) -> Vec<PublicHoliday> {
    let Some(easter) = easter_sunday(year) else {
        return Vec::new();
    };
    let fixed = |month, day, kind| {
        NaiveDate::from_ymd_opt(year, month, day).map(|date| PublicHoliday { date, kind })
    };
    let moving = |offset, kind| {
        easter
            .checked_add_days(Days::new(offset))
            .map(|date| PublicHoliday { date, kind })
    };
    use PublicHolidayKind as K;
    let mut all: Vec<PublicHoliday> = [
        fixed(1, 1, K::NewYearsDay),
        moving(1, K::EasterMonday),
        fixed(5, 1, K::LabourDay),
        fixed(5, 8, K::VictoryInEurope),
        moving(39, K::AscensionDay),
        moving(50, K::WhitMonday),
        fixed(7, 14, K::NationalDay),
        fixed(8, 15, K::Assumption),
        fixed(11, 1, K::AllSaintsDay),
        fixed(11, 11, K::Armistice),
        fixed(12, 25, K::ChristmasDay),
    ]
    .into_iter()
    .flatten()
    .collect();
    // Stable: on a shared date the fixed holiday (listed first) stays first.
    all.sort_by_key(|h| h.date);
    all
}

/// The public holiday on `date`, if any (the fixed one when two coincide).
pub fn public_holiday_on(date: NaiveDate) -> Option<PublicHoliday> {
    public_holidays(date.year())
        .into_iter()
        .find(|h| h.date == date)
}

pub fn is_public_holiday(date: NaiveDate) -> bool {
    public_holiday_on(date).is_some()
}

#[cfg(test)]
#[path = "public_holidays_tests.rs"]
mod tests;
