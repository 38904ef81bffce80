//! Writing the family dossier: households, persons and the links between them, addresses,
//! incomes, custody, archiving. Everything validated first; one transaction per action.

use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{
    AddressInput, AdultInput, CheckedAdult, CheckedChild, ChildInput, HouseholdPatch, NewFamily,
    PersonPatch, check_email, check_name, check_phone, check_regime, check_situation,
};
use super::schema::*;
use super::search::{Homonym, homonyms};
use crate::domain::calendar::{CustodyPattern, validate_patterns};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// What a creation produced.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedFamily {
    pub id: i64,
    pub number: i32,
    pub adults: Vec<i64>,
    pub children: Vec<i64>,
}

/// A creation refused because of possible duplicates, for the agent to look at.
#[derive(Debug, Clone, Serialize)]
pub enum Creation {
    Created(CreatedFamily),
    Homonyms(Vec<Homonym>),
}

/// Creates a household with its head, partner and children (all validated first). Unless
/// `ignore_homonyms`, persons that look like existing ones stop the creation and are
/// returned so that the agent can open the existing record instead (FAM-03).
pub async fn create_family(
    conn: &mut Conn,
    input: &NewFamily,
    today: NaiveDate,
) -> AppResult<Creation> {
    let situation = check_situation(input.situation.as_deref())?.unwrap_or_else(|| "couple".into());
    let regime = check_regime(input.regime.as_deref())?.unwrap_or_else(|| "caf".into());
    let head = input.head.checked(today)?;
    let partner = input
        .partner
        .as_ref()
        .map(|p| p.checked(today))
        .transpose()?;
    let children = input
        .children
        .iter()
        .map(|c| c.checked(today))
        .collect::<AppResult<Vec<_>>>()?;
    let address = input.address.checked()?;
    let billing = input
        .billing_address
        .as_ref()
        .filter(|b| !b.line1.trim().is_empty())
        .map(AddressInput::checked)
        .transpose()?;
    if !input.ignore_homonyms {
        let mut found = Vec::new();
        for (last, first, birth) in
            std::iter::once((&head.last_name, &head.first_name, head.birth_date))
                .chain(
                    partner
                        .iter()
                        .map(|p| (&p.last_name, &p.first_name, p.birth_date)),
                )
                .chain(
                    children
                        .iter()
                        .map(|c| (&c.last_name, &c.first_name, c.birth_date)),
                )
        {
            found.extend(homonyms(conn, last, first, birth).await?);
        }
        if !found.is_empty() {
            return Ok(Creation::Homonyms(found));
        }
    }
    let name = match &partner {
        Some(p) if p.last_name != head.last_name => format!("{} – {}", head.last_name, p.last_name),
        _ => head.last_name.clone(),
    };
    let (id, number): (i64, i32) = diesel::insert_into(households::table)
        .values((
            households::name.eq(&name),
            households::situation.eq(&situation),
            households::regime.eq(&regime),
            households::allocataire.eq(input
                .allocataire
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())),
        ))
        .returning((households::id, households::number))
        .get_result(conn)
        .await?;
    let mut adults = vec![insert_adult(conn, &head).await?];
    add_member(conn, id, adults[0], "head", today).await?;
    if let Some(partner) = &partner {
        let partner_id = insert_adult(conn, partner).await?;
        add_member(conn, id, partner_id, "partner", today).await?;
        adults.push(partner_id);
    }
    let mut child_ids = Vec::new();
    for child in &children {
        let child_id = insert_child(conn, child).await?;
        link_child(conn, child_id, id, true, today).await?;
        for (adult, input) in adults
            .iter()
            .zip(std::iter::once(&head).chain(partner.iter()))
        {
            add_guardian(conn, child_id, *adult, relationship_of(input), today).await?;
        }
        child_ids.push(child_id);
    }
    insert_address(conn, id, "residence", &address, today).await?;
    if let Some(billing) = &billing {
        insert_address(conn, id, "billing", billing, today).await?;
    }
    Ok(Creation::Created(CreatedFamily {
        id,
        number,
        adults,
        children: child_ids,
    }))
}

