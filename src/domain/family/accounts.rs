//! Family portal accounts and the dossier they belong to: an account is a legal guardian's
//! login onto their household.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::RunQueryDsl;

use super::store;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

/// The household (and adult) an account opens, if it was linked.
pub async fn household_of_account(conn: &mut Conn, account: i64) -> AppResult<Option<i64>> {
    #[derive(QueryableByName)]
    struct Link {
        #[diesel(sql_type = Nullable<BigInt>)]
        household_id: Option<i64>,
    }
    let link: Option<Link> =
        diesel::sql_query("SELECT household_id FROM family_accounts WHERE id = $1")
            .bind::<BigInt, _>(account)
            .get_result(conn)
            .await
            .optional()?;
    Ok(link.and_then(|l| l.household_id))
}

/// Family numbers (household id, number) of the linked accounts, by account id.
pub async fn linked_households(
    conn: &mut Conn,
) -> AppResult<std::collections::HashMap<i64, (i64, i32)>> {
    #[derive(QueryableByName)]
    struct Linked {
        #[diesel(sql_type = BigInt)]
        account: i64,
        #[diesel(sql_type = BigInt)]
        household: i64,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        number: i32,
    }
    let rows: Vec<Linked> = diesel::sql_query(
        "SELECT a.id AS account, h.id AS household, h.number
           FROM family_accounts a JOIN households h ON h.id = a.household_id",
    )
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.account, (r.household, r.number)))
        .collect())
}

/// Links an account to household number `number`: to the adult holding the account's
/// e-mail, else to the household head.
pub async fn link_account(conn: &mut Conn, account: i64, number: i32) -> AppResult<()> {
    #[derive(QueryableByName)]
    struct Target {
        #[diesel(sql_type = BigInt)]
        household: i64,
        #[diesel(sql_type = BigInt)]
        person: i64,
    }
    let target: Option<Target> = diesel::sql_query(
        "SELECT h.id AS household, m.person_id AS person
           FROM households h JOIN household_members m ON m.household_id = h.id AND m.valid_to IS NULL
           JOIN persons p ON p.id = m.person_id
          WHERE h.number = $1
          ORDER BY (lower(p.email) = (SELECT lower(email) FROM family_accounts WHERE id = $2)) DESC NULLS LAST,
                   (m.role = 'head') DESC
          LIMIT 1",
    )
    .bind::<diesel::sql_types::Integer, _>(number)
    .bind::<BigInt, _>(account)
    .get_result(conn)
    .await
    .optional()?;
    let target = target
        .ok_or_else(|| AppError::invalid(format!("aucune famille ne porte le n° {number}")))?;
    let updated = diesel::sql_query(
        "UPDATE family_accounts SET household_id = $1, person_id = $2 WHERE id = $3",
    )
    .bind::<BigInt, _>(target.household)
    .bind::<BigInt, _>(target.person)
    .bind::<BigInt, _>(account)
    .execute(conn)
    .await?;
    if updated == 0 {
        return Err(AppError::not_found("Compte introuvable."));
    }
    Ok(())
}

/// Opens a portal account for an adult of `household` (the adult's e-mail is the
/// account's); returns its login. A temporary password must be changed at first sign-in.
pub async fn open_for_adult(
    conn: &mut Conn,
    household: i64,
    adult: i64,
    password_hash: &str,
    temporary: bool,
) -> AppResult<String> {
    if store::person_in_household(conn, adult, household).await? != "adult" {
        return Err(AppError::invalid(
            "un compte portail s'ouvre pour un adulte du foyer",
        ));
    }
    #[derive(QueryableByName)]
    struct Adult {
        #[diesel(sql_type = Nullable<Text>)]
        email: Option<String>,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = BigInt)]
        accounts: i64,
    }
    let who: Adult = diesel::sql_query(
        "SELECT email, first_name || ' ' || last_name AS name,
                (SELECT count(*) FROM family_accounts a WHERE a.person_id = p.id) AS accounts
           FROM persons p WHERE id = $1",
    )
    .bind::<BigInt, _>(adult)
    .get_result(conn)
    .await?;
    if who.accounts > 0 {
        return Err(AppError::conflict(format!(
            "{} a déjà un compte portail",
            who.name
        )));
    }
    let email = who.email.ok_or_else(|| {
        AppError::invalid(format!(
            "{} n'a pas d'adresse de courriel : ajoutez-la d'abord",
            who.name
        ))
    })?;
    let (id, login) = crate::platform::auth::accounts::create_family_account(
        conn,
        crate::platform::auth::accounts::NewFamilyAccount {
            email: &email,
            display_name: &who.name,
            profile_id: "family",
        },
    )
    .await?;
    crate::platform::auth::accounts::set_password(
        conn,
        crate::platform::auth::sessions::Kind::Family,
        id,
        password_hash,
        temporary,
    )
    .await?;
    diesel::sql_query("UPDATE family_accounts SET household_id = $1, person_id = $2 WHERE id = $3")
        .bind::<BigInt, _>(household)
        .bind::<BigInt, _>(adult)
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await?;
    Ok(login)
}
