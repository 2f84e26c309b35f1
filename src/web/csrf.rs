//! CSRF protection: a synchronizer token kept in the session and echoed in a hidden
//! `csrf_token` field by every form. [`CsrfForm`] is the only way handlers read a form
//! body, so a form without a valid token never reaches a handler.

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::crypto::{constant_time_eq, random_token};
use crate::error::AppError;

pub const CSRF_FIELD: &str = "csrf_token";
const SESSION_KEY: &str = "csrf";

/// The session's token, created on first use.
pub fn token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(SESSION_KEY) {
        return t;
    }
    rotate(session)
}

/// Replace the token (at login, so a token seen before login is worthless after).
pub fn rotate(session: &Session) -> String {
    let t = random_token(32);
    if let Err(e) = session.insert(SESSION_KEY, &t) {
        tracing::warn!(error = %e, "cannot store the CSRF token");
    }
    t
}

pub fn verify(session: &Session, submitted: Option<&str>) -> Result<(), AppError> {
    match (session.get::<String>(SESSION_KEY).ok().flatten(), submitted) {
        (Some(expected), Some(got)) if constant_time_eq(&expected, got) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}

/// The body of a form that carries nothing but its CSRF token (log out, revoke, …).
#[derive(Debug, serde::Deserialize)]
pub struct NoFields {}

/// A URL-encoded form whose `csrf_token` matched the session's.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|_| AppError::invalid("the form is too large or was cut off"))?;
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).map_err(|_| AppError::invalid("the form could not be read"))?;
            let submitted = pairs.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.as_str());
            verify(&session, submitted)?;
            serde_urlencoded::from_bytes::<T>(&body)
                .map(CsrfForm)
                .map_err(|e| AppError::invalid(format!("the form is incomplete: {e}")))
        })
    }
}
