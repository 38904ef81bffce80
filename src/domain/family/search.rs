//! Finding a family: by names of adults and children, family number, birth date, address;
//! accent-insensitive and typo-tolerant. Each household has a search row kept up to date by
//! triggers (migration 2026-11-29-000005_family_search): its words (`terms`, GIN-indexed),
//! its name words, number and status. A typed word matches a household holding that word or
//! a similar one (the city's distinct words are trigram-indexed). Homonym detection at
//! creation (FAM-03).

use chrono::NaiveDate;
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Date, Integer, Nullable, Text};
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

/// Typed words looked at: more are ignored.
const MAX_TYPED: usize = 8;
/// Words of the search row one query may require (a typed word may split into several).
const MAX_CRITERIA: usize = 10;

/// A word of the query, as typed.
#[derive(Debug, PartialEq)]
enum Typed {
    /// A search word that must be present as such: a birth date ('YYYY-MM-DD') or a family
    /// number ('#123'). A date that does not exist stays as typed, and matches nothing.
    Exact(String),
    /// Anything else: split into words, accents and case removed, by `search_terms()`.
    Text(String),
}

/// The words of a query, at most [`MAX_TYPED`].
fn typed(query: &str) -> Vec<Typed> {
    query
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| c == ',' || c == ';'))
        .filter(|w| !w.is_empty())
        .take(MAX_TYPED)
        .map(|w| {
            let lower = w.to_lowercase();
            if let Some(date) = birth_date(&lower) {
                Typed::Exact(date)
            } else if let Some(number) = family_number(&lower) {
                Typed::Exact(number)
            } else {
                Typed::Text(lower)
            }
        })
        .collect()
}

/// 12/03/2017, 12-03-2017, 12.03.2017 or 2017-03-12 as the row holds it ('2017-03-12');
/// something shaped like a date that does not exist, as typed.
fn birth_date(word: &str) -> Option<String> {
    let parts: Vec<&str> = word.split(['/', '-', '.']).collect();
    let digits = |p: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    };
    let (y, m, d) = match parts[..] {
        [d, m, y] if digits(d, 1..=2) && digits(m, 1..=2) && digits(y, 4..=4) => (y, m, d),
        [y, m, d] if digits(y, 4..=4) && digits(m, 1..=2) && digits(d, 1..=2) => (y, m, d),
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    Some(date.map_or_else(|| word.to_string(), |d| d.format("%Y-%m-%d").to_string()))
}

/// '#123', 'n123', 'n°123', 'no123' as the row holds it ('#123').
fn family_number(word: &str) -> Option<String> {
    let digits = ["#", "n°", "nº", "no", "n"]
        .iter()
        .find_map(|prefix| word.strip_prefix(prefix))?;
    number_term(digits)
}

/// The family number term of a string of digits ('007' -> '#7').
fn number_term(digits: &str) -> Option<String> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    Some(format!(
        "#{}",
        if significant.is_empty() {
            "0"
        } else {
            significant
        }
    ))
}

/// What a household's row must hold for one word of the query.
#[derive(Debug, PartialEq)]
struct Criterion {
    /// The word itself (for digits: also the family number): ranks first on a name.
    exact: Vec<String>,
    /// The closest similar words: rank next.
    best: Vec<String>,
    /// Any of these words matches (exact ones included).
    any: Vec<String>,
}

impl Criterion {
    fn exact(word: String) -> Criterion {
        Criterion {
            exact: vec![word.clone()],
            best: Vec::new(),
            any: vec![word],
        }
    }
}

/// A normalised query word and the city's words similar to it.
#[derive(QueryableByName)]
struct Similar {
    #[diesel(sql_type = Text)]
    word: String,
    #[diesel(sql_type = Array<Text>)]
    best: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    similar: Vec<String>,
}

