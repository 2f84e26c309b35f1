//! Suspicious traffic (DESIGN §9): the signals that flag a publisher, their
//! thresholds, and the ranking of the admin's suspicious-traffic page. Pure: the
//! page reads the rollups (clicks, duplicates, fallback clicks, scrub rate,
//! refusals at intake) and the range's leads (scrub rules failed, click-to-
//! conversion times) and hands them here.

use crate::domain::ctit::{self, Histogram};
use crate::domain::report::pct;
use crate::domain::rollup::Delta;
use crate::domain::scrub::{DATACENTER_IP, DUPLICATE_CLICK};

/// Duplicate clicks (1 − unique / clicks) above this share flag a publisher, in %.
pub const DUPLICATE_CLICKS_PCT: i64 = 30;
/// Clicks outside the offers' targeting or from blocked sources above this share
/// of all clicks, in %.
pub const OFF_TARGET_PCT: i64 = 20;
/// A scrub rate above this flags a publisher, in %.
pub const SCRUB_PCT: i64 = 40;
/// Conversions refused at intake above this share of all conversions, in %.
pub const REFUSED_PCT: i64 = 20;
/// A share of leads failing a rule is judged from this many leads the rule checked.
pub const MIN_CHECKED: i64 = 10;

/// The scrub rules whose failures are a signal: the code, and the share (%) of the
/// leads it checked above which it flags a publisher (leads of offers with the rule
/// off have no check of it and do not count).
pub const RULE_SIGNALS: [(&str, i64); 2] = [(DATACENTER_IP, 10), (DUPLICATE_CLICK, 20)];

/// What a publisher was flagged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Clicks repeated by the same browser.
    DuplicateClicks,
    /// Clicks outside the offers' targeting or from blocked sources.
    OffTarget,
    /// Leads failing one of [`RULE_SIGNALS`] (its code).
    Rule(&'static str),
    /// Many leads within seconds of their click.
    ClickInjection,
    /// Many leads days after their click.
    ClickSpamming,
    /// Many decided leads rejected.
    ScrubRate,
    /// Many conversions refused at intake.
    IntakeRefusals,
}

impl Signal {
    /// A stable name for pages and tests (`data-signal`).
    pub fn key(self) -> &'static str {
        match self {
            Signal::DuplicateClicks => "duplicate_clicks",
            Signal::OffTarget => "off_target",
            Signal::Rule(code) => code,
            Signal::ClickInjection => "click_injection",
            Signal::ClickSpamming => "click_spamming",
            Signal::ScrubRate => "scrub_rate",
            Signal::IntakeRefusals => "intake_refusals",
        }
    }
}

/// One tripped signal: what, and the share that tripped it (`part` of `whole`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub signal: Signal,
    pub part: i64,
    pub whole: i64,
    /// part / whole, a percentage with two places.
    pub share: String,
}

/// How many leads a rule checked and how many failed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleCount {
    pub checked: i64,
    pub failed: i64,
}

/// What is known of one publisher's traffic in a range.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    pub publisher_id: i64,
    pub name: String,
    /// Its rollup sums.
    pub totals: Delta,
    /// Per [`RULE_SIGNALS`] entry, in order; empty when the leads were not read.
    pub rules: Vec<RuleCount>,
    /// Its leads by click-to-conversion time, when the leads were read.
    pub ctit: Option<Histogram>,
}

/// A flagged publisher.
#[derive(Debug, Clone)]
pub struct Suspect {
    pub publisher_id: i64,
    pub name: String,
    pub clicks: i64,
    pub leads: i64,
    /// In the order of [`Signal`]'s variants.
    pub flags: Vec<Flag>,
}

/// `part` is more than `pct` % of `whole`.
fn over(part: i64, whole: i64, pct: i64) -> bool {
    whole > 0 && i128::from(part) * 100 > i128::from(whole) * i128::from(pct)
}

