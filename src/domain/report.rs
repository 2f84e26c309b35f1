//! Reports (DESIGN §9), the pure part: what a report groups by, the date range in
//! the viewer's timezone, the metrics derived from rollup sums, CSV, SVG charts.
//! Reading the rollups is `store::reports`.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::money::format_minor;
use crate::domain::rollup::Delta;

/// What a report's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Hour,
    Day,
    Offer,
    Publisher,
    /// sub1..sub5, numbered from 1
    Sub(u8),
    Country,
}

impl GroupBy {
    pub const ALL: [GroupBy; 10] = [
        GroupBy::Day,
        GroupBy::Hour,
        GroupBy::Offer,
        GroupBy::Publisher,
        GroupBy::Sub(1),
        GroupBy::Sub(2),
        GroupBy::Sub(3),
        GroupBy::Sub(4),
        GroupBy::Sub(5),
        GroupBy::Country,
    ];

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.name() == s)
    }

    /// The name used in URLs and the API (`group_by=`).
    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Hour => "hour",
            GroupBy::Day => "day",
            GroupBy::Offer => "offer",
            GroupBy::Publisher => "publisher",
            GroupBy::Sub(1) => "sub1",
            GroupBy::Sub(2) => "sub2",
            GroupBy::Sub(3) => "sub3",
            GroupBy::Sub(4) => "sub4",
            GroupBy::Sub(_) => "sub5",
            GroupBy::Country => "country",
        }
    }

    /// The rollup dimension whose rows this grouping reads.
    pub fn dim(self) -> &'static str {
        match self {
            GroupBy::Sub(_) | GroupBy::Country => self.name(),
            _ => crate::store::rollups::BASE_DIM,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            GroupBy::Hour => "Hour",
            GroupBy::Day => "Day",
            GroupBy::Offer => "Offer",
            GroupBy::Publisher => "Publisher",
            GroupBy::Sub(1) => "Sub 1",
            GroupBy::Sub(2) => "Sub 2",
            GroupBy::Sub(3) => "Sub 3",
            GroupBy::Sub(4) => "Sub 4",
            GroupBy::Sub(_) => "Sub 5",
            GroupBy::Country => "Country",
        }
    }

    pub fn is_time(self) -> bool {
        matches!(self, GroupBy::Hour | GroupBy::Day)
    }
}

/// Longest range a report may cover, in days.
pub const MAX_DAYS: i64 = 400;

/// A range of whole local days `[from, to]` in a timezone, and its UTC bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tz: Tz,
}

impl Range {
    /// The range from the query's `from` / `to` (`YYYY-MM-DD`, both optional):
    /// the default is the last 30 days up to today in `tz`.
    pub fn parse(from: Option<&str>, to: Option<&str>, tz: Tz, now: NaiveDateTime) -> Result<Range, String> {
        let today = Utc.from_utc_datetime(&now).with_timezone(&tz).date_naive();
        let day = |raw: Option<&str>, name: &str| -> Result<Option<NaiveDate>, String> {
            match raw.map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| format!("{name} must be a date like 2026-11-23, not {s:?}")),
            }
        };
        let to = day(to, "to")?.unwrap_or(today);
        let from = day(from, "from")?.unwrap_or(to - Duration::days(29));
        if from > to {
            return Err("from must not be after to".into());
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(format!("a report covers at most {MAX_DAYS} days"));
        }
        Ok(Range { from, to, tz })
    }

    /// UTC start of a local day (the first instant of it, across DST gaps).
    fn utc_start(&self, day: NaiveDate) -> NaiveDateTime {
        let local = day.and_time(NaiveTime::MIN);
        match self.tz.from_local_datetime(&local) {
            chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.naive_utc(),
            // A day starting in a DST gap: an hour later exists.
            chrono::LocalResult::None => self
                .tz
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
                .map(|t| t.naive_utc())
                .unwrap_or(local),
        }
    }

    /// The UTC rollup hours the range covers: `[start, end)`. Rollups are hourly,
    /// so in a timezone whose offset is not whole hours the bounds fall on the hour
    /// that holds the local midnight.
    pub fn utc_bounds(&self) -> (NaiveDateTime, NaiveDateTime) {
        let floor = crate::store::rollups::hour_of;
        (floor(self.utc_start(self.from)), floor(self.utc_start(self.to + Duration::days(1))))
    }

    /// The local time of a UTC rollup hour.
    pub fn local(&self, utc_hour: NaiveDateTime) -> NaiveDateTime {
        Utc.from_utc_datetime(&utc_hour).with_timezone(&self.tz).naive_local()
    }

    /// Every local day of the range, in order.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.from.iter_days().take_while(|d| *d <= self.to).collect()
    }

    pub fn days_len(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The same length of time just before this range (for "vs previous period").
    pub fn previous(&self) -> Range {
        let len = Duration::days(self.days_len());
        Range { from: self.from - len, to: self.to - len, tz: self.tz }
    }

    /// `from=…&to=…` for links.
    pub fn query(&self) -> String {
        format!("from={}&to={}", self.from, self.to)
    }

    pub fn label(&self) -> String {
        if self.from.year() == self.to.year() {
            format!("{} – {}", self.from.format("%b %-d"), self.to.format("%b %-d, %Y"))
        } else {
            format!("{} – {}", self.from.format("%b %-d, %Y"), self.to.format("%b %-d, %Y"))
        }
    }
}

