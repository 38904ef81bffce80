//! Automatic tariff assignment at enrolment (TAR-02).
//!
//! Each activity may have assignment rules, a setting `pricing.assignment.<activity code>`
//! (versioned, audited, exported like the grids) holding the TOML the agent wrote: one
//! `[[rules]]` per tariff, in priority order, with the engine's criteria. When an enrolment
//! is admitted (one by one or by mass enrolment), [`assign_at_admission`] evaluates them with
//! the engine's [`assign_tariff`] on the child's situation on the first day and stores the
//! tariff code and its explanation on the enrolment; tariff rules of the grid may then
//! require that code (`when = { tariffs = [...] }`). An agent with the pricing right may
//! change it with a reason ([`change_tariff`]); the enrolments' audit trigger keeps both.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};

use super::grids::{self, Authorship, Document, Saved, is_activity_code};
use super::toml_fr;
use crate::domain::activity::facts::{ChildSituation, child_situation};
use crate::domain::activity::model::CitySettings;
use crate::domain::money::Cents;
use crate::domain::pricing::{
    AssignedTariff, AssignmentRule, EnrolledChild, FamilySituation, PricingError, assign_tariff,
    sibling_rank, validate_assignment_rules,
};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};
use crate::platform::settings::{SettingDef, SettingKind};

/// Key of an activity's rules: this prefix and the activity code.
pub const ASSIGNMENT_PREFIX: &str = "pricing.assignment.";

/// The rules in the settings catalogue (`domain::settings::DEFINITIONS`).
pub const ASSIGNMENT_SETTING: SettingDef = SettingDef {
    key: "pricing.assignment.*",
    label: "attribution automatique du tarif à l'inscription d'une activité (TOML)",
    kind: SettingKind::Document(check_rules),
};

/// The option a child has when a school of the city holds it this school year (the city's
/// rules may test it: the « triple tariff »).
pub const SCHOOLED_IN_CITY: &str = "schooled_in_city";

/// The option a child has when its class of the school year is a ULIS class (unité
/// localisée pour l'inclusion scolaire, ticked on the class in the back-office): with
/// `schooled_in_city` and a home outside the city, the « triple tariff » (TAR-01).
pub const ULIS: &str = "ulis";

/// What the editor proposes for an activity without rules.
pub const RULES_TEMPLATE: &str = "\
# Attribution automatique du tarif à l'inscription : à l'admission, la première règle en
# vigueur dont les conditions (when) conviennent donne le code de tarif de l'inscription ;
# les règles de la grille peuvent l'exiger : when = { tariffs = [\"exterieur\"] }.
# Conditions possibles : residences (city, outside_city, outside_intercommunality),
# with_options / without_options, sibling_rank_min / _max, dependent_children_min.
# Options de l'enfant, tirées de son dossier pour l'année scolaire :
#   schooled_in_city : scolarisé dans une école de la ville ;
#   ulis : sa classe est une classe ULIS (case « Classe ULIS » de la classe, Écoles).
# Le « triple tarif » (domicile hors commune + scolarisé dans la ville + classe ULIS) : une
# règle pour les domiciles outside_city et outside_intercommunality, avec
#   with_options = [\"schooled_in_city\", \"ulis\"]
# Une règle sans conditions attribue le tarif par défaut.

[[rules]]
tariff = \"exterieur\"
label = \"Tarif extérieur\"
valid_from = \"2025-09-01\"
when = { residences = [\"outside_city\", \"outside_intercommunality\"] }

[[rules]]
tariff = \"resident\"
label = \"Tarif résident\"
valid_from = \"2025-09-01\"
";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rules: Vec<AssignmentRule>,
}

pub fn assignment_key(code: &str) -> String {
    format!("{ASSIGNMENT_PREFIX}{code}")
}

/// Validation of a stored or imported rules text (empty: no automatic assignment).
pub fn check_rules(text: &str) -> Result<(), String> {
    parse_rules(text).map(|_| ())
}

/// A rules text read and validated, with French errors.
pub fn parse_rules(text: &str) -> Result<Vec<AssignmentRule>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let file: RulesFile = toml_fr::parse(text)?;
    for rule in &file.rules {
        if !is_activity_code(&rule.tariff) {
            return Err(format!(
                "tarif « {} » : le code s'écrit en minuscules, chiffres, « - » ou « _ » (40 \
                 caractères au plus)",
                rule.tariff
            ));
        }
        if rule.label.trim().is_empty() {
            return Err(format!("tarif « {} » : le libellé est vide", rule.tariff));
        }
    }
    validate_assignment_rules(&file.rules).map_err(|e| e.to_string())?;
    Ok(file.rules)
}