/// The words of `text` as search rows hold them, each with its similar words: those the
/// word begins (3 letters at least), those with trigram similarity 0.4 at least (typos) and
/// those that sound the same (`search_phonetic`, migration 000011: « sofie », Sophie), the
/// 50 closest; `best` = the closest of them. Digits are only matched exactly.
const SIMILAR: &str = "
    SELECT t.word,
           coalesce(array_agg(c.word ORDER BY c.sim DESC, c.word) FILTER (WHERE c.word IS NOT NULL), '{}') AS similar,
           coalesce(array_agg(c.word ORDER BY c.word) FILTER (WHERE c.sim = c.top), '{}') AS best
      FROM unnest(search_terms($1)) t(word)
      LEFT JOIN LATERAL (
           SELECT x.word, x.sim, max(x.sim) OVER () AS top
             FROM (SELECT w.word, ext.similarity(w.word, t.word) AS sim
                     FROM household_search_words w
                    WHERE length(t.word) >= 3 AND t.word !~ '^[0-9]+$' AND w.word <> t.word
                      AND (w.word LIKE t.word || '%'
                           OR (w.word % t.word AND ext.similarity(w.word, t.word) >= 0.4)
                           OR search_phonetic(w.word) = search_phonetic(t.word))
                    ORDER BY sim DESC, w.word
                    LIMIT 50) x) c ON true
     GROUP BY t.word
     ORDER BY t.word";

/// The criteria of a query: dates and numbers as typed, the other words with their similar
/// words.
async fn criteria(conn: &mut Conn, query: &str) -> AppResult<Vec<Criterion>> {
    let mut criteria = Vec::new();
    let mut text = Vec::new();
    for word in typed(query) {
        match word {
            Typed::Exact(term) => criteria.push(Criterion::exact(term)),
            Typed::Text(words) => text.push(words),
        }
    }
    if !text.is_empty() {
        let words: Vec<Similar> = diesel::sql_query(SIMILAR)
            .bind::<Text, _>(text.join(" "))
            .load(conn)
            .await?;
        for Similar {
            word,
            best,
            similar,
        } in words
        {
            // Digits: a house number, a postal code or a family number.
            let criterion = match number_term(&word) {
                Some(number) => Criterion {
                    exact: vec![word.clone(), number.clone()],
                    best: Vec::new(),
                    any: vec![word, number],
                },
                None => {
                    let mut any = similar;
                    any.push(word.clone());
                    Criterion {
                        exact: vec![word],
                        best,
                        any,
                    }
                }
            };
            criteria.push(criterion);
        }
    }
    criteria.truncate(MAX_CRITERIA);
    Ok(criteria)
}

