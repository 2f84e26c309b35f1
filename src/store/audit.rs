//! The audit log: every admin action and every admin view of unmasked personal data.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::audit_log;
use crate::store::now;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<i64>,
    pub detail: String,
    pub ip: Option<String>,
    pub created_at: NaiveDateTime,
}

pub struct Event<'a> {
    pub actor_id: Option<i64>,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: Option<i64>,
    pub detail: &'a str,
    pub ip: Option<&'a str>,
}

pub fn record(conn: &mut DbConn, e: Event<'_>) -> QueryResult<usize> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(e.actor_id),
            audit_log::action.eq(e.action),
            audit_log::subject_type.eq(e.subject_type),
            audit_log::subject_id.eq(e.subject_id),
            audit_log::detail.eq(e.detail),
            audit_log::ip.eq(e.ip),
            audit_log::created_at.eq(now()),
        ))
        .execute(conn)
}

pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    audit_log::table.order(audit_log::id.desc()).limit(limit).select(AuditEntry::as_select()).load(conn)
}
