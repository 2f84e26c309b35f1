//! A report as a CSV download.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::domain::report::{self, GroupBy, Metrics, Range, Viewer, columns};
use crate::store::reports::Line;
use crate::store::verdict_stats as verdict_figures;
use crate::web::verdict_stats;

/// A column's CSV heading: its API key, except that the advertiser's `revenue` (what
/// it paid for approved leads) is headed `spend` in its own spreadsheet.
fn csv_name(viewer: Viewer, name: &'static str) -> &'static str {
    match (viewer, name) {
        (Viewer::Advertiser, "revenue") => "spend",
        _ => name,
    }
}

/// A report as CSV: the group's value (and its name for offers and publishers),
/// then the viewer's columns, then the advertiser's verdict figures when the report
/// has them, and last the `currency` of its amounts (plain decimals, `12.50`).
pub(super) fn csv_response(
    viewer: Viewer,
    group: GroupBy,
    range: &Range,
    lines: &[Line],
    verdicts: Option<&verdict_figures::ReportFigures>,
    currency: &str,
) -> HttpResponse {
    let cols = columns(viewer);
    let labelled = matches!(group, GroupBy::Offer | GroupBy::Publisher);
    let mut head = vec![group.name()];
    if labelled {
        head.push("label");
    }
    head.extend(cols.iter().map(|c| csv_name(viewer, c.name)));
    if verdicts.is_some() {
        head.extend(verdict_stats::CSV_COLUMNS);
    }
    head.push("currency");
    let rows = lines.iter().map(|l| {
        let m = Metrics::of(&l.totals);
        let mut row = vec![l.key.clone()];
        if labelled {
            row.push(l.label.clone());
        }
        row.extend(cols.iter().map(|c| (c.get)(&m)));
        if let Some(f) = verdicts {
            row.extend(verdict_stats::csv_cells(&f.of(l)));
        }
        row.push(currency.to_string());
        row
    });
    let body = report::csv(&head, rows);
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"qualead-{}-{}-{}.csv\"", group.name(), range.from, range.to),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body)
}