fn relationship_of(adult: &CheckedAdult) -> &'static str {
    match adult.sex.as_deref() {
        Some("F") => "mother",
        Some("M") => "father",
        _ => "guardian",
    }
}

async fn insert_adult(conn: &mut Conn, a: &CheckedAdult) -> AppResult<i64> {
    Ok(diesel::insert_into(persons::table)
        .values((
            persons::kind.eq("adult"),
            persons::last_name.eq(&a.last_name),
            persons::first_name.eq(&a.first_name),
            persons::birth_name.eq(&a.birth_name),
            persons::sex.eq(&a.sex),
            persons::birth_date.eq(a.birth_date),
            persons::birth_place.eq(&a.birth_place),
            persons::email.eq(&a.email),
            persons::email_pro.eq(&a.email_pro),
            persons::phone_mobile.eq(&a.phone_mobile),
            persons::phone_home.eq(&a.phone_home),
            persons::phone_work.eq(&a.phone_work),
            persons::professional_situation.eq(&a.professional_situation),
            persons::employer.eq(&a.employer),
            persons::contact_by_mail.eq(a.contact_by_mail),
            persons::contact_by_sms.eq(a.contact_by_sms),
            persons::contact_by_paper.eq(a.contact_by_paper),
        ))
        .returning(persons::id)
        .get_result(conn)
        .await?)
}

async fn insert_child(conn: &mut Conn, c: &CheckedChild) -> AppResult<i64> {
    Ok(diesel::insert_into(persons::table)
        .values((
            persons::kind.eq("child"),
            persons::last_name.eq(&c.last_name),
            persons::first_name.eq(&c.first_name),
            persons::sex.eq(&c.sex),
            persons::birth_date.eq(c.birth_date),
            persons::birth_place.eq(&c.birth_place),
            persons::email.eq(&c.email),
            persons::own_email_consent.eq(c.own_email_consent),
        ))
        .returning(persons::id)
        .get_result(conn)
        .await?)
}

