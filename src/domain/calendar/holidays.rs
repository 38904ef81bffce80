//! French school holidays (vacances scolaires), zones A/B/C, loaded from
//! `data/calendar/school-holidays.toml`.
//!
//! # Conventions (read before touching the data)
//!
//! The official calendar (arrêté, education.gouv.fr) gives, for each holiday, two dates:
//! - « fin des cours » (`classes_end`): the day classes stop, **after class**;
//! - « reprise des cours » (`classes_resume`): the day classes start again, **in the morning**.
//!
//! The days on which there is no class are therefore
//! `first_day_off = classes_end + 1 day` to `last_day_off = classes_resume - 1 day`, both
//! inclusive. Example: Toussaint 2023, fin des cours samedi 21/10/2023, reprise lundi
//! 06/11/2023 → days off from Sunday 22/10/2023 to Sunday 05/11/2023. The Saturday of « fin des
//! cours » is **not** a holiday day here (classes may exist on Saturday morning), even though
//! the open-data export (data.education.gouv.fr) and most web pages start the holiday on that
//! Saturday. It is a weekend day, so this only matters to rules that open on Saturdays.
//!
//! The file stores the official dates, never the converted ones, so that it can be checked line
//! by line against the arrêté; the conversion happens here, once.
//!
//! A school year runs from its rentrée (pupils' first day) to the last day of its summer
//! holidays, i.e. the day before the next rentrée: July and August belong to the school year
//! that is ending.

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::error::{CalendarError, fr_date};

/// A school-holiday zone of metropolitan France (Corsica and overseas are not handled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Zone {
    /// Besançon, Bordeaux, Clermont-Ferrand, Dijon, Grenoble, Limoges, Lyon, Poitiers.
    A,
    /// Aix-Marseille, Amiens, Lille, Nancy-Metz, Nantes, Nice, Normandie, Orléans-Tours, Reims,
    /// Rennes, Strasbourg.
    B,
    /// Créteil, Montpellier, Paris, Toulouse, Versailles.
    C,
}

impl Zone {
    pub const ALL: [Zone; 3] = [Zone::A, Zone::B, Zone::C];

    /// French label, e.g. « Zone A ».
    pub fn label(self) -> &'static str {
        match self {
            Zone::A => "Zone A",
            Zone::B => "Zone B",
            Zone::C => "Zone C",
        }
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Which holiday of the school year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    AllSaints,
    Christmas,
    Winter,
    Spring,
    /// The Ascension bridge (Thursday to Sunday), official since 2019-2020.
    AscensionBridge,
    Summer,
}

impl HolidayKind {
    /// The holidays every zone must have in every school year.
    pub const MANDATORY: [HolidayKind; 5] = [
        HolidayKind::AllSaints,
        HolidayKind::Christmas,
        HolidayKind::Winter,
        HolidayKind::Spring,
        HolidayKind::Summer,
    ];

    /// Official French name.
    pub fn label(self) -> &'static str {
        match self {
            HolidayKind::AllSaints => "Vacances de la Toussaint",
            HolidayKind::Christmas => "Vacances de Noël",
            HolidayKind::Winter => "Vacances d'hiver",
            HolidayKind::Spring => "Vacances de printemps",
            HolidayKind::AscensionBridge => "Pont de l'Ascension",
            HolidayKind::Summer => "Vacances d'été",
        }
    }
}

/// One holiday period, for one or more zones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub kind: HolidayKind,
    /// « 2023-2024 ».
    pub school_year: String,
    pub zones: Vec<Zone>,
    /// Official « fin des cours » (classes stop after class that day).
    pub classes_end: NaiveDate,
    /// Official « reprise des cours » (classes resume that morning).
    pub classes_resume: NaiveDate,
    /// `classes_end + 1 day`.
    pub first_day_off: NaiveDate,
    /// `classes_resume - 1 day`.
    pub last_day_off: NaiveDate,
    /// Why a date is not confirmed against the official text, if it is not.
    pub uncertain: Option<String>,
}

