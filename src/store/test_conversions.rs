//! Test clicks and test conversions (DESIGN "Trust"): an advertiser checks its
//! integration with a click of its own test link and the postback or pixel its
//! systems then fire. They live in their own tables, which nothing that counts
//! (leads, money, caps, rollups, duplicate checks, publishers' logs) ever reads.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{test_clicks, test_conversions};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = test_clicks)]
pub struct TestClick {
    pub click_id: String,
    pub offer_id: i64,
    pub advertiser_id: i64,
    pub ip: String,
    pub user_agent: String,
    pub country: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A stored test conversion: what was written ([`NewTestConversion`], read through
/// `Deref`) and its id.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = test_conversions)]
pub struct TestConversion {
    pub id: i64,
    #[diesel(embed)]
    #[serde(flatten)]
    pub row: NewTestConversion,
}

impl std::ops::Deref for TestConversion {
    type Target = NewTestConversion;
    fn deref(&self) -> &NewTestConversion {
        &self.row
    }
}

impl TestConversion {
    pub fn missing_list(&self) -> Vec<String> {
        serde_json::from_str(&self.missing).unwrap_or_default()
    }
    pub fn check_list(&self) -> Vec<crate::domain::scrub::Check> {
        serde_json::from_str(&self.checks).unwrap_or_default()
    }
    pub fn field_list(&self) -> Vec<(String, String)> {
        serde_json::from_str::<std::collections::BTreeMap<String, String>>(&self.fields)
            .map(|m| m.into_iter().collect())
            .unwrap_or_default()
    }
}

/// A test conversion as written: what intake would have answered, without writing
/// a lead (DESIGN "Test conversions").
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = test_conversions, treat_none_as_default_value = false)]
pub struct NewTestConversion {
    pub offer_id: i64,
    pub click_id: String,
    pub channel: String,
    pub event: String,
    pub txid: Option<String>,
    /// The fields sent, a JSON object.
    pub fields: String,
    pub amount_minor: Option<i64>,
    /// `accepted` or `rejected`: what intake would have answered.
    pub status: String,
    pub reason: Option<String>,
    pub detail: String,
    /// The required fields it lacked, a JSON array.
    pub missing: String,
    /// Every scrub rule's outcome on it, a JSON array of checks.
    pub checks: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_click(conn: &mut DbConn, click: &TestClick) -> QueryResult<()> {
    diesel::insert_into(test_clicks::table).values(click).execute(conn).map(|_| ())
}

pub fn find_click(conn: &mut DbConn, click_id: &str) -> QueryResult<Option<TestClick>> {
    test_clicks::table.find(click_id).select(TestClick::as_select()).first(conn).optional()
}

/// Test clicks on an offer since `since` (the test link's rate limit).
pub fn clicks_since(conn: &mut DbConn, offer_id: i64, since: NaiveDateTime) -> QueryResult<i64> {
    test_clicks::table
        .filter(test_clicks::offer_id.eq(offer_id))
        .filter(test_clicks::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// Test conversions on an offer since `since` (the test intake's rate limit).
pub fn conversions_since(conn: &mut DbConn, offer_id: i64, since: NaiveDateTime) -> QueryResult<i64> {
    test_conversions::table
        .filter(test_conversions::offer_id.eq(offer_id))
        .filter(test_conversions::created_at.ge(since))
        .count()
        .get_result(conn)
}

pub fn insert(conn: &mut DbConn, row: &NewTestConversion) -> QueryResult<i64> {
    diesel::insert_into(test_conversions::table).values(row).returning(test_conversions::id).get_result(conn)
}

/// An offer's latest test conversions, newest first.
pub fn recent(conn: &mut DbConn, offer_id: i64, limit: i64) -> QueryResult<Vec<TestConversion>> {
    test_conversions::table
        .filter(test_conversions::offer_id.eq(offer_id))
        .order(test_conversions::id.desc())
        .limit(limit)
        .select(TestConversion::as_select())
        .load(conn)
}
