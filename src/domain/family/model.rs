//! What a family dossier holds, as plain structs, and the validation of what agents, the
//! API and the portal submit (French messages, nothing written on error).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::platform::auth::accounts::normalise_email;
use crate::platform::error::{AppError, AppResult};

/// An adult as submitted (creation or full update).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct AdultInput {
    pub last_name: String,
    pub first_name: String,
    pub birth_name: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub birth_place: Option<String>,
    pub email: Option<String>,
    pub email_pro: Option<String>,
    pub phone_mobile: Option<String>,
    pub phone_home: Option<String>,
    pub phone_work: Option<String>,
    /// employed, shifted_hours, self_employed, job_seeker, parental_leave, student, retired,
    /// inactive, other.
    pub professional_situation: Option<String>,
    pub employer: Option<String>,
    pub contact_by_mail: Option<bool>,
    pub contact_by_sms: Option<bool>,
    pub contact_by_paper: Option<bool>,
}

/// A child as submitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ChildInput {
    pub last_name: String,
    pub first_name: String,
    pub sex: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub birth_place: Option<String>,
    /// A 12–18 year old's own e-mail, with parental consent.
    pub email: Option<String>,
    pub own_email_consent: Option<bool>,
}

/// A postal address.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(default)]
pub struct AddressInput {
    pub line1: String,
    pub line2: String,
    pub postal_code: String,
    pub town: String,
}

/// A new household: its head, an optional partner, children, residence.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct NewFamily {
    /// couple, single_parent, separated, blended, other.
    pub situation: Option<String>,
    /// caf, msa, other, none.
    pub regime: Option<String>,
    pub allocataire: Option<String>,
    pub address: AddressInput,
    pub billing_address: Option<AddressInput>,
    pub head: AdultInput,
    pub partner: Option<AdultInput>,
    pub children: Vec<ChildInput>,
    /// Create even though homonyms exist (after the agent looked at them).
    pub ignore_homonyms: bool,
}

/// The fields of a person a PATCH may change (absent = unchanged).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct PersonPatch {
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub birth_name: Option<String>,
    /// F, M or X.
    pub sex: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub birth_place: Option<String>,
    pub email: Option<String>,
    pub email_pro: Option<String>,
    pub phone_mobile: Option<String>,
    pub phone_home: Option<String>,
    pub phone_work: Option<String>,
    pub professional_situation: Option<String>,
    pub employer: Option<String>,
    /// A minor's own e-mail needs a legal guardian's consent.
    pub own_email_consent: Option<bool>,
    pub contact_by_mail: Option<bool>,
    pub contact_by_sms: Option<bool>,
    pub contact_by_paper: Option<bool>,
}

/// The fields of a household a PATCH may change.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct HouseholdPatch {
    pub situation: Option<String>,
    pub regime: Option<String>,
    pub allocataire: Option<String>,
    pub address: Option<AddressInput>,
    pub billing_address: Option<AddressInput>,
}

pub const SITUATIONS: &[(&str, &str)] = &[
    ("couple", "Couple"),
    ("single_parent", "Famille monoparentale"),
    ("separated", "Parents séparés"),
    ("blended", "Famille recomposée"),
    ("other", "Autre"),
];

pub const REGIMES: &[(&str, &str)] = &[
    ("caf", "CAF"),
    ("msa", "MSA"),
    ("other", "Autre régime"),
    ("none", "Aucun"),
];

pub const PROFESSIONAL_SITUATIONS: &[(&str, &str)] = &[
    ("employed", "En emploi"),
    ("shifted_hours", "En emploi, horaires décalés"),
    ("self_employed", "Indépendant"),
    ("job_seeker", "En recherche d'emploi"),
    ("parental_leave", "Congé parental"),
    ("student", "Étudiant"),
    ("retired", "Retraité"),
    ("inactive", "Sans activité"),
    ("other", "Autre"),
];

pub fn label_of(list: &[(&str, &'static str)], code: &str) -> &'static str {
    list.iter().find(|(c, _)| *c == code).map_or("", |(_, l)| l)
}

fn one_of(list: &[(&str, &str)], value: Option<&str>, what: &str) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if list.iter().any(|(c, _)| *c == v) => Ok(Some(v.to_string())),
        Some(v) => Err(AppError::invalid(format!("{what} inconnu(e) « {v} »"))),
    }
}

pub fn check_situation(value: Option<&str>) -> AppResult<Option<String>> {
    one_of(SITUATIONS, value, "situation familiale")
}

pub fn check_regime(value: Option<&str>) -> AppResult<Option<String>> {
    one_of(REGIMES, value, "régime")
}

/// A name: trimmed, 1 to 100 characters, letters, spaces, hyphens and apostrophes.
pub fn check_name(value: &str, what: &str) -> AppResult<String> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let valid = !value.is_empty()
        && value.chars().count() <= 100
        && value
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '.'));
    if valid {
        Ok(value)
    } else {
        Err(AppError::invalid(format!(
            "{what} invalide « {value} » : lettres, espaces, tirets et apostrophes, 100 caractères au plus"
        )))
    }
}

