//! One error type for the calendar area. Messages are in French: they reach agents (settings
//! screens, import reports) as they are.

use chrono::NaiveDate;

/// Formats a date the French way (`21/10/2023`) for messages.
pub(crate) fn fr_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The school-holiday TOML could not be parsed.
    #[error("Fichier du calendrier scolaire illisible : {0}")]
    Parse(String),

    /// A TOML value that must be a plain date (no time, no offset) is something else.
    #[error(
        "Valeur « {value} » invalide pour « {field} » : une date seule est attendue (AAAA-MM-JJ)."
    )]
    NotADate { field: &'static str, value: String },

    /// A school year entry is inconsistent.
    #[error("Année scolaire « {year} » invalide : {reason}")]
    InvalidSchoolYear { year: String, reason: String },

    /// A holiday entry is inconsistent.
    #[error("Dates invalides pour « {holiday} » : {reason}")]
    InvalidHoliday { holiday: String, reason: String },

    /// A date is outside the years held by the loaded school calendar.
    #[error(
        "Le calendrier scolaire chargé ne couvre pas le {} (il couvre du {} au {}) : \
         mettez à jour le calendrier avant de poursuivre.",
        fr_date(*date), fr_date(*covered_from), fr_date(*covered_to)
    )]
    NotCovered {
        date: NaiveDate,
        covered_from: NaiveDate,
        covered_to: NaiveDate,
    },

    /// A notice rule (délai de prévenance) cannot be evaluated.
    #[error("Délai de prévenance invalide : {0}")]
    InvalidNoticeRule(String),

    /// A custody pattern is inconsistent.
    #[error("Mode de garde invalide : {0}")]
    InvalidCustody(String),

    /// An opening rule is inconsistent.
    #[error("Règle d'ouverture invalide : {0}")]
    InvalidOpening(String),

    /// Date arithmetic left the representable range.
    #[error("Date hors des limites de calcul.")]
    OutOfRange,
}