impl Holiday {
    /// Official French name, e.g. « Vacances de Noël ».
    pub fn name(&self) -> &'static str {
        self.kind.label()
    }

    pub fn applies_to(&self, zone: Zone) -> bool {
        self.zones.contains(&zone)
    }

    /// Whether `date` is a day off of this holiday (any zone).
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first_day_off <= date && date <= self.last_day_off
    }

    /// « Vacances de Noël 2023-2024 », for messages.
    fn title(&self) -> String {
        format!("{} {}", self.name(), self.school_year)
    }
}

/// One school year: from its rentrée to the last day of its summer holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolYear {
    /// « 2023-2024 ».
    pub name: String,
    /// Rentrée des élèves (pupils' first day of class).
    pub start: NaiveDate,
    /// Last day of the summer holidays (the day before the next rentrée).
    pub end: NaiveDate,
    /// Where the dates come from.
    pub source: String,
    pub uncertain: Option<String>,
}

/// The loaded, validated school calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolCalendar {
    /// Sorted by start date, contiguous.
    years: Vec<SchoolYear>,
    /// Sorted by first day off, then kind.
    holidays: Vec<Holiday>,
}

// ---- raw file format -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    school_years: Vec<RawSchoolYear>,
    #[serde(default)]
    holidays: Vec<RawHoliday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchoolYear {
    name: String,
    school_start: toml::value::Datetime,
    source: String,
    #[serde(default)]
    uncertain: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    school_year: String,
    kind: HolidayKind,
    zones: Vec<Zone>,
    classes_end: toml::value::Datetime,
    classes_resume: toml::value::Datetime,
    #[serde(default)]
    uncertain: Option<String>,
}

fn plain_date(
    field: &'static str,
    value: &toml::value::Datetime,
) -> Result<NaiveDate, CalendarError> {
    let not_a_date = || CalendarError::NotADate {
        field,
        value: value.to_string(),
    };
    match (value.date, value.time, value.offset) {
        (Some(d), None, None) => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                .ok_or_else(not_a_date)
        }
        _ => Err(not_a_date()),
    }
}

fn day_after(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
    date.checked_add_days(Days::new(1))
        .ok_or(CalendarError::OutOfRange)
}

fn day_before(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
    date.checked_sub_days(Days::new(1))
        .ok_or(CalendarError::OutOfRange)
}

/// Parses « 2023-2024 » into 2023, checking the second year follows the first.
fn parse_year_name(name: &str) -> Option<i32> {
    let (first, second) = name.split_once('-')?;
    if first.len() != 4 || second.len() != 4 {
        return None;
    }
    let first: i32 = first.parse().ok()?;
    let second: i32 = second.parse().ok()?;
    (second == first + 1).then_some(first)
}

/// The school calendar shipped with the product (`data/calendar/school-holidays.toml`),
/// parsed once. The file is checked by the tests: a bad edit fails the build's tests, not a
/// city's bookings.
pub fn shipped() -> &'static SchoolCalendar {
    static SHIPPED: std::sync::LazyLock<SchoolCalendar> = std::sync::LazyLock::new(|| {
        SchoolCalendar::from_toml_str(include_str!("../../../data/calendar/school-holidays.toml"))
            .expect("the shipped school calendar is valid (tested)")
    });
    &SHIPPED
}