/// A birth date: not in the future, not before 1900; a child is under 26.
pub fn check_birth_date(
    date: Option<NaiveDate>,
    today: NaiveDate,
    child: bool,
) -> AppResult<Option<NaiveDate>> {
    let Some(date) = date else { return Ok(None) };
    if date > today {
        return Err(AppError::invalid(format!(
            "date de naissance dans le futur ({})",
            date.format("%d/%m/%Y")
        )));
    }
    if date.year() < 1900 {
        return Err(AppError::invalid("date de naissance antérieure à 1900"));
    }
    if child && age_on(date, today) > 25 {
        return Err(AppError::invalid(format!(
            "un enfant né le {} aurait plus de 25 ans : vérifiez la date",
            date.format("%d/%m/%Y")
        )));
    }
    Ok(Some(date))
}

/// Age in whole years on `day`.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// A French phone number normalised to `06 12 34 56 78` (or `+xx ...` kept as typed).
pub fn check_phone(value: Option<&str>) -> AppResult<Option<String>> {
    let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let national = if let Some(rest) = digits.strip_prefix("33").filter(|_| raw.starts_with('+')) {
        format!("0{rest}")
    } else {
        digits.clone()
    };
    if national.len() == 10 && national.starts_with('0') {
        let pairs: Vec<&str> = (0..5).map(|i| &national[2 * i..2 * i + 2]).collect();
        Ok(Some(pairs.join(" ")))
    } else if raw.starts_with('+') && (8..=15).contains(&digits.len()) {
        Ok(Some(raw.to_string()))
    } else {
        Err(AppError::invalid(format!(
            "numéro de téléphone invalide « {raw} » : 10 chiffres attendus"
        )))
    }
}

pub fn check_email(value: Option<&str>) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => normalise_email(v).map(Some),
    }
}

impl AddressInput {
    /// Trimmed address with a 5-digit postal code (French addresses).
    pub fn checked(&self) -> AppResult<AddressInput> {
        let line1 = self.line1.trim().to_string();
        let town = self.town.trim().to_string();
        let postal_code = self.postal_code.trim().replace(' ', "");
        if line1.is_empty() || town.is_empty() {
            return Err(AppError::invalid(
                "l'adresse (numéro et voie) et la commune sont obligatoires",
            ));
        }
        if postal_code.len() != 5 || !postal_code.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::invalid(format!(
                "code postal invalide « {} » : 5 chiffres attendus",
                self.postal_code.trim()
            )));
        }
        Ok(AddressInput {
            line1,
            line2: self.line2.trim().to_string(),
            postal_code,
            town: town.to_uppercase(),
        })
    }
}

/// An adult ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedAdult {
    pub last_name: String,
    pub first_name: String,
    pub birth_name: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub birth_place: Option<String>,
    pub email: Option<String>,
    pub email_pro: Option<String>,
    pub phone_mobile: Option<String>,
    pub phone_home: Option<String>,
    pub phone_work: Option<String>,
    pub professional_situation: Option<String>,
    pub employer: Option<String>,
    pub contact_by_mail: bool,
    pub contact_by_sms: bool,
    pub contact_by_paper: bool,
}

pub fn check_sex(value: Option<&str>) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v @ ("F" | "M" | "X")) => Ok(Some(v.to_string())),
        Some(v) => Err(AppError::invalid(format!(
            "sexe invalide « {v} » : F, M ou X"
        ))),
    }
}

fn optional_text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

impl AdultInput {
    pub fn checked(&self, today: NaiveDate) -> AppResult<CheckedAdult> {
        Ok(CheckedAdult {
            last_name: check_name(&self.last_name, "nom")?.to_uppercase(),
            first_name: check_name(&self.first_name, "prénom")?,
            birth_name: optional_text(self.birth_name.as_deref())
                .map(|n| check_name(&n, "nom de naissance").map(|n| n.to_uppercase()))
                .transpose()?,
            sex: check_sex(self.sex.as_deref())?,
            birth_date: check_birth_date(self.birth_date, today, false)?,
            birth_place: optional_text(self.birth_place.as_deref()),
            email: check_email(self.email.as_deref())?,
            email_pro: check_email(self.email_pro.as_deref())?,
            phone_mobile: check_phone(self.phone_mobile.as_deref())?,
            phone_home: check_phone(self.phone_home.as_deref())?,
            phone_work: check_phone(self.phone_work.as_deref())?,
            professional_situation: one_of(
                PROFESSIONAL_SITUATIONS,
                self.professional_situation.as_deref(),
                "situation professionnelle",
            )?,
            employer: optional_text(self.employer.as_deref()),
            contact_by_mail: self.contact_by_mail.unwrap_or(true),
            contact_by_sms: self.contact_by_sms.unwrap_or(false),
            contact_by_paper: self.contact_by_paper.unwrap_or(false),
        })
    }
}

