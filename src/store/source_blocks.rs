//! Traffic-source blocks (DESIGN §5, [`crate::domain::source_block`]): kept here,
//! read into each tracking link's cache entry.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::source_blocks;
use crate::domain::source_block::{self, BlockSpec, Blocks};
use crate::store::now;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = source_blocks)]
pub struct Block {
    pub id: i64,
    /// None: the whole network (an admin's block).
    pub offer_id: Option<i64>,
    /// None: every publisher (of the offer, or of the network).
    pub publisher_id: Option<i64>,
    pub field: String,
    pub mode: String,
    pub value: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

impl Block {
    /// The block in plain words ("Clicks whose sub1 is “spam”").
    pub fn words(&self) -> String {
        source_block::describe(&self.field, &self.mode, &self.value)
    }
}

/// Where a block applies: an offer (or the network) and a publisher (or all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub offer_id: Option<i64>,
    pub publisher_id: Option<i64>,
}

/// Add a block; `None` when the same block (the value compared without regard to
/// case) is there already.
pub fn add(conn: &mut DbConn, scope: Scope, spec: &BlockSpec, by: i64) -> QueryResult<Option<i64>> {
    let same = source_blocks::table
        .filter(source_blocks::field.eq(spec.field))
        .filter(source_blocks::mode.eq(spec.mode.as_str()))
        .select(Block::as_select())
        .load(conn)?
        .into_iter()
        .any(|b| {
            b.offer_id == scope.offer_id
                && b.publisher_id == scope.publisher_id
                && b.value.to_lowercase() == spec.value.to_lowercase()
        });
    if same {
        return Ok(None);
    }
    diesel::insert_into(source_blocks::table)
        .values((
            source_blocks::offer_id.eq(scope.offer_id),
            source_blocks::publisher_id.eq(scope.publisher_id),
            source_blocks::field.eq(spec.field),
            source_blocks::mode.eq(spec.mode.as_str()),
            source_blocks::value.eq(&spec.value),
            source_blocks::created_by.eq(by),
            source_blocks::created_at.eq(now()),
        ))
        .returning(source_blocks::id)
        .get_result(conn)
        .map(Some)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Block>> {
    source_blocks::table.find(id).select(Block::as_select()).first(conn).optional()
}

pub fn remove(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(source_blocks::table.find(id)).execute(conn)? == 1)
}

/// An offer's own blocks (for every publisher and for one), oldest first.
pub fn of_offer(conn: &mut DbConn, offer_id: i64) -> QueryResult<Vec<Block>> {
    source_blocks::table
        .filter(source_blocks::offer_id.eq(offer_id))
        .order(source_blocks::id)
        .select(Block::as_select())
        .load(conn)
}

/// The network's blocks (an admin's, on every offer), oldest first.
pub fn network(conn: &mut DbConn) -> QueryResult<Vec<Block>> {
    source_blocks::table
        .filter(source_blocks::offer_id.is_null())
        .order(source_blocks::id)
        .select(Block::as_select())
        .load(conn)
}

/// Every block that applies to a publisher's link on an offer: the offer's for
/// everyone and for this publisher, and the network's for everyone and for it.
pub fn applying(conn: &mut DbConn, offer_id: i64, publisher_id: i64) -> QueryResult<Vec<Block>> {
    source_blocks::table
        .filter(source_blocks::offer_id.eq(offer_id).or(source_blocks::offer_id.is_null()))
        .filter(source_blocks::publisher_id.eq(publisher_id).or(source_blocks::publisher_id.is_null()))
        .order(source_blocks::id)
        .select(Block::as_select())
        .load(conn)
}

/// The blocks of a link, ready for its clicks.
pub fn for_link(conn: &mut DbConn, offer_id: i64, publisher_id: i64) -> QueryResult<Blocks> {
    let list = applying(conn, offer_id, publisher_id)?;
    Ok(Blocks::new(list.iter().map(|b| (b.field.as_str(), b.mode.as_str(), b.value.as_str()))))
}

/// Every offer's blocks (the admin's list), newest first.
pub fn all_offers(conn: &mut DbConn) -> QueryResult<Vec<Block>> {
    source_blocks::table
        .filter(source_blocks::offer_id.is_not_null())
        .order(source_blocks::id.desc())
        .select(Block::as_select())
        .load(conn)
}
