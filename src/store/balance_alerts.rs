//! Low-balance alert thresholds (DESIGN §8): per advertiser, none = no alert.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::balance_alerts;
use crate::store::now;

/// Set (or with `None` remove) an advertiser's threshold.
pub fn set(conn: &mut DbConn, advertiser_id: i64, threshold_minor: Option<i64>) -> QueryResult<()> {
    diesel::delete(balance_alerts::table.find(advertiser_id)).execute(conn)?;
    if let Some(t) = threshold_minor {
        diesel::insert_into(balance_alerts::table)
            .values((
                balance_alerts::advertiser_id.eq(advertiser_id),
                balance_alerts::threshold_minor.eq(t),
                balance_alerts::updated_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn get(conn: &mut DbConn, advertiser_id: i64) -> QueryResult<Option<i64>> {
    balance_alerts::table.find(advertiser_id).select(balance_alerts::threshold_minor).first(conn).optional()
}

/// The thresholds of these advertisers (those that set one).
pub fn of_many(conn: &mut DbConn, advertiser_ids: &[i64]) -> QueryResult<HashMap<i64, i64>> {
    if advertiser_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(balance_alerts::table
        .filter(balance_alerts::advertiser_id.eq_any(advertiser_ids))
        .select((balance_alerts::advertiser_id, balance_alerts::threshold_minor))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect())
}
