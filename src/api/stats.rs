//! `GET /api/v1/stats` (DESIGN §9, §11): the viewer's report as JSON rows, read
//! from the rollups only.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::api::{ApiUser, resource};
use crate::db;
use crate::domain::report::{GroupBy, Range, metrics_json};
use crate::domain::verdict_stats::json_fields;
use crate::error::{ApiError, ApiResult, AppError};
use crate::store::reports::{self, Filter};
use crate::store::verdict_stats;
use actix_web::http::Method;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/stats", [(Method::GET, web::to(stats))]));
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    offer_id: Option<i64>,
}

async fn stats(api: ApiUser, q: web::Query<StatsQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let user = api.user.clone();
    let raw = q.group_by.as_deref().unwrap_or("day");
    let group = GroupBy::parse(raw).ok_or_else(|| {
        ApiError(AppError::invalid(format!(
            "group_by must be one of {}, not {raw:?}",
            GroupBy::ALL.map(GroupBy::name).join(", ")
        )))
    })?;
    let tz: chrono_tz::Tz = user.timezone.parse().unwrap_or(chrono_tz::UTC);
    let range = Range::parse(q.from.as_deref(), q.to.as_deref(), tz, chrono::Utc::now().naive_utc())
        .map_err(|e| ApiError(AppError::invalid(e)))?;
    let (viewer, scope) = reports::viewer_of(user.role(), user.id);
    let filter = Filter { scope, offer_id: q.offer_id, range };
    let body = db::run(&api.state.pool, move |c| {
        if let Some(offer) = filter.offer_id
            && !reports::offer_visible(c, scope, offer)?
        {
            return Err(AppError::NotFound);
        }
        let mut lines = reports::report(c, &filter, group)?;
        // By offer or publisher, advertisers and admins also read how often and how
        // fast the advertiser decides (DESIGN §9).
        let verdicts = verdict_stats::load(c, viewer, scope, filter.offer_id, &range, group)?;
        if let Some(f) = &verdicts {
            verdict_stats::add_missing_lines(c, &mut lines, f, group)?;
        }
        let totals = reports::totals(&lines);
        let rows: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| {
                let mut row = serde_json::Map::new();
                row.insert(group.name().to_string(), l.key.clone().into());
                row.insert("label".into(), l.label.clone().into());
                row.extend(metrics_json(viewer, &l.totals));
                if let Some(f) = &verdicts {
                    row.extend(json_fields(&f.of(l)));
                }
                row.into()
            })
            .collect();
        let mut totals = metrics_json(viewer, &totals);
        if let Some(f) = &verdicts {
            totals.extend(json_fields(&f.total));
        }
        Ok(serde_json::json!({
            "from": range.from.to_string(),
            "to": range.to.to_string(),
            "timezone": tz.name(),
            "group_by": group.name(),
            "offer_id": filter.offer_id,
            "rows": rows,
            "totals": totals,
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}