impl SchoolCalendar {
    /// Parses and validates the TOML text of `data/calendar/school-holidays.toml`.
    pub fn from_toml_str(text: &str) -> Result<Self, CalendarError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| CalendarError::Parse(e.to_string()))?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawFile) -> Result<Self, CalendarError> {
        if raw.school_years.is_empty() {
            return Err(CalendarError::Parse("aucune année scolaire".into()));
        }

        // School years: name, rentrée, order.
        let mut starts: Vec<(i32, RawSchoolYear, NaiveDate)> = Vec::new();
        for y in raw.school_years {
            let bad = |reason: String| CalendarError::InvalidSchoolYear {
                year: y.name.clone(),
                reason,
            };
            let first = parse_year_name(&y.name)
                .ok_or_else(|| bad("le nom doit être de la forme « 2023-2024 »".into()))?;
            let start = plain_date("school_start", &y.school_start)?;
            if start.year() != first || !(8..=9).contains(&start.month()) {
                return Err(bad(format!(
                    "la rentrée du {} n'est pas fin août ou en septembre {first}",
                    fr_date(start)
                )));
            }
            if starts.iter().any(|(f, _, _)| *f == first) {
                return Err(bad("année en double".into()));
            }
            starts.push((first, y, start));
        }
        starts.sort_by_key(|(first, _, _)| *first);
        for pair in starts.windows(2) {
            if pair[1].0 != pair[0].0 + 1 {
                return Err(CalendarError::InvalidSchoolYear {
                    year: pair[1].1.name.clone(),
                    reason: format!("il manque l'année qui suit {}", pair[0].1.name),
                });
            }
        }

        // Holidays: dates and conversion.
        let mut holidays = Vec::new();
        for h in raw.holidays {
            let classes_end = plain_date("classes_end", &h.classes_end)?;
            let classes_resume = plain_date("classes_resume", &h.classes_resume)?;
            let mut zones = h.zones.clone();
            zones.sort();
            zones.dedup();
            let holiday = Holiday {
                kind: h.kind,
                school_year: h.school_year,
                zones,
                classes_end,
                classes_resume,
                first_day_off: day_after(classes_end)?,
                last_day_off: day_before(classes_resume)?,
                uncertain: h.uncertain,
            };
            let bad = |reason: String| CalendarError::InvalidHoliday {
                holiday: holiday.title(),
                reason,
            };
            if holiday.zones.is_empty() {
                return Err(bad("aucune zone".into()));
            }
            if holiday.zones.len() != h.zones.len() {
                return Err(bad("zone en double".into()));
            }
            if holiday.first_day_off > holiday.last_day_off {
                return Err(bad(format!(
                    "la reprise du {} ne laisse aucun jour de vacances après la fin des cours du {}",
                    fr_date(classes_resume),
                    fr_date(classes_end)
                )));
            }
            if !starts.iter().any(|(_, y, _)| y.name == holiday.school_year) {
                return Err(bad(format!(
                    "année scolaire « {} » inconnue",
                    holiday.school_year
                )));
            }
            holidays.push(holiday);
        }

        // Per school year and zone: one of each mandatory holiday, inside the year.
        let mut years = Vec::new();
        for (index, (_, y, start)) in starts.iter().enumerate() {
            let next_start = starts.get(index + 1).map(|(_, _, s)| *s);
            let mut end: Option<NaiveDate> = None;
            for zone in Zone::ALL {
                let of_zone: Vec<&Holiday> = holidays
                    .iter()
                    .filter(|h| h.school_year == y.name && h.applies_to(zone))
                    .collect();
                for kind in HolidayKind::MANDATORY {
                    let count = of_zone.iter().filter(|h| h.kind == kind).count();
                    if count != 1 {
                        return Err(CalendarError::InvalidSchoolYear {
                            year: y.name.clone(),
                            reason: format!(
                                "{} doit figurer une fois pour la {zone} ({count} trouvées)",
                                kind.label()
                            ),
                        });
                    }
                }
                if of_zone
                    .iter()
                    .filter(|h| h.kind == HolidayKind::AscensionBridge)
                    .count()
                    > 1
                {
                    return Err(CalendarError::InvalidSchoolYear {
                        year: y.name.clone(),
                        reason: format!("plusieurs ponts de l'Ascension pour la {zone}"),
                    });
                }
                let summer = of_zone
                    .iter()
                    .find(|h| h.kind == HolidayKind::Summer)
                    .ok_or(CalendarError::OutOfRange)?;
                for h in &of_zone {
                    if h.classes_end < *start {
                        return Err(CalendarError::InvalidHoliday {
                            holiday: h.title(),
                            reason: format!(
                                "la fin des cours précède la rentrée du {}",
                                fr_date(*start)
                            ),
                        });
                    }
                    if h.kind != HolidayKind::Summer && h.classes_resume > summer.classes_end {
                        return Err(CalendarError::InvalidHoliday {
                            holiday: h.title(),
                            reason: "elles finissent après le début des vacances d'été".into(),
                        });
                    }
                }
                if let Some(next) = next_start
                    && summer.classes_resume != next
                {
                    return Err(CalendarError::InvalidHoliday {
                        holiday: summer.title(),
                        reason: format!(
                            "la reprise du {} ({zone}) n'est pas la rentrée suivante du {}",
                            fr_date(summer.classes_resume),
                            fr_date(next)
                        ),
                    });
                }
                match end {
                    None => end = Some(summer.last_day_off),
                    Some(e) if e != summer.last_day_off => {
                        return Err(CalendarError::InvalidSchoolYear {
                            year: y.name.clone(),
                            reason: "les vacances d'été ne finissent pas le même jour dans toutes les zones"
                                .into(),
                        });
                    }
                    Some(_) => {}
                }
            }
            years.push(SchoolYear {
                name: y.name.clone(),
                start: *start,
                end: end.ok_or(CalendarError::OutOfRange)?,
                source: y.source.clone(),
                uncertain: y.uncertain.clone(),
            });
        }

        // No two holidays of a zone overlap.
        holidays.sort_by_key(|h| (h.first_day_off, h.kind));
        for zone in Zone::ALL {
            let of_zone: Vec<&Holiday> = holidays.iter().filter(|h| h.applies_to(zone)).collect();
            for pair in of_zone.windows(2) {
                if pair[1].first_day_off <= pair[0].last_day_off {
                    return Err(CalendarError::InvalidHoliday {
                        holiday: pair[1].title(),
                        reason: format!("elles chevauchent {} ({zone})", pair[0].title()),
                    });
                }
            }
        }

        Ok(SchoolCalendar { years, holidays })
    }

    /// All holidays, sorted by first day off.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// All school years, sorted.
    pub fn school_years(&self) -> &[SchoolYear] {
        &self.years
    }

    /// First and last day the data speaks for (first rentrée, last day of the last summer).
    pub fn coverage(&self) -> (NaiveDate, NaiveDate) {
        // `from_raw` refuses an empty list, so both ends exist.
        let first = self.years.first().map_or(NaiveDate::MIN, |y| y.start);
        let last = self.years.last().map_or(NaiveDate::MIN, |y| y.end);
        (first, last)
    }

    /// Whether the data speaks for `date`. Outside coverage, [`Self::is_school_holiday`] says
    /// `false` and [`Self::holiday_on`] says `None`: check coverage where that matters.
    pub fn covers(&self, date: NaiveDate) -> bool {
        let (first, last) = self.coverage();
        first <= date && date <= last
    }

    /// `Ok(())` if the data speaks for `date`, else a French error naming the coverage.
    pub fn ensure_covers(&self, date: NaiveDate) -> Result<(), CalendarError> {
        if self.covers(date) {
            Ok(())
        } else {
            let (covered_from, covered_to) = self.coverage();
            Err(CalendarError::NotCovered {
                date,
                covered_from,
                covered_to,
            })
        }
    }

    /// The holiday of `zone` that `date` is a day off of.
    pub fn holiday_on(&self, zone: Zone, date: NaiveDate) -> Option<&Holiday> {
        self.holidays
            .iter()
            .find(|h| h.applies_to(zone) && h.contains(date))
    }

    /// Whether `date` is a school-holiday day off in `zone` (weekends inside a holiday included).
    pub fn is_school_holiday(&self, zone: Zone, date: NaiveDate) -> bool {
        self.holiday_on(zone, date).is_some()
    }

    /// The school year containing `date`.
    pub fn school_year(&self, date: NaiveDate) -> Option<&SchoolYear> {
        self.years.iter().find(|y| y.start <= date && date <= y.end)
    }

    /// `(rentrée, last day of the summer holidays)` of the school year containing `date`.
    pub fn school_year_of(&self, date: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        self.school_year(date).map(|y| (y.start, y.end))
    }
}

#[cfg(test)]
#[path = "holidays_tests.rs"]
mod tests;
