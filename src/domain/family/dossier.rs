//! Reading the dossier: a household with its adults, children (and the other household of
//! a child in shared custody), addresses, income and bank details (when the reader may see
//! them); a child with guardians, custody, health (by level), school history,
//! authorisations and contacts. The same views serve the pages and the API.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use super::custody;
use super::health::{self, HealthAccess, HealthSheet};
use super::model::{PROFESSIONAL_SITUATIONS, REGIMES, SITUATIONS, age_on, label_of};
use super::schema::*;
use crate::domain::calendar::CustodyPattern;
use crate::platform::crypto::CityKey;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// What the reader may see beyond identity and contacts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Visibility {
    pub income: bool,
    pub bank: bool,
    pub health: HealthAccess,
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = persons)]
pub struct PersonView {
    pub id: i64,
    pub kind: String,
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
    pub own_email_consent: bool,
    pub professional_situation: Option<String>,
    pub employer: Option<String>,
    pub contact_by_mail: bool,
    pub contact_by_sms: bool,
    pub contact_by_paper: bool,
    pub photo_document_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = addresses)]
pub struct AddressView {
    pub kind: String,
    pub line1: String,
    pub line2: String,
    pub postal_code: String,
    pub town: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdultView {
    pub role: String,
    pub role_label: &'static str,
    pub professional_situation_label: &'static str,
    #[serde(flatten)]
    pub person: PersonView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HouseholdRef {
    pub id: i64,
    pub number: i32,
    pub name: String,
    pub usual_residence: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChildSummary {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub sex: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub age: Option<i32>,
    pub usual_residence: bool,
    /// The other household of a child in shared custody.
    pub other_households: Vec<HouseholdRef>,
    pub custody: String,
    /// Family number of the household in charge today.
    pub in_charge_today: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = incomes)]
pub struct IncomeView {
    pub id: i64,
    pub family_quotient: Option<i32>,
    /// Cents.
    pub monthly_resources: Option<i64>,
    pub dependent_children: i16,
    pub source: String,
    pub document_id: Option<i64>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub entered_by: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BankView {
    pub id: i64,
    pub holder_id: i64,
    pub iban_hint: Option<String>,
    pub active: bool,
    pub mandates: Vec<MandateView>,
}

#[derive(Debug, Clone, Serialize, Queryable, ToSchema)]
pub struct MandateView {
    pub rum: String,
    pub signed_on: NaiveDate,
    pub status: String,
}

/// A household as agents (and the API) see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HouseholdView {
    pub id: i64,
    pub number: i32,
    pub name: String,
    pub situation: String,
    pub situation_label: &'static str,
    pub regime: String,
    pub regime_label: &'static str,
    pub allocataire: Option<String>,
    pub status: String,
    pub archive_reason: Option<String>,
    pub address: Option<AddressView>,
    pub billing_address: Option<AddressView>,
    pub adults: Vec<AdultView>,
    pub children: Vec<ChildSummary>,
    /// Present only for readers allowed to see incomes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomes: Option<Vec<IncomeView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_accounts: Option<Vec<BankView>>,
}

fn role_label(role: &str) -> &'static str {
    match role {
        "head" => "Responsable du foyer",
        "partner" => "Conjoint(e)",
        _ => "Autre membre",
    }
}

pub async fn household(
    conn: &mut Conn,
    id: i64,
    today: NaiveDate,
    visibility: Visibility,
) -> AppResult<HouseholdView> {
    let (number, name, situation, regime, allocataire, status, archive_reason): (
        i32,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
    ) = households::table
        .find(id)
        .select((
            households::number,
            households::name,
            households::situation,
            households::regime,
            households::allocataire,
            households::status,
            households::archive_reason,
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Famille introuvable."))?;
    let current_addresses: Vec<AddressView> = addresses::table
        .filter(addresses::household_id.eq(id))
        .filter(addresses::valid_to.is_null())
        .order(addresses::valid_from.desc())
        .select(AddressView::as_select())
        .load(conn)
        .await?;
    let adults: Vec<(String, PersonView)> = household_members::table
        .inner_join(persons::table)
        .filter(household_members::household_id.eq(id))
        .filter(household_members::valid_to.is_null())
        .order((household_members::role.ne("head"), household_members::id))
        .select((household_members::role, PersonView::as_select()))
        .load(conn)
        .await?;
    let children = children_of(conn, id, today).await?;
    let incomes = if visibility.income {
        Some(
            incomes::table
                .filter(incomes::household_id.eq(id))
                .order(incomes::valid_from.desc())
                .select(IncomeView::as_select())
                .load(conn)
                .await?,
        )
    } else {
        None
    };
    let bank_accounts = if visibility.bank {
        Some(bank_of(conn, id).await?)
    } else {
        None
    };
    Ok(HouseholdView {
        id,
        number,
        situation_label: label_of(SITUATIONS, &situation),
        regime_label: label_of(REGIMES, &regime),
        name,
        situation,
        regime,
        allocataire,
        status,
        archive_reason,
        address: current_addresses
            .iter()
            .find(|a| a.kind == "residence")
            .cloned(),
        billing_address: current_addresses
            .iter()
            .find(|a| a.kind == "billing")
            .cloned(),
        adults: adults
            .into_iter()
            .map(|(role, person)| AdultView {
                role_label: role_label(&role),
                professional_situation_label: label_of(
                    PROFESSIONAL_SITUATIONS,
                    person.professional_situation.as_deref().unwrap_or_default(),
                ),
                role,
                person,
            })
            .collect(),
        children,
        incomes,
        bank_accounts,
    })
}

async fn bank_of(conn: &mut Conn, household: i64) -> AppResult<Vec<BankView>> {
    let accounts: Vec<(i64, i64, Option<String>, bool)> = bank_accounts::table
        .filter(bank_accounts::household_id.eq(household))
        .order(bank_accounts::id)
        .select((
            bank_accounts::id,
            bank_accounts::holder_id,
            bank_accounts::iban_hint,
            bank_accounts::active,
        ))
        .load(conn)
        .await?;
    let mut views = Vec::new();
    for (id, holder_id, iban_hint, active) in accounts {
        let mandates = sepa_mandates::table
            .filter(sepa_mandates::bank_account_id.eq(id))
            .select((
                sepa_mandates::rum,
                sepa_mandates::signed_on,
                sepa_mandates::status,
            ))
            .load(conn)
            .await?;
        views.push(BankView {
            id,
            holder_id,
            iban_hint,
            active,
            mandates,
        });
    }
    Ok(views)
}

/// (usual residence, id, first name, last name, sex, birth date)
type ChildRow = (bool, i64, String, String, Option<String>, Option<NaiveDate>);

async fn children_of(
    conn: &mut Conn,
    household: i64,
    today: NaiveDate,
) -> AppResult<Vec<ChildSummary>> {
    let rows: Vec<ChildRow> = child_links::table
        .inner_join(persons::table)
        .filter(child_links::household_id.eq(household))
        .filter(child_links::valid_to.is_null())
        .order(persons::birth_date.asc())
        .select((
            child_links::usual_residence,
            persons::id,
            persons::first_name,
            persons::last_name,
            persons::sex,
            persons::birth_date,
        ))
        .load(conn)
        .await?;
    let mut children = Vec::new();
    for (usual_residence, id, first_name, last_name, sex, birth_date) in rows {
        let households = households_of(conn, id).await?;
        let patterns = custody_of(conn, id).await?;
        let numbers = |h: i64| {
            households
                .iter()
                .find(|r| r.id == h)
                .map(|r| format!("n° {}", r.number))
                .unwrap_or_else(|| format!("#{h}"))
        };
        let usual = households.iter().find(|h| h.usual_residence).map(|h| h.id);
        let in_charge = custody::household_in_charge(&patterns, usual, today, None);
        children.push(ChildSummary {
            age: birth_date.map(|b| age_on(b, today)),
            custody: custody::describe(&patterns, &numbers, today),
            in_charge_today: in_charge
                .and_then(|h| households.iter().find(|r| r.id == h).map(|r| r.number)),
            other_households: households
                .into_iter()
                .filter(|h| h.id != household)
                .collect(),
            id,
            first_name,
            last_name,
            sex,
            birth_date,
            usual_residence,
        });
    }
    Ok(children)
}

/// The households a child is linked to now.
pub async fn households_of(conn: &mut Conn, child: i64) -> AppResult<Vec<HouseholdRef>> {
    let rows: Vec<(i64, i32, String, bool)> = child_links::table
        .inner_join(households::table)
        .filter(child_links::child_id.eq(child))
        .filter(child_links::valid_to.is_null())
        .order(child_links::id)
        .select((
            households::id,
            households::number,
            households::name,
            child_links::usual_residence,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, number, name, usual_residence)| HouseholdRef {
            id,
            number,
            name,
            usual_residence,
        })
        .collect())
}

/// E-mail addresses of the adults of the child's households now (who hears about a place
/// offered, a booking cancelled by the city...).
pub async fn guardian_emails(conn: &mut Conn, child: i64) -> AppResult<Vec<String>> {
    let emails: Vec<Option<String>> = child_links::table
        .inner_join(
            household_members::table.on(household_members::household_id
                .eq(child_links::household_id)
                .and(household_members::valid_to.is_null())),
        )
        .inner_join(persons::table.on(persons::id.eq(household_members::person_id)))
        .filter(child_links::child_id.eq(child))
        .filter(child_links::valid_to.is_null())
        .filter(persons::email.is_not_null())
        .select(persons::email)
        .distinct()
        .load(conn)
        .await?;
    Ok(emails.into_iter().flatten().collect())
}

pub async fn custody_of(conn: &mut Conn, child: i64) -> AppResult<Vec<CustodyPattern>> {
    let patterns: Option<serde_json::Value> = custody_calendars::table
        .find(child)
        .select(custody_calendars::patterns)
        .first(conn)
        .await
        .optional()?;
    match patterns {
        Some(value) => serde_json::from_value(value).map_err(AppError::internal),
        None => Ok(Vec::new()),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GuardianView {
    pub id: i64,
    pub name: String,
    pub relationship: String,
    pub relationship_label: &'static str,
    pub joint_authority: bool,
}

#[derive(Debug, Clone, Serialize, Queryable, ToSchema)]
pub struct AuthorisationView {
    pub code: String,
    pub label: String,
    pub granted: bool,
    pub activity_id: Option<i64>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = child_contacts)]
pub struct ContactView {
    pub id: i64,
    pub last_name: String,
    pub first_name: String,
    pub relationship: String,
    pub phone: String,
    pub emergency: bool,
    pub priority: i16,
    pub may_pick_up: bool,
    pub forbidden_pick_up: bool,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = school_history)]
pub struct SchoolYearView {
    pub school_year: String,
    pub school_name: String,
    pub level: String,
    pub class_name: String,
    pub teacher: String,
}

/// A child as agents (and the API) see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChildView {
    #[serde(flatten)]
    pub person: PersonView,
    pub age: Option<i32>,
    pub households: Vec<HouseholdRef>,
    pub guardians: Vec<GuardianView>,
    #[schema(value_type = Vec<Object>)]
    pub custody: Vec<CustodyPattern>,
    pub custody_text: String,
    pub authorisations: Vec<AuthorisationView>,
    pub contacts: Vec<ContactView>,
    pub school_history: Vec<SchoolYearView>,
    /// Only the levels the reader may see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthSheet>,
}

fn relationship_label(relationship: &str) -> &'static str {
    match relationship {
        "mother" => "Mère",
        "father" => "Père",
        "guardian" => "Tuteur ou tutrice",
        _ => "Autre responsable légal",
    }
}

