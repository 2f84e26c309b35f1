//! One error type for the whole application. [`AppError`] renders a friendly HTML
//! page; [`ApiError`] wraps it to render `{"error","message"}` JSON for `/api/v1`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("you do not have access to this page")]
    Forbidden,
    #[error("please log in")]
    LoginRequired { next: String },
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("the form expired or was not sent from this site; reload the page and try again")]
    Csrf,
    #[error("too many attempts; wait a minute and try again")]
    RateLimited,
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Field-level validation errors (`field → message`), `422`.
    #[error("{}", .0.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; "))]
    Invalid(crate::domain::offer::FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::BadRequest { code, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError::bad_request("invalid_request", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Conflict { code, message: message.into() }
    }

    /// The machine-readable code used in JSON errors.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Forbidden => "forbidden",
            AppError::LoginRequired { .. } | AppError::Unauthorized => "unauthorized",
            AppError::Csrf => "csrf_failed",
            AppError::RateLimited => "rate_limited",
            AppError::BadRequest { code, .. } | AppError::Conflict { code, .. } => code,
            AppError::Invalid(_) => "invalid_request",
            AppError::Internal(_) => "internal",
        }
    }

    /// The message shown to people; internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => "something went wrong on our side; it has been logged".into(),
            other => other.to_string(),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound,
            // PostgreSQL cannot store a NUL in text: what a client sent is refused
            // (the transaction rolled back, nothing stored), not a server error.
            diesel::result::Error::DatabaseError(_, ref info)
                if info.message().contains("invalid byte sequence") && info.message().contains("0x00") =>
            {
                AppError::invalid("the text contains a NUL character, which cannot be stored")
            }
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(anyhow::anyhow!("template: {e}"))
    }
}

/// The heading of an error page.
pub fn title_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::TOO_MANY_REQUESTS => "Slow down",
        StatusCode::INTERNAL_SERVER_ERROR => "Something went wrong",
        _ => "That did not work",
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::LoginRequired { next } = self {
            let target =
                format!("/login?next={}", url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
            return HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish();
        }
        if let AppError::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
        let status = self.status_code();
        let title = title_of(status);
        let message = self.public_message();
        let body = ErrorPage { status: status.as_u16(), title, message: &message }
            .render()
            .unwrap_or_else(|_| message.clone());
        HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body)
    }
}

/// The JSON face of [`AppError`], for `/api/v1`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub AppError);

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            AppError::LoginRequired { .. } => StatusCode::UNAUTHORIZED,
            other => other.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(e) = &self.0 {
            tracing::error!(error = ?e, "internal error");
        }
        let mut body = serde_json::json!({"error": self.0.code(), "message": self.0.public_message()});
        if let AppError::Invalid(fields) = &self.0 {
            body["fields"] = serde_json::json!(fields);
        }
        HttpResponse::build(self.status_code()).json(body)
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Read `T` from a JSON value; what cannot be read names its place in the body
/// (`caps.daily: invalid type: string "x", expected i64`): `400 invalid_request`.
pub fn read_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> AppResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        AppError::invalid(if path == "." {
            format!("the JSON body could not be read: {inner}")
        } else {
            format!("{path}: {inner}")
        })
    })
}
pub type ApiResult<T> = Result<T, ApiError>;