/// A child ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedChild {
    pub last_name: String,
    pub first_name: String,
    pub sex: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub birth_place: Option<String>,
    pub email: Option<String>,
    pub own_email_consent: bool,
}

impl ChildInput {
    pub fn checked(&self, today: NaiveDate) -> AppResult<CheckedChild> {
        let birth_date = check_birth_date(self.birth_date, today, true)?;
        let email = check_email(self.email.as_deref())?;
        let consent = self.own_email_consent.unwrap_or(false);
        if email.is_some() {
            let age = birth_date.map(|b| age_on(b, today));
            if !matches!(age, Some(12..=18)) {
                return Err(AppError::invalid(
                    "une adresse de courriel propre n'est possible qu'entre 12 et 18 ans",
                ));
            }
            if !consent {
                return Err(AppError::invalid(
                    "l'adresse de courriel d'un mineur demande l'accord d'un responsable légal",
                ));
            }
        }
        Ok(CheckedChild {
            last_name: check_name(&self.last_name, "nom de l'enfant")?.to_uppercase(),
            first_name: check_name(&self.first_name, "prénom de l'enfant")?,
            sex: check_sex(self.sex.as_deref())?,
            birth_date,
            birth_place: optional_text(self.birth_place.as_deref()),
            email,
            own_email_consent: consent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn names_phones_and_addresses_are_normalised_or_refused_in_french() {
        assert_eq!(
            check_name("  Marie-Hélène  d'Arcy ", "prénom").unwrap(),
            "Marie-Hélène d'Arcy"
        );
        assert!(
            check_name("R2D2", "nom")
                .unwrap_err()
                .to_string()
                .contains("nom invalide")
        );
        assert_eq!(
            check_phone(Some("0612345678")).unwrap().unwrap(),
            "06 12 34 56 78"
        );
        assert_eq!(
            check_phone(Some("+33 6 12 34 56 78")).unwrap().unwrap(),
            "06 12 34 56 78"
        );
        assert!(check_phone(Some("12 34")).is_err());
        let address = AddressInput {
            line1: " 3 rue Lénine ".into(),
            line2: String::new(),
            postal_code: "69 960".into(),
            town: "Corbas".into(),
        };
        assert_eq!(address.checked().unwrap().town, "CORBAS");
        assert!(
            AddressInput {
                postal_code: "6996".into(),
                ..address
            }
            .checked()
            .is_err()
        );
    }

    #[test]
    fn ages_and_birth_dates_follow_the_calendar() {
        assert_eq!(age_on(day(2014, 3, 1), day(2026, 2, 28)), 11);
        assert_eq!(age_on(day(2014, 3, 1), day(2026, 3, 1)), 12);
        assert_eq!(age_on(day(2012, 2, 29), day(2026, 2, 28)), 13);
        let today = day(2026, 11, 29);
        assert!(check_birth_date(Some(day(2027, 1, 1)), today, true).is_err());
        assert!(check_birth_date(Some(day(1990, 1, 1)), today, true).is_err());
        assert!(check_birth_date(Some(day(1990, 1, 1)), today, false).is_ok());
    }

    #[test]
    fn a_minor_email_needs_age_and_consent() {
        let today = day(2026, 11, 29);
        let teen = ChildInput {
            last_name: "Martin".into(),
            first_name: "Léo".into(),
            birth_date: Some(day(2012, 5, 4)),
            email: Some("leo@exemple.fr".into()),
            ..ChildInput::default()
        };
        assert!(
            teen.checked(today)
                .unwrap_err()
                .to_string()
                .contains("accord")
        );
        let consented = ChildInput {
            own_email_consent: Some(true),
            ..teen.clone()
        };
        assert_eq!(
            consented.checked(today).unwrap().email.as_deref(),
            Some("leo@exemple.fr")
        );
        let young = ChildInput {
            birth_date: Some(day(2019, 1, 1)),
            ..consented
        };
        assert!(
            young
                .checked(today)
                .unwrap_err()
                .to_string()
                .contains("entre 12 et 18 ans")
        );
    }
}
