//! Aids (TAR-05) as data: the city's catalogue of aids and the aids granted to households.
//!
//! - `pricing.aids`: the catalogue, a setting (versioned, audited, exported with the others)
//!   holding the TOML the agent wrote: one `[[aids]]` per aid with its funder (city, CCAS,
//!   département, CAF, employer), its amount (percentage, per unit or per line), its caps per
//!   day and per period, its activities and its validity. Each entry is the engine's
//!   [`Aid`] without children: who receives it is decided per household.
//! - `aid_grants` (tenant table, audited by its trigger): an aid of the catalogue granted to a
//!   household, for some of its children or all, from a day to a day.
//!
//! [`engine_aids`] turns a household's grants into the engine's aids (the catalogue entry,
//! its children, the intersection of both validities), in catalogue order: the catalogue's
//! order is the order the aids are deducted in (list the CAF before the city).

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};

use super::grids::{self, Authorship, Document, Saved, is_activity_code};
use super::toml_fr;
use crate::domain::pricing::{
    Aid, AidAmount, AidPeriod, CapScope, EffectiveDated, Funder, LineKind, validate_aids,
};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};
use crate::platform::settings::{SettingDef, SettingKind};

/// Key of the catalogue.
pub const AIDS_KEY: &str = "pricing.aids";

/// The catalogue in the settings catalogue (`domain::settings::DEFINITIONS`).
pub const AIDS_SETTING: SettingDef = SettingDef {
    key: AIDS_KEY,
    label: "catalogue des aides aux familles (TOML)",
    kind: SettingKind::Document(check_catalogue),
};

diesel::table! {
    aid_grants (id) {
        id -> BigInt,
        household_id -> BigInt,
        aid_id -> Text,
        children -> Array<BigInt>,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        reason -> Text,
        granted_by -> Text,
        granted_at -> Timestamptz,
        ended_by -> Nullable<Text>,
        ended_at -> Nullable<Timestamptz>,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    aids: Vec<Aid>,
}

/// Validation of a stored or imported catalogue text (empty: no aid).
pub fn check_catalogue(text: &str) -> Result<(), String> {
    parse_catalogue(text).map(|_| ())
}

/// A catalogue text read and validated, with French errors.
pub fn parse_catalogue(text: &str) -> Result<Vec<Aid>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let file: CatalogueFile = toml_fr::parse(text)?;
    for aid in &file.aids {
        if !is_activity_code(&aid.id) {
            return Err(format!(
                "aide « {} » : l'identifiant s'écrit en minuscules, chiffres, « - » ou « _ » \
                 (40 caractères au plus)",
                aid.id
            ));
        }
        if aid.label.trim().is_empty() {
            return Err(format!("aide « {} » : le libellé est vide", aid.id));
        }
        if !aid.children.is_empty() {
            return Err(format!(
                "aide « {} » : les enfants bénéficiaires se choisissent quand l'aide est \
                 attribuée à une famille, pas dans le catalogue (retirez « children »)",
                aid.id
            ));
        }
        if let Some(code) = aid.activities.iter().find(|a| !is_activity_code(a)) {
            return Err(format!(
                "aide « {} » : « {code} » n'est pas un code d'activité",
                aid.id
            ));
        }
    }
    validate_aids(&file.aids).map_err(|e| e.to_string())?;
    Ok(file.aids)
}

/// The current catalogue text (None: never written, or emptied).
pub async fn catalogue_document(conn: &mut Conn) -> AppResult<Option<Document>> {
    grids::latest(conn, AIDS_KEY).await
}

/// The current catalogue, parsed.
pub async fn catalogue(conn: &mut Conn) -> AppResult<Vec<Aid>> {
    match catalogue_document(conn).await? {
        Some(doc) => parse_catalogue(&doc.text).map_err(|e| {
            AppError::invalid(format!(
                "le catalogue des aides enregistré est invalide : {e}"
            ))
        }),
        None => Ok(Vec::new()),
    }
}

/// Validates and records a new catalogue. An aid already granted to a family cannot leave
/// the catalogue (its grants would lose their definition): close it with `valid_to`.
pub async fn save_catalogue(conn: &mut Conn, text: &str, by: Authorship<'_>) -> AppResult<Saved> {
    let text = grids::normalise(text);
    let aids =
        parse_catalogue(&text).map_err(|e| AppError::invalid(format!("catalogue refusé : {e}")))?;
    let granted: Vec<String> = aid_grants::table
        .select(aid_grants::aid_id)
        .distinct()
        .load(conn)
        .await?;
    if let Some(missing) = granted
        .iter()
        .find(|id| !aids.iter().any(|a| *a.id == ***id))
    {
        return Err(AppError::invalid(format!(
            "catalogue refusé : l'aide « {missing} » a été attribuée à des familles, elle ne \
             peut pas être retirée du catalogue (fermez-la avec valid_to)"
        )));
    }
    let valid_from = aids
        .iter()
        .map(|a| a.valid_from)
        .min()
        .unwrap_or_else(crate::platform::clock::today);
    grids::record_if_new(conn, AIDS_KEY, text, valid_from, by).await
}

