//! What the dashboards show on top: the range's totals against the period just
//! before it ([`overview`]) and the KPI cards comparing the two.

use super::Reader;
use crate::db::{self, DbPool};
use crate::domain::money::format_minor;
use crate::domain::report::{self, Range, Viewer};
use crate::error::AppResult;
use crate::store::reports::{self as rollup_reports, Filter, Line};
use crate::store::rollups::Delta;

/// A number on a KPI card.
#[derive(Debug, Clone, Copy)]
pub enum Measure {
    Count(i64),
    Money(i64),
    /// part / whole, shown as a percentage
    Rate(i64, i64),
    /// money / count (EPC, cost per lead)
    Per(i64, i64),
}

impl Measure {
    fn show(self) -> String {
        match self {
            Measure::Count(n) => n.to_string(),
            Measure::Money(m) => format_minor(m),
            Measure::Rate(p, w) => format!("{} %", report::pct(p, w)),
            Measure::Per(m, n) => format_minor(report::per(m, n)),
        }
    }

    /// The value compared between periods: counts and money as they are, rates in
    /// hundredths of a percent.
    fn scalar(self) -> i64 {
        match self {
            Measure::Count(n) | Measure::Money(n) => n,
            Measure::Rate(p, w) if w > 0 => (i128::from(p) * 10_000 / i128::from(w)) as i64,
            Measure::Rate(..) => 0,
            Measure::Per(m, n) => report::per(m, n),
        }
    }
}

/// One KPI card: the range's value and the previous period's.
pub struct Kpi {
    /// A stable name (`data-kpi`), e.g. `clicks`.
    pub key: &'static str,
    pub title: &'static str,
    pub value: String,
    pub previous: String,
    /// `▲ 12.5 %`, `▼ 1.20 pts`, `new`, `no change`.
    pub change: String,
    /// `good`, `bad` or `flat`.
    pub trend: &'static str,
    /// `value` and `previous` are amounts (`"12.50"`): the page shows them with the
    /// currency (`Page::amount`).
    pub money: bool,
}

/// Below this many events (clicks, leads, decided leads) in the earlier period, a
/// change against it says nothing: it is not shown as a percentage.
pub const MIN_BASE: i64 = 10;

/// Past this many times the earlier value, a change reads `▲ over 10×`.
const MAX_RATIO: i64 = 10;

/// The two measures of a KPI: this range's and the previous period's.
pub fn kpi(key: &'static str, title: &'static str, now: Measure, before: Measure, higher_is_better: bool) -> Kpi {
    let (c, p) = (now.scalar(), before.scalar());
    let arrow = if c > p { "▲ " } else { "▼ " };
    let base = match before {
        Measure::Count(n) | Measure::Rate(_, n) | Measure::Per(_, n) => Some(n),
        Measure::Money(_) => None,
    };
    let few = base.is_some_and(|n| n > 0 && n < MIN_BASE);
    let change = if c == p {
        "no change".to_string()
    } else if few {
        "too little data before to compare".to_string()
    } else if p > 0 && c / p >= MAX_RATIO {
        format!("{arrow}over {MAX_RATIO}×")
    } else if let Measure::Rate(..) = now {
        let d = (c - p).abs();
        format!("{arrow}{}.{:02} pts", d / 100, d % 100)
    } else if p == 0 {
        "new".to_string()
    } else {
        let tenths = (i128::from(c - p).abs() * 1000 / i128::from(p.abs())) as i64;
        format!("{arrow}{}.{} %", tenths / 10, tenths % 10)
    };
    let trend = if c == p || few || (p == 0 && !higher_is_better && !matches!(now, Measure::Rate(..))) {
        // A cost appearing where there was none is news, not a change for the worse.
        "flat"
    } else if (c > p) == higher_is_better {
        "good"
    } else {
        "bad"
    };
    let money = matches!(now, Measure::Money(_) | Measure::Per(..));
    Kpi { key, title, value: now.show(), previous: before.show(), change, trend, money }
}

