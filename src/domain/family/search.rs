//! Finding a family: by names of adults and children, family number, birth date, address;
//! accent-insensitive and typo-tolerant (trigram word similarity on a search row per
//! household kept up to date by triggers). Homonym detection at creation (FAM-03).

use chrono::NaiveDate;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Date, Integer, Nullable, Text};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::platform::db::Conn;
use crate::platform::error::AppResult;

/// A household in a result list.
#[derive(Debug, Clone, Serialize, QueryableByName, ToSchema)]
pub struct HouseholdSummary {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Integer)]
    pub number: i32,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub town: Option<String>,
    /// "Prénom NOM" of adults then children.
    #[diesel(sql_type = Text)]
    pub members: String,
}

/// Search words: dates typed 12/03/2019 stay whole; the rest is split on spaces.
fn words(query: &str) -> Vec<String> {
    query
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| c == ',' || c == ';'))
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

const SUMMARY: &str = "
    SELECT h.id, h.number, h.name, h.status,
           (SELECT a.town FROM addresses a WHERE a.household_id = h.id AND a.kind = 'residence'
              AND a.valid_to IS NULL ORDER BY a.valid_from DESC LIMIT 1) AS town,
           coalesce((SELECT string_agg(p.first_name || ' ' || p.last_name, ', ' ORDER BY p.kind, p.birth_date)
              FROM persons p
             WHERE p.id IN (SELECT m.person_id FROM household_members m WHERE m.household_id = h.id AND m.valid_to IS NULL
                            UNION SELECT l.child_id FROM child_links l WHERE l.household_id = h.id AND l.valid_to IS NULL)), '') AS members
      FROM households h";

/// Households matching every word of `query` (at most `limit`), best matches first, and
/// how many match in all.
pub async fn search(
    conn: &mut Conn,
    query: &str,
    include_archived: bool,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<HouseholdSummary>, i64)> {
    let words = words(query);
    if words.is_empty() {
        let sql = format!(
            "{SUMMARY} WHERE ($1 OR h.status = 'active') ORDER BY h.number DESC LIMIT $2 OFFSET $3"
        );
        let items = diesel::sql_query(sql)
            .bind::<Bool, _>(include_archived)
            .bind::<BigInt, _>(limit)
            .bind::<BigInt, _>(offset)
            .load(conn)
            .await?;
        let total = count(
            conn,
            "SELECT count(*) AS n FROM households h WHERE ($1 OR h.status = 'active')",
            include_archived,
            &[],
        )
        .await?;
        return Ok((items, total));
    }
    // Every word must be in the household's search text (word similarity tolerates typos);
    // the ranking adds up the similarities.
    let conditions: Vec<String> = (0..words.len())
        .map(|i| format!("ext.f_unaccent(${}) <% s.text", i + 4))
        .collect();
    let rank: Vec<String> = (0..words.len())
        .map(|i| format!("ext.word_similarity(ext.f_unaccent(${}), s.text)", i + 4))
        .collect();
    let sql = format!(
        "{SUMMARY} JOIN household_search s ON s.household_id = h.id
          WHERE ($1 OR h.status = 'active') AND {}
          ORDER BY {} DESC, h.number LIMIT $2 OFFSET $3",
        conditions.join(" AND "),
        rank.join(" + ")
    );
    let mut statement = diesel::sql_query(sql)
        .bind::<Bool, _>(include_archived)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .into_boxed();
    for word in &words {
        statement = statement.bind::<Text, _>(word.clone());
    }
    let items = statement.load(conn).await?;
    let count_conditions: Vec<String> = (0..words.len())
        .map(|i| format!("ext.f_unaccent(${}) <% s.text", i + 2))
        .collect();
    let total = count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM households h JOIN household_search s ON s.household_id = h.id
              WHERE ($1 OR h.status = 'active') AND {}",
            count_conditions.join(" AND ")
        ),
        include_archived,
        &words,
    )
    .await?;
    Ok((items, total))
}

async fn count(
    conn: &mut Conn,
    sql: &str,
    include_archived: bool,
    words: &[String],
) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut statement = diesel::sql_query(sql)
        .bind::<Bool, _>(include_archived)
        .into_boxed();
    for word in words {
        statement = statement.bind::<Text, _>(word.clone());
    }
    Ok(statement.get_result::<Count>(conn).await?.n)
}

/// An existing person who looks like the one being created.
#[derive(Debug, Clone, Serialize, QueryableByName, ToSchema)]
pub struct Homonym {
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub last_name: String,
    #[diesel(sql_type = Text)]
    pub first_name: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub birth_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub household_id: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub household_number: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub household_status: Option<String>,
}

/// Persons with the same or a similar name (accents and small typos ignored) and the same
/// birth date when both are known; the household each belongs to.
pub async fn homonyms(
    conn: &mut Conn,
    last_name: &str,
    first_name: &str,
    birth_date: Option<NaiveDate>,
) -> AppResult<Vec<Homonym>> {
    Ok(diesel::sql_query(
        "SELECT p.id AS person_id, p.kind, p.last_name, p.first_name, p.birth_date,
                h.id AS household_id, h.number AS household_number, h.status AS household_status
           FROM persons p
           LEFT JOIN LATERAL (
                SELECT m.household_id AS id FROM household_members m WHERE m.person_id = p.id
                UNION ALL SELECT l.household_id FROM child_links l WHERE l.child_id = p.id
                LIMIT 1) link ON true
           LEFT JOIN households h ON h.id = link.id
          WHERE ext.similarity(ext.f_unaccent(lower(p.last_name || ' ' || p.first_name)),
                               ext.f_unaccent(lower($1 || ' ' || $2))) >= 0.55
            AND ($3::date IS NULL OR p.birth_date IS NULL OR p.birth_date = $3)
          ORDER BY ext.similarity(ext.f_unaccent(lower(p.last_name || ' ' || p.first_name)),
                                  ext.f_unaccent(lower($1 || ' ' || $2))) DESC
          LIMIT 10",
    )
    .bind::<Text, _>(last_name)
    .bind::<Text, _>(first_name)
    .bind::<Nullable<Date>, _>(birth_date)
    .load(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn queries_split_into_lowercase_words_keeping_dates() {
        assert_eq!(
            words(" Éloïse  MARTIN, 12/03/2019 "),
            vec!["éloïse", "martin", "12/03/2019"]
        );
        assert!(words("   ").is_empty());
        assert_eq!(words("a b c d e f g h i j").len(), 8, "bounded");
    }
}