pub async fn child(
    conn: &mut Conn,
    key: &CityKey,
    id: i64,
    today: NaiveDate,
    visibility: Visibility,
) -> AppResult<ChildView> {
    let person: PersonView = persons::table
        .find(id)
        .filter(persons::kind.eq("child"))
        .select(PersonView::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Enfant introuvable."))?;
    let households = households_of(conn, id).await?;
    let guardians: Vec<(i64, String, String, String, bool)> = guardianships::table
        .inner_join(persons::table.on(persons::id.eq(guardianships::adult_id)))
        .filter(guardianships::child_id.eq(id))
        .filter(guardianships::valid_to.is_null())
        .select((
            persons::id,
            persons::first_name,
            persons::last_name,
            guardianships::relationship,
            guardianships::joint_authority,
        ))
        .load(conn)
        .await?;
    let custody = custody_of(conn, id).await?;
    let numbers = |h: i64| {
        households
            .iter()
            .find(|r| r.id == h)
            .map(|r| format!("n° {}", r.number))
            .unwrap_or_else(|| format!("#{h}"))
    };
    let custody_text = custody::describe(&custody, &numbers, today);
    let authorisations = authorisations::table
        .inner_join(authorisation_kinds::table)
        .filter(authorisations::child_id.eq(id))
        .order((authorisation_kinds::sort, authorisations::valid_from.desc()))
        .select((
            authorisation_kinds::code,
            authorisation_kinds::label,
            authorisations::granted,
            authorisations::activity_id,
            authorisations::valid_from,
            authorisations::valid_to,
        ))
        .load(conn)
        .await?;
    let contacts = child_contacts::table
        .filter(child_contacts::child_id.eq(id))
        .order((child_contacts::emergency.desc(), child_contacts::priority))
        .select(ContactView::as_select())
        .load(conn)
        .await?;
    let school_history = school_history::table
        .filter(school_history::child_id.eq(id))
        .order(school_history::school_year.desc())
        .select(SchoolYearView::as_select())
        .load(conn)
        .await?;
    let access = visibility.health;
    let health = if access.basic || access.medical || access.confidential {
        Some(health::load(conn, key, id, access).await?)
    } else {
        None
    };
    Ok(ChildView {
        age: person.birth_date.map(|b| age_on(b, today)),
        person,
        households,
        guardians: guardians
            .into_iter()
            .map(
                |(id, first, last, relationship, joint_authority)| GuardianView {
                    id,
                    name: format!("{first} {last}"),
                    relationship_label: relationship_label(&relationship),
                    relationship,
                    joint_authority,
                },
            )
            .collect(),
        custody,
        custody_text,
        authorisations,
        contacts,
        school_history,
        health,
    })
}
