//! Click-to-conversion time (CTIT) by publisher, for the admin's suspicious-traffic
//! page (DESIGN §9): how long after their clicks a publisher's leads converted, in
//! buckets. Click injection (a click fired just before an install or sign-up it did
//! not cause) shows as a spike under 10 seconds; click spamming (clicks sent for
//! everyone, hoping some convert later on their own) as a flat tail of days.

/// The buckets' upper bounds in seconds (the last is open).
pub const BOUNDS: [i64; 6] = [10, 60, 600, 3_600, 86_400, 7 * 86_400];

/// The buckets in words, as the page heads its columns.
pub const LABELS: [&str; 7] =
    ["under 10 s", "10 s – 1 min", "1 – 10 min", "10 min – 1 h", "1 – 24 h", "1 – 7 days", "over 7 days"];

/// A publisher needs this many leads with a click before its shape is judged.
pub const MIN_LEADS: i64 = 10;
/// A share (%) of leads under 10 s at or above this flags click injection.
pub const INJECTION_PCT: i64 = 20;
/// A share (%) of leads over 24 h at or above this flags click spamming.
pub const SPAMMING_PCT: i64 = 40;

/// The bucket of a click-to-conversion time in seconds.
pub fn bucket_of(secs: i64) -> usize {
    BOUNDS.iter().position(|b| secs < *b).unwrap_or(BOUNDS.len())
}

/// One publisher's leads by bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Histogram {
    pub counts: [i64; 7],
}

impl Histogram {
    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }

    /// Each bucket's share of the total, in whole percent.
    pub fn shares(&self) -> [i64; 7] {
        let total = self.total().max(1);
        self.counts.map(|n| n * 100 / total)
    }

    fn share_at_least(&self, buckets: std::ops::Range<usize>, pct: i64) -> bool {
        let part: i64 = self.counts[buckets].iter().sum();
        self.total() >= MIN_LEADS && part * 100 >= self.total() * pct
    }

    /// A spike under 10 seconds.
    pub fn injection(&self) -> bool {
        self.share_at_least(0..1, INJECTION_PCT)
    }

    /// A flat tail past a day.
    pub fn spamming(&self) -> bool {
        self.share_at_least(5..7, SPAMMING_PCT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_flags() {
        assert_eq!(
            [0, 9, 10, 59, 60, 599, 600, 3_599, 3_600, 86_399, 86_400, 604_799, 604_800].map(bucket_of),
            [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]
        );
        let honest = Histogram { counts: [0, 3, 20, 30, 10, 2, 0] };
        assert!(!honest.injection() && !honest.spamming());
        let injected = Histogram { counts: [5, 3, 10, 5, 2, 0, 0] };
        assert!(injected.injection() && !injected.spamming(), "5 of 25 under 10 s");
        let spammed = Histogram { counts: [0, 1, 2, 3, 4, 5, 5] };
        assert!(spammed.spamming(), "10 of 20 after a day");
        let few = Histogram { counts: [5, 0, 0, 0, 0, 0, 0] };
        assert!(!few.injection(), "too few leads to judge");
        assert_eq!(injected.shares(), [20, 12, 40, 20, 8, 0, 0]);
    }
}
