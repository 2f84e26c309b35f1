//! How often and how fast an advertiser decides its leads (DESIGN §9 "The
//! advertiser's verdict in reports"), the pure part: the three figures of a set of
//! decisions — approve rate, time to verdict, share decided by the offer's default —
//! and how they read in plain words. Reading `lead_verdicts` is
//! `store::verdict_stats`.

use crate::domain::report::pct;

/// Fewer decisions than this say too little to be shown to a publisher.
pub const MIN_DECISIONS: i64 = 10;

/// The decisions of a group (an offer, a publisher, a report's total): each lead's
/// first deciding verdict (`approved` or `rejected`, from any channel, the offer's
/// default at hold end included) whose time is in the range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Leads decided.
    pub decided: i64,
    /// Of them, approved (by the advertiser or by the default).
    pub approved: i64,
    /// Of them, decided by the offer's default when the hold ended (`hold_default`).
    pub by_default: i64,
    /// The median of (verdict time − lead accepted), in whole seconds: the middle
    /// one, or the mean of the two middle ones rounded down; `None` without
    /// decisions.
    pub median_secs: Option<i64>,
}

impl Figures {
    /// approved / decided, a percentage with two places; `None` without decisions.
    pub fn approve_rate(&self) -> Option<String> {
        (self.decided > 0).then(|| pct(self.approved, self.decided))
    }

    /// by default / decided, a percentage with two places; `None` without decisions.
    pub fn default_share(&self) -> Option<String> {
        (self.decided > 0).then(|| pct(self.by_default, self.decided))
    }

    /// Enough decisions to tell a publisher anything.
    pub fn enough(&self) -> bool {
        self.decided >= MIN_DECISIONS
    }
}

/// The median of durations in seconds: the middle one, or the mean of the two
/// middle ones rounded down (the definition [`Figures::median_secs`] states, which
/// the database computes the same way). `None` for none.
pub fn median(mut secs: Vec<i64>) -> Option<i64> {
    if secs.is_empty() {
        return None;
    }
    secs.sort_unstable();
    let n = secs.len();
    Some(if n % 2 == 1 { secs[n / 2] } else { (secs[n / 2 - 1] + secs[n / 2]).div_euclid(2) })
}

// Durations and counts in words live in the message catalogue's module, where
// they have the plurals a language needs.
use crate::i18n::within_words;

/// A rate for reading: `82 %`, `5.5 %`, `0 %` (the two places of [`pct`] without
/// trailing zeros).
pub fn rate_words(rate: &str) -> String {
    let trimmed = if rate.contains('.') { rate.trim_end_matches('0').trim_end_matches('.') } else { rate };
    format!("{trimmed} %")
}

/// What a publisher reads about a set of decisions: `None` when there are fewer
/// than [`MIN_DECISIONS`] (the page says "Not enough decisions yet"). `whose`
/// names the set ("on this offer", "across its offers"); `default` is the offer's
/// stated default (`approve`/`reject`) when there is one offer to name.
pub fn sentence(f: &Figures, whose: &str, default: Option<&str>) -> Option<String> {
    if !f.enough() {
        return None;
    }
    let rate = rate_words(&f.approve_rate().unwrap_or_default());
    let within = f.median_secs.map(within_words).unwrap_or_default();
    let mut s = format!(
        "The advertiser approved {rate} of the {} it decided {whose}; half of them were decided within {within} of the lead.",
        crate::i18n::count_words(f.decided, "lead"),
    );
    if f.by_default == 0 {
        s.push_str(" None were left to the offer's default.");
    } else {
        let share = rate_words(&f.default_share().unwrap_or_default());
        match default {
            Some(d) => s.push_str(&format!(
                " {share} were decided by the offer's default ({d}) because no verdict came before the hold ended."
            )),
            None => s.push_str(&format!(
                " {share} were decided by an offer's default because no verdict came before the hold ended."
            )),
        }
    }
    Some(s)
}

/// The fields of an API row (`GET /api/v1/stats`): `null` where there was no
/// decision.
pub fn json_fields(f: &Figures) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("decisions".into(), f.decided.into());
    m.insert("approve_rate".into(), f.approve_rate().into());
    m.insert("time_to_verdict_seconds".into(), f.median_secs.into());
    m.insert("decided_by_default".into(), f.default_share().into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_rates_of_the_decided() {
        let f = Figures { decided: 8, approved: 6, by_default: 1, median_secs: Some(3600) };
        assert_eq!((f.approve_rate().as_deref(), f.default_share().as_deref()), (Some("75.00"), Some("12.50")));
        assert_eq!(Figures::default().approve_rate(), None, "no decisions: no rate, not 0 %");
        assert!(!f.enough() && Figures { decided: MIN_DECISIONS, ..f }.enough());
    }

    #[test]
    fn the_median_is_the_middle_or_the_mean_of_the_two_middles() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 9]), Some(5));
        assert_eq!(median(vec![10, 1, 4, 100]), Some(7), "(4 + 10) / 2");
        assert_eq!(median(vec![1, 2]), Some(1), "1.5 rounded down");
    }

    #[test]
    fn rates_drop_trailing_zeros() {
        assert_eq!(rate_words("82.00"), "82 %");
        assert_eq!(rate_words("5.50"), "5.5 %");
        assert_eq!(rate_words("0.00"), "0 %");
        assert_eq!(rate_words("100.00"), "100 %");
    }

    #[test]
    fn a_publisher_reads_a_sentence_only_with_enough_decisions() {
        let f = Figures { decided: 20, approved: 16, by_default: 1, median_secs: Some(2 * 86_400 - 60) };
        assert_eq!(
            sentence(&f, "on this offer", Some("approve")).as_deref(),
            Some(
                "The advertiser approved 80 % of the 20 leads it decided on this offer; half of them were decided \
                 within 2 days of the lead. 5 % were decided by the offer's default (approve) because no verdict \
                 came before the hold ended."
            )
        );
        let none = Figures { by_default: 0, ..f };
        assert!(sentence(&none, "x", None).is_some_and(|s| s.ends_with("None were left to the offer's default.")));
        assert_eq!(sentence(&Figures { decided: MIN_DECISIONS - 1, ..f }, "x", None), None);
    }
}
