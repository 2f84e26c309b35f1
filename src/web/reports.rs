//! Reports in the browser (DESIGN §9): the report pages of each role
//! (`/advertiser/reports`, `/publisher/reports`, `/admin/reports`, also as CSV) and
//! the pieces the three dashboards share: the date-range form, KPI cards, the
//! day chart and the report tables.
//!
//! Everything here reads `store::reports` (the rollups) and shows only the columns
//! of [`columns`] for the viewer, so a publisher never sees a price or a fee and an
//! advertiser never sees a payout or a fee.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::db::{self, DbConn, DbPool};
use crate::domain::account::Role;
use crate::domain::money::format_minor;
use crate::domain::report::{self, Column, GroupBy, Metrics, Range, Series, Viewer, chart_svg, columns};
use crate::error::{AppError, AppResult};
use crate::store::offers;
use crate::store::reports::{self as rollup_reports, Filter, Line, Scope};
use crate::store::rollups::Delta;
use crate::store::users::User;
use crate::store::verdict_stats as verdict_figures;
use crate::web::context::{AdminCtx, AdvertiserCtx, Ctx, Page, PublisherCtx, render};
use crate::web::verdict_stats;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/advertiser/reports", web::get().to(advertiser_reports))
        .route("/publisher/reports", web::get().to(publisher_reports))
        .route("/admin/reports", web::get().to(admin_reports));
}

// ---------------------------------------------------------------------------
// Reading the request
// ---------------------------------------------------------------------------

/// The query of the dashboards and report pages; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReportQuery {
    pub from: String,
    pub to: String,
    pub group_by: String,
    pub offer_id: String,
    pub format: String,
    /// The sub (1–5) of the publisher dashboard's sub table.
    pub sub: String,
}

impl ReportQuery {
    /// The query of a request; a malformed one is a 400 page.
    pub fn of(req: &HttpRequest) -> AppResult<ReportQuery> {
        web::Query::<ReportQuery>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .map_err(|e| AppError::bad_request("bad_query", format!("The report address is not valid: {e}")))
    }

    /// `group_by`, `day` when absent.
    pub fn group(&self) -> AppResult<GroupBy> {
        let raw = self.group_by.trim();
        if raw.is_empty() {
            return Ok(GroupBy::Day);
        }
        GroupBy::parse(raw).ok_or_else(|| {
            AppError::bad_request(
                "bad_group_by",
                format!("group_by must be one of {}, not {raw:?}.", GroupBy::ALL.map(GroupBy::name).join(", ")),
            )
        })
    }

    /// `offer_id`, when one is given.
    pub fn offer(&self) -> AppResult<Option<i64>> {
        let raw = self.offer_id.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        raw.parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::bad_request("bad_offer", format!("offer_id must be an offer number, not {raw:?}.")))
    }

    /// Whether the answer is CSV (`format=csv`) rather than a page.
    pub fn csv(&self) -> AppResult<bool> {
        match self.format.trim() {
            "" | "html" => Ok(false),
            "csv" => Ok(true),
            other => Err(AppError::bad_request("bad_format", format!("format must be csv or html, not {other:?}."))),
        }
    }

    /// The sub number of the publisher dashboard's sub table, 1 when absent.
    pub fn sub(&self) -> AppResult<u8> {
        match self.sub.trim() {
            "" => Ok(1),
            s => s
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(|| AppError::bad_request("bad_sub", format!("sub must be 1 to 5, not {s:?}."))),
        }
    }
}

/// Who reads a report: the money columns they see, whose rows, where their pages
/// are, and their timezone.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub viewer: Viewer,
    pub scope: Scope,
    /// `/advertiser`, `/publisher` or `/admin`.
    pub base: &'static str,
    pub tz: Tz,
}

impl Reader {
    pub fn of(user: &User) -> Reader {
        let (viewer, scope) = rollup_reports::viewer_of(user.role(), user.id);
        let base = match user.role() {
            Role::Advertiser => "/advertiser",
            Role::Publisher => "/publisher",
            Role::Admin => "/admin",
        };
        Reader { viewer, scope, base, tz: user.timezone.parse().unwrap_or(chrono_tz::UTC) }
    }

