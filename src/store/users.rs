//! Accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::users;
use crate::domain::account::{AccountStatus, Role};
use crate::store::{is_unique_violation, now};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub status: String,
    pub display_name: String,
    pub company: String,
    pub timezone: String,
    pub email_verified_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl User {
    pub fn role(&self) -> Role {
        // The column has a CHECK constraint; publisher is the least-privileged fallback.
        self.role.parse().unwrap_or(Role::Publisher)
    }

    pub fn status(&self) -> AccountStatus {
        self.status.parse().unwrap_or(AccountStatus::Suspended)
    }

    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// How an admin's pages name a party: `Ann Lee (ann@example.com)`, or the
    /// e-mail alone when the account has no name.
    pub fn party(&self) -> String {
        match self.display_name.trim() {
            "" => self.email.clone(),
            name => format!("{name} ({})", self.email),
        }
    }
}

/// The accounts among `ids`, by id (an id with no account is left out).
pub fn by_ids(conn: &mut DbConn, ids: &[i64]) -> QueryResult<std::collections::HashMap<i64, User>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for u in users::table.filter(users::id.eq_any(chunk)).select(User::as_select()).load(conn)? {
            out.insert(u.id, u);
        }
    }
    Ok(out)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub status: &'a str,
    pub display_name: &'a str,
    pub company: &'a str,
    pub timezone: &'a str,
    pub email_verified_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with this e-mail already exists")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

pub struct UserSpec<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub status: AccountStatus,
    pub display_name: &'a str,
    pub company: &'a str,
    pub verified: bool,
}

impl<'a> UserSpec<'a> {
    /// An active, verified account without a company: what the CLI, an admin's
    /// invitation and seeded data create.
    pub fn active(email: &'a str, password_hash: &'a str, role: Role, display_name: &'a str) -> UserSpec<'a> {
        UserSpec {
            email,
            password_hash,
            role,
            status: AccountStatus::Active,
            display_name,
            company: "",
            verified: true,
        }
    }
}

pub fn create(conn: &mut DbConn, spec: UserSpec<'_>) -> Result<User, CreateUserError> {
    let t = now();
    let row = NewUser {
        email: spec.email,
        password_hash: spec.password_hash,
        role: spec.role.as_str(),
        status: spec.status.as_str(),
        display_name: spec.display_name,
        company: spec.company,
        timezone: "UTC",
        email_verified_at: spec.verified.then_some(t),
        created_at: t,
        updated_at: t,
    };
    diesel::insert_into(users::table)
        .values(&row)
        .returning(users::all_columns)
        .get_result(conn)
        .map_err(|e| if is_unique_violation(&e) { CreateUserError::EmailTaken } else { CreateUserError::Db(e) })
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).first(conn).optional()
}

/// The ids among `ids` whose account is not active (suspended, or still waiting for
/// approval), in one query: tracking stops paying such accounts' traffic. An id
/// with no account is not listed (its offer or link was not found either).
pub fn inactive_among(conn: &mut DbConn, ids: &[i64]) -> QueryResult<std::collections::HashSet<i64>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<i64> = users::table
        .filter(users::id.eq_any(ids))
        .filter(users::status.ne(AccountStatus::Active.as_str()))
        .select(users::id)
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::email.eq(email)).select(User::as_select()).first(conn).optional()
}

pub fn mark_verified(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    let t = now();
    diesel::update(users::table.find(id).filter(users::email_verified_at.is_null()))
        .set((users::email_verified_at.eq(Some(t)), users::updated_at.eq(t)))
        .execute(conn)
}

pub fn set_password_hash(conn: &mut DbConn, id: i64, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now())))
        .execute(conn)
}

pub fn set_status(conn: &mut DbConn, id: i64, status: AccountStatus) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::status.eq(status.as_str()), users::updated_at.eq(now())))
        .execute(conn)
}

pub fn update_profile(
    conn: &mut DbConn,
    id: i64,
    display_name: &str,
    company: &str,
    timezone: &str,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::display_name.eq(display_name),
            users::company.eq(company),
            users::timezone.eq(timezone),
            users::updated_at.eq(now()),
        ))
        .execute(conn)
}

/// How many accounts there are per (role, status).
pub fn counts(conn: &mut DbConn) -> QueryResult<Vec<(String, String, i64)>> {
    users::table
        .group_by((users::role, users::status))
        .select((users::role, users::status, diesel::dsl::count_star()))
        .order((users::role, users::status))
        .load(conn)
}

/// Accounts for the admin list, newest first, optionally one role or status.
pub fn list(
    conn: &mut DbConn,
    role: Option<Role>,
    status: Option<AccountStatus>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let mut q = users::table.select(User::as_select()).order(users::id.desc()).limit(limit).into_boxed();
    if let Some(r) = role {
        q = q.filter(users::role.eq(r.as_str()));
    }
    if let Some(s) = status {
        q = q.filter(users::status.eq(s.as_str()));
    }
    q.load(conn)
}

/// How many accounts there are.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}
