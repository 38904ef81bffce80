//! One error type for the whole application: a French message for people, a status for
//! HTTP, a log line with context for operators.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (or belongs to another city: same answer).
    #[error("{0}")]
    NotFound(String),
    /// Input rejected by a rule; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (already used...).
    #[error("{0}")]
    Conflict(String),
    /// No place left (a unit, a group, a structure): the API answers `"error": "complet"`.
    #[error("{0}")]
    Full(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("Authentification requise.")]
    Unauthorized,
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an infrastructure failure; the detail goes to the log, not to the user.
    #[error("Une erreur interne est survenue ; l'incident a été enregistré.")]
    Internal(#[source] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(what.into())
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::Invalid(message.into())
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict(message.into())
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden(message.into())
    }
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(error.into())
    }

    /// The same error out of a cache that shares it (`Arc`), keeping its meaning and, for
    /// internal errors, the detail of its cause.
    pub fn from_shared(error: std::sync::Arc<AppError>) -> AppError {
        match error.as_ref() {
            AppError::NotFound(m) => AppError::NotFound(m.clone()),
            AppError::Invalid(m) => AppError::Invalid(m.clone()),
            AppError::Conflict(m) => AppError::Conflict(m.clone()),
            AppError::Full(m) => AppError::Full(m.clone()),
            AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
            AppError::Unauthorized => AppError::Unauthorized,
            AppError::Unavailable(m) => AppError::Unavailable(m.clone()),
            AppError::Internal(cause) => AppError::Internal(anyhow::anyhow!("{cause:#}")),
        }
    }

    /// Short machine code used by the JSON API (`{"error": code, "message": ...}`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "introuvable",
            AppError::Invalid(_) => "invalide",
            AppError::Conflict(_) => "conflit",
            AppError::Full(_) => "complet",
            AppError::Forbidden(_) => "interdit",
            AppError::Unauthorized => "non_authentifie",
            AppError::Unavailable(_) => "indisponible",
            AppError::Internal(_) => "erreur_interne",
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::NotFound => AppError::not_found("Élément introuvable."),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        AppError::Internal(anyhow::anyhow!("pool de connexions : {error}"))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        // An AppError wrapped in anyhow keeps its meaning.
        match error.downcast::<AppError>() {
            Ok(app) => app,
            Err(other) => AppError::Internal(other),
        }
    }
}

/// The message shown to people, kept on the response so the error-page middleware can
/// render it in the city's theme.
#[derive(Clone, Debug)]
pub struct ErrorMessage(pub String);

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) | AppError::Full(_) => StatusCode::CONFLICT,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let message = self.to_string();
        let mut response = HttpResponse::build(self.status_code()).json(serde_json::json!({
            "error": self.code(),
            "message": message,
        }));
        response.extensions_mut().insert(ErrorMessage(message));
        response
    }
}