/// The current rules text of the activity `code`.
pub async fn rules_document(conn: &mut Conn, code: &str) -> AppResult<Option<Document>> {
    grids::latest(conn, &assignment_key(code)).await
}

/// The current rules of the activity `code` (empty: no automatic assignment).
pub async fn rules(conn: &mut Conn, code: &str) -> AppResult<Vec<AssignmentRule>> {
    match rules_document(conn, code).await? {
        Some(doc) => parse_rules(&doc.text).map_err(|e| {
            AppError::invalid(format!(
                "les règles d'attribution enregistrées de l'activité « {code} » sont invalides : {e}"
            ))
        }),
        None => Ok(Vec::new()),
    }
}

/// Validates and records the rules of the activity `code`; nothing is written otherwise.
pub async fn save_rules(
    conn: &mut Conn,
    code: &str,
    text: &str,
    by: Authorship<'_>,
) -> AppResult<Saved> {
    if !is_activity_code(code) {
        return Err(AppError::not_found("Activité introuvable."));
    }
    let text = grids::normalise(text);
    let rules = parse_rules(&text)
        .map_err(|e| AppError::invalid(format!("règles d'attribution refusées : {e}")))?;
    let valid_from = rules
        .iter()
        .map(|r| r.valid_from)
        .min()
        .unwrap_or_else(crate::platform::clock::today);
    grids::record_if_new(conn, &assignment_key(code), text, valid_from, by).await
}

