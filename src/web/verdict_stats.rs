//! The advertiser's verdict in reports and on the publisher's offer page (DESIGN §9
//! "The advertiser's verdict in reports"): the approve rate, the time to verdict
//! and the share decided by the offer's default, as extra columns of the
//! advertiser's and admin's reports by offer and by publisher (page, CSV, API), and
//! in plain words for a publisher deciding whether to run an offer.

use chrono::{Duration, NaiveDateTime};
use diesel::QueryResult;

use crate::db::DbConn;
use crate::domain::verdict_stats::{self as figures, Figures};
use crate::store::offers::Offer;
use crate::store::reports::Line;
use crate::store::verdict_stats::{self as store, Filter, Per, ReportFigures};
use crate::web::reports::{Cell, Head, Table};

/// The columns added to a report's table, CSV and JSON: (name, title).
pub const COLUMNS: [(&str, &str); 4] = [
    ("decisions", "Decisions"),
    ("approve_rate", "Approve rate"),
    ("time_to_verdict", "Time to verdict"),
    ("decided_by_default", "Decided by default"),
];

/// The cells of a page's table: a dash where there was no decision.
fn page_cells(f: &Figures) -> [String; 4] {
    let dash = || "—".to_string();
    [
        f.decided.to_string(),
        f.approve_rate().map_or_else(dash, |r| format!("{r} %")),
        f.median_secs.map_or_else(dash, crate::i18n::duration_words),
        f.default_share().map_or_else(dash, |r| format!("{r} %")),
    ]
}

/// Add the columns to a report table whose rows are `lines` (in order).
pub fn extend_table(table: &mut Table, lines: &[Line], f: &ReportFigures) {
    table.heads.extend(COLUMNS.iter().map(|&(name, title)| Head { name, title, numeric: true }));
    for (row, line) in table.rows.iter_mut().zip(lines) {
        row.cells.extend(page_cells(&f.of(line)).map(Cell::from));
    }
    if let Some(total) = table.total.as_mut() {
        total.extend(page_cells(&f.total).map(Cell::from));
    }
}

/// The CSV header of the columns: the time in seconds, so a spreadsheet can count.
pub const CSV_COLUMNS: [&str; 4] = ["decisions", "approve_rate", "time_to_verdict_seconds", "decided_by_default"];

/// A CSV line's cells: rates as percentages with two places, the time in seconds,
/// empty where there was no decision.
pub fn csv_cells(f: &Figures) -> [String; 4] {
    [
        f.decided.to_string(),
        f.approve_rate().unwrap_or_default(),
        f.median_secs.map(|s| s.to_string()).unwrap_or_default(),
        f.default_share().unwrap_or_default(),
    ]
}

// ---------------------------------------------------------------------------
// The publisher's offer page
// ---------------------------------------------------------------------------

/// How far back the publisher's offer page looks.
pub const PUBLISHER_DAYS: i64 = 90;

/// What a publisher reads about the advertiser of an offer: on this offer, and
/// across all the advertiser's offers (`None`: not enough decisions yet).
pub struct PublisherView {
    /// How many days back it looks ([`PUBLISHER_DAYS`]).
    pub days: i64,
    pub offer: Option<String>,
    pub advertiser: Option<String>,
    /// The offer is decided by the scrub rules at hold end: only the advertiser's
    /// early decisions count.
    pub rules_mode: bool,
}

/// The advertiser's decisions of the last [`PUBLISHER_DAYS`] days up to `now`: of
/// `offer`, and of all its advertiser's offers — never another advertiser's.
pub fn publisher_view(conn: &mut DbConn, offer: &Offer, now: NaiveDateTime) -> QueryResult<PublisherView> {
    let from = now - Duration::days(PUBLISHER_DAYS);
    // The upper bound is exclusive: a verdict given this very instant counts.
    let to = now + Duration::seconds(1);
    let advertiser = Filter { advertiser_id: Some(offer.advertiser_id), offer_id: None, from, to };
    // One read of the advertiser's decisions gives this offer's and the total.
    let f = store::figures(conn, &advertiser, Per::Offer)?;
    let (on_offer, all) = (f.per.get(&offer.id).copied().unwrap_or_default(), f.total);
    let terms = offer.body().terms;
    let default = terms.advertiser_decides().then(|| terms.decision_default.clone());
    Ok(PublisherView {
        days: PUBLISHER_DAYS,
        offer: figures::sentence(&on_offer, "on this offer", default.as_deref()),
        advertiser: figures::sentence(&all, "across all its offers", None),
        rules_mode: !terms.advertiser_decides(),
    })
}