// ---------------------------------------------------------------------------------------
// Plain French

/// « du 01/09/2025 au 31/08/2026 », « à partir du 01/09/2025 ».
pub fn period_fr(from: NaiveDate, to: Option<NaiveDate>) -> String {
    match to {
        Some(to) => format!(
            "du {} au {}",
            from.format("%d/%m/%Y"),
            to.format("%d/%m/%Y")
        ),
        None => format!("à partir du {}", from.format("%d/%m/%Y")),
    }
}

/// What an aid gives, in one French sentence: « 50 % du prix, au plus 2,00 € par jour et
/// 30,00 € par mois, par enfant ; activités : cantine ».
pub fn describe(aid: &Aid) -> String {
    let mut text = match aid.amount {
        AidAmount::Percent(percent) => format!("{percent} du prix"),
        AidAmount::PerUnit(amount) => format!("{amount} par unité (repas, heure…)"),
        AidAmount::PerLine(amount) => format!("{amount} par prestation"),
    };
    let mut caps = Vec::new();
    if let Some(cap) = aid.cap_per_day {
        caps.push(format!("{cap} par jour"));
    }
    if let Some(cap) = aid.cap_per_period {
        caps.push(match aid.period {
            AidPeriod::Month => format!("{cap} par mois"),
            AidPeriod::Validity => format!("{cap} sur la période d'attribution"),
        });
    }
    if !caps.is_empty() {
        let scope = match aid.cap_scope {
            CapScope::Child => "par enfant",
            CapScope::Family => "pour toute la famille",
        };
        text.push_str(&format!(", au plus {} ({scope})", caps.join(" et ")));
    }
    if aid.line_kinds != [LineKind::Base] {
        let kinds: Vec<&str> = aid
            .line_kinds
            .iter()
            .map(|k| match k {
                LineKind::Base => "prix",
                LineKind::Surcharge => "majorations",
                LineKind::Overtime => "dépassements",
                LineKind::Aid => "aides",
            })
            .collect();
        text.push_str(&format!(" ; s'applique à : {}", kinds.join(", ")));
    }
    if aid.activities.is_empty() {
        text.push_str(" ; toutes les activités");
    } else {
        text.push_str(&format!(" ; activités : {}", aid.activities.join(", ")));
    }
    text
}

/// A catalogue entry as the pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct AidView {
    pub id: String,
    pub label: String,
    pub funder: Funder,
    pub funder_label: &'static str,
    pub description: String,
    pub period: String,
    pub in_force: bool,
}

pub fn view(aid: &Aid, today: NaiveDate) -> AidView {
    AidView {
        id: aid.id.to_string(),
        label: aid.label.to_string(),
        funder: aid.funder,
        funder_label: aid.funder.label_fr(),
        description: describe(aid),
        period: period_fr(aid.valid_from, aid.valid_to),
        in_force: aid.in_force_on(today) || aid.valid_from > today,
    }
}

// ---------------------------------------------------------------------------------------
// Grants

/// An aid granted to a household, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = aid_grants)]
pub struct Grant {
    pub id: i64,
    pub household_id: i64,
    pub aid_id: String,
    pub children: Vec<i64>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub reason: String,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
    pub ended_by: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl Grant {
    fn overlaps(&self, from: NaiveDate, to: Option<NaiveDate>) -> bool {
        self.valid_to.is_none_or(|end| from <= end) && to.is_none_or(|end| self.valid_from <= end)
    }
}

/// What an agent grants.
#[derive(Debug, Clone, Default)]
pub struct GrantInput {
    pub aid_id: String,
    /// Empty: every child of the household.
    pub children: Vec<i64>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub reason: String,
}

/// The grants of `household`, the latest first.
pub async fn grants_of(conn: &mut Conn, household: i64) -> AppResult<Vec<Grant>> {
    Ok(aid_grants::table
        .filter(aid_grants::household_id.eq(household))
        .order((aid_grants::valid_from.desc(), aid_grants::id.desc()))
        .select(Grant::as_select())
        .load(conn)
        .await?)
}

/// Children linked to `household` (now or in the past), with their names.
async fn children_of(conn: &mut Conn, household: i64) -> AppResult<Vec<(i64, String)>> {
    #[derive(QueryableByName)]
    struct Child {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        name: String,
    }
    let rows: Vec<Child> = diesel::sql_query(
        "SELECT DISTINCT p.id, p.first_name || ' ' || p.last_name AS name
           FROM child_links l JOIN persons p ON p.id = l.child_id
          WHERE l.household_id = $1 ORDER BY p.id",
    )
    .bind::<BigInt, _>(household)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|c| (c.id, c.name)).collect())
}

