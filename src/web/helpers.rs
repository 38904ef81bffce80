//! Template helpers: French dates, Paris times and euros.

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

pub fn register(registry: &mut Handlebars<'static>) {
    registry.register_helper("date_fr", Box::new(date_fr));
    registry.register_helper("datetime_fr", Box::new(datetime_fr));
    registry.register_helper("euros", Box::new(euros));
    registry.register_helper("diet_label", Box::new(diet_label));
}