async fn add_member(
    conn: &mut Conn,
    household: i64,
    person: i64,
    role: &str,
    from: NaiveDate,
) -> AppResult<()> {
    diesel::insert_into(household_members::table)
        .values((
            household_members::household_id.eq(household),
            household_members::person_id.eq(person),
            household_members::role.eq(role),
            household_members::valid_from.eq(from),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes the head of `household` a legal guardian of `child` (a separated parent's own
/// household, say).
pub async fn head_becomes_guardian(
    conn: &mut Conn,
    child: i64,
    household: i64,
    today: NaiveDate,
) -> AppResult<()> {
    let head: Option<(i64, Option<String>)> = household_members::table
        .inner_join(persons::table)
        .filter(household_members::household_id.eq(household))
        .filter(household_members::role.eq("head"))
        .filter(household_members::valid_to.is_null())
        .select((persons::id, persons::sex))
        .first(conn)
        .await
        .optional()?;
    let Some((adult, sex)) = head else {
        return Ok(());
    };
    let already: i64 = guardianships::table
        .filter(guardianships::child_id.eq(child))
        .filter(guardianships::adult_id.eq(adult))
        .filter(guardianships::valid_to.is_null())
        .count()
        .get_result(conn)
        .await?;
    if already == 0 {
        let relationship = match sex.as_deref() {
            Some("F") => "mother",
            Some("M") => "father",
            _ => "guardian",
        };
        add_guardian(conn, child, adult, relationship, today).await?;
    }
    Ok(())
}

async fn add_guardian(
    conn: &mut Conn,
    child: i64,
    adult: i64,
    relationship: &str,
    from: NaiveDate,
) -> AppResult<()> {
    diesel::insert_into(guardianships::table)
        .values((
            guardianships::child_id.eq(child),
            guardianships::adult_id.eq(adult),
            guardianships::relationship.eq(relationship),
            guardianships::valid_from.eq(from),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Links a child to a household (a second one for shared custody).
pub async fn link_child(
    conn: &mut Conn,
    child: i64,
    household: i64,
    usual_residence: bool,
    from: NaiveDate,
) -> AppResult<()> {
    let already: i64 = child_links::table
        .filter(child_links::child_id.eq(child))
        .filter(child_links::household_id.eq(household))
        .filter(child_links::valid_to.is_null())
        .count()
        .get_result(conn)
        .await?;
    if already > 0 {
        return Err(AppError::conflict("l'enfant est déjà rattaché à ce foyer"));
    }
    let current: i64 = child_links::table
        .filter(child_links::child_id.eq(child))
        .filter(child_links::valid_to.is_null())
        .count()
        .get_result(conn)
        .await?;
    if current >= 2 {
        return Err(AppError::invalid(
            "un enfant est rattaché à deux foyers au plus",
        ));
    }
    diesel::insert_into(child_links::table)
        .values((
            child_links::child_id.eq(child),
            child_links::household_id.eq(household),
            child_links::usual_residence.eq(usual_residence),
            child_links::valid_from.eq(from),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

async fn insert_address(
    conn: &mut Conn,
    household: i64,
    kind: &str,
    a: &AddressInput,
    from: NaiveDate,
) -> AppResult<()> {
    diesel::insert_into(addresses::table)
        .values((
            addresses::household_id.eq(household),
            addresses::kind.eq(kind),
            addresses::line1.eq(&a.line1),
            addresses::line2.eq(&a.line2),
            addresses::postal_code.eq(&a.postal_code),
            addresses::town.eq(&a.town),
            addresses::valid_from.eq(from),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A move: the current address of `kind` ends yesterday, the new one starts today.
async fn replace_address(
    conn: &mut Conn,
    household: i64,
    kind: &str,
    a: &AddressInput,
    today: NaiveDate,
) -> AppResult<()> {
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    diesel::update(
        addresses::table
            .filter(addresses::household_id.eq(household))
            .filter(addresses::kind.eq(kind))
            .filter(addresses::valid_to.is_null()),
    )
    .set(addresses::valid_to.eq(yesterday))
    .execute(conn)
    .await?;
    // A move undone the same day leaves nothing dated before it began.
    diesel::delete(
        addresses::table
            .filter(addresses::household_id.eq(household))
            .filter(addresses::kind.eq(kind))
            .filter(addresses::valid_from.eq(today)),
    )
    .execute(conn)
    .await?;
    insert_address(conn, household, kind, a, today).await
}

/// Ensures `household` exists in this city (404 otherwise: another city's id says nothing).
pub async fn require_household(conn: &mut Conn, household: i64) -> AppResult<i32> {
    households::table
        .find(household)
        .select(households::number)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Famille introuvable."))
}

pub async fn update_household(
    conn: &mut Conn,
    household: i64,
    patch: &HouseholdPatch,
    today: NaiveDate,
) -> AppResult<()> {
    require_household(conn, household).await?;
    if let Some(situation) = check_situation(patch.situation.as_deref())? {
        diesel::update(households::table.find(household))
            .set(households::situation.eq(situation))
            .execute(conn)
            .await?;
    }
    if let Some(regime) = check_regime(patch.regime.as_deref())? {
        diesel::update(households::table.find(household))
            .set(households::regime.eq(regime))
            .execute(conn)
            .await?;
    }
    if let Some(allocataire) = &patch.allocataire {
        let value = Some(allocataire.trim()).filter(|a| !a.is_empty());
        diesel::update(households::table.find(household))
            .set(households::allocataire.eq(value))
            .execute(conn)
            .await?;
    }
    if let Some(address) = &patch.address {
        replace_address(conn, household, "residence", &address.checked()?, today).await?;
    }
    if let Some(billing) = &patch.billing_address {
        replace_address(conn, household, "billing", &billing.checked()?, today).await?;
    }
    Ok(())
}

/// Ensures `child` is a child of this city (404 otherwise).
pub async fn require_child(conn: &mut Conn, child: i64) -> AppResult<()> {
    let found: i64 = persons::table
        .filter(persons::id.eq(child))
        .filter(persons::kind.eq("child"))
        .count()
        .get_result(conn)
        .await?;
    if found == 0 {
        return Err(AppError::not_found("Enfant introuvable."));
    }
    Ok(())
}

/// The household a person belongs to (as adult member or linked child), to check that a
/// person id given under a family URL really is in that family.
pub async fn person_in_household(
    conn: &mut Conn,
    person: i64,
    household: i64,
) -> AppResult<String> {
    let kind: Option<String> = persons::table
        .find(person)
        .filter(
            persons::id
                .eq_any(
                    household_members::table
                        .filter(household_members::household_id.eq(household))
                        .filter(household_members::valid_to.is_null())
                        .select(household_members::person_id),
                )
                .or(persons::id.eq_any(
                    child_links::table
                        .filter(child_links::household_id.eq(household))
                        .filter(child_links::valid_to.is_null())
                        .select(child_links::child_id),
                )),
        )
        .select(persons::kind)
        .first(conn)
        .await
        .optional()?;
    kind.ok_or_else(|| AppError::not_found("Personne introuvable dans cette famille."))
}

/// Applies a patch to a person: the result is validated as a whole (a minor's e-mail
/// against the birth date and consent after the patch), then written in one statement.
pub async fn update_person(
    conn: &mut Conn,
    person: i64,
    patch: &PersonPatch,
    today: NaiveDate,
) -> AppResult<()> {
    use super::model::{PROFESSIONAL_SITUATIONS, age_on, check_birth_date, check_sex};
    let current: super::dossier::PersonView = persons::table
        .find(person)
        .select(super::dossier::PersonView::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Personne introuvable."))?;
    let child = current.kind == "child";
    let text = |new: &Option<String>, old: Option<String>| match new {
        Some(v) => Some(v.trim().to_string()).filter(|v| !v.is_empty()),
        None => old,
    };
    let last_name = match &patch.last_name {
        Some(v) => check_name(v, "nom")?.to_uppercase(),
        None => current.last_name,
    };
    let first_name = match &patch.first_name {
        Some(v) => check_name(v, "prénom")?,
        None => current.first_name,
    };
    let birth_name = match &patch.birth_name {
        Some(v) if !v.trim().is_empty() => Some(check_name(v, "nom de naissance")?.to_uppercase()),
        Some(_) => None,
        None => current.birth_name,
    };
    let sex = match &patch.sex {
        Some(v) => check_sex(Some(v))?,
        None => current.sex,
    };
    let birth_date = match patch.birth_date {
        Some(v) => check_birth_date(Some(v), today, child)?,
        None => current.birth_date,
    };
    let email = match &patch.email {
        Some(v) => check_email(Some(v))?,
        None => current.email,
    };
    let consent = patch.own_email_consent.unwrap_or(current.own_email_consent);
    if child && email.is_some() {
        if !birth_date.is_some_and(|b| (12..=18).contains(&age_on(b, today))) {
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
    let phone = |new: &Option<String>, old: Option<String>| match new {
        Some(v) => check_phone(Some(v)),
        None => Ok(old),
    };
    let professional_situation = match &patch.professional_situation {
        Some(v) if v.trim().is_empty() => None,
        Some(v) => Some(
            PROFESSIONAL_SITUATIONS
                .iter()
                .find(|(code, _)| *code == v.trim())
                .map(|(code, _)| code.to_string())
                .ok_or_else(|| {
                    AppError::invalid(format!(
                        "situation professionnelle inconnue « {} »",
                        v.trim()
                    ))
                })?,
        ),
        None => current.professional_situation,
    };
    diesel::update(persons::table.find(person))
        .set((
            persons::last_name.eq(last_name),
            persons::first_name.eq(first_name),
            persons::birth_name.eq(birth_name),
            persons::sex.eq(sex),
            persons::birth_date.eq(birth_date),
            persons::birth_place.eq(text(&patch.birth_place, current.birth_place)),
            persons::email.eq(email),
            persons::email_pro.eq(match &patch.email_pro {
                Some(v) => check_email(Some(v))?,
                None => current.email_pro,
            }),
            persons::phone_mobile.eq(phone(&patch.phone_mobile, current.phone_mobile)?),
            persons::phone_home.eq(phone(&patch.phone_home, current.phone_home)?),
            persons::phone_work.eq(phone(&patch.phone_work, current.phone_work)?),
            persons::own_email_consent.eq(consent),
            persons::professional_situation.eq(professional_situation),
            persons::employer.eq(text(&patch.employer, current.employer)),
            persons::contact_by_mail.eq(patch.contact_by_mail.unwrap_or(current.contact_by_mail)),
            persons::contact_by_sms.eq(patch.contact_by_sms.unwrap_or(current.contact_by_sms)),
            persons::contact_by_paper
                .eq(patch.contact_by_paper.unwrap_or(current.contact_by_paper)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds an adult to an existing household (partner or other member).
pub async fn add_adult(
    conn: &mut Conn,
    household: i64,
    input: &AdultInput,
    role: &str,
    today: NaiveDate,
) -> AppResult<i64> {
    require_household(conn, household).await?;
    if !matches!(role, "partner" | "other" | "head") {
        return Err(AppError::invalid(format!("rôle inconnu « {role} »")));
    }
    if role != "other" {
        let taken: i64 = household_members::table
            .filter(household_members::household_id.eq(household))
            .filter(household_members::role.eq(role))
            .filter(household_members::valid_to.is_null())
            .count()
            .get_result(conn)
            .await?;
        if taken > 0 {
            let what = if role == "head" {
                "un responsable du foyer"
            } else {
                "un conjoint"
            };
            return Err(AppError::conflict(format!("ce foyer a déjà {what}")));
        }
    }
    let adult = input.checked(today)?;
    let id = insert_adult(conn, &adult).await?;
    add_member(conn, household, id, role, today).await?;
    Ok(id)
}

/// Adds a child to a household; the household's adults become its legal guardians.
pub async fn add_child(
    conn: &mut Conn,
    household: i64,
    input: &ChildInput,
    today: NaiveDate,
) -> AppResult<i64> {
    require_household(conn, household).await?;
    let child = input.checked(today)?;
    let id = insert_child(conn, &child).await?;
    link_child(conn, id, household, true, today).await?;
    let adults: Vec<(i64, Option<String>)> = household_members::table
        .inner_join(persons::table)
        .filter(household_members::household_id.eq(household))
        .filter(household_members::valid_to.is_null())
        .filter(household_members::role.ne("other"))
        .select((persons::id, persons::sex))
        .load(conn)
        .await?;
    for (adult, sex) in adults {
        let relationship = match sex.as_deref() {
            Some("F") => "mother",
            Some("M") => "father",
            _ => "guardian",
        };
        add_guardian(conn, id, adult, relationship, today).await?;
    }
    Ok(id)
}

/// Income and quotient familial, dated, with who entered it and from which document.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct IncomeInput {
    pub family_quotient: Option<i32>,
    /// Monthly resources in cents.
    pub monthly_resources: Option<i64>,
    pub dependent_children: Option<i16>,
    /// caf, msa, tax_notice, declaration, agent.
    pub source: String,
    pub valid_from: Option<NaiveDate>,
    pub document_id: Option<i64>,
}

pub async fn add_income(
    conn: &mut Conn,
    household: i64,
    input: &IncomeInput,
    author: &str,
    today: NaiveDate,
) -> AppResult<i64> {
    require_household(conn, household).await?;
    if input.family_quotient.is_none() && input.monthly_resources.is_none() {
        return Err(AppError::invalid(
            "indiquez le quotient familial ou les ressources mensuelles",
        ));
    }
    if input
        .family_quotient
        .is_some_and(|q| !(0..=20_000).contains(&q))
    {
        return Err(AppError::invalid(
            "quotient familial hors bornes (0 à 20 000 €)",
        ));
    }
    if input.monthly_resources.is_some_and(|r| r < 0) {
        return Err(AppError::invalid("ressources mensuelles négatives"));
    }
    let children = input.dependent_children.unwrap_or(1);
    if !(0..=20).contains(&children) {
        return Err(AppError::invalid(
            "nombre d'enfants à charge hors bornes (0 à 20)",
        ));
    }
    let source = input.source.trim();
    if !matches!(
        source,
        "caf" | "msa" | "tax_notice" | "declaration" | "agent"
    ) {
        return Err(AppError::invalid(format!(
            "origine du quotient inconnue « {source} »"
        )));
    }
    let from = input.valid_from.unwrap_or(today);
    // The income in force ends the day before the new one starts.
    if let Some(before) = from.checked_sub_days(Days::new(1)) {
        diesel::update(
            incomes::table
                .filter(incomes::household_id.eq(household))
                .filter(incomes::valid_from.lt(from))
                .filter(incomes::valid_to.is_null().or(incomes::valid_to.ge(from))),
        )
        .set(incomes::valid_to.eq(before))
        .execute(conn)
        .await?;
    }
    Ok(diesel::insert_into(incomes::table)
        .values((
            incomes::household_id.eq(household),
            incomes::family_quotient.eq(input.family_quotient),
            incomes::monthly_resources.eq(input.monthly_resources),
            incomes::dependent_children.eq(children),
            incomes::source.eq(source),
            incomes::document_id.eq(input.document_id),
            incomes::valid_from.eq(from),
            incomes::entered_by.eq(author),
        ))
        .returning(incomes::id)
        .get_result(conn)
        .await?)
}

/// Sets a child's custody calendar, after checking it names only the child's households.
pub async fn set_custody(
    conn: &mut Conn,
    child: i64,
    patterns: &[CustodyPattern],
) -> AppResult<()> {
    validate_patterns(patterns).map_err(|e| AppError::invalid(e.to_string()))?;
    let linked: Vec<i64> = child_links::table
        .filter(child_links::child_id.eq(child))
        .filter(child_links::valid_to.is_null())
        .select(child_links::household_id)
        .load(conn)
        .await?;
    if linked.is_empty() {
        return Err(AppError::not_found("Enfant introuvable."));
    }
    let named = serde_json::to_value(patterns).map_err(AppError::internal)?;
    for household in super::custody::households_named(patterns) {
        if !linked.contains(&household) {
            return Err(AppError::invalid(format!(
                "le foyer n° {household} n'est pas un foyer de l'enfant"
            )));
        }
    }
    diesel::insert_into(custody_calendars::table)
        .values((
            custody_calendars::child_id.eq(child),
            custody_calendars::patterns.eq(&named),
        ))
        .on_conflict(custody_calendars::child_id)
        .do_update()
        .set((
            custody_calendars::patterns.eq(&named),
            custody_calendars::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A family that left the city: kept, hidden from searches by default, reactivable.
pub async fn archive(conn: &mut Conn, household: i64, reason: &str) -> AppResult<()> {
    require_household(conn, household).await?;
    if reason.trim().chars().count() < 3 {
        return Err(AppError::invalid(
            "indiquez le motif de l'archivage (départ de la commune...)",
        ));
    }
    diesel::update(households::table.find(household))
        .set((
            households::status.eq("archived"),
            households::archived_at.eq(diesel::dsl::now),
            households::archive_reason.eq(reason.trim()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A family that comes back: its dossier, history and children are there again.
pub async fn reactivate(conn: &mut Conn, household: i64) -> AppResult<()> {
    require_household(conn, household).await?;
    diesel::update(households::table.find(household))
        .set((
            households::status.eq("active"),
            households::archived_at.eq(None::<chrono::DateTime<chrono::Utc>>),
            households::archive_reason.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
