//! Reports in the browser (DESIGN §9): the report pages of each role
//! (`/advertiser/reports`, `/publisher/reports`, `/admin/reports`, also as CSV) and
//! the pieces the three dashboards share: the date-range form, KPI cards, the
//! day chart and the report tables.
//!
//! Everything here reads `store::reports` (the rollups) and shows only the columns
//! of [`columns`](crate::domain::report::columns) for the viewer, so a publisher
//! never sees a price or a fee and an advertiser never sees a payout or a fee.
//!
//! One file per concern: the request and its reader, the range form, the
//! dashboards' totals and KPI cards, charts, tables, suspicious traffic, the
//! report page and its CSV export.

use actix_web::web;

mod charts;
mod dashboard;
mod export;
mod page;
mod query;
mod range_form;
mod suspects;
mod table;

pub use charts::{time_chart, top_chart};
pub use dashboard::{Days, Kpi, Measure, kpi, kpis, overview};
pub use query::{Reader, ReportQuery};
pub use range_form::{QuickLink, RangeForm, Select};
pub use suspects::{FlagView, Ranking, SuspectRow, full_ranking, overview_ranking};
pub use table::{Cell, Head, Row, Switch, Table, dashboard_table};

use page::{admin_reports, advertiser_reports, publisher_reports};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/advertiser/reports", web::get().to(advertiser_reports))
        .route("/publisher/reports", web::get().to(publisher_reports))
        .route("/admin/reports", web::get().to(admin_reports));
}
