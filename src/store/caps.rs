//! Cap counters (DESIGN §4): leads per day / week / month / total, the daily budget,
//! and the per-publisher caps. The intake transaction reads the counters a lead
//! touches with a row lock ([`lock`]), decides, and adds to them ([`add`]) before
//! it commits, so no number of server processes sharing the database can pass a
//! cap: PostgreSQL holds the rows, SQLite serialises writers.

use chrono::{Datelike, NaiveDateTime, TimeZone};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::cap_counters;
use crate::per_backend;
use crate::store::offers::Offer;

/// The counter rows a lead at `at` touches for this offer, with their limits.
struct Counter {
    publisher_id: i64,
    period: String,
    max_leads: Option<i64>,
    max_spend: Option<i64>,
}

/// Period keys in the offer's time zone: `d:2026-11-23`, `w:2026-W47`, `m:2026-11`, `t`.
pub fn periods(timezone: &str, at: NaiveDateTime) -> (String, String, String) {
    let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
    let local = tz.from_utc_datetime(&at).date_naive();
    let week = local.iso_week();
    (
        format!("d:{}", local.format("%Y-%m-%d")),
        format!("w:{}-W{:02}", week.year(), week.week()),
        format!("m:{}", local.format("%Y-%m")),
    )
}

fn counters(offer: &Offer, publisher_id: i64, at: NaiveDateTime) -> Vec<Counter> {
    let (day, week, month) = periods(&offer.timezone, at);
    let mut out = vec![
        Counter {
            publisher_id: 0,
            period: day.clone(),
            max_leads: offer.limits.cap_daily,
            max_spend: offer.limits.daily_budget_minor,
        },
        Counter { publisher_id: 0, period: week, max_leads: offer.limits.cap_weekly, max_spend: None },
        Counter { publisher_id: 0, period: month, max_leads: offer.limits.cap_monthly, max_spend: None },
        Counter { publisher_id: 0, period: "t".into(), max_leads: offer.limits.cap_total, max_spend: None },
    ];
    if offer.limits.publisher_cap_daily.is_some() {
        out.push(Counter { publisher_id, period: day, max_leads: offer.limits.publisher_cap_daily, max_spend: None });
    }
    if offer.limits.publisher_cap_total.is_some() {
        out.push(Counter {
            publisher_id,
            period: "t".into(),
            max_leads: offer.limits.publisher_cap_total,
            max_spend: None,
        });
    }
    // Only counters that limit something are kept.
    out.retain(|c| c.max_leads.is_some() || c.max_spend.is_some());
    out
}

/// One counter row a lead touches, with its limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    pub offer_id: i64,
    pub publisher_id: i64,
    pub period: String,
}

/// The counters a lead of this offer at `at` counts against, with (max leads, max spend).
pub fn limits(offer: &Offer, publisher_id: i64, at: NaiveDateTime) -> Vec<(CounterKey, Option<i64>, Option<i64>)> {
    counters(offer, publisher_id, at)
        .into_iter()
        .map(|c| {
            (
                CounterKey { offer_id: offer.id, publisher_id: c.publisher_id, period: c.period },
                c.max_leads,
                c.max_spend,
            )
        })
        .collect()
}

/// The share of a lead cap (%) at which its first alert goes out (DESIGN §4).
pub const ALERT_PCT: i64 = 90;

/// A cap alert: the count passed [`ALERT_PCT`] of the cap, or reached it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapAlert {
    Near,
    Reached,
}

/// The alert a counter crosses going from `before` to `after` leads under a cap of
/// `max`, if any (reaching the cap wins over passing the threshold in one step).
pub fn alert(before: i64, after: i64, max: i64) -> Option<CapAlert> {
    if max <= 0 || after <= before {
        return None;
    }
    if before < max && after >= max {
        return Some(CapAlert::Reached);
    }
    let near = (max.saturating_mul(ALERT_PCT) + 99) / 100;
    (before < near && after >= near && after < max).then_some(CapAlert::Near)
}

/// A counter's cap in plain words: "daily cap", "total cap", "daily cap per publisher".
pub fn cap_name(key: &CounterKey) -> &'static str {
    let per_publisher = key.publisher_id != 0;
    match (key.period.chars().next(), per_publisher) {
        (Some('d'), false) => "daily cap",
        (Some('w'), _) => "weekly cap",
        (Some('m'), _) => "monthly cap",
        (Some('d'), true) => "daily cap per publisher",
        (_, true) => "total cap per publisher",
        _ => "total cap",
    }
}

