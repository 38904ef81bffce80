//! What every new city schema starts with beyond its migrations, and where its personal
//! data lives (for anonymised copies).

use futures_util::future::BoxFuture;

use crate::platform::db::Conn;
use crate::platform::error::AppResult;
use crate::platform::settings::{default_versions, insert_versions};
use crate::platform::tenancy::City;
use crate::platform::tenancy::anonymise::{Kind, Rule};
use crate::platform::tenancy::provisioning::Blueprint;

pub struct CityBlueprint;

pub static CITY_BLUEPRINT: CityBlueprint = CityBlueprint;

/// Columns holding personal data, table by table; every area adds its own.
static PERSONAL_DATA: &[Rule] = &[
    rule("households", "name", Kind::Name),
    rule("households", "allocataire", Kind::Erase),
    rule("households", "archive_reason", Kind::Erase),
    rule("persons", "last_name", Kind::Name),
    rule("persons", "first_name", Kind::Name),
    rule("persons", "birth_name", Kind::Name),
    rule("persons", "birth_date", Kind::BirthDate),
    rule("persons", "birth_place", Kind::Town),
    rule("persons", "email", Kind::Email),
    rule("persons", "email_pro", Kind::Email),
    rule("persons", "phone_mobile", Kind::Phone),
    rule("persons", "phone_home", Kind::Phone),
    rule("persons", "phone_work", Kind::Phone),
    rule("persons", "employer", Kind::Erase),
    rule("addresses", "line1", Kind::Street),
    rule("addresses", "line2", Kind::EmptyText),
    rule("addresses", "town", Kind::Town),
    rule("bank_accounts", "iban_enc", Kind::Erase),
    rule("bank_accounts", "bic_enc", Kind::Erase),
    rule("bank_accounts", "iban_hint", Kind::Erase),
    rule("sepa_mandates", "rum", Kind::Identifier),
    rule("child_contacts", "last_name", Kind::Name),
    rule("child_contacts", "first_name", Kind::Name),
    rule("child_contacts", "phone", Kind::Phone),
    rule("child_contacts", "notes", Kind::EmptyText),
    rule("health_sheets", "basic_enc", Kind::Erase),
    rule("health_sheets", "medical_enc", Kind::Erase),
    rule("health_sheets", "confidential_enc", Kind::Erase),
    rule("school_history", "teacher", Kind::Name),
    rule("custom_values", "value", Kind::EmptyJson),
    rule("observations", "text", Kind::EmptyText),
    rule("school_classes", "teacher", Kind::Name),
    rule("staff_assignments", "name", Kind::Name),
    rule("enrolments", "opinion", Kind::EmptyText),
    rule("enrolments", "decision_note", Kind::EmptyText),
    rule("enrolments", "appeal_reason", Kind::EmptyText),
    rule("bookings", "reason", Kind::EmptyText),
    rule("tasks", "title", Kind::EmptyText),
];

const fn rule(table: &'static str, column: &'static str, kind: Kind) -> Rule {
    Rule {
        table,
        column,
        kind,
    }
}

/// After an anonymisation: the search rows hold the old names; documents (files stay with
/// the source), photos and the daily notebooks (free text about children) are not carried
/// over.
const AFTER_ANONYMISATION: &str = "
    UPDATE persons SET photo_document_id = NULL;
    UPDATE incomes SET document_id = NULL;
    UPDATE bookings SET document_id = NULL;
    DELETE FROM daily_notes;
    DELETE FROM documents;
    SELECT rebuild_household_search();";

impl Blueprint for CityBlueprint {
    fn install_defaults<'c>(
        &'c self,
        conn: &'c mut Conn,
        _city: &'c City,
    ) -> BoxFuture<'c, AppResult<()>> {
        Box::pin(async move {
            let versions = default_versions(&super::settings::CATALOGUE);
            insert_versions(conn, &versions).await?;
            crate::platform::auth::authz::install_defaults(conn).await
        })
    }

    fn personal_data(&self) -> &'static [Rule] {
        PERSONAL_DATA
    }

    fn after_anonymisation(&self) -> &'static str {
        AFTER_ANONYMISATION
    }
}