    /// The query's range in the reader's timezone (the last 30 days by default).
    pub fn range(&self, q: &ReportQuery) -> AppResult<Range> {
        Range::parse(Some(&q.from), Some(&q.to), self.tz, crate::store::now())
            .map_err(|e| AppError::bad_request("bad_range", format!("The date range is not valid: {e}.")))
    }

    /// Today in the reader's timezone.
    pub fn today(&self) -> NaiveDate {
        Utc.from_utc_datetime(&crate::store::now()).with_timezone(&self.tz).date_naive()
    }

    pub fn filter(&self, range: Range, offer_id: Option<i64>) -> Filter {
        Filter { scope: self.scope, offer_id, range }
    }

    /// The report page (or its CSV) of a range, grouping and offer.
    pub fn report_url(&self, range: &Range, group: GroupBy, offer_id: Option<i64>, csv: bool) -> String {
        let mut url = format!("{}/reports?{}&group_by={}", self.base, range.query(), group.name());
        if let Some(o) = offer_id {
            url.push_str(&format!("&offer_id={o}"));
        }
        if csv {
            url.push_str("&format=csv");
        }
        url
    }

    /// The money that matters to the reader: what an advertiser spent, what a
    /// publisher earned, what the network charged.
    pub fn money(&self, d: &Delta) -> i64 {
        match self.viewer {
            Viewer::Publisher => d.approved_payout_minor,
            Viewer::Advertiser | Viewer::Admin => d.approved_price_minor,
        }
    }

    pub fn money_title(&self) -> &'static str {
        match self.viewer {
            Viewer::Advertiser => "Spend",
            Viewer::Publisher => "Earned",
            Viewer::Admin => "Revenue",
        }
    }

    /// The offers the reader can narrow a report to: (id, name).
    fn offers(&self, conn: &mut DbConn) -> AppResult<Vec<(i64, String)>> {
        Ok(match self.scope {
            Scope::All => offers::list_all(conn, None)?.into_iter().map(|(o, _)| (o.id, o.name)).collect(),
            Scope::Advertiser(a) => offers::list_for_advertiser(conn, a)?.into_iter().map(|o| (o.id, o.name)).collect(),
            Scope::Publisher(p) => offers::memberships_of(conn, p)?.into_iter().map(|(_, o)| (o.id, o.name)).collect(),
        })
    }
}

/// The refusal of an offer the reader may not report on; it does not say whether
/// the offer exists.
fn unknown_offer(id: i64) -> AppError {
    AppError::bad_request("unknown_offer", format!("There is no offer {id} among the offers you can report on."))
}

// ---------------------------------------------------------------------------
// The range form
// ---------------------------------------------------------------------------

/// A quick range link ("7 days").
pub struct QuickLink {
    pub label: &'static str,
    pub href: String,
    pub active: bool,
}

/// A select box of a report form: (value, text, selected) options.
pub struct Select {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<(String, String, bool)>,
}

/// The model of `partials/report_range.html`: a GET form with the range, any
/// selects, the fields to keep, and quick links.
pub struct RangeForm {
    pub action: &'static str,
    pub from: String,
    pub to: String,
    pub label: String,
    pub tz: String,
    pub selects: Vec<Select>,
    pub hidden: Vec<(&'static str, String)>,
    today: NaiveDate,
    range: (NaiveDate, NaiveDate),
}

impl RangeForm {
    pub fn new(action: &'static str, reader: &Reader, range: &Range) -> RangeForm {
        RangeForm {
            action,
            from: range.from.to_string(),
            to: range.to.to_string(),
            label: range.label(),
            tz: reader.tz.name().to_string(),
            selects: vec![],
            hidden: vec![],
            today: reader.today(),
            range: (range.from, range.to),
        }
    }

    /// Keep a query field through the form and the quick links.
    pub fn keep(mut self, name: &'static str, value: String) -> RangeForm {
        if !value.is_empty() {
            self.hidden.push((name, value));
        }
        self
    }

    pub fn select(mut self, s: Select) -> RangeForm {
        self.selects.push(s);
        self
    }

