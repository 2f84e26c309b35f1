//! Repeated clicks (DESIGN §7 `duplicate_click`, §9 unique clicks): how many earlier
//! clicks the same visitor — the same IP address and user agent — made on the same
//! link (offer and publisher) within a window, counted as each click is built and
//! stored with it (`clicks.repeat_clicks`).
//!
//! Counted here, in this process's memory, because the click path must stay one
//! batched insert: `clicks` has no index by link or address to count with, and
//! every index would cost each click. So the count is per process: with several
//! nodes each counts the clicks it served (a load balancer sticky by client
//! address keeps it exact), and a restart forgets the windows. Nothing exact is
//! decided from it: an offer flags before it rejects, and only past its own
//! thresholds.
//!
//! Bounded: a visitor keeps its newest [`REPEATS_COUNTED`] click times (so a count
//! stops there), and a shard keeps at most its share of [`MAX_VISITORS`]; a full
//! shard first forgets the visitors whose windows have closed, then, if that is not
//! enough, the half it heard from longest ago.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::{Mutex, PoisonError};

use chrono::NaiveDateTime;

pub use crate::domain::scrub::REPEATS_COUNTED;

/// Visitor-link pairs remembered per process (80 to 330 bytes each, by how many click times it keeps).
pub const MAX_VISITORS: usize = 100_000;
/// Independent locks: the click handlers of different visitors rarely wait on each other.
const SHARDS: usize = 8;

/// The recent clicks of one visitor on one link.
struct Recent {
    /// Until when one of its clicks still falls in a window: its newest click plus
    /// that click's window (seconds since the epoch).
    keep_until: u32,
    /// Its newest click times (seconds since the epoch), oldest first, at most
    /// [`REPEATS_COUNTED`].
    times: Vec<u32>,
}

/// The keys are already hashes (of the link, address and user agent, with a key
/// of this process's own): the map uses them as they are.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; kept correct for anything else anyway.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Shard = HashMap<u64, Recent, BuildHasherDefault<Prehashed>>;

/// The per-process record of recent clicks (in `AppState`).
pub struct ClickRepeats {
    /// Keyed per process: nobody can choose user agents whose hashes collide.
    keys: RandomState,
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
}

impl Default for ClickRepeats {
    fn default() -> Self {
        ClickRepeats::with_capacity(MAX_VISITORS)
    }
}

fn seconds(at: NaiveDateTime) -> u32 {
    u32::try_from(at.and_utc().timestamp().max(0)).unwrap_or(u32::MAX)
}

impl ClickRepeats {
    /// Remembering at most `visitors` visitor-link pairs.
    pub fn with_capacity(visitors: usize) -> ClickRepeats {
        ClickRepeats {
            keys: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            per_shard: visitors.div_ceil(SHARDS).max(1),
        }
    }

    /// Record a click of the visitor (`ip`, `user_agent`) on the link (`offer_id`,
    /// `publisher_id`) at `at`, and say how many of its earlier clicks on the link
    /// fell within `window_minutes` before it (at most [`REPEATS_COUNTED`]).
    pub fn record(
        &self,
        offer_id: i64,
        publisher_id: i64,
        ip: &str,
        user_agent: &str,
        at: NaiveDateTime,
        window_minutes: u32,
    ) -> i32 {
        let key = self.keys.hash_one((offer_id, publisher_id, ip, user_agent));
        let now = seconds(at);
        let window = window_minutes.saturating_mul(60);
        let mut shard = self.shards[shard_of(key)].lock().unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= self.per_shard && !shard.contains_key(&key) {
            make_room(&mut shard, now, self.per_shard);
        }
        let recent = shard.entry(key).or_insert_with(|| Recent { keep_until: 0, times: Vec::new() });
        // Within the window: at most `window` seconds before this click (a time
        // after it, from a clock set back, counts too).
        recent.times.retain(|t| now.saturating_sub(*t) <= window);
        let earlier = recent.times.len();
        if earlier >= REPEATS_COUNTED {
            recent.times.remove(0);
        }
        recent.times.push(now);
        recent.keep_until = recent.keep_until.max(now.saturating_add(window));
        earlier as i32
    }

    /// How many visitor-link pairs are remembered now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The shard of a key: from its bits mixed (the map inside the shard reads the
/// low bits for its buckets and the high ones for its tags, which must not repeat
/// across one shard's keys).
fn shard_of(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61) as usize % SHARDS
}