async fn require_household(conn: &mut Conn, household: i64) -> AppResult<()> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)]
        id: i64,
    }
    diesel::sql_query("SELECT id FROM households WHERE id = $1")
        .bind::<BigInt, _>(household)
        .get_result::<Found>(conn)
        .await
        .optional()?
        .map(|_| ())
        .ok_or_else(|| AppError::not_found("Famille introuvable."))
}

/// Grants an aid of the catalogue to `household`. Refused in French: an aid the catalogue
/// does not hold, a period outside the aid's validity or overlapping another grant of the
/// same aid, a child who is not the household's.
pub async fn grant(
    conn: &mut Conn,
    household: i64,
    input: &GrantInput,
    by: &str,
) -> AppResult<i64> {
    require_household(conn, household).await?;
    let catalogue = catalogue(conn).await?;
    let aid = catalogue
        .iter()
        .find(|a| *a.id == *input.aid_id.trim())
        .ok_or_else(|| {
            AppError::invalid(format!(
                "aide « {} » inconnue du catalogue des aides de la ville",
                input.aid_id.trim()
            ))
        })?;
    if let Some(to) = input.valid_to.filter(|to| *to < input.valid_from) {
        return Err(AppError::invalid(format!(
            "la fin de l'attribution ({}) précède son début ({})",
            to.format("%d/%m/%Y"),
            input.valid_from.format("%d/%m/%Y")
        )));
    }
    let starts_after_aid = aid.valid_to.is_some_and(|end| input.valid_from > end);
    let ends_before_aid = input.valid_to.is_some_and(|end| end < aid.valid_from);
    if starts_after_aid || ends_before_aid {
        return Err(AppError::invalid(format!(
            "l'aide « {} » n'est en vigueur que {} : la période d'attribution doit la rencontrer",
            aid.label,
            period_fr(aid.valid_from, aid.valid_to)
        )));
    }
    let children = children_of(conn, household).await?;
    let chosen: BTreeSet<i64> = input.children.iter().copied().collect();
    if let Some(stranger) = chosen
        .iter()
        .find(|id| !children.iter().any(|(c, _)| c == *id))
    {
        return Err(AppError::invalid(format!(
            "l'enfant n° {stranger} n'est pas un enfant de cette famille"
        )));
    }
    let existing = grants_of(conn, household).await?;
    if let Some(other) = existing
        .iter()
        .find(|g| g.aid_id == *aid.id && g.overlaps(input.valid_from, input.valid_to))
    {
        return Err(AppError::conflict(format!(
            "la famille reçoit déjà l'aide « {} » {} : terminez cette attribution ou choisissez \
             une autre période",
            aid.label,
            period_fr(other.valid_from, other.valid_to)
        )));
    }
    let id = diesel::insert_into(aid_grants::table)
        .values((
            aid_grants::household_id.eq(household),
            aid_grants::aid_id.eq(&*aid.id),
            aid_grants::children.eq(chosen.into_iter().collect::<Vec<_>>()),
            aid_grants::valid_from.eq(input.valid_from),
            aid_grants::valid_to.eq(input.valid_to),
            aid_grants::reason.eq(input.reason.trim()),
            aid_grants::granted_by.eq(by),
        ))
        .returning(aid_grants::id)
        .get_result(conn)
        .await?;
    Ok(id)
}

