//! Reading a TOML document an agent wrote (a tariff grid, the CNAF barème) with errors an
//! agent can act on: the line and column, the line itself, and the reason in French.
//! The TOML and serde libraries answer in English; the messages our own types give
//! (amounts, rates, dates) are already French and pass through.

use serde::de::DeserializeOwned;

/// Parses `text` as `T`, or says where and why it cannot, in French.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|error| {
        let reason = in_french(error.message());
        match error.span() {
            Some(span) => {
                let (line, column) = line_and_column(text, span.start);
                let quoted = text.lines().nth(line - 1).unwrap_or_default().trim();
                if quoted.is_empty() {
                    format!("ligne {line}, colonne {column} : {reason}")
                } else {
                    format!("ligne {line}, colonne {column} (« {quoted} ») : {reason}")
                }
            }
            None => reason,
        }
    })
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// The names between backquotes in a serde message: `a`, `b` → ["a", "b"].
fn quoted(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

fn value_kind(kind: &str) -> String {
    let kind = kind.trim();
    let (name, value) = match kind.split_once(' ') {
        Some((first, rest)) if first == "floating" || first == "integer" => (first, rest),
        _ => (kind, ""),
    };
    let value = value
        .trim_start_matches("point ")
        .trim_matches('`')
        .to_string();
    let label = match name {
        "floating" => "un nombre à virgule",
        "integer" => "un nombre entier",
        "string" | "a string" => "un texte entre guillemets",
        "boolean" | "a boolean" => "un booléen (true ou false)",
        "sequence" | "a sequence" => "une liste [ … ]",
        "map" | "a map" => "une table { … }",
        other if other.starts_with("struct ") || other.starts_with("enum ") => "une table { … }",
        other if other.starts_with("internally tagged enum") => "une table avec « kind »",
        other if other.starts_with("u8") || other.starts_with("u16") => "un nombre entier positif",
        other => other,
    };
    if value.is_empty() {
        label.to_string()
    } else {
        format!("{label} ({value})")
    }
}

/// serde's and toml's English messages in French; French ones are kept.
pub fn in_french(message: &str) -> String {
    let message = message.trim();
    let names = quoted(message);
    let listed = |from: usize| {
        names
            .get(from..)
            .map(|rest| rest.join(", "))
            .unwrap_or_default()
    };
    if message.starts_with("unknown field") {
        let expected = listed(1);
        if expected.is_empty() {
            format!("le champ « {} » est inconnu", names.first().unwrap_or(&"?"))
        } else {
            format!(
                "le champ « {} » est inconnu (champs possibles : {expected})",
                names.first().unwrap_or(&"?")
            )
        }
    } else if message.starts_with("missing field") {
        format!(
            "le champ « {} » est obligatoire",
            names.first().unwrap_or(&"?")
        )
    } else if message.starts_with("unknown variant") {
        format!(
            "la valeur « {} » n'est pas acceptée (valeurs possibles : {})",
            names.first().unwrap_or(&"?"),
            listed(1)
        )
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        if found.starts_with("floating") && expected.contains("string") {
            format!(
                "{} : les montants et les taux s'écrivent entre guillemets, par exemple \"3.84\" ou \"0.0516\"",
                value_kind(found)
            )
        } else {
            format!(
                "type de valeur invalide : {} au lieu de {}",
                value_kind(found),
                value_kind(expected)
            )
        }
    } else if message.starts_with("invalid value: integer") && message.contains("u8") {
        "nombre trop grand (255 au plus)".to_string()
    } else if message.contains("premature end of input")
        || message.contains("input contains invalid characters")
        || message.contains("input is out of range")
        || message.contains("trailing input")
    {
        "date invalide (AAAA-MM-JJ attendu, par exemple \"2026-09-01\")".to_string()
    } else if message.starts_with("duplicate key") {
        format!("clé en double : « {} »", names.first().unwrap_or(&"?"))
    } else if is_french(message) {
        message.to_string()
    } else {
        format!("syntaxe TOML invalide ({message})")
    }
}

/// Our own types explain themselves in French (« … n'est pas un montant en euros valide »).
fn is_french(message: &str) -> bool {
    message.contains('«')
        || message.contains(" n'est ")
        || message.contains("attendu")
        || message.contains("invalide")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pricing::TariffGrid;

    fn error_of(text: &str) -> String {
        parse::<TariffGrid>(text).unwrap_err()
    }

    const HEAD: &str = "activity = \"cantine\"\n[[versions]]\nvalid_from = \"2024-09-01\"\n";

    #[test]
    fn says_where_and_why_in_french() {
        let error = error_of(&format!(
            "{HEAD}rules = [ {{ id = \"repas\", price = {{ kind = \"flat\", amout = \"3.84\" }} }} ]"
        ));
        assert!(error.starts_with("ligne 4, colonne "), "{error}");
        assert!(error.contains("« amout » est inconnu"), "{error}");
        assert!(error.contains("rules = [ {"), "the line is quoted: {error}");

        let error = error_of(&format!(
            "{HEAD}rules = [ {{ id = \"repas\", price = {{ kind = \"flat\", amount = 3.84 }} }} ]"
        ));
        assert!(error.contains("entre guillemets"), "{error}");

        let error = error_of(&format!(
            "{HEAD}rules = [ {{ id = \"repas\", price = {{ kind = \"flatt\", amount = \"3.84\" }} }} ]"
        ));
        assert!(error.contains("« flatt » n'est pas acceptée"), "{error}");
        assert!(error.contains("qf_brackets"), "{error}");

        let error = error_of("activity = \"cantine\"\n");
        assert!(error.contains("« versions » est obligatoire"), "{error}");

        let error = error_of(&format!(
            "{HEAD}rules = [ {{ id = \"repas\", price = {{ kind = \"flat\", amount = \"3,84\" }} }} ]"
        ));
        assert!(error.contains("« 3,84 » n'est pas un montant"), "{error}");

        let error = error_of("activity = \"cantine\"\n[[versions]]\nvalid_from = \"2024-13-01\"\n");
        assert!(error.contains("ligne 3"), "{error}");

        let error = error_of("activity = cantine\n");
        assert!(error.contains("syntaxe TOML invalide"), "{error}");
    }

    #[test]
    fn counts_lines_and_columns_from_one() {
        assert_eq!(line_and_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_and_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_and_column("é\nx", 3), (2, 1));
    }
}
