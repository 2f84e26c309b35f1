//! One-time tokens sent by e-mail: address verification and password reset.

use chrono::Duration;
use diesel::prelude::*;

use crate::crypto::{random_token, sha256_hex};
use crate::db::DbConn;
use crate::db::schema::user_tokens;
use crate::store::now;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::VerifyEmail => Duration::days(3),
            Purpose::ResetPassword => Duration::hours(1),
        }
    }
}

/// Issue a token; returns the plaintext for the e-mail link.
pub fn issue(conn: &mut DbConn, user_id: i64, purpose: Purpose) -> QueryResult<String> {
    let plaintext = random_token(32);
    let t = now();
    diesel::insert_into(user_tokens::table)
        .values((
            user_tokens::user_id.eq(user_id),
            user_tokens::purpose.eq(purpose.as_str()),
            user_tokens::token_hash.eq(sha256_hex(&plaintext)),
            user_tokens::expires_at.eq(t + purpose.lifetime()),
            user_tokens::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(plaintext)
}

/// The user a live token belongs to, without using it up (to show the reset form).
pub fn peek(conn: &mut DbConn, purpose: Purpose, plaintext: &str) -> QueryResult<Option<i64>> {
    user_tokens::table
        .filter(user_tokens::token_hash.eq(sha256_hex(plaintext)))
        .filter(user_tokens::purpose.eq(purpose.as_str()))
        .filter(user_tokens::used_at.is_null())
        .filter(user_tokens::expires_at.gt(now()))
        .select(user_tokens::user_id)
        .first(conn)
        .optional()
}

/// Use a token up. A conditional update, so a token works exactly once even when two
/// requests race; returns the owner when this call consumed it.
pub fn consume(conn: &mut DbConn, purpose: Purpose, plaintext: &str) -> QueryResult<Option<i64>> {
    let Some(user_id) = peek(conn, purpose, plaintext)? else {
        return Ok(None);
    };
    let n = diesel::update(
        user_tokens::table
            .filter(user_tokens::token_hash.eq(sha256_hex(plaintext)))
            .filter(user_tokens::used_at.is_null()),
    )
    .set(user_tokens::used_at.eq(Some(now())))
    .execute(conn)?;
    Ok((n == 1).then_some(user_id))
}

/// Use up every live token of `user_id` for `purpose` (after the password changed,
/// every other reset link stops working); returns how many there were.
pub fn revoke_all(conn: &mut DbConn, user_id: i64, purpose: Purpose) -> QueryResult<usize> {
    diesel::update(
        user_tokens::table
            .filter(user_tokens::user_id.eq(user_id))
            .filter(user_tokens::purpose.eq(purpose.as_str()))
            .filter(user_tokens::used_at.is_null()),
    )
    .set(user_tokens::used_at.eq(Some(now())))
    .execute(conn)
}