/// Ends grant `id` of `household` after `last_day` (inclusive).
pub async fn end_grant(
    conn: &mut Conn,
    household: i64,
    id: i64,
    last_day: NaiveDate,
    by: &str,
) -> AppResult<()> {
    let grant: Grant = aid_grants::table
        .filter(aid_grants::id.eq(id))
        .filter(aid_grants::household_id.eq(household))
        .select(Grant::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Aide attribuée introuvable pour cette famille."))?;
    if last_day < grant.valid_from {
        return Err(AppError::invalid(format!(
            "la fin ({}) ne peut pas précéder le début de l'attribution ({})",
            last_day.format("%d/%m/%Y"),
            grant.valid_from.format("%d/%m/%Y")
        )));
    }
    if let Some(end) = grant.valid_to.filter(|end| *end <= last_day) {
        return Err(AppError::invalid(format!(
            "cette attribution se termine déjà le {}",
            end.format("%d/%m/%Y")
        )));
    }
    diesel::update(aid_grants::table.find(id))
        .set((
            aid_grants::valid_to.eq(last_day),
            aid_grants::ended_by.eq(by),
            aid_grants::ended_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The engine's aids for `grants` over the days `from..=to`: each grant in force then, as
/// its catalogue entry restricted to the grant's children and to both validities; in
/// catalogue order (the deduction order), then by start. Grants of an aid the catalogue no
/// longer holds are left out (the catalogue refuses to drop a granted aid).
pub fn engine_aids(
    catalogue: &[Aid],
    grants: &[Grant],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Aid> {
    let mut aids = Vec::new();
    for entry in catalogue {
        let mut mine: Vec<&Grant> = grants
            .iter()
            .filter(|g| g.aid_id == *entry.id && g.overlaps(from, Some(to)))
            .collect();
        mine.sort_by_key(|g| g.valid_from);
        for grant in mine {
            let valid_from = grant.valid_from.max(entry.valid_from);
            let valid_to = match (grant.valid_to, entry.valid_to) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if valid_to.is_some_and(|end| end < valid_from) {
                continue;
            }
            aids.push(Aid {
                children: grant.children.clone(),
                valid_from,
                valid_to,
                ..entry.clone()
            });
        }
    }
    aids
}

/// The aids `household` receives over `from..=to`, as the engine takes them.
pub async fn household_aids(
    conn: &mut Conn,
    household: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<Aid>> {
    let grants = grants_of(conn, household).await?;
    if grants.is_empty() {
        return Ok(Vec::new());
    }
    Ok(engine_aids(&catalogue(conn).await?, &grants, from, to))
}

/// Catalogue aids named by `ids` (a hypothetical situation's aids), for every child.
pub async fn catalogue_aids(conn: &mut Conn, ids: &[String]) -> AppResult<Vec<Aid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let catalogue = catalogue(conn).await?;
    if let Some(unknown) = ids
        .iter()
        .find(|id| !catalogue.iter().any(|a| *a.id == ***id))
    {
        return Err(AppError::invalid(format!(
            "aide « {unknown} » inconnue du catalogue des aides de la ville"
        )));
    }
    Ok(catalogue
        .into_iter()
        .filter(|a| ids.iter().any(|id| **id == *a.id))
        .collect())
}

/// A grant as the household page and the RGPD export show it.
#[derive(Debug, Clone, Serialize)]
pub struct GrantView {
    pub id: i64,
    pub aid_id: String,
    pub label: String,
    pub funder_label: &'static str,
    pub description: String,
    /// « Tous les enfants », or their names.
    pub children: String,
    pub child_ids: Vec<i64>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub period: String,
    pub reason: String,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
    pub ended_by: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    /// In force today or later: it may still be ended.
    pub current: bool,
}

/// An aid an agent may grant (the catalogue's entries not closed before today).
#[derive(Debug, Clone, Serialize)]
pub struct AidChoice {
    pub id: String,
    pub label: String,
    pub funder_label: &'static str,
    pub description: String,
}

/// The aids section of a household page.
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdAids {
    pub grants: Vec<GrantView>,
    pub choices: Vec<AidChoice>,
    pub children: Vec<ChildChoice>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChildChoice {
    pub id: i64,
    pub name: String,
}

/// The household's grants told in French, and what may be granted.
pub async fn of_household(
    conn: &mut Conn,
    household: i64,
    today: NaiveDate,
) -> AppResult<HouseholdAids> {
    let grants = grants_of(conn, household).await?;
    let catalogue = catalogue(conn).await?;
    let children = children_of(conn, household).await?;
    let views = grants
        .iter()
        .map(|grant| {
            let entry = catalogue.iter().find(|a| *a.id == *grant.aid_id);
            let names: Vec<&str> = grant
                .children
                .iter()
                .map(|id| {
                    children
                        .iter()
                        .find(|(c, _)| c == id)
                        .map_or("enfant inconnu", |(_, n)| n.as_str())
                })
                .collect();
            GrantView {
                id: grant.id,
                aid_id: grant.aid_id.clone(),
                label: entry.map_or_else(|| grant.aid_id.clone(), |a| a.label.to_string()),
                funder_label: entry.map_or("Aide", |a| a.funder.label_fr()),
                description: entry
                    .map_or_else(|| "aide retirée du catalogue".to_string(), describe),
                children: if names.is_empty() {
                    "tous les enfants".to_string()
                } else {
                    names.join(", ")
                },
                child_ids: grant.children.clone(),
                valid_from: grant.valid_from,
                valid_to: grant.valid_to,
                period: period_fr(grant.valid_from, grant.valid_to),
                reason: grant.reason.clone(),
                granted_by: grant.granted_by.clone(),
                granted_at: grant.granted_at,
                ended_by: grant.ended_by.clone(),
                ended_at: grant.ended_at,
                current: grant.valid_to.is_none_or(|end| end >= today),
            }
        })
        .collect();
    Ok(HouseholdAids {
        grants: views,
        choices: catalogue
            .iter()
            .filter(|a| a.valid_to.is_none_or(|end| end >= today))
            .map(|a| AidChoice {
                id: a.id.to_string(),
                label: a.label.to_string(),
                funder_label: a.funder.label_fr(),
                description: describe(a),
            })
            .collect(),
        children: children
            .into_iter()
            .map(|(id, name)| ChildChoice { id, name })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOGUE: &str = r#"
[[aids]]
id = "caf-loisirs"
label = "Aide aux temps libres"
funder = "caf"
valid_from = "2025-09-01"
valid_to = "2026-08-31"
activities = ["mercredi"]
amount = { per_line = "3.00" }

[[aids]]
id = "ccas-cantine"
label = "Coup de pouce cantine"
funder = "ccas"
valid_from = "2025-01-01"
activities = ["cantine"]
amount = { percent = "50" }
cap_per_day = "2.00"
cap_per_period = "30.00"
"#;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn grant(aid: &str, from: &str, to: Option<&str>, children: &[i64]) -> Grant {
        Grant {
            id: 1,
            household_id: 1,
            aid_id: aid.into(),
            children: children.to_vec(),
            valid_from: day(from),
            valid_to: to.map(day),
            reason: String::new(),
            granted_by: "test".into(),
            granted_at: Utc::now(),
            ended_by: None,
            ended_at: None,
        }
    }

    #[test]
    fn the_catalogue_is_checked_in_french() {
        let aids = parse_catalogue(CATALOGUE).unwrap();
        assert_eq!(aids.len(), 2);
        assert_eq!(parse_catalogue("  \n"), Ok(Vec::new()));
        let bad = |from: &str, to: &str| parse_catalogue(&CATALOGUE.replace(from, to)).unwrap_err();
        assert!(bad("\"50\"", "\"150\"").contains("au plus 100"), "percent");
        assert!(bad("id = \"ccas-cantine\"", "id = \"CCAS\"").contains("minuscules"));
        assert!(bad("funder = \"ccas\"", "funder = \"mairie\"").contains("ligne"));
        assert!(
            bad("activities = [\"cantine\"]", "children = [1]")
                .contains("quand l'aide est attribuée"),
            "children are granted, not catalogued"
        );
        assert!(bad("cap_per_day", "plafond_jour").contains("inconnu"));
        assert!(bad("caf-loisirs", "ccas-cantine").contains("deux fois"));
    }

    #[test]
    fn grants_become_engine_aids_in_catalogue_order_within_both_validities() {
        let catalogue = parse_catalogue(CATALOGUE).unwrap();
        let grants = [
            grant("ccas-cantine", "2025-10-01", None, &[7]),
            grant("caf-loisirs", "2026-01-01", Some("2026-12-31"), &[]),
            grant("retiree", "2026-01-01", None, &[]),
        ];
        let aids = engine_aids(&catalogue, &grants, day("2026-05-01"), day("2026-05-31"));
        let ids: Vec<&str> = aids.iter().map(|a| &*a.id).collect();
        assert_eq!(ids, ["caf-loisirs", "ccas-cantine"]);
        assert_eq!(
            aids[0].valid_to,
            Some(day("2026-08-31")),
            "the catalogue's end"
        );
        assert_eq!(aids[0].valid_from, day("2026-01-01"), "the grant's start");
        assert_eq!(aids[1].children, [7]);
        // A month before the CAF grant starts: only the CCAS aid.
        let aids = engine_aids(&catalogue, &grants, day("2025-11-01"), day("2025-11-30"));
        assert_eq!(aids.len(), 1);
    }

    #[test]
    fn aids_are_told_in_french() {
        let catalogue = parse_catalogue(CATALOGUE).unwrap();
        assert_eq!(
            describe(&catalogue[1]),
            "50\u{a0}% du prix, au plus 2,00\u{a0}€ par jour et 30,00\u{a0}€ par mois (par enfant) ; activités : cantine"
        );
        assert_eq!(
            describe(&catalogue[0]),
            "3,00\u{a0}€ par prestation ; activités : mercredi"
        );
    }
}
