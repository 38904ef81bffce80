//! Template helpers: French dates, Paris times, euros and elision.

use chrono::NaiveDate;
use handlebars::{Handlebars, handlebars_helper};

use crate::domain::money::Cents;

handlebars_helper!(date_fr: |value: Json| {
    match value.as_str() {
        Some(text) => NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d")
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|_| text.to_string()),
        None => String::new(),
    }
});

// An instant as Paris reads it: « 07/12/2026 à 18:30 ».
handlebars_helper!(datetime_fr: |value: Json| {
    value
        .as_str()
        .and_then(|text| text.parse::<chrono::DateTime<chrono::Utc>>().ok())
        .map(|instant| {
            instant.with_timezone(&chrono_tz::Europe::Paris).format("%d/%m/%Y à %H:%M").to_string()
        })
        .unwrap_or_default()
});

handlebars_helper!(euros: |value: Json| {
    value.as_i64().map(|cents| Cents(cents).to_string()).unwrap_or_default()
});

handlebars_helper!(diet_label: |code: Json| {
    let code = code.as_str().unwrap_or_default();
    crate::domain::family::health::DIETS.iter().find(|(c, _)| *c == code).map_or(code, |(_, label)| *label).to_string()
});

/// « de Léa », « d'Isaac », « d'Irigny »: the preposition elided before a vowel (a name
/// beginning with h keeps « de », aspirated or not).
pub fn de_fr(name: &str) -> String {
    let starts_with_vowel = name.chars().next().is_some_and(|first| {
        "aeiouyàâäéèêëîïôöùûüÿœæ".contains(first.to_lowercase().next().unwrap_or(first))
    });
    if starts_with_vowel {
        format!("d'{name}")
    } else {
        format!("de {name}")
    }
}

handlebars_helper!(de: |value: Json| de_fr(value.as_str().unwrap_or_default()));

pub fn register(registry: &mut Handlebars<'static>) {
    registry.register_helper("de", Box::new(de));
    registry.register_helper("date_fr", Box::new(date_fr));
    registry.register_helper("datetime_fr", Box::new(datetime_fr));
    registry.register_helper("euros", Box::new(euros));
    registry.register_helper("diet_label", Box::new(diet_label));
}

#[cfg(test)]
mod tests {
    use super::de_fr;

    #[test]
    fn the_preposition_is_elided_before_a_vowel() {
        assert_eq!(de_fr("Isaac"), "d'Isaac");
        assert_eq!(de_fr("Élodie"), "d'Élodie");
        assert_eq!(de_fr("Œdipe"), "d'Œdipe");
        assert_eq!(de_fr("Léa"), "de Léa");
        assert_eq!(de_fr("Hugo"), "de Hugo");
        assert_eq!(de_fr("Corbas"), "de Corbas");
    }
}