/// A percentage with two places, `"0.00"` when the base is zero.
pub fn pct(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "0.00".into();
    }
    // Half-up in basis points of a percent, integer only.
    let scaled = (i128::from(part) * 10_000 * 2 + i128::from(whole)) / (i128::from(whole) * 2);
    let v = scaled as i64;
    format!("{}.{:02}", v / 100, (v % 100).abs())
}

/// Money per unit (EPC, cost per lead), half-up to the cent.
pub fn per(minor: i64, count: i64) -> i64 {
    if count <= 0 {
        return 0;
    }
    ((i128::from(minor) * 2 + i128::from(count)) / (i128::from(count) * 2)) as i64
}

/// The metrics of §9 derived from a rollup sum. Rates are percentages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Metrics {
    pub clicks: i64,
    pub unique_clicks: i64,
    /// clicks sent to the offer's fallback instead of its landing page, for any reason
    pub fallback_clicks: i64,
    /// of them, outside the offer's targeting (country, device, OS)
    pub off_target_clicks: i64,
    /// of them, from a blocked source
    pub blocked_clicks: i64,
    pub leads: i64,
    pub intake_rejected: i64,
    pub pending: i64,
    pub approved: i64,
    pub rejected: i64,
    pub disputed: i64,
    pub reversed: i64,
    /// leads / clicks, %
    pub cr: String,
    /// approved payout / clicks
    pub epc: String,
    /// approved price / approved leads: what a qualified lead costs the advertiser
    pub cost_per_lead: String,
    /// approved price: what advertisers are charged (the advertiser's spend)
    pub revenue: String,
    /// approved payout: what publishers earn
    pub payout: String,
    /// approved fee: what the platform keeps
    pub fee: String,
    /// payout of leads still in hold
    pub pending_payout: String,
    /// price of leads still in hold (reserved in escrow)
    pub pending_cost: String,
    /// rejected / decided leads, %
    pub scrub_rate: String,
    /// reversed / (approved + reversed), %: approved leads taken back on return
    pub return_rate: String,
}

impl Metrics {
    pub fn of(d: &Delta) -> Metrics {
        let decided = d.approved + d.rejected + d.disputed + d.reversed;
        Metrics {
            clicks: d.clicks,
            unique_clicks: d.unique_clicks,
            fallback_clicks: d.fallback_clicks,
            off_target_clicks: d.off_target_clicks,
            blocked_clicks: d.blocked_clicks,
            leads: d.leads,
            intake_rejected: d.intake_rejected,
            pending: d.pending,
            approved: d.approved,
            rejected: d.rejected,
            disputed: d.disputed,
            reversed: d.reversed,
            cr: pct(d.leads, d.clicks),
            epc: format_minor(per(d.approved_payout_minor, d.clicks)),
            cost_per_lead: format_minor(per(d.approved_price_minor, d.approved)),
            revenue: format_minor(d.approved_price_minor),
            payout: format_minor(d.approved_payout_minor),
            fee: format_minor(d.approved_fee_minor),
            pending_payout: format_minor(d.pending_payout_minor),
            pending_cost: format_minor(d.pending_price_minor),
            scrub_rate: pct(d.rejected, decided),
            return_rate: pct(d.reversed, d.approved + d.reversed),
        }
    }
}

