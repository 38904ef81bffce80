//! Template helpers: French dates and euros.

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

handlebars_helper!(euros: |value: Json| {
    value.as_i64().map(|cents| Cents(cents).to_string()).unwrap_or_default()
});

pub fn register(registry: &mut Handlebars<'static>) {
    registry.register_helper("date_fr", Box::new(date_fr));
    registry.register_helper("euros", Box::new(euros));
}