/// Each rule in one French sentence, for the editor.
pub fn describe(rules: &[AssignmentRule]) -> Vec<String> {
    rules
        .iter()
        .map(|rule| {
            format!(
                "« {} » (code {}), {} : {}",
                rule.label,
                rule.tariff,
                super::aids::period_fr(rule.valid_from, rule.valid_to),
                rule.when.describe_fr()
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The child's situation

/// The options the city's rules test, derived from the child's dossier for the school year:
/// [`SCHOOLED_IN_CITY`] when a school of the city holds it, [`ULIS`] when its class is a
/// ULIS class. The one derivation of the admission and of the simulation.
pub fn child_options(child: &ChildSituation) -> BTreeSet<String> {
    let mut options = BTreeSet::new();
    if child.school_id.is_some() {
        options.insert(SCHOOLED_IN_CITY.to_string());
    }
    if child.class_ulis {
        options.insert(ULIS.to_string());
    }
    options
}

/// The engine's situation of a child on a day, from the dossier (`ChildSituation`): QF and
/// resources of the usual household, dependent children, AEEH children, residence from the
/// address, options from the school ([`child_options`]), the given sibling rank.
pub fn situation_of(
    child: &ChildSituation,
    settings: &CitySettings,
    sibling_rank: u8,
) -> FamilySituation {
    let options = child_options(child);
    FamilySituation {
        family_quotient: child
            .family_quotient
            .map(|qf| Cents::from_euros(i64::from(qf))),
        monthly_resources: child.monthly_resources.map(Cents),
        dependent_children: child
            .dependent_children
            .and_then(|n| u8::try_from(n).ok())
            .unwrap_or(1)
            .max(1),
        aeeh_children: u8::try_from(child.aeeh_children).unwrap_or(u8::MAX),
        residence: settings.residence(child.town.as_deref()),
        options,
        sibling_rank: sibling_rank.max(1),
    }
}

/// The child's rank among the household's children admitted to `activity` on `day` (the
/// child itself counted), in the city's sibling order.
pub async fn rank_in_activity(
    conn: &mut Conn,
    child: &ChildSituation,
    activity: i64,
    day: NaiveDate,
) -> AppResult<u8> {
    let (Some(household), Some(birth)) = (child.household_id, child.birth_date) else {
        return Ok(1);
    };
    #[derive(QueryableByName)]
    struct Sibling {
        #[diesel(sql_type = BigInt)]
        child_id: i64,
        #[diesel(sql_type = Date)]
        birth_date: NaiveDate,
    }
    let siblings: Vec<Sibling> = diesel::sql_query(
        "SELECT DISTINCT e.child_id, p.birth_date FROM enrolments e
           JOIN persons p ON p.id = e.child_id
           JOIN child_links l ON l.child_id = e.child_id AND l.household_id = $1
          WHERE e.activity_id = $2 AND e.status = 'admitted' AND e.child_id <> $3
            AND e.starts <= $4 AND (e.ends IS NULL OR e.ends >= $4)
            AND p.birth_date IS NOT NULL",
    )
    .bind::<BigInt, _>(household)
    .bind::<BigInt, _>(activity)
    .bind::<BigInt, _>(child.child_id)
    .bind::<Date, _>(day)
    .load(conn)
    .await?;
    let mut enrolled: Vec<EnrolledChild> = siblings
        .iter()
        .map(|s| EnrolledChild {
            child_id: s.child_id,
            birth_date: s.birth_date,
        })
        .collect();
    enrolled.push(EnrolledChild {
        child_id: child.child_id,
        birth_date: birth,
    });
    let order = grids::settings_on(conn, day).await?.sibling_order;
    Ok(sibling_rank(child.child_id, &enrolled, order).unwrap_or(1))
}

// ---------------------------------------------------------------------------------------
// The enrolment's tariff

/// The tariff stored on an enrolment.
#[derive(Debug, Clone, Serialize, QueryableByName)]
pub struct EnrolmentTariff {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub child_id: i64,
    #[diesel(sql_type = BigInt)]
    pub activity_id: i64,
    #[diesel(sql_type = Text)]
    pub activity_code: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Date)]
    pub starts: NaiveDate,
    #[diesel(sql_type = Nullable<Date>)]
    pub ends: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    pub tariff: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub tariff_explanation: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub tariff_source: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub tariff_set_by: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub tariff_set_at: Option<DateTime<Utc>>,
}

const TARIFF_SELECT: &str = "SELECT e.id, e.child_id, e.activity_id, a.code AS activity_code,
        e.status, e.starts, e.ends, e.tariff, e.tariff_explanation, e.tariff_source,
        e.tariff_set_by, e.tariff_set_at
   FROM enrolments e JOIN activities a ON a.id = e.activity_id";

pub async fn tariff_of(conn: &mut Conn, enrolment: i64) -> AppResult<EnrolmentTariff> {
    diesel::sql_query(format!("{TARIFF_SELECT} WHERE e.id = $1"))
        .bind::<BigInt, _>(enrolment)
        .get_result(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Inscription introuvable."))
}

/// The tariffs of `child`'s admitted enrolments in force during `from..=to`.
pub async fn admitted_tariffs(
    conn: &mut Conn,
    child: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<EnrolmentTariff>> {
    Ok(diesel::sql_query(format!(
        "{TARIFF_SELECT} WHERE e.child_id = $1 AND e.status = 'admitted'
            AND e.starts <= $3 AND (e.ends IS NULL OR e.ends >= $2) ORDER BY e.starts, e.id"
    ))
    .bind::<BigInt, _>(child)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
    .await?)
}

async fn store(
    conn: &mut Conn,
    enrolment: i64,
    tariff: Option<&str>,
    explanation: &str,
    source: &str,
    by: &str,
) -> AppResult<()> {
    diesel::sql_query(
        "UPDATE enrolments SET tariff = $2, tariff_explanation = $3, tariff_source = $4,
                tariff_set_by = $5, tariff_set_at = now()
          WHERE id = $1",
    )
    .bind::<BigInt, _>(enrolment)
    .bind::<Nullable<Text>, _>(tariff)
    .bind::<Text, _>(explanation)
    .bind::<Text, _>(source)
    .bind::<Text, _>(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// The tariff the activity's rules give the enrolment `id` on its first day (None: the
/// activity has no rules). No rule matching is not an error: it is stored as such, for an
/// agent to choose.
pub async fn assign_at_admission(
    conn: &mut Conn,
    settings: &CitySettings,
    id: i64,
    by: &str,
) -> AppResult<Option<AssignedTariff>> {
    let current = tariff_of(conn, id).await?;
    let rules = rules(conn, &current.activity_code).await?;
    assign_by_rules(conn, settings, &rules, &current, by).await
}

/// [`assign_at_admission`] with the activity's rules already read: a mass enrolment reads
/// them once for all its pupils.
pub async fn assign_by_rules(
    conn: &mut Conn,
    settings: &CitySettings,
    rules: &[AssignmentRule],
    current: &EnrolmentTariff,
    by: &str,
) -> AppResult<Option<AssignedTariff>> {
    // An agent's choice is not overridden by the rules.
    if current.tariff_source.as_deref() == Some("agent") || rules.is_empty() {
        return Ok(None);
    }
    let id = current.id;
    let child = child_situation(conn, current.child_id, current.starts).await?;
    let rank = rank_in_activity(conn, &child, current.activity_id, current.starts).await?;
    let situation = situation_of(&child, settings, rank);
    match assign_tariff(rules, &situation, current.starts) {
        Ok(assigned) => {
            store(
                conn,
                id,
                Some(&assigned.tariff),
                &assigned.explanation,
                "automatic",
                by,
            )
            .await?;
            Ok(Some(assigned))
        }
        Err(error @ PricingError::NoTariffAssignable { .. }) => {
            let explanation = format!("Aucun tarif attribué : {error} ; un agent doit le choisir.");
            store(conn, id, None, &explanation, "automatic", by).await?;
            Ok(None)
        }
        Err(other) => Err(AppError::invalid(other.to_string())),
    }
}

/// An agent's choice of tariff for enrolment `id`, with the reason (required). An empty code
/// removes the tariff.
pub async fn change_tariff(
    conn: &mut Conn,
    id: i64,
    tariff: &str,
    reason: &str,
    by: &str,
) -> AppResult<EnrolmentTariff> {
    let tariff = tariff.trim();
    let reason = reason.trim();
    if !tariff.is_empty() && !is_activity_code(tariff) {
        return Err(AppError::invalid(format!(
            "code de tarif « {tariff} » invalide : minuscules, chiffres, « - » ou « _ »"
        )));
    }
    if reason.chars().count() < 5 {
        return Err(AppError::invalid(
            "indiquez le motif du changement de tarif (5 caractères au moins)",
        ));
    }
    let current = tariff_of(conn, id).await?;
    if current.tariff.as_deref().unwrap_or("") == tariff {
        return Err(AppError::invalid(
            "c'est déjà le tarif de l'inscription : rien n'a changé",
        ));
    }
    let explanation = if tariff.is_empty() {
        format!("Tarif retiré par un agent : {reason}")
    } else {
        format!("Tarif « {tariff} » choisi par un agent : {reason}")
    };
    let tariff = Some(tariff).filter(|t| !t.is_empty());
    store(conn, id, tariff, &explanation, "agent", by).await?;
    tariff_of(conn, id).await
}

/// Assigns a tariff to every admitted enrolment of `activity_code` that has none yet (after
/// the rules were first written; the demo). Returns how many got one.
pub async fn assign_missing(
    conn: &mut Conn,
    settings: &CitySettings,
    activity_code: &str,
    by: &str,
) -> AppResult<usize> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let ids: Vec<Id> = diesel::sql_query(
        "SELECT e.id FROM enrolments e JOIN activities a ON a.id = e.activity_id
          WHERE a.code = $1 AND e.status = 'admitted' AND e.tariff_source IS NULL ORDER BY e.id",
    )
    .bind::<Text, _>(activity_code)
    .load(conn)
    .await?;
    let mut assigned = 0;
    for Id { id } in ids {
        if assign_at_admission(conn, settings, id, by).await?.is_some() {
            assigned += 1;
        }
    }
    Ok(assigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_valid_and_told_in_french() {
        let rules = parse_rules(RULES_TEMPLATE).unwrap();
        assert_eq!(rules.len(), 2);
        let told = describe(&rules);
        assert_eq!(
            told[0],
            "« Tarif extérieur » (code exterieur), à partir du 01/09/2025 : domicilié hors commune ou domicilié hors intercommunalité"
        );
        assert!(told[1].ends_with(": sans condition"), "{}", told[1]);
    }

    /// A child of a household living in `town`, in a class of a school of the city or not.
    fn child(town: &str, school: Option<i64>, class_ulis: bool) -> ChildSituation {
        ChildSituation {
            child_id: 7,
            name: "Théo LAMBERT".into(),
            birth_date: NaiveDate::from_ymd_opt(2018, 5, 14),
            household_id: Some(3),
            situation: None,
            town: Some(town.into()),
            school_id: school,
            level: school.map(|_| "CE2".into()),
            class_id: school.map(|_| 11),
            class_ulis,
            family_quotient: Some(742),
            monthly_resources: None,
            dependent_children: Some(2),
            aeeh: false,
            aeeh_children: 0,
            adults: 1,
            working_adults: 1,
            has_health_sheet: false,
            authorisations: 0,
            emergency_contacts: 0,
            active_mandate: false,
            document_kinds: Vec::new(),
        }
    }

    #[test]
    fn options_come_from_the_school_and_the_ulis_class() {
        let options = |c: &ChildSituation| child_options(c).into_iter().collect::<Vec<_>>();
        assert!(options(&child("Feyzin", None, false)).is_empty());
        assert_eq!(
            options(&child("Feyzin", Some(2), false)),
            [SCHOOLED_IN_CITY]
        );
        assert_eq!(
            options(&child("Feyzin", Some(2), true)),
            [SCHOOLED_IN_CITY, ULIS]
        );

        // The situation of the admission carries them: outside the city, schooled in a ULIS
        // class of the city, the triple tariff is assigned.
        let settings = CitySettings::from_values(&Default::default(), "Corbas").unwrap();
        let rules = parse_rules(
            r#"
            [[rules]]
            tariff = "exterieur-ulis"
            label = "Triple tarif : extérieur scolarisé en ULIS"
            valid_from = "2025-09-01"
            when = { residences = ["outside_city", "outside_intercommunality"], with_options = ["schooled_in_city", "ulis"] }

            [[rules]]
            tariff = "resident"
            label = "Résident"
            valid_from = "2025-09-01"
            "#,
        )
        .unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 1, 12).unwrap();
        let assigned = |c: &ChildSituation| {
            assign_tariff(&rules, &situation_of(c, &settings, 1), day)
                .unwrap()
                .tariff
        };
        assert_eq!(assigned(&child("Feyzin", Some(2), true)), "exterieur-ulis");
        assert_eq!(assigned(&child("Feyzin", Some(2), false)), "resident");
        assert_eq!(assigned(&child("Corbas", Some(2), true)), "resident");
    }

    #[test]
    fn the_template_tells_the_options() {
        assert!(RULES_TEMPLATE.contains("ulis : sa classe est une classe ULIS"));
        assert!(RULES_TEMPLATE.contains(SCHOOLED_IN_CITY));
    }

    #[test]
    fn rules_are_refused_in_french() {
        let bad =
            |from: &str, to: &str| parse_rules(&RULES_TEMPLATE.replacen(from, to, 1)).unwrap_err();
        assert!(bad("tariff = \"exterieur\"", "tariff = \"Extérieur\"").contains("minuscules"));
        assert!(bad("label = \"Tarif extérieur\"", "label = \" \"").contains("libellé"));
        assert!(
            bad(
                "when = { residences",
                "when = { units = [\"repas\"], residences"
            )
            .contains("à l'inscription"),
            "units cannot be evaluated at enrolment"
        );
        assert!(bad("residences = [", "residence = [").contains("inconnu"));
        assert_eq!(parse_rules(""), Ok(Vec::new()));
    }
}