/// Who is reading: decides which money columns a report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Advertiser,
    Publisher,
    Admin,
}

/// A report column: its name in CSV/JSON, its title, and how to read it.
pub struct Column {
    pub name: &'static str,
    pub title: &'static str,
    pub get: fn(&Metrics) -> String,
    /// Right-aligned money or rate.
    pub numeric: bool,
    /// An amount (a decimal string of the platform currency): a page shows it with
    /// its currency (`Page::amount`), CSV and the API as it is.
    pub money: bool,
    /// What a page shows when one points at a cell (its `title`), if anything.
    pub note: Option<fn(&Metrics) -> Option<String>>,
    /// A breakdown for CSV and the API only: a page shows it in the note of the
    /// column it details, to keep its table narrow.
    pub export_only: bool,
}

macro_rules! col {
    ($name:ident, $title:expr) => {
        Column {
            name: stringify!($name),
            title: $title,
            get: |m| m.$name.to_string(),
            numeric: true,
            money: false,
            note: None,
            export_only: false,
        }
    };
}

/// A money column: [`col!`] with `money` set.
macro_rules! money {
    ($name:ident, $title:expr) => {
        Column { money: true, ..col!($name, $title) }
    };
}

/// The note of a "To fallback" cell: how many clicks went to the fallback and why,
/// in words (`None` when none did).
pub fn fallback_note(m: &Metrics) -> Option<String> {
    if m.fallback_clicks <= 0 {
        return None;
    }
    let clicks = |n: i64| if n == 1 { "1 click".to_string() } else { format!("{n} clicks") };
    let mut why = Vec::new();
    if m.off_target_clicks > 0 {
        why.push(format!("{} outside the offer's targeting (country, device or OS)", m.off_target_clicks));
    }
    if m.blocked_clicks > 0 {
        why.push(format!("{} from a blocked source", m.blocked_clicks));
    }
    let other = m.fallback_clicks - m.off_target_clicks - m.blocked_clicks;
    if other > 0 {
        why.push(format!("{other} for another reason (a cap reached, the offer paused, the link not approved)"));
    }
    Some(format!(
        "{} went to the offer's fallback page instead of its landing page: {}.",
        clicks(m.fallback_clicks),
        why.join(", ")
    ))
}

/// The columns a viewer sees, in order. Advertisers see what they pay, publishers
/// what they earn; only admins see both sides and the fee.
pub fn columns(viewer: Viewer) -> Vec<Column> {
    let mut cols = vec![
        col!(clicks, "Clicks"),
        col!(unique_clicks, "Unique"),
        Column { note: Some(fallback_note), ..col!(fallback_clicks, "To fallback") },
        Column { export_only: true, ..col!(off_target_clicks, "Outside targeting") },
        Column { export_only: true, ..col!(blocked_clicks, "Blocked source") },
        col!(leads, "Leads"),
        col!(pending, "Pending"),
        col!(approved, "Approved"),
        col!(rejected, "Rejected"),
        col!(disputed, "Disputed"),
        col!(reversed, "Reversed"),
        col!(intake_rejected, "Refused at intake"),
        col!(cr, "CR %"),
    ];
    match viewer {
        Viewer::Advertiser => cols.extend([
            money!(revenue, "Spend"),
            money!(pending_cost, "Reserved"),
            money!(cost_per_lead, "Cost / lead"),
        ]),
        Viewer::Publisher => {
            cols.extend([money!(payout, "Earned"), money!(pending_payout, "Pending earnings"), money!(epc, "EPC")])
        }
        Viewer::Admin => cols.extend([
            money!(revenue, "Revenue"),
            money!(payout, "Payout"),
            money!(fee, "Fee"),
            money!(pending_cost, "In escrow"),
            money!(epc, "EPC"),
            money!(cost_per_lead, "Cost / lead"),
        ]),
    }
    cols.extend([col!(scrub_rate, "Scrub %"), col!(return_rate, "Return %")]);
    cols
}