    /// The last 7, 30 and 90 days up to today, each keeping the other fields.
    pub fn quick(&self) -> Vec<QuickLink> {
        let mut keep = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.hidden {
            keep.append_pair(name, value);
        }
        for s in &self.selects {
            if let Some((v, _, _)) = s.options.iter().find(|o| o.2).filter(|o| !o.0.is_empty()) {
                keep.append_pair(s.name, v);
            }
        }
        let keep = keep.finish();
        [("7 days", 7), ("30 days", 30), ("90 days", 90)]
            .into_iter()
            .map(|(label, n)| {
                let from = self.today - Duration::days(n - 1);
                let mut href = format!("{}?from={from}&to={}", self.action, self.today);
                if !keep.is_empty() {
                    href.push('&');
                    href.push_str(&keep);
                }
                QuickLink { label, href, active: self.range == (from, self.today) }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// KPI cards
// ---------------------------------------------------------------------------

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
}

/// The two measures of a KPI: this range's and the previous period's.
pub fn kpi(key: &'static str, title: &'static str, now: Measure, before: Measure, higher_is_better: bool) -> Kpi {
    let (c, p) = (now.scalar(), before.scalar());
    let arrow = if c > p { "▲ " } else { "▼ " };
    let change = if c == p {
        "no change".to_string()
    } else if let Measure::Rate(..) = now {
        let d = (c - p).abs();
        format!("{arrow}{}.{:02} pts", d / 100, d % 100)
    } else if p == 0 {
        "new".to_string()
    } else {
        let tenths = (i128::from(c - p).abs() * 1000 / i128::from(p.abs())) as i64;
        format!("{arrow}{}.{} %", tenths / 10, tenths % 10)
    };
    let trend = if c == p || (p == 0 && !higher_is_better && !matches!(now, Measure::Rate(..))) {
        // A cost appearing where there was none is news, not a change for the worse.
        "flat"
    } else if (c > p) == higher_is_better {
        "good"
    } else {
        "bad"
    };
    Kpi { key, title, value: now.show(), previous: before.show(), change, trend }
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

// ---------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------

/// A column heading.
pub struct Head {
    pub name: &'static str,
    pub title: &'static str,
    pub numeric: bool,
}

pub struct Row {
    pub label: String,
    pub href: Option<String>,
    pub cells: Vec<String>,
}

/// A select in a table's header that reloads the page with another value (the
/// publisher's sub1–sub5), keeping the `hidden` fields.
pub struct Switch {
    pub action: &'static str,
    pub select: Select,
    pub hidden: Vec<(&'static str, String)>,
}

/// The model of `partials/report_table.html`.
pub struct Table {
    /// The section's id and CSS hook, e.g. `by-offer`.
    pub id: &'static str,
    pub title: String,
    /// The heading of the first column (the group).
    pub group: &'static str,
    pub heads: Vec<Head>,
    pub rows: Vec<Row>,
    pub total: Option<Vec<String>>,
    /// The CSV export of the same table.
    pub csv: Option<String>,
    pub switch: Option<Switch>,
    pub empty: &'static str,
}

impl Table {
    /// A table of `lines` with the viewer's columns, only those named in `pick`
    /// when given (in the viewer's column order, so a pick can never add a column
    /// the viewer may not see).
    pub fn new(
        id: &'static str,
        title: impl Into<String>,
        viewer: Viewer,
        pick: Option<&[&str]>,
        group: GroupBy,
    ) -> Table {
        let heads = picked(viewer, pick)
            .into_iter()
            .map(|c| Head { name: c.name, title: c.title, numeric: c.numeric })
            .collect();
        Table {
            id,
            title: title.into(),
            group: group.title(),
            heads,
            rows: vec![],
            total: None,
            csv: None,
            switch: None,
            empty: "No traffic in this range.",
        }
    }

    /// Fill the rows (and a totals row when `total`).
    pub fn rows(mut self, viewer: Viewer, pick: Option<&[&str]>, lines: &[Line], total: bool) -> Table {
        let cols = picked(viewer, pick);
        let cells = |d: &Delta| {
            let m = Metrics::of(d);
            cols.iter().map(|c| (c.get)(&m)).collect::<Vec<_>>()
        };
        self.rows = lines.iter().map(|l| Row { label: l.label.clone(), href: None, cells: cells(&l.totals) }).collect();
        if total && !lines.is_empty() {
            self.total = Some(cells(&rollup_reports::totals(lines)));
        }
        self
    }

    pub fn csv(mut self, href: String) -> Table {
        self.csv = Some(href);
        self
    }

    pub fn switch(mut self, switch: Switch) -> Table {
        self.switch = Some(switch);
        self
    }

    pub fn empty(mut self, message: &'static str) -> Table {
        self.empty = message;
        self
    }

    /// Columns in all, with the group's.
    pub fn width(&self) -> usize {
        self.heads.len() + 1
    }
}

fn picked(viewer: Viewer, pick: Option<&[&str]>) -> Vec<Column> {
    columns(viewer).into_iter().filter(|c| pick.is_none_or(|p| p.contains(&c.name))).collect()
}

/// A dashboard table: its lines (the first `limit`), the viewer's `pick` of
/// columns, a totals row, and the CSV of the whole report.
#[allow(clippy::too_many_arguments)]
pub fn dashboard_table(
    reader: &Reader,
    range: &Range,
    id: &'static str,
    title: impl Into<String>,
    group: GroupBy,
    pick: &[&str],
    lines: &[Line],
    limit: Option<usize>,
) -> Table {
    let shown = &lines[..limit.map_or(lines.len(), |n| n.min(lines.len()))];
    Table::new(id, title, reader.viewer, Some(pick), group)
        .rows(reader.viewer, Some(pick), shown, limit.is_none())
        .csv(reader.report_url(range, group, None, true))
}

// ---------------------------------------------------------------------------
// Suspicious traffic (admin)
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// The report pages
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportPage {
    page: Page,
    form: RangeForm,
    group: &'static str,
    chart_title: String,
    chart: Option<String>,
    table: Table,
    csv: String,
    offer: Option<String>,
    /// The table has the advertiser's verdict columns.
    verdicts: bool,
}

async fn advertiser_reports(a: AdvertiserCtx, req: HttpRequest) -> AppResult<HttpResponse> {
    report_page(&a.ctx, &a.user, &req).await
}

async fn publisher_reports(p: PublisherCtx, req: HttpRequest) -> AppResult<HttpResponse> {
    report_page(&p.ctx, &p.user, &req).await
}

async fn admin_reports(a: AdminCtx, req: HttpRequest) -> AppResult<HttpResponse> {
    report_page(&a.ctx, &a.user, &req).await
}

/// One report: the page (chart, full table with totals, CSV link) or, with
/// `format=csv`, the CSV file.
async fn report_page(ctx: &Ctx, user: &User, req: &HttpRequest) -> AppResult<HttpResponse> {
    let q = ReportQuery::of(req)?;
    let reader = Reader::of(user);
    let range = reader.range(&q)?;
    let group = q.group()?;
    let offer_id = q.offer()?;
    let csv = q.csv()?;
    let (lines, offers, verdicts) = db::run(ctx.pool(), move |c| {
        // The offer select needs the reader's offers; a CSV does not.
        let offers = if csv { vec![] } else { reader.offers(c)? };
        if let Some(id) = offer_id
            && !rollup_reports::offer_visible(c, reader.scope, id)?
        {
            return Err(unknown_offer(id));
        }
        let mut lines = rollup_reports::report(c, &reader.filter(range, offer_id), group)?;
        let verdicts = verdict_figures::load(c, reader.viewer, reader.scope, offer_id, &range, group)?;
        if let Some(f) = &verdicts {
            verdict_figures::add_missing_lines(c, &mut lines, f, group)?;
        }
        Ok((lines, offers, verdicts))
    })
    .await?;
    if csv {
        return Ok(csv_response(reader.viewer, group, &range, &lines, verdicts.as_ref()));
    }

    let offer = offer_id.map(|id| offers.iter().find(|(o, _)| *o == id).map(|(_, n)| n.clone()).unwrap_or_default());
    let mut offer_options = vec![(String::new(), "All offers".to_string(), offer_id.is_none())];
    offer_options
        .extend(offers.iter().map(|(id, name)| (id.to_string(), format!("{name} (#{id})"), offer_id == Some(*id))));
    let form = RangeForm::new(reports_path(reader.base), &reader, &range)
        .select(Select {
            name: "group_by",
            label: "Group by",
            options: GroupBy::ALL.iter().map(|g| (g.name().to_string(), g.title().to_string(), *g == group)).collect(),
        })
        .select(Select { name: "offer_id", label: "Offer", options: offer_options });

    let title = match &offer {
        Some(name) => format!("{} by {} · {name}", reader.money_title(), group.title().to_lowercase()),
        None => format!("{} by {}", reader.money_title(), group.title().to_lowercase()),
    };
    let chart_title = if group.is_time() { format!("Clicks and {}", title.to_lowercase()) } else { title };
    let chart = if group.is_time() {
        (!lines.is_empty()).then(|| time_chart(&reader, &chart_title, &lines))
    } else {
        top_chart(&reader, &chart_title, &lines)
    };
    let mut table = Table::new("report", format!("By {}", group.title().to_lowercase()), reader.viewer, None, group)
        .rows(reader.viewer, None, &lines, true)
        .empty("No traffic in this range.");
    if let Some(f) = &verdicts {
        verdict_stats::extend_table(&mut table, &lines, f);
    }
    if group == GroupBy::Offer {
        for (row, line) in table.rows.iter_mut().zip(&lines) {
            row.href = line.key.parse::<i64>().ok().map(|id| reader.report_url(&range, GroupBy::Day, Some(id), false));
        }
    }
    let csv = reader.report_url(&range, group, offer_id, true);
    table.csv = Some(csv.clone());
    render(&ReportPage {
        page: ctx.page("Reports"),
        form,
        group: group.name(),
        chart_title,
        chart,
        table,
        csv,
        offer,
        verdicts: verdicts.is_some(),
    })
}

/// The report page of a role's section.
fn reports_path(base: &'static str) -> &'static str {
    match base {
        "/advertiser" => "/advertiser/reports",
        "/publisher" => "/publisher/reports",
        _ => "/admin/reports",
    }
}

/// A report as CSV: the group's value (and its name for offers and publishers),
/// then the viewer's columns, then the advertiser's verdict figures when the report
/// has them.
fn csv_response(
    viewer: Viewer,
    group: GroupBy,
    range: &Range,
    lines: &[Line],
    verdicts: Option<&verdict_figures::ReportFigures>,
) -> HttpResponse {
    let cols = columns(viewer);
    let labelled = matches!(group, GroupBy::Offer | GroupBy::Publisher);
    let mut head = vec![group.name()];
    if labelled {
        head.push("label");
    }
    head.extend(cols.iter().map(|c| c.name));
    if verdicts.is_some() {
        head.extend(verdict_stats::CSV_COLUMNS);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str, d: Delta) -> Line {
        Line { key: key.into(), label: format!("P {key}"), totals: d }
    }

    #[test]
    fn kpis_compare_with_the_previous_period() {
        let k = kpi("clicks", "Clicks", Measure::Count(150), Measure::Count(100), true);
        assert_eq!((k.value.as_str(), k.change.as_str(), k.trend), ("150", "▲ 50.0 %", "good"));
        let k = kpi("scrub", "Scrub", Measure::Rate(1, 4), Measure::Rate(1, 10), false);
        assert_eq!((k.value.as_str(), k.change.as_str(), k.trend), ("25.00 %", "▲ 15.00 pts", "bad"));
        let k = kpi("spend", "Spend", Measure::Money(1250), Measure::Money(0), true);
        assert_eq!((k.value.as_str(), k.change.as_str()), ("12.50", "new"));
        assert_eq!(kpi("x", "X", Measure::Count(0), Measure::Count(0), true).trend, "flat");
    }

    #[test]
    fn kpis_show_each_viewer_its_side_of_the_money() {
        let keys = |v| kpis(v, &Delta::default(), &Delta::default()).iter().map(|k| k.key).collect::<Vec<_>>();
        assert!(keys(Viewer::Publisher).contains(&"earned") && !keys(Viewer::Publisher).contains(&"spend"));
        assert!(!keys(Viewer::Publisher).iter().any(|k| ["fees", "revenue", "cost_per_lead"].contains(k)));
        assert!(keys(Viewer::Advertiser).contains(&"spend") && !keys(Viewer::Advertiser).contains(&"fees"));
        assert!(keys(Viewer::Admin).contains(&"fees"));
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

    #[test]
    fn tables_never_add_a_column_the_viewer_may_not_see() {
        let t = Table::new("t", "T", Viewer::Publisher, Some(&["clicks", "revenue", "fee", "payout"]), GroupBy::Offer);
        assert_eq!(t.heads.iter().map(|h| h.name).collect::<Vec<_>>(), ["clicks", "payout"]);
    }
}
