//! What the dossier says about a child on a day, in one query: the usual household, its
//! town, quotient familial and resources in force, the school and level of the school year,
//! who works, what the file holds (health sheet, authorisations, contacts, mandate, pieces).
//! Registration rules, the commission and pricing read the child's situation from here.

use chrono::{Datelike, NaiveDate};
use diesel::OptionalExtension;
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Date, Integer, Nullable, SmallInt, Text};
use diesel_async::RunQueryDsl;

use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// The school year a day belongs to, « 2026-2027 » from September 1st.
pub fn school_year(day: NaiveDate) -> String {
    let start = if day.month() >= 9 {
        day.year()
    } else {
        day.year() - 1
    };
    format!("{start}-{}", start + 1)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ChildSituation {
    #[diesel(sql_type = BigInt)]
    pub child_id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub birth_date: Option<NaiveDate>,
    /// The household of usual residence (else the first linked).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub household_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub situation: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub town: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub school_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub level: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub class_id: Option<i64>,
    /// That class is a ULIS class (unité localisée pour l'inclusion scolaire): the tariff
    /// option `ulis` (src/domain/tariffs/assignment.rs).
    #[diesel(sql_type = Bool)]
    pub class_ulis: bool,
    /// Euros per month.
    #[diesel(sql_type = Nullable<Integer>)]
    pub family_quotient: Option<i32>,
    /// Cents per month.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub monthly_resources: Option<i64>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub dependent_children: Option<i16>,
    #[diesel(sql_type = Bool)]
    pub aeeh: bool,
    #[diesel(sql_type = BigInt)]
    pub aeeh_children: i64,
    #[diesel(sql_type = BigInt)]
    pub adults: i64,
    #[diesel(sql_type = BigInt)]
    pub working_adults: i64,
    #[diesel(sql_type = Bool)]
    pub has_health_sheet: bool,
    #[diesel(sql_type = BigInt)]
    pub authorisations: i64,
    #[diesel(sql_type = BigInt)]
    pub emergency_contacts: i64,
    #[diesel(sql_type = Bool)]
    pub active_mandate: bool,
    /// Kinds of the pieces still valid on the day (the child's and the household's).
    #[diesel(sql_type = Array<Text>)]
    pub document_kinds: Vec<String>,
}

/// The situation of `child` on `day`; 404 if there is no such child.
pub async fn child_situation(
    conn: &mut Conn,
    child: i64,
    day: NaiveDate,
) -> AppResult<ChildSituation> {
    diesel::sql_query(
        "WITH home AS (
             SELECT l.household_id FROM child_links l
              WHERE l.child_id = $1 AND l.valid_from <= $2 AND (l.valid_to IS NULL OR l.valid_to >= $2)
              ORDER BY l.usual_residence DESC, l.id LIMIT 1),
         school AS (
             SELECT s.school_id, s.level, s.class_id FROM school_history s
              WHERE s.child_id = $1 AND s.school_year = $3 ORDER BY s.id DESC LIMIT 1),
         income AS (
             SELECT i.family_quotient, i.monthly_resources, i.dependent_children FROM incomes i
              WHERE i.household_id = (SELECT household_id FROM home)
                AND i.valid_from <= $2 AND (i.valid_to IS NULL OR i.valid_to >= $2)
              ORDER BY i.valid_from DESC, i.id DESC LIMIT 1),
         adults AS (
             SELECT p.professional_situation FROM household_members m JOIN persons p ON p.id = m.person_id
              WHERE m.household_id = (SELECT household_id FROM home)
                AND m.valid_from <= $2 AND (m.valid_to IS NULL OR m.valid_to >= $2))
         SELECT c.id AS child_id, c.first_name || ' ' || c.last_name AS name, c.birth_date,
                (SELECT household_id FROM home) AS household_id,
                (SELECT h.situation FROM households h WHERE h.id = (SELECT household_id FROM home)) AS situation,
                (SELECT a.town FROM addresses a
                  WHERE a.household_id = (SELECT household_id FROM home) AND a.kind = 'residence'
                    AND a.valid_from <= $2 AND (a.valid_to IS NULL OR a.valid_to >= $2)
                  ORDER BY a.valid_from DESC LIMIT 1) AS town,
                (SELECT school_id FROM school) AS school_id,
                (SELECT level FROM school) AS level,
                (SELECT class_id FROM school) AS class_id,
                EXISTS (SELECT 1 FROM school_classes k
                         WHERE k.id = (SELECT class_id FROM school) AND k.ulis) AS class_ulis,
                (SELECT family_quotient FROM income) AS family_quotient,
                (SELECT monthly_resources FROM income) AS monthly_resources,
                (SELECT dependent_children FROM income) AS dependent_children,
                EXISTS (SELECT 1 FROM disability_benefits d WHERE d.child_id = $1 AND d.kind = 'aeeh'
                         AND d.valid_from <= $2 AND (d.valid_to IS NULL OR d.valid_to >= $2)) AS aeeh,
                (SELECT count(DISTINCT d.child_id) FROM disability_benefits d
                   JOIN child_links l ON l.child_id = d.child_id AND l.valid_to IS NULL
                  WHERE l.household_id = (SELECT household_id FROM home) AND d.kind = 'aeeh'
                    AND d.valid_from <= $2 AND (d.valid_to IS NULL OR d.valid_to >= $2)) AS aeeh_children,
                (SELECT count(*) FROM adults) AS adults,
                (SELECT count(*) FROM adults
                  WHERE professional_situation IN ('employed', 'shifted_hours', 'self_employed', 'student'))
                    AS working_adults,
                EXISTS (SELECT 1 FROM health_sheets hs WHERE hs.child_id = $1
                         AND (hs.basic_enc IS NOT NULL OR hs.medical_enc IS NOT NULL)) AS has_health_sheet,
                (SELECT count(*) FROM authorisations au WHERE au.child_id = $1
                  AND au.valid_from <= $2 AND (au.valid_to IS NULL OR au.valid_to >= $2)) AS authorisations,
                (SELECT count(*) FROM child_contacts cc WHERE cc.child_id = $1 AND cc.emergency)
                    AS emergency_contacts,
                EXISTS (SELECT 1 FROM sepa_mandates sm JOIN bank_accounts b ON b.id = sm.bank_account_id
                         WHERE b.household_id = (SELECT household_id FROM home) AND sm.status = 'active')
                    AS active_mandate,
                ARRAY(SELECT DISTINCT d.kind FROM documents d
                       WHERE (d.person_id = $1 OR d.household_id = (SELECT household_id FROM home))
                         AND (d.valid_until IS NULL OR d.valid_until >= $2)) AS document_kinds
           FROM persons c WHERE c.id = $1 AND c.kind = 'child'",
    )
    .bind::<BigInt, _>(child)
    .bind::<Date, _>(day)
    .bind::<Text, _>(school_year(day))
    .get_result(conn)
    .await
    .optional()?
    .ok_or_else(|| AppError::not_found("Enfant introuvable."))
}

/// Folds a town name for comparison: upper case, no accents, hyphens and apostrophes as
/// spaces (« Saint-Priest » = « SAINT PRIEST »).
pub fn fold_town(name: &str) -> String {
    let folded: String = name
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'A',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'î' | 'ï' | 'Î' | 'Ï' => 'I',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'O',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'U',
            'ÿ' | 'Ÿ' => 'Y',
            'ç' | 'Ç' => 'C',
            '-' | '\'' | '’' => ' ',
            other => other.to_ascii_uppercase(),
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_years_switch_on_the_first_of_september() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(school_year(day("2026-08-31")), "2025-2026");
        assert_eq!(school_year(day("2026-09-01")), "2026-2027");
        assert_eq!(school_year(day("2027-01-15")), "2026-2027");
    }

    #[test]
    fn town_names_compare_without_accents_case_or_hyphens() {
        assert_eq!(fold_town("Saint-Priest"), "SAINT PRIEST");
        assert_eq!(fold_town("  Vénissieux "), "VENISSIEUX");
        assert_eq!(fold_town("L'Isle-d’Abeau"), "L ISLE D ABEAU");
    }
}
