//! Reading a report request: the query ([`ReportQuery`]) and who reads it
//! ([`Reader`]): their columns, scope, pages, timezone and date range.

use actix_web::{HttpRequest, web};
use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::db::DbConn;
use crate::domain::account::Role;
use crate::domain::report::{GroupBy, Range, Viewer};
use crate::error::{AppError, AppResult};
use crate::store::offers;
use crate::store::reports::{self as rollup_reports, Filter, Scope};
use crate::store::rollups::Delta;
use crate::store::users::User;

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
    pub(super) fn offers(&self, conn: &mut DbConn) -> AppResult<Vec<(i64, String)>> {
        Ok(match self.scope {
            Scope::All => offers::list_all(conn, None)?.into_iter().map(|(o, _)| (o.id, o.listing.name)).collect(),
            Scope::Advertiser(a) => {
                offers::list_for_advertiser(conn, a)?.into_iter().map(|o| (o.id, o.listing.name)).collect()
            }
            Scope::Publisher(p) => {
                offers::memberships_of(conn, p)?.into_iter().map(|(_, o)| (o.id, o.listing.name)).collect()
            }
        })
    }
}

/// The refusal of an offer the reader may not report on; it does not say whether
/// the offer exists.
pub(super) fn unknown_offer(id: i64) -> AppError {
    AppError::bad_request("unknown_offer", format!("There is no offer {id} among the offers you can report on."))
}
