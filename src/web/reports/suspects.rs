//! Suspicious traffic on the admin dashboard: the publishers whose duplicate
//! clicks, scrub rate or intake refusals are over a threshold.

use crate::domain::report;
use crate::store::reports::Line;

/// Duplicate clicks (1 − unique / clicks) above this share flag a publisher, in %.
pub const DUPLICATE_CLICKS_PCT: i64 = 30;
/// A scrub rate above this flags a publisher, in %.
pub const SCRUB_PCT: i64 = 40;
/// Conversions refused at intake above this share of all conversions, in %.
pub const REFUSED_PCT: i64 = 20;
/// How many flagged publishers the dashboard lists.
const SUSPECTS: usize = 20;

/// A publisher whose traffic in the range trips at least one flag.
pub struct Suspect {
    pub publisher_id: String,
    pub name: String,
    pub clicks: i64,
    pub unique_clicks: i64,
    pub duplicate_share: String,
    pub leads: i64,
    pub rejected: i64,
    pub scrub_rate: String,
    pub refused: i64,
    pub refused_share: String,
    pub duplicates: bool,
    pub scrubbed: bool,
    pub refusals: bool,
}

impl Suspect {
    pub fn flags(&self) -> usize {
        usize::from(self.duplicates) + usize::from(self.scrubbed) + usize::from(self.refusals)
    }
}

/// The publishers of a by-publisher report that trip a flag, most flags first,
/// then most clicks.
pub fn suspects(lines: &[Line]) -> Vec<Suspect> {
    let over =
        |part: i64, whole: i64, pct: i64| whole > 0 && i128::from(part) * 100 > i128::from(whole) * i128::from(pct);
    let mut out: Vec<Suspect> = lines
        .iter()
        .map(|l| {
            let d = &l.totals;
            let decided = d.approved + d.rejected + d.disputed + d.reversed;
            let duplicates = d.clicks - d.unique_clicks;
            let conversions = d.leads + d.intake_rejected;
            Suspect {
                publisher_id: l.key.clone(),
                name: l.label.clone(),
                clicks: d.clicks,
                unique_clicks: d.unique_clicks,
                duplicate_share: report::pct(duplicates, d.clicks),
                leads: d.leads,
                rejected: d.rejected,
                scrub_rate: report::pct(d.rejected, decided),
                refused: d.intake_rejected,
                refused_share: report::pct(d.intake_rejected, conversions),
                duplicates: over(duplicates, d.clicks, DUPLICATE_CLICKS_PCT),
                scrubbed: over(d.rejected, decided, SCRUB_PCT),
                refusals: over(d.intake_rejected, conversions, REFUSED_PCT),
            }
        })
        .filter(|s| s.flags() > 0)
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse((s.flags(), s.clicks)));
    out.truncate(SUSPECTS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::rollups::Delta;

    fn line(key: &str, d: Delta) -> Line {
        Line { key: key.into(), label: format!("P {key}"), totals: d }
    }

    #[test]
    fn suspects_are_flagged_from_the_publisher_lines() {
        let clean = line(
            "1",
            Delta { clicks: 100, unique_clicks: 90, leads: 10, approved: 9, rejected: 1, ..Delta::default() },
        );
        let dupes = line("2", Delta { clicks: 100, unique_clicks: 60, ..Delta::default() });
        let both = line(
            "3",
            Delta {
                clicks: 10,
                unique_clicks: 5,
                leads: 4,
                rejected: 3,
                approved: 1,
                intake_rejected: 2,
                ..Delta::default()
            },
        );
        let s = suspects(&[clean, dupes, both]);
        assert_eq!(s.iter().map(|s| s.publisher_id.as_str()).collect::<Vec<_>>(), ["3", "2"]);
        assert!(s[0].duplicates && s[0].scrubbed && s[0].refusals, "5/10 dupes, 3/4 scrubbed, 2/6 refused");
        assert_eq!((s[1].duplicate_share.as_str(), s[1].duplicates, s[1].scrubbed), ("40.00", true, false));
        // Exactly at a threshold is not over it.
        let edge = line("4", Delta { clicks: 10, unique_clicks: 7, ..Delta::default() });
        assert!(suspects(&[edge]).is_empty());
    }
}