/// A row's metrics as JSON, only the columns the viewer sees: counts as numbers,
/// amounts and rates as decimal strings.
pub fn metrics_json(viewer: Viewer, d: &Delta) -> serde_json::Map<String, serde_json::Value> {
    let all = serde_json::to_value(Metrics::of(d)).unwrap_or_default();
    let mut out = serde_json::Map::new();
    for c in columns(viewer) {
        if let Some(v) = all.get(c.name) {
            out.insert(c.name.to_string(), v.clone());
        }
    }
    out
}

/// A CSV document: header and rows, CRLF line ends (RFC 4180).
pub fn csv(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = crate::domain::csv::line(header);
    for row in rows {
        out.push_str(&crate::domain::csv::line(&row));
    }
    out
}

/// A series for a chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<i64>,
    /// CSS colour
    pub color: &'a str,
    /// Bars (first series) or a line.
    pub bars: bool,
    /// Values are minor units (axis labels as money).
    pub money: bool,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A round axis maximum ≥ `max`: 1, 2, 2.5 or 5 × a power of ten.
fn nice_max(max: i64) -> i64 {
    if max <= 0 {
        return 1;
    }
    let mut p = 1i64;
    while p.saturating_mul(10) <= max {
        p *= 10;
    }
    for m in [1, 2, 5, 10] {
        if p.saturating_mul(m) >= max {
            return p.saturating_mul(m);
        }
    }
    p.saturating_mul(10)
}

/// The top of an axis for values up to `max`: a round number whose four ticks are
/// whole (whole currency units when `money`) for small values — 4, 8, 12 … up to
/// 40, never 1 with ticks at 0.25 — and `nice_max` above that.
fn axis_max(max: i64, money: bool) -> i64 {
    let unit = if money { 100 } else { 1 };
    if max <= 40 * unit {
        let units = (max.max(1) + unit - 1) / unit;
        ((units + 3) / 4 * 4) * unit
    } else {
        nice_max(max)
    }
}

/// The label of tick `i` of 4 on an axis up to `max` (minor units when `money`,
/// shown in whole currency units).
fn axis_label(max: i64, i: i64, money: bool) -> String {
    let v = max as f64 * i as f64 / 4.0 / if money { 100.0 } else { 1.0 };
    let (v, unit) = if v.abs() >= 1e6 {
        (v / 1e6, "M")
    } else if v.abs() >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if v.fract() == 0.0 { format!("{v:.0}{unit}") } else { format!("{v:.1}{unit}") }
}

/// The size of a drawn chart, in the units of its viewBox. A page shows a chart at
/// its card's width, so a phone gets its own narrow layout (text at the size it is
/// drawn, half the labels under the bars) instead of the wide one shrunk to 5 px text.
#[derive(Clone, Copy, Debug)]
pub struct ChartLayout {
    pub width: f64,
    pub height: f64,
    /// Left and right margins (the axis labels).
    pub side: f64,
    /// At most this many labels under the bars.
    pub x_labels: usize,
    /// The width of a legend character.
    pub legend_char: f64,
    /// The SVG's CSS classes (app.css shows one layout per screen width).
    pub class: &'static str,
}

impl ChartLayout {
    pub const WIDE: ChartLayout = ChartLayout {
        width: 720.0,
        height: 240.0,
        side: 56.0,
        x_labels: 10,
        legend_char: 7.0,
        class: "chart chart-wide",
    };
    pub const NARROW: ChartLayout = ChartLayout {
        width: 360.0,
        height: 250.0,
        side: 42.0,
        x_labels: 4,
        legend_char: 7.5,
        class: "chart chart-narrow",
    };
}

/// A chart drawn on the server: the first series as bars on the left axis, every
/// other one as a line on its own right axis scale. Plain SVG, no script; the
/// numbers are also in the table beside it.
pub fn chart_svg(title: &str, labels: &[String], series: &[Series]) -> String {
    chart_svg_in(ChartLayout::WIDE, title, labels, series)
}

/// The chart twice, wide and narrow (app.css shows the one that fits the screen).
pub fn responsive_chart_svg(title: &str, labels: &[String], series: &[Series]) -> String {
    let mut out = chart_svg_in(ChartLayout::WIDE, title, labels, series);
    out.push_str(&chart_svg_in(ChartLayout::NARROW, title, labels, series));
    out
}

