//! Bank details (IBAN/BIC, encrypted) and SEPA mandates of a household.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema::{bank_accounts, households, sepa_mandates};
use crate::platform::crypto::CityKey;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct BankInput {
    pub holder_id: i64,
    pub iban: String,
    pub bic: String,
}

/// A validated IBAN (ISO 13616 checksum, country format) in its electronic form.
pub fn check_iban(raw: &str) -> AppResult<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    use iban::IbanLike;
    compact
        .parse::<iban::Iban>()
        .map(|iban| iban.electronic_str().to_string())
        .map_err(|_| {
            AppError::invalid(format!(
                "IBAN invalide « {} » : vérifiez les caractères saisis",
                raw.trim()
            ))
        })
}

/// A BIC: 8 or 11 characters (bank, country, location, optional branch).
pub fn check_bic(raw: &str) -> AppResult<String> {
    let bic = raw.trim().replace(' ', "").to_uppercase();
    let valid = (bic.len() == 8 || bic.len() == 11)
        && bic[..6].chars().all(|c| c.is_ascii_uppercase())
        && bic[6..].chars().all(|c| c.is_ascii_alphanumeric());
    if valid {
        Ok(bic)
    } else {
        Err(AppError::invalid(format!(
            "BIC invalide « {} » : 8 ou 11 caractères",
            raw.trim()
        )))
    }
}

/// "FR76 •••• •••• 1234": enough to recognise an account without showing it.
pub fn masked(iban: &str) -> String {
    let last = &iban[iban.len().saturating_sub(4)..];
    format!("{} •••• •••• {last}", &iban[..4.min(iban.len())])
}

pub async fn add_account(
    conn: &mut Conn,
    key: &CityKey,
    household: i64,
    input: &BankInput,
) -> AppResult<i64> {
    let iban = check_iban(&input.iban)?;
    let bic = check_bic(&input.bic)?;
    let id: i64 = diesel::insert_into(bank_accounts::table)
        .values((
            bank_accounts::household_id.eq(household),
            bank_accounts::holder_id.eq(input.holder_id),
            bank_accounts::iban_hint.eq(masked(&iban)),
        ))
        .returning(bank_accounts::id)
        .get_result(conn)
        .await?;
    diesel::update(bank_accounts::table.find(id))
        .set((
            bank_accounts::iban_enc
                .eq(key.seal(&format!("bank_accounts.iban:{id}"), iban.as_bytes())?),
            bank_accounts::bic_enc
                .eq(key.seal(&format!("bank_accounts.bic:{id}"), bic.as_bytes())?),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// The decrypted IBAN and BIC of an account (for direct debits and authorised readers).
pub async fn account_details(
    conn: &mut Conn,
    key: &CityKey,
    account: i64,
) -> AppResult<(String, String)> {
    let (iban, bic): (Option<Vec<u8>>, Option<Vec<u8>>) = bank_accounts::table
        .find(account)
        .select((bank_accounts::iban_enc, bank_accounts::bic_enc))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Compte bancaire introuvable."))?;
    let open = |what: &str, sealed: Option<Vec<u8>>| -> AppResult<String> {
        let sealed =
            sealed.ok_or_else(|| AppError::not_found("Coordonnées bancaires effacées."))?;
        String::from_utf8(key.open(&format!("bank_accounts.{what}:{account}"), &sealed)?)
            .map_err(AppError::internal)
    };
    Ok((open("iban", iban)?, open("bic", bic)?))
}

/// A SEPA mandate on an account; its RUM (unique mandate reference) is built from the
/// family number when not given.
pub async fn add_mandate(
    conn: &mut Conn,
    account: i64,
    rum: Option<&str>,
    signed_on: NaiveDate,
) -> AppResult<String> {
    let number: i32 = bank_accounts::table
        .inner_join(households::table)
        .filter(bank_accounts::id.eq(account))
        .select(households::number)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("Compte bancaire introuvable."))?;
    let rum = match rum.map(str::trim).filter(|r| !r.is_empty()) {
        Some(rum) => {
            let valid = rum.len() <= 35
                && rum
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+?/-:().,' ".contains(c));
            if !valid {
                return Err(AppError::invalid(
                    "RUM invalide : 35 caractères au plus, sans accent",
                ));
            }
            rum.to_string()
        }
        None => format!("MAR-{number:06}-{account:06}"),
    };
    diesel::insert_into(sepa_mandates::table)
        .values((
            sepa_mandates::bank_account_id.eq(account),
            sepa_mandates::rum.eq(&rum),
            sepa_mandates::signed_on.eq(signed_on),
        ))
        .execute(conn)
        .await?;
    Ok(rum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_checked_by_their_checksum() {
        assert_eq!(
            check_iban("fr76 3000 6000 0112 3456 7890 189").unwrap(),
            "FR7630006000011234567890189"
        );
        assert!(
            check_iban("FR76 3000 6000 0112 3456 7890 188")
                .unwrap_err()
                .to_string()
                .contains("IBAN invalide")
        );
        assert!(check_iban("bonjour").is_err());
        assert_eq!(masked("FR7630006000011234567890189"), "FR76 •••• •••• 0189");
        assert_eq!(check_bic("bnpa fr pp xxx").unwrap(), "BNPAFRPPXXX");
        assert!(check_bic("BNP").is_err());
    }
}
