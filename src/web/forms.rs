//! Input extraction with French errors: HTML forms always carry and verify the CSRF
//! token; query, path and JSON errors become `AppError::Invalid`.

use std::future::Future;
use std::pin::Pin;

use actix_web::web::{Bytes, JsonConfig, PathConfig, QueryConfig};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::faces::CsrfToken;
use crate::platform::auth::tokens::constant_time_eq;
use crate::platform::error::AppError;

/// Largest urlencoded form accepted (uploads use multipart and their own limits).
const FORM_LIMIT: usize = 256 * 1024;

/// A urlencoded form whose `csrf` field matched this browser's CSRF cookie. Handlers
/// take `CsrfForm<T>` instead of `Form<T>`, so no form can skip the check.
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let expected = req.extensions().get::<CsrfToken>().map(|t| t.0.clone());
        let content_type_ok = req.content_type() == "application/x-www-form-urlencoded";
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(AppError::invalid("formulaire attendu"));
            }
            let body = body
                .await
                .map_err(|_| AppError::invalid("le formulaire n'a pas pu être lu"))?;
            if body.len() > FORM_LIMIT {
                return Err(AppError::invalid("le formulaire est trop volumineux"));
            }
            let field: CsrfField = serde_html_form::from_bytes(&body)
                .map_err(|_| AppError::invalid("le formulaire n'a pas pu être lu"))?;
            let valid = expected
                .as_deref()
                .is_some_and(|token| constant_time_eq(token.as_bytes(), field.csrf.as_bytes()));
            if !valid {
                return Err(AppError::forbidden(
                    "Ce formulaire a expiré ou ne provient pas de ce site. Rechargez la page \
                     puis recommencez.",
                ));
            }
            serde_html_form::from_bytes(&body)
                .map(CsrfForm)
                .map_err(|e| {
                    AppError::invalid(format!(
                        "formulaire invalide : {}",
                        in_french(&e.to_string())
                    ))
                })
        })
    }
}

/// Serde's English messages in French, keeping the field name.
pub fn in_french(message: &str) -> String {
    // actix prefixes the deserializer's own message ("Query deserialize error: …").
    let message = message
        .split_once(" deserialize error: ")
        .map_or(message, |(_, own)| own);
    let quoted = |text: &str| text.split('`').nth(1).unwrap_or("?").to_string();
    if message.starts_with("missing field") {
        format!("le champ « {} » est obligatoire", quoted(message))
    } else if message.starts_with("unknown variant") {
        format!("la valeur « {} » n'est pas acceptée", quoted(message))
    } else if message.starts_with("unknown field") {
        format!("le champ « {} » est inconnu", quoted(message))
    } else if message.contains("date")
        || message.contains("premature end")
        || message.contains("input contains invalid characters")
    {
        "une date est invalide (format AAAA-MM-JJ attendu)".to_string()
    } else {
        "une valeur n'a pas le format attendu".to_string()
    }
}

pub fn query_config() -> QueryConfig {
    QueryConfig::default().error_handler(|error, _| {
        AppError::invalid(format!(
            "paramètres de la requête invalides : {}",
            in_french(&error.to_string())
        ))
        .into()
    })
}

pub fn path_config() -> PathConfig {
    PathConfig::default()
        .error_handler(|_, _| AppError::not_found("Cette page n'existe pas.").into())
}

pub fn json_config() -> JsonConfig {
    JsonConfig::default()
        .limit(1024 * 1024)
        .error_handler(|error, _| {
            AppError::invalid(format!(
                "corps JSON invalide : {}",
                in_french(&error.to_string())
            ))
            .into()
        })
}

#[cfg(test)]
mod tests {
    use super::in_french;

    #[test]
    fn deserializer_messages_are_said_in_french() {
        assert_eq!(
            in_french("Query deserialize error: unknown field `dat`, expected `from` or `date`"),
            "le champ « dat » est inconnu"
        );
        assert_eq!(
            in_french("missing field `activity`"),
            "le champ « activity » est obligatoire"
        );
        assert_eq!(
            in_french("Query deserialize error: input contains invalid characters"),
            "une date est invalide (format AAAA-MM-JJ attendu)"
        );
        assert_eq!(
            in_french("invalid digit found in string"),
            "une valeur n'a pas le format attendu"
        );
    }
}