/// The signals a publisher's traffic trips.
pub fn flags(t: &Traffic) -> Vec<Flag> {
    let d = &t.totals;
    let mut out = Vec::new();
    let mut flag = |signal, part, whole, tripped: bool| {
        if tripped {
            out.push(Flag { signal, part, whole, share: pct(part, whole) });
        }
    };
    let duplicates = d.clicks - d.unique_clicks;
    flag(Signal::DuplicateClicks, duplicates, d.clicks, over(duplicates, d.clicks, DUPLICATE_CLICKS_PCT));
    let off_target = d.off_target_clicks + d.blocked_clicks;
    flag(Signal::OffTarget, off_target, d.clicks, over(off_target, d.clicks, OFF_TARGET_PCT));
    for (&(code, pct), count) in RULE_SIGNALS.iter().zip(&t.rules) {
        let judged = count.checked >= MIN_CHECKED;
        flag(Signal::Rule(code), count.failed, count.checked, judged && over(count.failed, count.checked, pct));
    }
    if let Some(h) = &t.ctit {
        let late: i64 = h.counts[5..].iter().sum();
        flag(Signal::ClickInjection, h.counts[0], h.total(), h.injection());
        flag(Signal::ClickSpamming, late, h.total(), h.spamming());
    }
    let decided = d.approved + d.rejected + d.disputed + d.reversed;
    flag(Signal::ScrubRate, d.rejected, decided, over(d.rejected, decided, SCRUB_PCT));
    let conversions = d.leads + d.intake_rejected;
    flag(Signal::IntakeRefusals, d.intake_rejected, conversions, over(d.intake_rejected, conversions, REFUSED_PCT));
    out
}