/// A page row: the household and how many households match in all.
#[derive(QueryableByName)]
struct Found {
    #[diesel(embed)]
    household: HouseholdSummary,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// `WHERE` of the matching search rows `s`: the status ($1), and for each criterion one
/// of its words (the parameter `any(i)` holds them).
fn conditions(criteria: usize, any: impl Fn(usize) -> usize) -> String {
    let mut conditions = vec!["($1 OR s.active)".to_string()];
    conditions.extend((0..criteria).map(|i| format!("s.terms && ${}", any(i))));
    conditions.join(" AND ")
}

/// Households matching every word of `query` (at most `limit`, from `offset`), best
/// matches first, and how many match in all. Each word must be in the household's search
/// row, or a similar word: exact matches on a name (or the family number) rank first, then
/// exact matches elsewhere, then the closest similar words. An empty query lists families,
/// the latest first.
pub async fn search(
    conn: &mut Conn,
    query: &str,
    include_archived: bool,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<HouseholdSummary>, i64)> {
    let criteria = criteria(conn, query).await?;
    // $1 status, $2 limit, $3 offset, then per criterion: exact, best, any.
    let (exact, best, any) = (|i| 4 + 3 * i, |i| 5 + 3 * i, |i| 6 + 3 * i);
    let conditions = conditions(criteria.len(), any);
    // With words: the matches are counted in the scan that ranks them. Without: the
    // latest families by the number index, counted on the index alone.
    let (total, order) = if criteria.is_empty() {
        (
            "(SELECT count(*) FROM household_search c WHERE $1 OR c.active)",
            "s.number DESC".to_string(),
        )
    } else {
        let rank: Vec<String> = (0..criteria.len())
            .map(|i| {
                format!(
                    "CASE WHEN s.name_terms && ${e} THEN 3 WHEN s.terms && ${e} THEN 2
                          WHEN s.terms && ${b} THEN 1 ELSE 0 END",
                    e = exact(i),
                    b = best(i)
                )
            })
            .collect();
        (
            "count(*) OVER ()",
            format!("{} DESC, s.number", rank.join(" + ")),
        )
    };
    // A search row carries what a result line shows (migration 000007_search_summary).
    let sql = format!(
        "SELECT s.household_id AS id, s.number, s.name, s.status, s.town, s.members,
                {total} AS total
           FROM household_search s
          WHERE {conditions}
          ORDER BY {order} LIMIT $2 OFFSET $3"
    );
    let mut statement = diesel::sql_query(sql)
        .bind::<Bool, _>(include_archived)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .into_boxed();
    for criterion in &criteria {
        statement = statement
            .bind::<Array<Text>, _>(criterion.exact.clone())
            .bind::<Array<Text>, _>(criterion.best.clone())
            .bind::<Array<Text>, _>(criterion.any.clone());
    }
    let found: Vec<Found> = statement.load(conn).await?;
    let total = match found.as_slice().first() {
        Some(row) => row.total,
        None if offset == 0 => 0,
        // A page past the end: counted on its own.
        None => count(conn, include_archived, &criteria).await?,
    };
    Ok((found.into_iter().map(|f| f.household).collect(), total))
}

/// How many households match `criteria`.
async fn count(conn: &mut Conn, include_archived: bool, criteria: &[Criterion]) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let sql = format!(
        "SELECT count(*) AS n FROM household_search s WHERE {}",
        conditions(criteria.len(), |i| 2 + i)
    );
    let mut statement = diesel::sql_query(sql)
        .bind::<Bool, _>(include_archived)
        .into_boxed();
    for criterion in criteria {
        statement = statement.bind::<Array<Text>, _>(criterion.any.clone());
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
    use super::{Typed, birth_date, number_term, typed};

    #[test]
    fn queries_split_into_words_dates_and_numbers() {
        assert_eq!(
            typed(" Éloïse  MARTIN, 12/03/2019 #0042 n°7 N12 no3 nord "),
            vec![
                Typed::Text("éloïse".into()),
                Typed::Text("martin".into()),
                Typed::Exact("2019-03-12".into()),
                Typed::Exact("#42".into()),
                Typed::Exact("#7".into()),
                Typed::Exact("#12".into()),
                Typed::Exact("#3".into()),
                Typed::Text("nord".into()),
            ]
        );
        assert_eq!(
            typed("n° #x 2019"),
            vec![
                Typed::Text("n°".into()),
                Typed::Text("#x".into()),
                Typed::Text("2019".into()),
            ]
        );
        assert!(typed("   ").is_empty());
        assert_eq!(typed("a b c d e f g h i j").len(), 8, "bounded");
    }

    #[test]
    fn birth_dates_are_read_day_first_or_iso() {
        for typed in [
            "12/03/2019",
            "12-03-2019",
            "12.3.2019",
            "2019-03-12",
            "2019-3-12",
        ] {
            assert_eq!(birth_date(typed).as_deref(), Some("2019-03-12"), "{typed}");
        }
        assert_eq!(
            birth_date("31/02/2019").as_deref(),
            Some("31/02/2019"),
            "no such day: matches nothing"
        );
        for not_a_date in ["12/03/19", "jean-jaures", "12", "2019", "1/2/3/2019"] {
            assert_eq!(birth_date(not_a_date), None, "{not_a_date}");
        }
    }

    #[test]
    fn family_numbers_lose_their_leading_zeros() {
        assert_eq!(number_term("0123").as_deref(), Some("#123"));
        assert_eq!(number_term("000").as_deref(), Some("#0"));
        assert_eq!(number_term(""), None);
        assert_eq!(number_term("12a"), None);
    }
}
