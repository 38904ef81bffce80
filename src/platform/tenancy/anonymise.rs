//! Anonymisation of a copied city schema (RGPD-safe recette). Each personal column is
//! rewritten in SQL from a keyed hash of its value: the same original gives the same
//! pseudonym everywhere in the copy (a family keeps one surname, a street stays one
//! street), while a random key per copy keeps pseudonyms from being traced back.
//! Pseudonyms are built from syllables so they never coincide with real data.

use diesel::connection::SimpleConnection;

use crate::platform::db::{BlockingConn, quote_ident, quote_literal};
use crate::platform::error::AppResult;

/// What a personal column holds, hence how it is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Surname or first name: a pseudonym of 2–3 syllables.
    Name,
    /// E-mail address: `<pseudonym>@exemple.invalid`.
    Email,
    /// Phone number: `09 99` followed by digits from the hash.
    Phone,
    /// Street line: number and a pseudonymous street.
    Street,
    /// Town name: a pseudonymous town.
    Town,
    /// A date of birth (the table has an `id`): moved by 1 to 90 days either way.
    BirthDate,
    /// A unique reference (the table has an `id`): `ANON-<id>`.
    Identifier,
    /// Free text, identifiers and encrypted blobs: removed (the column must be nullable).
    Erase,
    /// Free text in a NOT NULL column: emptied.
    EmptyText,
    /// JSON documents: replaced by an empty object.
    EmptyJson,
}

/// One column of one table holding personal data.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub table: &'static str,
    pub column: &'static str,
    pub kind: Kind,
}

/// Personal data of the platform's own tables in every city (identity, settings authors).
/// Agents keep their logins so that testers can sign in to a recette.
pub const IDENTITY_RULES: &[Rule] = &[
    Rule {
        table: "agents",
        column: "display_name",
        kind: Kind::Name,
    },
    Rule {
        table: "agents",
        column: "email",
        kind: Kind::Email,
    },
    Rule {
        table: "agents",
        column: "oidc_subject",
        kind: Kind::Erase,
    },
    Rule {
        table: "family_accounts",
        column: "display_name",
        kind: Kind::Name,
    },
    Rule {
        table: "family_accounts",
        column: "email",
        kind: Kind::Email,
    },
    Rule {
        table: "family_accounts",
        column: "franceconnect_subject",
        kind: Kind::Erase,
    },
    Rule {
        table: "account_requests",
        column: "last_name",
        kind: Kind::Name,
    },
    Rule {
        table: "account_requests",
        column: "first_name",
        kind: Kind::Name,
    },
    Rule {
        table: "account_requests",
        column: "email",
        kind: Kind::Email,
    },
    Rule {
        table: "account_requests",
        column: "phone",
        kind: Kind::Phone,
    },
    Rule {
        table: "account_requests",
        column: "message",
        kind: Kind::EmptyText,
    },
    Rule {
        table: "account_requests",
        column: "reason",
        kind: Kind::EmptyText,
    },
    Rule {
        table: "setting_versions",
        column: "author",
        kind: Kind::Name,
    },
];

/// Tables never copied to another environment: sessions, pending sign-ins and links,
/// throttling counters. (API clients are copied revoked.)
pub const NOT_COPIED: &[&str] = &[
    "sessions",
    "login_throttle",
    "oidc_pending",
    "password_links",
];

const SYLLABLES: [&str; 32] = [
    "ba", "be", "bo", "da", "de", "do", "fa", "fi", "ga", "lu", "la", "li", "lo", "ma", "me", "mi",
    "na", "ne", "no", "pa", "pi", "ra", "re", "ri", "ro", "sa", "se", "ta", "ti", "va", "vo", "zu",
];

/// Rewrites every rule's column in the current search_path (the copy's schema).
pub fn run(conn: &mut BlockingConn, rules: &[Rule], salt_hint: &str) -> AppResult<()> {
    use rand::Rng;
    let key: [u8; 16] = rand::rng().random();
    let salt = format!("{salt_hint}:{}", hex::encode(key));
    for rule in rules {
        let column = quote_ident(rule.column);
        let value = replacement(rule.kind, &column, &quote_literal(&salt));
        // Runs in copy mode (set by the copy): the replaced values are not audited.
        conn.batch_execute(&format!(
            "UPDATE {table} SET {column} = {value} WHERE {column} IS NOT NULL;",
            table = quote_ident(rule.table),
        ))?;
    }
    Ok(())
}

/// SQL expression replacing `column` (already quoted) for `kind`.
fn replacement(kind: Kind, column: &str, salt: &str) -> String {
    // n-th 5-bit chunk of md5(salt || value), as an integer 0..31.
    let chunk = |n: usize| {
        format!(
            "(('x' || substr(md5({salt} || {column}::text), {start}, 2))::bit(8)::int % 32)",
            start = 1 + 2 * n
        )
    };
    let syllables = format!("(ARRAY[{}])", SYLLABLES.map(quote_literal).join(", "));
    let pseudonym = |first: usize| {
        format!(
            "initcap({s}[1 + {a}] || {s}[1 + {b}] || {s}[1 + {c}])",
            s = syllables,
            a = chunk(first),
            b = chunk(first + 1),
            c = chunk(first + 2)
        )
    };
    let digits = |n: usize| {
        format!(
            "lpad(((('x' || substr(md5({salt} || {column}::text), 20, 8))::bit(32)::bigint) % {m})::text, {n}, '0')",
            m = 10_i64.pow(n as u32)
        )
    };
    match kind {
        Kind::Name => pseudonym(0),
        Kind::Email => format!(
            "lower({}) || '.' || {} || '@exemple.invalid'",
            pseudonym(3),
            digits(4)
        ),
        Kind::Phone => format!(
            "'09 99 ' || regexp_replace({}, '(..)(..)(..)', '\\1 \\2 \\3')",
            digits(6)
        ),
        Kind::Street => format!("(1 + {}) || ' rue ' || {}", chunk(6), pseudonym(7)),
        Kind::Town => format!("{} || '-sur-' || {}", pseudonym(10), pseudonym(12)),
        Kind::BirthDate => {
            // Keyed by the row id, never 0: -90..-1 or 1..90 days.
            let h = format!("(('x' || substr(md5({salt} || id::text), 9, 4))::bit(16)::int % 180)");
            format!("{column} + ({h} - 90 + CASE WHEN {h} >= 90 THEN 1 ELSE 0 END)")
        }
        Kind::Identifier => "'ANON-' || id".to_string(),
        Kind::Erase => "NULL".to_string(),
        Kind::EmptyText => "''".to_string(),
        Kind::EmptyJson => "'{}'::jsonb".to_string(),
    }
}
