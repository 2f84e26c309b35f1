//! The report charts (SVG): clicks and the reader's money over time, and the
//! first groups of a report as bars. Each is drawn wide and narrow (the page shows
//! the one that fits the screen); a range without traffic says so in words instead
//! of drawing empty axes.

use super::Reader;
use crate::domain::local::Local;
use crate::domain::report::{Series, Viewer, responsive_chart_svg};
use crate::store::reports::Line;

const BAR_COLOR: &str = "#9cc3f5";
const LINE_COLOR: &str = "#0b6e4f";

/// Clicks as bars and the reader's money as a line, over time lines.
pub fn time_chart(reader: &Reader, local: &Local, title: &str, lines: &[Line]) -> String {
    if !has_traffic(reader, lines) {
        return empty_state(reader);
    }
    let labels: Vec<String> = lines.iter().map(|l| l.label.clone()).collect();
    let money_name = money_name(reader, local);
    responsive_chart_svg(
        title,
        &labels,
        &[
            Series {
                name: "Clicks",
                values: lines.iter().map(|l| l.totals.clicks).collect(),
                color: BAR_COLOR,
                bars: true,
                money: false,
            },
            Series {
                name: &money_name,
                values: lines.iter().map(|l| reader.money(&l.totals)).collect(),
                color: LINE_COLOR,
                bars: false,
                money: true,
            },
        ],
    )
}

/// How many groups a chart of groups shows.
const TOP_BARS: usize = 15;

/// The first groups of a report (they are sorted by money, then clicks) as bars:
/// the reader's money when there is any, else clicks.
pub fn top_chart(reader: &Reader, local: &Local, title: &str, lines: &[Line]) -> String {
    if !has_traffic(reader, lines) {
        return empty_state(reader);
    }
    let top = &lines[..lines.len().min(TOP_BARS)];
    let labels: Vec<String> = top
        .iter()
        .map(|l| {
            let mut s: String = l.label.chars().take(12).collect();
            if l.label.chars().count() > 12 {
                s.push('…');
            }
            s
        })
        .collect();
    let money: Vec<i64> = top.iter().map(|l| reader.money(&l.totals)).collect();
    let money_name = money_name(reader, local);
    let series = if money.iter().any(|m| *m != 0) {
        Series { name: &money_name, values: money, color: LINE_COLOR, bars: true, money: true }
    } else {
        Series {
            name: "Clicks",
            values: top.iter().map(|l| l.totals.clicks).collect(),
            color: BAR_COLOR,
            bars: true,
            money: false,
        }
    };
    responsive_chart_svg(title, &labels, &[series])
}

/// The money series' name with the currency its axis counts in: `Revenue (USD)`.
fn money_name(reader: &Reader, local: &Local) -> String {
    format!("{} ({})", reader.money_title(), local.currency)
}

/// Whether `lines` have anything a chart could draw: a click or the reader's money.
fn has_traffic(reader: &Reader, lines: &[Line]) -> bool {
    lines.iter().any(|l| l.totals.clicks != 0 || reader.money(&l.totals) != 0)
}

/// What a chart of a range without traffic shows instead of empty axes.
fn empty_state(reader: &Reader) -> String {
    let words = match reader.viewer {
        Viewer::Publisher => {
            "No clicks in this range yet — share your link: <a href=\"/publisher/links\">your tracking links</a>."
        }
        Viewer::Advertiser => {
            "No clicks in this range yet — clicks appear here once publishers send traffic to your live offers."
        }
        Viewer::Admin => "No clicks in this range yet on any offer of the network.",
    };
    format!("<p class=\"chart-empty\" data-empty-chart>{words}</p>")
}
