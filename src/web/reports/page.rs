//! The report page of each role (`/advertiser/reports`, `/publisher/reports`,
//! `/admin/reports`): the chart, the full table with totals and the CSV link.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::export::csv_response;
use super::query::unknown_offer;
use super::{RangeForm, Reader, ReportQuery, Select, Table, time_chart, top_chart};
use crate::db;
use crate::domain::report::GroupBy;
use crate::error::AppResult;
use crate::store::reports as rollup_reports;
use crate::store::users::User;
use crate::store::verdict_stats as verdict_figures;
use crate::web::context::{AdminCtx, AdvertiserCtx, Ctx, Page, PublisherCtx, render};
use crate::web::verdict_stats;

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportPage {
    page: Page,
    form: RangeForm,
    group: &'static str,
    chart_title: String,
    chart: String,
    table: Table,
    csv: String,
    offer: Option<String>,
    /// The table has the advertiser's verdict columns.
    verdicts: bool,
}

pub(super) async fn advertiser_reports(a: AdvertiserCtx, req: HttpRequest) -> AppResult<HttpResponse> {
    report_page(&a.ctx, &a.user, &req).await
}

pub(super) async fn publisher_reports(p: PublisherCtx, req: HttpRequest) -> AppResult<HttpResponse> {
    report_page(&p.ctx, &p.user, &req).await
}

pub(super) async fn admin_reports(a: AdminCtx, req: HttpRequest) -> AppResult<HttpResponse> {
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
        return Ok(csv_response(reader.viewer, group, &range, &lines, verdicts.as_ref(), &ctx.state.config.currency));
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
        time_chart(&reader, &ctx.local(), &chart_title, &lines)
    } else {
        top_chart(&reader, &ctx.local(), &chart_title, &lines)
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
