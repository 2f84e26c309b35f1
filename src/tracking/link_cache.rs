//! A short-lived, process-local cache of tracking links (membership + offer), so a
//! click costs no reads, only its share of a batched write. Read-mostly data with a
//! short TTL, as DESIGN §1 allows. A change made through this process (an offer
//! paused, resumed or edited, a publisher approved, an account suspended, an offer
//! paused by the intake writer when its advertiser's balance ran out) clears it, so
//! its next click reads the link afresh; changes made by other processes sharing
//! the database reach clicks within `QUALEAD_LINK_CACHE_SECS` seconds. Nothing
//! exact is decided from it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::offers::{Membership, Offer};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LinkKey {
    Token(String),
    Pair { offer_id: i64, publisher_id: i64 },
}

/// A tracking link as clicks need it: the membership, its offer, and whether a cap
/// of the offer was full when the entry was read (clicks then go to the fallback).
#[derive(Debug)]
pub struct LinkInfo {
    pub membership: Membership,
    pub offer: Offer,
    pub capped: bool,
    /// Why the link's publisher or the offer's advertiser may not take traffic now
    /// (`publisher_suspended`, `advertiser_suspended`), read with the entry.
    pub account_reason: Option<&'static str>,
    /// The pixel cookie's name, `ql_c{offer_id}` (see [`crate::tracking::click::click_cookie_name`]).
    pub cookie_name: String,
    /// What follows the click id in the `Set-Cookie` header: the cookie's attributes
    /// (path, `HttpOnly`, `SameSite`, `Secure`, and a lifetime of the offer's
    /// conversion window), formatted once per cache entry rather than per click.
    pub cookie_attributes: String,
    /// The countries, devices and OS families the offer buys, read from its terms.
    pub targeting: crate::domain::targeting::Targeting,
    /// The traffic-source blocks that apply to the link (the offer's, the
    /// publisher's on the offer, the network's).
    pub blocks: crate::domain::source_block::Blocks,
    /// The window a click's earlier clicks from its visitor are counted in, in
    /// minutes (`duplicate_click`'s, else the default), read from the offer's terms.
    pub repeat_window_minutes: u32,
}

pub type Link = Arc<LinkInfo>;

pub struct LinkCache {
    ttl: Duration,
    entries: Mutex<HashMap<LinkKey, (Instant, Option<Link>)>>,
    /// How many times the cache was cleared: a link read before a clear must not
    /// be stored after it (it may be what the change just replaced).
    generation: AtomicU64,
}

/// Past this many entries the cache starts over (bounded memory under token spraying).
const MAX_ENTRIES: usize = 100_000;

impl LinkCache {
    pub fn new(ttl: Duration) -> LinkCache {
        LinkCache { ttl, entries: Mutex::new(HashMap::new()), generation: AtomicU64::new(0) }
    }

    /// Take this before reading a link from the database, and hand it to [`put`](Self::put).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A fresh entry: `Some(None)` is a cached "no such link".
    pub fn get(&self, key: &LinkKey) -> Option<Option<Link>> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    /// Forget every entry: this process then reads links afresh (an account was
    /// suspended, say). Other processes sharing the database see it within the TTL.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.clear();
        }
    }

    /// Cache what was read for `key` since [`generation`](Self::generation) gave
    /// `read_at`, unless the cache was cleared meanwhile: the read may then predate
    /// the change that cleared it, and the next click reads again.
    pub fn put(&self, read_at: u64, key: LinkKey, value: Option<Link>) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            // Compared under the lock that `clear` takes: no clear can fall between.
            if self.generation.load(Ordering::Acquire) != read_at {
                return;
            }
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_ttl_caches_nothing() {
        let c = LinkCache::new(Duration::ZERO);
        c.put(c.generation(), LinkKey::Token("t".into()), None);
        assert!(c.get(&LinkKey::Token("t".into())).is_none());
        let c = LinkCache::new(Duration::from_secs(60));
        c.put(c.generation(), LinkKey::Token("t".into()), None);
        assert_eq!(c.get(&LinkKey::Token("t".into())).map(|v| v.is_none()), Some(true));
        assert!(c.get(&LinkKey::Pair { offer_id: 1, publisher_id: 2 }).is_none());
    }

    #[test]
    fn a_link_read_before_a_clear_is_not_cached_after_it() {
        let c = LinkCache::new(Duration::from_secs(60));
        let key = LinkKey::Token("t".into());
        let read_at = c.generation();
        c.clear(); // the change commits while the click reads the old link
        c.put(read_at, key.clone(), None);
        assert!(c.get(&key).is_none(), "the stale read is not kept");
        c.put(c.generation(), key.clone(), None);
        assert!(c.get(&key).is_some(), "a read after the clear is");
    }
}