/// Make a full shard room for a new visitor: forget those whose windows have
/// closed, then, while more than half full, the half heard from longest ago.
fn make_room(shard: &mut Shard, now: u32, max: usize) {
    shard.retain(|_, r| r.keep_until >= now);
    if shard.len() > max / 2 {
        let mut until: Vec<u32> = shard.values().map(|r| r.keep_until).collect();
        let middle = until.len() / 2;
        let (_, median, _) = until.select_nth_unstable(middle);
        let median = *median;
        shard.retain(|_, r| r.keep_until > median);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)";

    fn t0() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 7).and_then(|d| d.and_hms_opt(10, 0, 0)).expect("time")
    }

    #[test]
    fn counts_the_earlier_clicks_within_the_window() {
        let r = ClickRepeats::default();
        let at = |m: i64| t0() + Duration::minutes(m);
        assert_eq!(r.record(1, 2, "10.0.0.1", UA, at(0), 10), 0, "a first click has none before it");
        assert_eq!(r.record(1, 2, "10.0.0.1", UA, at(1), 10), 1);
        assert_eq!(r.record(1, 2, "10.0.0.1", UA, at(2), 10), 2);
        // Ten minutes after the first click it still counts; a second later it does not.
        assert_eq!(r.record(1, 2, "10.0.0.1", UA, at(10), 10), 3);
        assert_eq!(r.record(1, 2, "10.0.0.1", UA, at(10) + Duration::seconds(1), 10), 3, "the first fell out");
        // Long after, the visitor starts afresh.
        assert_eq!(r.record(1, 2, "10.0.0.1", UA, at(60), 10), 0);
        // The window is the offer's at the click: a wider one sees further back.
        assert_eq!(r.record(1, 2, "10.0.0.1", UA, at(100), 60), 1);
    }

    #[test]
    fn another_address_browser_or_link_is_another_visitor() {
        let r = ClickRepeats::default();
        let at = t0();
        assert_eq!(r.record(1, 2, "10.0.0.1", UA, at, 10), 0);
        assert_eq!(r.record(1, 2, "10.0.0.2", UA, at, 10), 0, "another address");
        assert_eq!(r.record(1, 2, "10.0.0.1", "curl/8", at, 10), 0, "another user agent");
        assert_eq!(r.record(1, 3, "10.0.0.1", UA, at, 10), 0, "another publisher's link");
        assert_eq!(r.record(4, 2, "10.0.0.1", UA, at, 10), 0, "another offer");
        assert_eq!(r.record(1, 2, "10.0.0.1", UA, at, 10), 1, "the first visitor again");
        assert_eq!(r.len(), 5);
    }

    #[test]
    fn a_count_stops_at_what_a_visitor_remembers() {
        let r = ClickRepeats::default();
        for i in 0..REPEATS_COUNTED {
            assert_eq!(r.record(1, 2, "10.0.0.1", UA, t0() + Duration::seconds(i as i64), 60), i as i32);
        }
        for i in 0..10 {
            let at = t0() + Duration::seconds((REPEATS_COUNTED + i) as i64);
            assert_eq!(r.record(1, 2, "10.0.0.1", UA, at, 60), REPEATS_COUNTED as i32, "counted up to the bound");
        }
    }

    #[test]
    fn a_full_record_forgets_closed_windows_then_the_oldest_half() {
        let r = ClickRepeats::with_capacity(80);
        // 80 visitors over 80 minutes with 10-minute windows: the ones from the
        // first 70 minutes are forgotten as the record fills.
        for i in 0..80 {
            r.record(1, 2, &format!("10.0.0.{i}"), UA, t0() + Duration::minutes(i), 10);
        }
        assert!(r.len() <= 80, "{}", r.len());
        // Never more than the bound, however many visitors come at once.
        for i in 0..1000 {
            r.record(1, 2, &format!("10.1.{}.{}", i / 250, i % 250), UA, t0() + Duration::minutes(100), 10);
        }
        assert!(r.len() <= 80, "{}", r.len());
        // A visitor still remembered keeps its count.
        let recent = t0() + Duration::minutes(100);
        assert_eq!(r.record(7, 7, "10.9.9.9", UA, recent, 10), 0);
        assert_eq!(r.record(7, 7, "10.9.9.9", UA, recent + Duration::seconds(1), 10), 1);
    }

    #[test]
    fn make_room_keeps_the_visitors_whose_windows_are_open() {
        let mut shard = Shard::default();
        for (k, until) in [(1, 100), (2, 200), (3, 300), (4, 400)] {
            shard.insert(k, Recent { keep_until: until, times: vec![until - 10] });
        }
        make_room(&mut shard, 250, 10);
        let mut kept: Vec<u64> = shard.keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, vec![3, 4], "closed windows go first, and half of 10 is room enough");
        for k in 10..20 {
            shard.insert(k, Recent { keep_until: 1000 + k as u32, times: vec![] });
        }
        make_room(&mut shard, 250, 10);
        assert!(shard.len() <= 6 && shard.contains_key(&19) && !shard.contains_key(&3), "{:?}", shard.keys());
    }
}