/// The KPI cards of a viewer, over `now` and the period `before` it.
pub fn kpis(viewer: Viewer, now: &Delta, before: &Delta) -> Vec<Kpi> {
    let decided = |d: &Delta| d.approved + d.rejected + d.disputed + d.reversed;
    let k = |key, title, f: &dyn Fn(&Delta) -> Measure, up| kpi(key, title, f(now), f(before), up);
    let clicks = k("clicks", "Clicks", &|d| Measure::Count(d.clicks), true);
    let leads = k("leads", "Leads", &|d| Measure::Count(d.leads), true);
    let cr = k("cr", "Conversion rate", &|d| Measure::Rate(d.leads, d.clicks), true);
    let approved = k("approved", "Approved leads", &|d| Measure::Count(d.approved), true);
    let scrub = k("scrub_rate", "Scrub rate", &|d| Measure::Rate(d.rejected, decided(d)), false);
    match viewer {
        Viewer::Advertiser => vec![
            clicks,
            leads,
            cr,
            approved,
            k("spend", "Spend", &|d| Measure::Money(d.approved_price_minor), true),
            k("cost_per_lead", "Cost per lead", &|d| Measure::Per(d.approved_price_minor, d.approved), false),
            scrub,
            k("return_rate", "Return rate", &|d| Measure::Rate(d.reversed, d.approved + d.reversed), false),
        ],
        Viewer::Publisher => vec![
            clicks,
            k("unique_clicks", "Unique clicks", &|d| Measure::Count(d.unique_clicks), true),
            leads,
            cr,
            approved,
            k("earned", "Approved earnings", &|d| Measure::Money(d.approved_payout_minor), true),
            k("pending_earnings", "Pending earnings", &|d| Measure::Money(d.pending_payout_minor), true),
            k("epc", "EPC", &|d| Measure::Per(d.approved_payout_minor, d.clicks), true),
        ],
        Viewer::Admin => vec![
            clicks,
            leads,
            approved,
            scrub,
            k("revenue", "Revenue", &|d| Measure::Money(d.approved_price_minor), true),
            k("payouts", "Publisher payouts", &|d| Measure::Money(d.approved_payout_minor), true),
            k("fees", "Platform fees", &|d| Measure::Money(d.approved_fee_minor), true),
            k("escrow", "In escrow", &|d| Measure::Money(d.pending_price_minor), true),
        ],
    }
}

// ---------------------------------------------------------------------------
// Days with the period before
// ---------------------------------------------------------------------------

/// A range's days and their totals, and the totals of the period just before it.
pub struct Days {
    pub lines: Vec<Line>,
    pub totals: Delta,
    pub previous: Delta,
}

/// A dashboard's rollup reads: the days of `range` and the range by offer and by
/// publisher from one query of the totals rows, and, on a second connection at the
/// same time, the sum of the same number of days before it.
pub async fn overview(pool: &DbPool, reader: Reader, range: Range) -> AppResult<(Days, Vec<Line>, Vec<Line>)> {
    let filter = reader.filter(range, None);
    let before = Filter { range: range.previous(), ..filter };
    let (o, previous) = tokio::try_join!(
        db::run(pool, move |c| Ok(rollup_reports::overview(c, &filter)?)),
        db::run(pool, move |c| Ok(rollup_reports::total_of(c, &before)?)),
    )?;
    let days = Days { totals: rollup_reports::totals(&o.days), previous, lines: o.days };
    Ok((days, o.by_offer, o.by_publisher))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kpis_compare_with_the_previous_period() {
        let k = kpi("clicks", "Clicks", Measure::Count(150), Measure::Count(100), true);
        assert_eq!((k.value.as_str(), k.change.as_str(), k.trend), ("150", "▲ 50.0 %", "good"));
        let k = kpi("scrub", "Scrub", Measure::Rate(1, 4), Measure::Rate(1, 10), false);
        assert_eq!((k.value.as_str(), k.change.as_str(), k.trend), ("25.00 %", "▲ 15.00 pts", "bad"));
        let k = kpi("spend", "Spend", Measure::Money(1250), Measure::Money(0), true);
        assert_eq!((k.value.as_str(), k.change.as_str()), ("12.50", "new"));
        assert_eq!(kpi("x", "X", Measure::Count(0), Measure::Count(0), true).trend, "flat");
        // Too little before: no percentage, no trend.
        let k = kpi("clicks", "Clicks", Measure::Count(4560), Measure::Count(4), true);
        assert_eq!((k.change.as_str(), k.trend), ("too little data before to compare", "flat"));
        let k = kpi("cr", "CR", Measure::Rate(30, 1000), Measure::Rate(1, 3), true);
        assert_eq!(k.change, "too little data before to compare", "a rate over 3 clicks");
        // Much more than before: a ratio, not "▲ 11024.3 %".
        let k = kpi("clicks", "Clicks", Measure::Count(4561), Measure::Count(41), true);
        assert_eq!((k.change.as_str(), k.trend), ("▲ over 10×", "good"));
        let k = kpi("spend", "Spend", Measure::Money(90_000), Measure::Money(5_000), true);
        assert_eq!(k.change, "▲ over 10×");
        let k = kpi("clicks", "Clicks", Measure::Count(20), Measure::Count(40), true);
        assert_eq!((k.change.as_str(), k.trend), ("▼ 50.0 %", "bad"));
    }

    #[test]
    fn kpis_show_each_viewer_its_side_of_the_money() {
        let keys = |v| kpis(v, &Delta::default(), &Delta::default()).iter().map(|k| k.key).collect::<Vec<_>>();
        assert!(keys(Viewer::Publisher).contains(&"earned") && !keys(Viewer::Publisher).contains(&"spend"));
        assert!(!keys(Viewer::Publisher).iter().any(|k| ["fees", "revenue", "cost_per_lead"].contains(k)));
        assert!(keys(Viewer::Advertiser).contains(&"spend") && !keys(Viewer::Advertiser).contains(&"fees"));
        assert!(keys(Viewer::Admin).contains(&"fees"));
    }
}