/// The publishers that trip at least one signal, at most `limit`: most flags
/// first, then most clicks, then most leads, then by id.
pub fn rank(traffic: impl IntoIterator<Item = Traffic>, limit: usize) -> Vec<Suspect> {
    let mut out: Vec<Suspect> = traffic
        .into_iter()
        .filter_map(|t| {
            let flags = flags(&t);
            (!flags.is_empty()).then_some(Suspect {
                publisher_id: t.publisher_id,
                name: t.name,
                clicks: t.totals.clicks,
                leads: t.totals.leads,
                flags,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (b.flags.len(), b.clicks, b.leads, a.publisher_id).cmp(&(a.flags.len(), a.clicks, a.leads, b.publisher_id))
    });
    out.truncate(limit);
    out
}

/// The thresholds of the click-to-conversion signals, for the page's words:
/// (injection %, spamming %, leads needed).
pub const CTIT_THRESHOLDS: (i64, i64, i64) = (ctit::INJECTION_PCT, ctit::SPAMMING_PCT, ctit::MIN_LEADS);

#[cfg(test)]
mod tests {
    use super::*;

    fn traffic(id: i64, totals: Delta) -> Traffic {
        Traffic { publisher_id: id, name: format!("P {id}"), totals, ..Traffic::default() }
    }

    fn keys(s: &Suspect) -> Vec<&'static str> {
        s.flags.iter().map(|f| f.signal.key()).collect()
    }

    #[test]
    fn the_rollup_signals_flag_a_publisher_over_their_thresholds() {
        let clean = traffic(
            1,
            Delta { clicks: 100, unique_clicks: 90, leads: 10, approved: 9, rejected: 1, ..Delta::default() },
        );
        let dupes = traffic(2, Delta { clicks: 100, unique_clicks: 60, ..Delta::default() });
        let all = traffic(
            3,
            Delta {
                clicks: 10,
                unique_clicks: 5,
                fallback_clicks: 4,
                off_target_clicks: 2,
                blocked_clicks: 1,
                leads: 4,
                rejected: 3,
                approved: 1,
                intake_rejected: 2,
                ..Delta::default()
            },
        );
        let s = rank([clean, dupes, all], 20);
        assert_eq!(s.iter().map(|s| s.publisher_id).collect::<Vec<_>>(), [3, 2]);
        assert_eq!(keys(&s[0]), ["duplicate_clicks", "off_target", "scrub_rate", "intake_refusals"]);
        // 3 of 10 clicks outside the targeting or blocked: a cap's fallback clicks do not count.
        assert_eq!((s[0].flags[1].part, s[0].flags[1].whole, s[0].flags[1].share.as_str()), (3, 10, "30.00"));
        assert_eq!((keys(&s[1]), s[1].flags[0].share.as_str()), (vec!["duplicate_clicks"], "40.00"));
        // Exactly at a threshold is not over it.
        let edge = traffic(4, Delta { clicks: 10, unique_clicks: 7, off_target_clicks: 2, ..Delta::default() });
        assert!(rank([edge], 20).is_empty());
    }

    #[test]
    fn rule_failures_count_from_enough_checked_leads() {
        let with_rules = |id, rules: Vec<RuleCount>| Traffic { rules, ..traffic(id, Delta::default()) };
        let dc = |checked, failed| RuleCount { checked, failed };
        let s = rank(
            [
                // 3 of 20 checked leads from a datacenter (15 % > 10 %).
                with_rules(1, vec![dc(20, 3), dc(0, 0)]),
                // 2 of 20 (10 %) is not over; 5 of 20 duplicate clicks (25 % > 20 %) is.
                with_rules(2, vec![dc(20, 2), dc(20, 5)]),
                // 5 of 9: too few checked leads to judge.
                with_rules(3, vec![dc(9, 5), dc(0, 0)]),
                // The leads were not read (the overview): no rule signal at all.
                with_rules(4, vec![]),
            ],
            20,
        );
        assert_eq!(
            s.iter().map(|s| (s.publisher_id, keys(s))).collect::<Vec<_>>(),
            [(1, vec!["datacenter_ip"]), (2, vec!["duplicate_click"])]
        );
        assert_eq!(s[0].flags[0].share, "15.00");
    }

    #[test]
    fn click_to_conversion_times_reuse_the_ctit_flags() {
        let t = Traffic { ctit: Some(Histogram { counts: [5, 3, 10, 5, 2, 0, 0] }), ..traffic(1, Delta::default()) };
        let s = rank([t], 20);
        assert_eq!(keys(&s[0]), ["click_injection"]);
        assert_eq!((s[0].flags[0].part, s[0].flags[0].whole), (5, 25));
        let spam = Traffic { ctit: Some(Histogram { counts: [0, 1, 2, 3, 4, 5, 5] }), ..traffic(2, Delta::default()) };
        assert_eq!(keys(&rank([spam], 20)[0]), ["click_spamming"]);
        let few = Traffic { ctit: Some(Histogram { counts: [5, 0, 0, 0, 0, 0, 0] }), ..traffic(3, Delta::default()) };
        assert!(rank([few], 20).is_empty(), "too few leads to judge");
    }

    #[test]
    fn most_flags_first_then_most_clicks_then_most_leads() {
        let dupes = |clicks: i64, leads| Delta { clicks, unique_clicks: clicks / 2, leads, ..Delta::default() };
        let two_flags = Traffic {
            rules: vec![RuleCount { checked: 10, failed: 5 }, RuleCount::default()],
            ..traffic(1, dupes(10, 0))
        };
        let big = traffic(2, dupes(1000, 0));
        let small_more_leads = traffic(3, dupes(100, 9));
        let small = traffic(4, dupes(100, 1));
        let tie = traffic(5, dupes(100, 1));
        let s = rank([small, tie, big, two_flags, small_more_leads], 20);
        assert_eq!(s.iter().map(|s| s.publisher_id).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(rank(s.into_iter().map(|s| traffic(s.publisher_id, dupes(s.clicks, s.leads))), 2).len(), 2);
    }
}
