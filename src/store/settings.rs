//! Platform settings that admins change at run time, stored as text.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::settings;
use crate::store::now;

/// New accounts wait for an admin before they can log in.
pub const REQUIRE_ACCOUNT_APPROVAL: &str = "require_account_approval";

/// An admin's datacenter ranges (CIDRs, one per line), added to the shipped list.
pub const DATACENTER_RANGES: &str = "datacenter_ranges";
/// An admin's privacy-relay ranges (CIDRs, one per line), added to the shipped list.
pub const RELAY_RANGES: &str = "relay_ranges";

pub fn get(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    settings::table.find(key).select(settings::value).first(conn).optional()
}

pub fn get_bool(conn: &mut DbConn, key: &str, default: bool) -> QueryResult<bool> {
    Ok(get(conn, key)?.map(|v| v == "true").unwrap_or(default))
}

pub fn set(conn: &mut DbConn, key: &str, value: &str) -> QueryResult<()> {
    conn.transaction(|conn| {
        let n = diesel::update(settings::table.find(key))
            .set((settings::value.eq(value), settings::updated_at.eq(now())))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(settings::table)
                .values((settings::key.eq(key), settings::value.eq(value), settings::updated_at.eq(now())))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// The platform fee default in basis points, set by an admin; falls back to
/// `QUALEAD_PLATFORM_FEE_BPS`.
pub const PLATFORM_FEE_BPS: &str = "platform_fee_bps";

pub fn platform_fee_bps(conn: &mut DbConn, config_default: u32) -> QueryResult<i64> {
    Ok(get(conn, PLATFORM_FEE_BPS)?.and_then(|v| v.parse().ok()).unwrap_or(i64::from(config_default)))
}

/// The smallest payout a publisher may request, in minor units (admin setting;
/// default 50.00).
pub const PAYOUT_MINIMUM_MINOR: &str = "payout_minimum_minor";
pub const DEFAULT_PAYOUT_MINIMUM_MINOR: i64 = 50_00;

pub fn payout_minimum_minor(conn: &mut DbConn) -> QueryResult<i64> {
    Ok(get(conn, PAYOUT_MINIMUM_MINOR)?.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_PAYOUT_MINIMUM_MINOR))
}
