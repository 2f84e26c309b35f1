//! The report charts (SVG): clicks and the reader's money over time, and the
//! first groups of a report as bars.

use super::Reader;
use crate::domain::report::{Series, chart_svg};
use crate::store::reports::Line;

const BAR_COLOR: &str = "#9cc3f5";
const LINE_COLOR: &str = "#0b6e4f";

/// Clicks as bars and the reader's money as a line, over time lines.
pub fn time_chart(reader: &Reader, title: &str, lines: &[Line]) -> String {
    let labels: Vec<String> = lines.iter().map(|l| l.label.clone()).collect();
    chart_svg(
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
                name: reader.money_title(),
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
pub fn top_chart(reader: &Reader, title: &str, lines: &[Line]) -> Option<String> {
    if lines.is_empty() {
        return None;
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
    let series = if money.iter().any(|m| *m != 0) {
        Series { name: reader.money_title(), values: money, color: LINE_COLOR, bars: true, money: true }
    } else {
        Series {
            name: "Clicks",
            values: top.iter().map(|l| l.totals.clicks).collect(),
            color: BAR_COLOR,
            bars: true,
            money: false,
        }
    };
    Some(chart_svg(title, &labels, &[series]))
}
