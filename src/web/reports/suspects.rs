//! Suspicious traffic on the admin's pages (DESIGN §9): the flagged publishers of
//! [`crate::domain::suspects`], each flag in words with a link to its evidence. The
//! overview's section ranks from the rollups alone; the suspicious-traffic page
//! (`/admin/traffic`) adds what the range's leads tell (scrub rules failed,
//! click-to-conversion times).

use crate::domain::report::Range;
use crate::domain::suspects::{
    self, DUPLICATE_CLICKS_PCT, Flag, MIN_CHECKED, OFF_TARGET_PCT, REFUSED_PCT, RULE_SIGNALS, SCRUB_PCT, Signal,
    Suspect, Traffic,
};
use crate::store::reports::Line;

/// How many flagged publishers the overview lists.
const ON_OVERVIEW: usize = 20;
/// How many the suspicious-traffic page lists.
const ON_PAGE: usize = 100;

/// One flag as a page shows it.
pub struct FlagView {
    /// [`Signal::key`] (`data-signal`).
    pub key: &'static str,
    /// The badge: what, and the share (`datacenter addresses 35.00 %`).
    pub words: String,
    /// The numbers behind it, in a sentence (the badge's `title`).
    pub detail: String,
    /// Where the evidence is.
    pub href: String,
}

/// A flagged publisher as a page shows it.
pub struct SuspectRow {
    pub publisher_id: i64,
    pub name: String,
    pub clicks: i64,
    pub leads: i64,
    pub flags: Vec<FlagView>,
}

/// One threshold in words, for the hint under a ranking.
pub struct Threshold {
    pub words: String,
}

/// The ranking a page shows: its rows and the thresholds that made them.
pub struct Ranking {
    pub rows: Vec<SuspectRow>,
    pub thresholds: Vec<Threshold>,
    /// The page was given the leads' signals (the overview is not).
    pub full: bool,
}

/// The overview's section: publishers flagged by their rollup sums alone.
pub fn overview_ranking(by_publisher: &[Line], range: &Range) -> Ranking {
    let traffic = by_publisher.iter().map(|l| Traffic {
        publisher_id: l.key.parse().unwrap_or_default(),
        name: l.label.clone(),
        totals: l.totals,
        ..Traffic::default()
    });
    ranking(suspects::rank(traffic, ON_OVERVIEW), range, false)
}

/// The suspicious-traffic page: every signal, the leads' too.
pub fn full_ranking(traffic: Vec<Traffic>, range: &Range) -> Ranking {
    ranking(suspects::rank(traffic, ON_PAGE), range, true)
}

fn ranking(suspects: Vec<Suspect>, range: &Range, full: bool) -> Ranking {
    let rows = suspects
        .into_iter()
        .map(|s| SuspectRow {
            publisher_id: s.publisher_id,
            flags: s.flags.iter().map(|f| flag_view(f, s.publisher_id, range)).collect(),
            name: s.name,
            clicks: s.clicks,
            leads: s.leads,
        })
        .collect();
    Ranking { rows, thresholds: thresholds(full), full }
}

/// The leads list of a publisher, narrowed by `query` (`status=rejected`, `rule=…`).
fn leads_of(publisher_id: i64, query: &str) -> String {
    format!("/admin/leads?publisher_id={publisher_id}&{query}")
}

fn flag_view(f: &Flag, publisher_id: i64, range: &Range) -> FlagView {
    let (part, whole, share) = (f.part, f.whole, &f.share);
    let by_publisher = format!("/admin/reports?{}&group_by=publisher", range.query());
    let (words, detail, href) = match f.signal {
        Signal::DuplicateClicks => (
            "duplicate clicks".to_string(),
            format!("{part} of {whole} clicks came again from a browser that had already clicked"),
            by_publisher,
        ),
        Signal::OffTarget => (
            "off-target clicks".to_string(),
            format!(
                "{part} of {whole} clicks were outside the offers' targeting or from a blocked source, \
                 and went to the fallback"
            ),
            by_publisher,
        ),
        Signal::Rule(code) => (
            rule_words(code).to_string(),
            format!(
                "{part} of {whole} leads the rule “{}” checked failed it",
                crate::i18n::label(crate::i18n::Kind::Rule, code)
            ),
            leads_of(publisher_id, &format!("rule={code}")),
        ),
        Signal::ClickInjection => (
            "click injection?".to_string(),
            format!("{part} of {whole} leads with a click converted less than 10 seconds after it"),
            format!("/admin/traffic?{}#ctit-{publisher_id}", range.query()),
        ),
        Signal::ClickSpamming => (
            "click spamming?".to_string(),
            format!("{part} of {whole} leads with a click converted more than a day after it"),
            format!("/admin/traffic?{}#ctit-{publisher_id}", range.query()),
        ),
        Signal::ScrubRate => (
            "high scrub rate".to_string(),
            format!("{part} of {whole} decided leads were rejected"),
            leads_of(publisher_id, "status=rejected"),
        ),
        Signal::IntakeRefusals => (
            "intake refusals".to_string(),
            format!("{part} of {whole} conversions were refused at intake"),
            by_publisher,
        ),
    };
    FlagView { key: f.signal.key(), words: format!("{words} {share} %"), detail, href }
}

