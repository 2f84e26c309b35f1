//! Disposable e-mail domains that admins add to the shipped list (DESIGN §7).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::disposable_domains;
use crate::store::now;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = disposable_domains)]
pub struct Added {
    pub domain: String,
    pub added_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// A domain as admins type it (`@Example.com`, `*.example.com`), normalised, or why not.
pub fn normalise(raw: &str) -> Result<String, String> {
    let d = raw.trim().trim_start_matches('@');
    let d = d.strip_prefix("*.").unwrap_or(d).trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if d.len() > 253 || !d.contains('.') || !d.split('.').all(label_ok) {
        return Err(format!("{raw:?} is not a domain like mailinator.com"));
    }
    Ok(d)
}

/// Add a domain; `false` when it was listed already.
pub fn add(conn: &mut DbConn, domain: &str, admin_id: i64) -> QueryResult<bool> {
    let n = crate::per_backend!(&mut *conn, c => diesel::insert_into(disposable_domains::table)
        .values((
            disposable_domains::domain.eq(domain),
            disposable_domains::added_by.eq(Some(admin_id)),
            disposable_domains::created_at.eq(now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

pub fn remove(conn: &mut DbConn, domain: &str) -> QueryResult<bool> {
    Ok(diesel::delete(disposable_domains::table.find(domain)).execute(conn)? == 1)
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Added>> {
    disposable_domains::table.order(disposable_domains::domain).select(Added::as_select()).load(conn)
}

/// The domains admins added (their names only), for the scrub rules.
pub fn added_names(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    disposable_domains::table.select(disposable_domains::domain).load(conn)
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalises_what_admins_type() {
        assert_eq!(super::normalise(" @Trash-Mail.example. ").as_deref(), Ok("trash-mail.example"));
        assert_eq!(super::normalise("*.temp.io").as_deref(), Ok("temp.io"));
        for bad in ["", "localhost", "a b.com", "-x.com", "x..com", "x@y.com"] {
            assert!(super::normalise(bad).is_err(), "{bad}");
        }
    }
}
