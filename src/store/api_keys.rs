//! API keys: shown once at creation, stored as SHA-256, revocable.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::crypto::{random_token, sha256_hex};
use crate::db::DbConn;
use crate::db::schema::{api_keys, users};
use crate::store::now;
use crate::store::users::User;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Every key starts with this, so leaked keys are easy to recognise in code scanners.
pub const KEY_PREFIX: &str = "qlk_";

/// Create a key for `user_id`; returns the plaintext (shown once) and the stored row.
pub fn create(conn: &mut DbConn, user_id: i64, name: &str) -> QueryResult<(String, ApiKey)> {
    let plaintext = format!("{KEY_PREFIX}{}", random_token(32));
    let row = diesel::insert_into(api_keys::table)
        .values((
            api_keys::user_id.eq(user_id),
            api_keys::name.eq(name),
            api_keys::prefix.eq(&plaintext[..KEY_PREFIX.len() + 6]),
            api_keys::key_hash.eq(sha256_hex(&plaintext)),
            api_keys::created_at.eq(now()),
        ))
        .returning(api_keys::all_columns)
        .get_result(conn)?;
    Ok((plaintext, row))
}

/// The user owning an unrevoked key, and note when it was used.
pub fn authenticate(conn: &mut DbConn, plaintext: &str) -> QueryResult<Option<User>> {
    let found: Option<(i64, User)> = api_keys::table
        .inner_join(users::table)
        .filter(api_keys::key_hash.eq(sha256_hex(plaintext)))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::id, User::as_select()))
        .first(conn)
        .optional()?;
    if let Some((key_id, _)) = &found {
        diesel::update(api_keys::table.find(*key_id)).set(api_keys::last_used_at.eq(Some(now()))).execute(conn)?;
    }
    Ok(found.map(|(_, u)| u))
}

pub fn list_for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<ApiKey>> {
    api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .order(api_keys::id.desc())
        .select(ApiKey::as_select())
        .load(conn)
}

/// Revoke one of the user's own keys; returns whether a live key was revoked.
pub fn revoke(conn: &mut DbConn, user_id: i64, key_id: i64) -> QueryResult<bool> {
    let n = diesel::update(
        api_keys::table.find(key_id).filter(api_keys::user_id.eq(user_id)).filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(now())))
    .execute(conn)?;
    Ok(n == 1)
}