/// A rule signal's badge.
fn rule_words(code: &str) -> &'static str {
    match code {
        crate::domain::scrub::DATACENTER_IP => "datacenter addresses",
        "duplicate_click" => "repeated clicks at settlement",
        _ => "scrub rule failures",
    }
}

fn rule_label(code: &str) -> String {
    crate::i18n::label(crate::i18n::Kind::Rule, code)
}

/// A rule signal's threshold in words.
fn rule_threshold(code: &str, pct: i64) -> String {
    match code {
        crate::domain::scrub::DATACENTER_IP => {
            format!("more than {pct} % of its leads from a hosting or cloud address (rule “{}”)", rule_label(code))
        }
        "duplicate_click" => {
            format!("more than {pct} % of its leads from a repeated click (rule “{}”)", rule_label(code))
        }
        _ => format!("more than {pct} % of its leads failing the rule “{}”", rule_label(code)),
    }
}

fn thresholds(full: bool) -> Vec<Threshold> {
    let mut out = vec![
        format!("more than {DUPLICATE_CLICKS_PCT} % of its clicks repeated by the same browser (1 − unique / clicks)"),
        format!(
            "more than {OFF_TARGET_PCT} % of its clicks outside the offers' targeting or from a blocked source \
             (they go to the offer's fallback)"
        ),
    ];
    if full {
        for (code, pct) in RULE_SIGNALS {
            out.push(format!("{}, once the rule checked {MIN_CHECKED} of them or more", rule_threshold(code, pct)));
        }
        let (injection, spamming, min) = suspects::CTIT_THRESHOLDS;
        out.push(format!(
            "{injection} % or more of its leads converted within 10 seconds of the click (click injection), or \
             {spamming} % or more after a day (click spamming), once it has {min} leads with a click or more"
        ));
    }
    out.push(format!("a scrub rate above {SCRUB_PCT} % (rejected / decided leads)"));
    out.push(format!("more than {REFUSED_PCT} % of its conversions refused at intake"));
    out.into_iter().map(|words| Threshold { words }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ctit::Histogram;
    use crate::domain::suspects::RuleCount;
    use crate::store::rollups::Delta;

    fn range() -> Range {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 10).and_then(|d| d.and_hms_opt(12, 0, 0)).expect("now");
        Range::parse(Some("2026-12-01"), Some("2026-12-07"), chrono_tz::UTC, now).expect("range")
    }

    #[test]
    fn every_flag_links_to_its_evidence() {
        let t = Traffic {
            publisher_id: 42,
            name: "Cheap clicks".into(),
            totals: Delta { clicks: 10, unique_clicks: 5, leads: 4, rejected: 3, approved: 1, ..Delta::default() },
            rules: vec![RuleCount { checked: 20, failed: 7 }, RuleCount { checked: 20, failed: 6 }],
            ctit: Some(Histogram { counts: [5, 3, 10, 5, 2, 0, 0] }),
        };
        let r = full_ranking(vec![t], &range());
        let row = &r.rows[0];
        let link = |key: &str| row.flags.iter().find(|f| f.key == key).map(|f| f.href.as_str()).expect(key);
        assert_eq!(link("datacenter_ip"), "/admin/leads?publisher_id=42&rule=datacenter_ip");
        assert_eq!(link("duplicate_click"), "/admin/leads?publisher_id=42&rule=duplicate_click");
        assert_eq!(link("scrub_rate"), "/admin/leads?publisher_id=42&status=rejected");
        assert_eq!(link("click_injection"), "/admin/traffic?from=2026-12-01&to=2026-12-07#ctit-42");
        assert_eq!(link("duplicate_clicks"), "/admin/reports?from=2026-12-01&to=2026-12-07&group_by=publisher");
        let dc = row.flags.iter().find(|f| f.key == "datacenter_ip").expect("flag");
        assert_eq!(dc.words, "datacenter addresses 35.00 %");
        assert_eq!(dc.detail, "7 of 20 leads the rule “Datacenter address” checked failed it");
        assert!(r.full && r.thresholds.iter().any(|t| t.words.contains("hosting or cloud address")));
    }

    #[test]
    fn the_overview_ranks_from_the_rollups_alone() {
        let line = Line {
            key: "7".into(),
            label: "P".into(),
            totals: Delta {
                clicks: 10,
                unique_clicks: 10,
                off_target_clicks: 3,
                fallback_clicks: 5,
                ..Delta::default()
            },
        };
        let r = overview_ranking(&[line], &range());
        assert_eq!(r.rows.iter().map(|s| s.publisher_id).collect::<Vec<_>>(), [7]);
        assert_eq!(r.rows[0].flags[0].words, "off-target clicks 30.00 %");
        assert!(!r.full && !r.thresholds.iter().any(|t| t.words.contains("datacenter")));
    }
}
