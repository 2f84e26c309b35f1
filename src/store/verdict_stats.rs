//! How often and how fast advertisers decide (DESIGN §9 "The advertiser's verdict
//! in reports"): the decisions of `lead_verdicts` in a range of verdict time,
//! counted, approved, decided by the default, and their median time from the lead's
//! acceptance, per offer, per publisher or in all — one grouped query on either
//! database (window functions find the median's middle rows).
//!
//! A **decision** is a lead's first verdict `approved` or `rejected` in
//! `lead_verdicts`, from any channel (`ui`, `api`, `postback`, `bulk_api`, `csv`,
//! `webhook`) or the offer's default at hold end (`hold_default`). A return is not a
//! decision. Leads the scrub rules decided at hold end (`rules` mode) and an admin's
//! ruling on a dispute are not the advertiser's verdict and are not in the table;
//! they count in the scrub rate.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use crate::db::DbConn;
use crate::domain::report::{GroupBy, Range, Viewer};
use crate::domain::verdict_stats::Figures;
use crate::store::reports::{Line, Scope, offer_names, user_names};
use crate::store::rollups::Delta;

/// Whose decisions, over which verdict times `[from, to)`.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    /// One advertiser's leads; `None`: everyone's (admins).
    pub advertiser_id: Option<i64>,
    /// One offer's leads.
    pub offer_id: Option<i64>,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// What the figures are per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Offer,
    Publisher,
    /// Only the figures of the whole filter.
    All,
}

#[derive(QueryableByName)]
struct Row {
    /// 1: the total row; 0: a group's.
    #[diesel(sql_type = BigInt)]
    t: i64,
    #[diesel(sql_type = BigInt)]
    g: i64,
    #[diesel(sql_type = BigInt)]
    decided: i64,
    #[diesel(sql_type = BigInt)]
    approved: i64,
    #[diesel(sql_type = BigInt)]
    by_default: i64,
    /// The sum and number of the one or two middle durations.
    #[diesel(sql_type = BigInt)]
    mid_sum: i64,
    #[diesel(sql_type = BigInt)]
    mid_n: i64,
}

/// The query, with `$n` placeholders in the order they are bound (SQLite numbers
/// them as they first appear). The decisions are read once (`d`); grouped, each of them
/// is a row of its group and a row of the total (`t` = 1), so one query gives both.
fn sql(per: Per, filter: &Filter, seconds: &str) -> String {
    let g = match per {
        Per::Offer => "l.offer_id",
        Per::Publisher => "l.publisher_id",
        Per::All => "0",
    };
    let mut wh = String::from("v.created_at >= $1 AND v.created_at < $2");
    let mut n = 2;
    if filter.advertiser_id.is_some() {
        n += 1;
        wh.push_str(&format!(" AND v.advertiser_id = ${n}"));
    }
    if filter.offer_id.is_some() {
        n += 1;
        wh.push_str(&format!(" AND l.offer_id = ${n}"));
    }
    let total = "SELECT CAST(1 AS BIGINT) AS t, CAST(0 AS BIGINT) AS g, ok, dflt, secs FROM d";
    let rows = match per {
        Per::All => total.to_string(),
        _ => format!("SELECT CAST(0 AS BIGINT) AS t, CAST(g AS BIGINT) AS g, ok, dflt, secs FROM d UNION ALL {total}"),
    };
    format!(
        "WITH d AS ( \
           SELECT {g} AS g, \
                  CASE WHEN v.verdict = 'approved' THEN 1 ELSE 0 END AS ok, \
                  CASE WHEN v.channel = 'hold_default' THEN 1 ELSE 0 END AS dflt, \
                  {seconds} AS secs \
           FROM lead_verdicts v JOIN leads l ON l.id = v.lead_id \
           WHERE {wh} AND v.verdict IN ('approved', 'rejected') \
             AND NOT EXISTS (SELECT 1 FROM lead_verdicts e WHERE e.lead_id = v.lead_id \
                             AND e.verdict IN ('approved', 'rejected') AND e.id < v.id) \
         ), dd AS ({rows}), r AS ( \
           SELECT t, g, ok, dflt, secs, \
                  ROW_NUMBER() OVER (PARTITION BY t, g ORDER BY secs) AS rn, \
                  COUNT(*) OVER (PARTITION BY t, g) AS n \
           FROM dd \
         ) \
         SELECT t, g, \
                CAST(COUNT(*) AS BIGINT) AS decided, \
                CAST(SUM(ok) AS BIGINT) AS approved, \
                CAST(SUM(dflt) AS BIGINT) AS by_default, \
                CAST(SUM(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN secs ELSE 0 END) AS BIGINT) AS mid_sum, \
                CAST(SUM(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN 1 ELSE 0 END) AS BIGINT) AS mid_n \
         FROM r GROUP BY t, g"
    )
}