/// Whether a counter at `(leads, spend)` refuses one more lead of `price`: the
/// lead cap is full, or the spend would pass the budget (an overflow passes it).
pub fn refuses(counter: (i64, i64), price: i64, max_leads: Option<i64>, max_spend: Option<i64>) -> bool {
    let (leads, spend) = counter;
    max_leads.is_some_and(|m| leads >= m) || max_spend.is_some_and(|m| spend.checked_add(price).is_none_or(|t| t > m))
}

/// Read a counter `(leads, spend)` and hold it until the transaction ends (`FOR
/// UPDATE` on PostgreSQL; an SQLite write transaction holds the whole database),
/// so that no other process can count past a cap meanwhile.
pub fn lock(conn: &mut DbConn, key: &CounterKey) -> QueryResult<(i64, i64)> {
    use cap_counters::dsl as c;
    per_backend!(&mut *conn, conn => diesel::insert_into(c::cap_counters)
        .values((c::offer_id.eq(key.offer_id), c::publisher_id.eq(key.publisher_id), c::period.eq(&key.period)))
        .on_conflict_do_nothing()
        .execute(conn))?;
    let q = c::cap_counters
        .filter(c::offer_id.eq(key.offer_id))
        .filter(c::publisher_id.eq(key.publisher_id))
        .filter(c::period.eq(&key.period))
        .select((c::leads, c::spend_minor));
    match conn {
        DbConn::Postgres(conn) => q.for_update().first(conn),
        DbConn::Sqlite(conn) => q.first(conn),
    }
}

/// Add to a counter held with [`lock`].
pub fn add(conn: &mut DbConn, key: &CounterKey, leads: i64, spend: i64) -> QueryResult<()> {
    use cap_counters::dsl as c;
    diesel::update(
        c::cap_counters
            .filter(c::offer_id.eq(key.offer_id))
            .filter(c::publisher_id.eq(key.publisher_id))
            .filter(c::period.eq(&key.period)),
    )
    .set((c::leads.eq(c::leads + leads), c::spend_minor.eq(c::spend_minor + spend)))
    .execute(conn)?;
    Ok(())
}

/// Whether a cap is already full right now (for sending clicks to the fallback).
/// A read, so only a hint; `take` is the one that decides.
pub fn full(conn: &mut DbConn, offer: &Offer, publisher_id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    use cap_counters::dsl as c;
    for counter in counters(offer, publisher_id, at) {
        let row: Option<(i64, i64)> = c::cap_counters
            .filter(c::offer_id.eq(offer.id))
            .filter(c::publisher_id.eq(counter.publisher_id))
            .filter(c::period.eq(&counter.period))
            .select((c::leads, c::spend_minor))
            .first(conn)
            .optional()?;
        // Full when not even the smallest price (one minor unit) fits.
        if refuses(row.unwrap_or((0, 0)), 1, counter.max_leads, counter.max_spend) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_fire_once_as_a_counter_crosses_the_threshold_and_the_cap() {
        assert_eq!(alert(8, 9, 10), Some(CapAlert::Near), "9 of 10 is 90 %");
        assert_eq!(alert(9, 10, 10), Some(CapAlert::Reached));
        assert_eq!(alert(8, 10, 10), Some(CapAlert::Reached), "both in one batch: reached");
        assert_eq!(alert(9, 9, 10), None, "nothing added");
        assert_eq!(alert(10, 11, 10), None, "already reached");
        assert_eq!(alert(170, 180, 200), Some(CapAlert::Near));
        assert_eq!(alert(180, 181, 200), None, "past the threshold already");
        assert_eq!(alert(0, 1, 1), Some(CapAlert::Reached), "a cap of one is reached, never near");
        assert_eq!(alert(0, 1, 0), None);
        assert_eq!(alert(3, 4, 5), None, "4 of 5 is 80 %");
        assert_eq!(alert(4, 5, 5), Some(CapAlert::Reached));
    }

    #[test]
    fn caps_are_named_in_plain_words() {
        let key = |publisher_id, period: &str| CounterKey { offer_id: 1, publisher_id, period: period.into() };
        assert_eq!(cap_name(&key(0, "d:2026-12-07")), "daily cap");
        assert_eq!(cap_name(&key(0, "w:2026-W49")), "weekly cap");
        assert_eq!(cap_name(&key(0, "m:2026-12")), "monthly cap");
        assert_eq!(cap_name(&key(0, "t")), "total cap");
        assert_eq!(cap_name(&key(7, "d:2026-12-07")), "daily cap per publisher");
        assert_eq!(cap_name(&key(7, "t")), "total cap per publisher");
    }
}
