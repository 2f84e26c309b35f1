//! Server-side web sessions. The cookie holds a random key; the table holds its
//! SHA-256, so a leaked database does not hand out live sessions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::crypto::sha256_hex;
use crate::db::DbConn;
use crate::db::schema::sessions;
use crate::store::now;

pub fn load(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    sessions::table
        .find(sha256_hex(key))
        .filter(sessions::expires_at.gt(now()))
        .select(sessions::state)
        .first(conn)
        .optional()
}

pub fn insert(
    conn: &mut DbConn,
    key: &str,
    user_id: Option<i64>,
    state: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(sha256_hex(key)),
            sessions::user_id.eq(user_id),
            sessions::state.eq(state),
            sessions::expires_at.eq(expires_at),
            sessions::created_at.eq(now()),
        ))
        .execute(conn)
}

pub fn update(
    conn: &mut DbConn,
    key: &str,
    user_id: Option<i64>,
    state: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(sessions::table.find(sha256_hex(key)))
        .set((sessions::user_id.eq(user_id), sessions::state.eq(state), sessions::expires_at.eq(expires_at)))
        .execute(conn)
}

pub fn touch(conn: &mut DbConn, key: &str, expires_at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(sessions::table.find(sha256_hex(key))).set(sessions::expires_at.eq(expires_at)).execute(conn)
}

pub fn delete(conn: &mut DbConn, key: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(sha256_hex(key))).execute(conn)
}

/// End every session of a user (after a password reset or a suspension).
pub fn delete_for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

pub fn purge_expired(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now()))).execute(conn)
}