/// The figures of a filter's decisions per offer or per publisher (groups without
/// decisions are absent), and of all of them, from one query; with [`Per::All`]
/// only the total.
pub fn figures(conn: &mut DbConn, filter: &Filter, per: Per) -> QueryResult<ReportFigures> {
    let seconds = match conn {
        // Seconds between two stored timestamps, rounded like PostgreSQL's cast.
        DbConn::Sqlite(_) => "CAST(ROUND((julianday(v.created_at) - julianday(l.created_at)) * 86400) AS BIGINT)",
        DbConn::Postgres(_) => "CAST(EXTRACT(EPOCH FROM (v.created_at - l.created_at)) AS BIGINT)",
    };
    let text = sql(per, filter, seconds);
    let rows: Vec<Row> = crate::per_backend!(conn, c => {
        let mut q = diesel::sql_query(&text).into_boxed().bind::<Timestamp, _>(filter.from).bind::<Timestamp, _>(filter.to);
        if let Some(a) = filter.advertiser_id {
            q = q.bind::<BigInt, _>(a);
        }
        if let Some(o) = filter.offer_id {
            q = q.bind::<BigInt, _>(o);
        }
        q.load(c)?
    });
    let mut out = ReportFigures::default();
    for r in rows {
        // Never below zero, should a clock have stepped back between the two.
        let median = (r.mid_n > 0).then(|| r.mid_sum.div_euclid(r.mid_n).max(0));
        let f = Figures { decided: r.decided, approved: r.approved, by_default: r.by_default, median_secs: median };
        if r.t == 1 {
            out.total = f;
        } else {
            out.per.insert(r.g, f);
        }
    }
    Ok(out)
}

/// The figures of all a filter's decisions together.
pub fn total(conn: &mut DbConn, filter: &Filter) -> QueryResult<Figures> {
    Ok(figures(conn, filter, Per::All)?.total)
}

// ---------------------------------------------------------------------------
// Reports by offer and by publisher
// ---------------------------------------------------------------------------

/// The figures of a report by offer or by publisher: per line (by the line's id)
/// and for the total row.
#[derive(Debug, Clone, Default)]
pub struct ReportFigures {
    pub per: BTreeMap<i64, Figures>,
    pub total: Figures,
}

impl ReportFigures {
    /// The figures of a report line (none when it had no decision).
    pub fn of(&self, line: &Line) -> Figures {
        line.key.parse::<i64>().ok().and_then(|id| self.per.get(&id)).copied().unwrap_or_default()
    }
}

/// Whether a report shows the figures: to advertisers and admins, by offer or by
/// publisher.
pub fn shown(viewer: Viewer, group: GroupBy) -> bool {
    matches!(viewer, Viewer::Advertiser | Viewer::Admin) && matches!(group, GroupBy::Offer | GroupBy::Publisher)
}

/// The figures of a report (`None` when it does not show them): the decisions whose
/// verdict time is in the range, of the scope's offers (an advertiser's own, all
/// for an admin) and the report's offer.
pub fn load(
    conn: &mut DbConn,
    viewer: Viewer,
    scope: Scope,
    offer_id: Option<i64>,
    range: &Range,
    group: GroupBy,
) -> QueryResult<Option<ReportFigures>> {
    if !shown(viewer, group) {
        return Ok(None);
    }
    let advertiser_id = match scope {
        Scope::Advertiser(a) => Some(a),
        Scope::All => None,
        Scope::Publisher(_) => return Ok(None),
    };
    let (from, to) = range.utc_bounds();
    let filter = Filter { advertiser_id, offer_id, from, to };
    let per = if group == GroupBy::Offer { Per::Offer } else { Per::Publisher };
    figures(conn, &filter, per).map(Some)
}

/// Add a line (with no traffic) for each offer or publisher that had decisions in
/// the range but no traffic of its own: a lead accepted before the range and decided
/// in it still counts.
pub fn add_missing_lines(
    conn: &mut DbConn,
    lines: &mut Vec<Line>,
    f: &ReportFigures,
    group: GroupBy,
) -> QueryResult<()> {
    let have: std::collections::HashSet<&str> = lines.iter().map(|l| l.key.as_str()).collect();
    let missing: Vec<i64> = f.per.keys().copied().filter(|id| !have.contains(id.to_string().as_str())).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let (names, what) = if group == GroupBy::Offer {
        (offer_names(conn, missing.iter().copied())?, "Offer")
    } else {
        (user_names(conn, missing.iter().copied())?, "Publisher")
    };
    lines.extend(missing.into_iter().map(|id| Line {
        key: id.to_string(),
        label: names.get(&id).cloned().unwrap_or_else(|| format!("{what} {id}")),
        totals: Delta::default(),
    }));
    Ok(())
}