/// `chart_svg` in `layout`.
pub fn chart_svg_in(layout: ChartLayout, title: &str, labels: &[String], series: &[Series]) -> String {
    let (w, h) = (layout.width, layout.height);
    let (left, right, top, bottom) = (layout.side, layout.side, 28.0, 36.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let n = labels.len().max(1) as f64;
    let step = pw / n;
    let mut out = format!(
        "<svg class=\"{class}\" role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title>{t}</title>",
        class = layout.class,
        t = escape(title)
    );
    // Legend.
    let mut x = left;
    for s in series {
        out.push_str(&format!(
            "<rect x=\"{x:.0}\" y=\"8\" width=\"10\" height=\"10\" fill=\"{c}\"/><text x=\"{tx:.0}\" y=\"17\" class=\"legend\">{n}</text>",
            c = s.color,
            tx = x + 14.0,
            n = escape(s.name)
        ));
        x += 24.0 + layout.legend_char * s.name.chars().count() as f64;
    }
    let max_of = |s: &Series| s.values.iter().copied().max().unwrap_or(0);
    // Grid and left axis (first series).
    let money0 = series.first().is_some_and(|s| s.money);
    let max0 = axis_max(series.first().map(max_of).unwrap_or(0), money0);
    for i in 0..=4 {
        let y = top + ph - ph * f64::from(i) / 4.0;
        out.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{x2}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{lx}\" y=\"{ty:.1}\" class=\"axis\" text-anchor=\"end\">{l}</text>",
            x2 = left + pw,
            lx = left - 6.0,
            ty = y + 4.0,
            l = axis_label(max0, i64::from(i), money0)
        ));
    }
    // X labels: at most `x_labels`.
    let every = labels.len().div_ceil(layout.x_labels.max(1)).max(1);
    for (i, l) in labels.iter().enumerate() {
        if i % every == 0 {
            out.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{y}\" class=\"axis\" text-anchor=\"middle\">{l}</text>",
                x = left + step * (i as f64 + 0.5),
                y = h - 14.0,
                l = escape(l)
            ));
        }
    }
    for (si, s) in series.iter().enumerate() {
        let max = if si == 0 { max0 } else { axis_max(max_of(s), s.money) };
        let y_of = |v: i64| top + ph - ph * (v.max(0) as f64) / (max as f64);
        if s.bars {
            let bw = (step * 0.7).max(1.0);
            for (i, v) in s.values.iter().enumerate() {
                let y = y_of(*v);
                out.push_str(&format!(
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" fill=\"{c}\"><title>{l}: {v}</title></rect>",
                    x = left + step * i as f64 + (step - bw) / 2.0,
                    bh = top + ph - y,
                    c = s.color,
                    l = escape(labels.get(i).map(String::as_str).unwrap_or("")),
                    v = if s.money { format_minor(*v) } else { v.to_string() }
                ));
            }
        } else {
            let points: Vec<String> = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{:.1},{:.1}", left + step * (i as f64 + 0.5), y_of(*v)))
                .collect();
            out.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
                points.join(" "),
                s.color
            ));
            // Its own scale on the right, unless it is zero throughout (a flat line
            // on the floor needs no "0 0 0 0" beside it).
            if si == 1 && max_of(s) > 0 {
                for i in 0..=4 {
                    out.push_str(&format!(
                        "<text x=\"{x}\" y=\"{y:.1}\" class=\"axis\" fill=\"{c}\">{l}</text>",
                        x = left + pw + 6.0,
                        y = top + ph - ph * f64::from(i) / 4.0 + 4.0,
                        c = s.color,
                        l = axis_label(max, i64::from(i), s.money)
                    ));
                }
            }
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("time")
    }

    #[test]
    fn group_by_names_round_trip() {
        for g in GroupBy::ALL {
            assert_eq!(GroupBy::parse(g.name()), Some(g));
        }
        assert_eq!(GroupBy::parse("week"), None);
        assert_eq!(GroupBy::Sub(3).dim(), "sub3");
        assert_eq!(GroupBy::Offer.dim(), "all");
    }

    #[test]
    fn ranges_are_local_days() {
        let tz: Tz = "America/New_York".parse().expect("zone");
        let r = Range::parse(Some("2026-11-01"), Some("2026-11-02"), tz, at("2026-11-23 12:00:00")).expect("range");
        // Nov 1 2026 is the DST change day in New York: EDT midnight is 04:00 UTC,
        // and Nov 3 starts at 05:00 UTC (EST).
        assert_eq!(r.utc_bounds(), (at("2026-11-01 04:00:00"), at("2026-11-03 05:00:00")));
        assert_eq!(r.days().len(), 2);
        assert_eq!(r.local(at("2026-11-02 04:00:00")), at("2026-11-01 23:00:00"));
        // Default: the last 30 days up to today in the viewer's zone.
        let tokyo: Tz = "Asia/Tokyo".parse().expect("zone");
        let d = Range::parse(None, None, tokyo, at("2026-11-23 20:00:00")).expect("range");
        assert_eq!(d.to.to_string(), "2026-11-24");
        assert_eq!(d.days_len(), 30);
        assert_eq!(d.previous().to.to_string(), "2026-10-25");
    }

    #[test]
    fn bad_ranges_are_refused() {
        let now = at("2026-11-23 12:00:00");
        assert!(Range::parse(Some("2026-13-01"), None, chrono_tz::UTC, now).is_err());
        assert!(Range::parse(Some("2026-11-05"), Some("2026-11-01"), chrono_tz::UTC, now).is_err());
        assert!(Range::parse(Some("2020-01-01"), Some("2026-01-01"), chrono_tz::UTC, now).is_err());
        assert!(Range::parse(Some("<script>"), None, chrono_tz::UTC, now).is_err());
    }

    #[test]
    fn rates_and_money_per_unit() {
        assert_eq!(pct(1, 3), "33.33");
        assert_eq!(pct(2, 3), "66.67");
        assert_eq!(pct(5, 0), "0.00");
        assert_eq!(pct(7, 7), "100.00");
        assert_eq!(per(1000, 3), 333);
        assert_eq!(per(1001, 2), 501);
        assert_eq!(per(5, 0), 0);
        let d = Delta {
            clicks: 200,
            leads: 10,
            approved: 6,
            rejected: 2,
            reversed: 2,
            approved_price_minor: 6000,
            approved_payout_minor: 4800,
            approved_fee_minor: 1200,
            ..Delta::default()
        };
        let m = Metrics::of(&d);
        assert_eq!((m.cr.as_str(), m.epc.as_str(), m.cost_per_lead.as_str()), ("5.00", "0.24", "10.00"));
        assert_eq!((m.scrub_rate.as_str(), m.return_rate.as_str()), ("20.00", "25.00"));
    }

    #[test]
    fn fallback_clicks_are_explained_in_words() {
        let m = Metrics::of(&Delta {
            clicks: 20,
            fallback_clicks: 12,
            off_target_clicks: 9,
            blocked_clicks: 2,
            ..Delta::default()
        });
        assert_eq!(
            fallback_note(&m).as_deref(),
            Some(
                "12 clicks went to the offer's fallback page instead of its landing page: 9 outside the offer's \
                 targeting (country, device or OS), 2 from a blocked source, 1 for another reason (a cap reached, \
                 the offer paused, the link not approved)."
            )
        );
        let one = Metrics::of(&Delta { clicks: 3, fallback_clicks: 1, blocked_clicks: 1, ..Delta::default() });
        assert_eq!(
            fallback_note(&one).as_deref(),
            Some("1 click went to the offer's fallback page instead of its landing page: 1 from a blocked source.")
        );
        assert_eq!(fallback_note(&Metrics::of(&Delta { clicks: 3, ..Delta::default() })), None);
        // Every viewer has the column; its breakdown is for CSV and the API.
        for v in [Viewer::Advertiser, Viewer::Publisher, Viewer::Admin] {
            let cols = columns(v);
            let names: Vec<_> = cols.iter().map(|c| c.name).collect();
            assert!(names.contains(&"fallback_clicks") && names.contains(&"off_target_clicks"), "{names:?}");
            let export: Vec<_> = cols.iter().filter(|c| c.export_only).map(|c| c.name).collect();
            assert_eq!(export, ["off_target_clicks", "blocked_clicks"]);
        }
        let json =
            metrics_json(Viewer::Publisher, &Delta { fallback_clicks: 2, blocked_clicks: 2, ..Delta::default() });
        assert_eq!((json["fallback_clicks"].as_i64(), json["blocked_clicks"].as_i64()), (Some(2), Some(2)));
    }

    #[test]
    fn viewers_see_their_side_of_the_money() {
        let names = |v| columns(v).iter().map(|c| c.name).collect::<Vec<_>>();
        assert!(names(Viewer::Publisher).contains(&"payout") && !names(Viewer::Publisher).contains(&"fee"));
        assert!(!names(Viewer::Publisher).contains(&"revenue"));
        assert!(names(Viewer::Advertiser).contains(&"revenue") && !names(Viewer::Advertiser).contains(&"payout"));
        assert!(names(Viewer::Admin).contains(&"fee"));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let doc = csv(&["name", "n"], [vec!["a,b".into(), "1".into()], vec!["=HYPERLINK(\"x\")".into(), "-2".into()]]);
        assert_eq!(doc, "name,n\r\n\"a,b\",1\r\n\"'=HYPERLINK(\"\"x\"\")\",-2\r\n");
    }

    #[test]
    fn charts_escape_labels_and_scale() {
        let svg = chart_svg(
            "Clicks <&>",
            &["<b>".to_string(), "2".to_string()],
            &[
                Series { name: "Clicks", values: vec![10, 40], color: "#3b82f6", bars: true, money: false },
                Series { name: "Leads", values: vec![1, 3], color: "#16a34a", bars: false, money: false },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Clicks &lt;&amp;&gt;") && !svg.contains("<b>"));
        assert_eq!(svg.matches("<rect").count(), 2 + 2, "two legend boxes and two bars");
        assert!(svg.contains("<polyline"));
        assert_eq!(nice_max(37), 50);
        assert_eq!(nice_max(100), 100);
        assert_eq!(nice_max(0), 1);
        let ticks: Vec<String> = (0..=4).map(|i| axis_label(10, i, false)).collect();
        assert_eq!(ticks, ["0", "2.5", "5", "7.5", "10"]);
        assert_eq!(axis_label(5_000_000, 4, true), "50k");
    }

    #[test]
    fn small_axes_have_whole_ticks() {
        // One click: ticks 0 1 2 3 4, not 0 0.2 0.5 0.8 1.
        assert_eq!(axis_max(1, false), 4);
        assert_eq!(axis_max(0, false), 4);
        assert_eq!(axis_max(5, false), 8);
        assert_eq!(axis_max(40, false), 40);
        assert_eq!(axis_max(41, false), 50);
        // Money in minor units: 0.50 → 4.00 (ticks of 1.00), 9.99 → 12.00.
        assert_eq!(axis_max(50, true), 400);
        assert_eq!(axis_max(999, true), 1200);
        assert_eq!(axis_max(100_000, true), 100_000);
        let ticks: Vec<String> = (0..=4).map(|i| axis_label(axis_max(3, false), i, false)).collect();
        assert_eq!(ticks, ["0", "1", "2", "3", "4"]);
    }

    #[test]
    fn a_line_at_zero_has_no_right_axis_and_phones_get_a_narrow_chart() {
        let days: Vec<String> = (1..=30).map(|d| format!("12-{d:02}")).collect();
        let series = [
            Series { name: "Clicks", values: (1..=30).collect(), color: "#9cc3f5", bars: true, money: false },
            Series { name: "Earnings", values: vec![0; 30], color: "#0b6e4f", bars: false, money: true },
        ];
        let svg = chart_svg("Clicks", &days, &series);
        assert!(!svg.contains("fill=\"#0b6e4f\">0"), "no right axis for a line at zero: {svg}");
        assert!(!svg.contains(">0.0<"), "{svg}");
        let both = responsive_chart_svg("Clicks", &days, &series);
        assert_eq!(both.matches("<svg").count(), 2);
        assert!(both.contains("class=\"chart chart-wide\"") && both.contains("class=\"chart chart-narrow\""));
        let narrow = chart_svg_in(ChartLayout::NARROW, "Clicks", &days, &series);
        assert!(narrow.contains("viewBox=\"0 0 360 250\""));
        // 30 days: every 8th labelled, 4 labels under the bars.
        let x_labels = narrow.matches("text-anchor=\"middle\"").count();
        assert_eq!(x_labels, 4, "{narrow}");
    }
}
