//! Verdicts by CSV in the advertiser's browser (DESIGN §6 "The advertiser's
//! verdict"): upload a file of verdicts, read a preview of what would change (the
//! counts, the money, the rows that cannot apply and why) that changes nothing,
//! apply exactly what was previewed, and download a result file per row.
//!
//! The parsed upload and its preview are kept server-side (`verdict_uploads`);
//! the rules are `crate::settlement::verdicts`.

use actix_session::SessionExt;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::db;
use crate::error::{AppError, AppResult};
use crate::settlement::verdicts::{self, Summary, UploadRow};
use crate::store::verdicts as store;
use crate::web::context::{AdvertiserCtx, Page, redirect, render};
use crate::web::csrf::{self, CsrfForm, NoFields};

/// Largest upload read (1,000 rows of a few fields fit many times over).
const MAX_UPLOAD: usize = 512 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/advertiser/verdicts")
            .app_data(web::PayloadConfig::new(MAX_UPLOAD))
            .route(web::get().to(form))
            .route(web::post().to(upload)),
    )
    .route("/advertiser/verdicts/{id}", web::get().to(show))
    .route("/advertiser/verdicts/{id}/apply", web::post().to(apply))
    .route("/advertiser/verdicts/{id}/result.csv", web::get().to(result_file));
}

#[derive(Template)]
#[template(path = "advertiser/verdicts.html")]
struct FormPage {
    page: Page,
}

async fn form(a: AdvertiserCtx) -> AppResult<HttpResponse> {
    render(&FormPage { page: a.ctx.page("Verdicts from your CRM") })
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, PartialEq, Eq)]
struct Part {
    name: String,
    filename: String,
    content: Vec<u8>,
}

/// The parts of a `multipart/form-data` body.
fn multipart_parts(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or("send the file as multipart/form-data")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = find(rest, &delimiter).ok_or("the form could not be read")?;
    rest = &rest[start + delimiter.len()..];
    while !rest.starts_with(b"--") {
        rest = rest.strip_prefix(b"\r\n").ok_or("the form could not be read")?;
        let head_end = find(rest, b"\r\n\r\n").ok_or("the form could not be read")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_string();
        rest = &rest[head_end + 4..];
        let end = find(rest, &delimiter).ok_or("the form was cut off")?;
        let content = rest[..end].strip_suffix(b"\r\n").unwrap_or(&rest[..end]).to_vec();
        rest = &rest[end + delimiter.len()..];
        let disposition =
            head.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition")).unwrap_or_default();
        let attr = |key: &str| {
            disposition
                .split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(key))
                .map(|n| n.trim_matches('"').to_string())
                .unwrap_or_default()
        };
        parts.push(Part { name: attr("name="), filename: attr("filename="), content });
    }
    Ok(parts)
}

/// `POST /advertiser/verdicts` (multipart: `csrf_token`, `file`): read the file,
/// preview it (nothing changes) and keep it; on to the preview page.
async fn upload(a: AdvertiserCtx, req: HttpRequest, body: web::Bytes) -> AppResult<HttpResponse> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let parts = multipart_parts(content_type, &body).map_err(AppError::invalid)?;
    let part = |name: &str| parts.iter().find(|p| p.name == name);
    let field = |name: &str| part(name).map(|p| p.content.as_slice());
    let token = field(csrf::CSRF_FIELD).map(|t| String::from_utf8_lossy(t).to_string());
    csrf::verify(&req.get_session(), token.as_deref())?;
    let file = field("file").unwrap_or_default();
    let filename: String = part("file").map(|p| p.filename.chars().take(200).collect()).unwrap_or_default();
    let Ok(text) = std::str::from_utf8(file) else {
        a.ctx.flash("error", "The file is not UTF-8 text; save it as CSV (UTF-8). [invalid_csv]");
        return Ok(redirect("/advertiser/verdicts"));
    };
    let rows = match verdicts::rows_of_csv(text) {
        Ok(rows) if !rows.is_empty() => rows,
        Ok(_) => {
            a.ctx.flash("error", "The file has no verdicts under its header. [invalid_csv]");
            return Ok(redirect("/advertiser/verdicts"));
        }
        Err(r) => {
            a.ctx.flash("error", format!("{} [{}]", r.message, r.code));
            return Ok(redirect("/advertiser/verdicts"));
        }
    };
    let who = a.ctx.acting(&a.user);
    let id = db::run(a.ctx.pool(), move |c| {
        let seen = verdicts::preview(c, &who, rows)?;
        let json = serde_json::to_string(&seen).map_err(|e| AppError::Internal(e.into()))?;
        Ok(store::create_upload(c, who.user.id, &filename, &json)?)
    })
    .await?;
    Ok(redirect(&format!("/advertiser/verdicts/{id}")))
}

/// A row as the page shows it.
pub struct RowView {
    pub line: usize,
    pub named: String,
    pub status: String,
    pub reason: String,
    pub outcome: String,
    pub lead_id: Option<i64>,
    pub lead_status: String,
    pub code: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "advertiser/verdict_upload.html")]
struct UploadPage {
    page: Page,
    id: i64,
    filename: String,
    applied: bool,
    approved: (i64, String),
    rejected: (i64, String),
    returned: (i64, String),
    duplicates: i64,
    refused: i64,
    rows: Vec<RowView>,
}

fn view_rows(rows: &[UploadRow], applied: bool) -> Vec<RowView> {
    rows.iter()
        .map(|r| {
            let (outcome, lead_id, lead_status, code, message) = match &r.outcome {
                Ok(d) if d.applied => {
                    let o = if applied { "applied" } else { "will apply" };
                    (o.to_string(), Some(d.lead_id), d.status.to_string(), String::new(), String::new())
                }
                Ok(d) => (
                    "no change (already so)".into(),
                    Some(d.lead_id),
                    d.status.to_string(),
                    String::new(),
                    String::new(),
                ),
                Err(e) => ("cannot apply".into(), None, String::new(), e.code.clone(), e.message.clone()),
            };
            RowView {
                line: r.line,
                named: r.named.clone(),
                status: r.status.clone(),
                reason: r.reason.clone(),
                outcome,
                lead_id,
                lead_status,
                code,
                message,
            }
        })
        .collect()
}

async fn load(a: &AdvertiserCtx, id: i64) -> AppResult<store::Upload> {
    let advertiser = a.user.id;
    db::run(a.ctx.pool(), move |c| store::find_upload(c, advertiser, id)?.ok_or(AppError::NotFound)).await
}

fn rows_of(u: &store::Upload) -> AppResult<Vec<UploadRow>> {
    let text = u.results.as_deref().unwrap_or(&u.rows);
    serde_json::from_str(text).map_err(|e| AppError::Internal(anyhow::anyhow!("upload {}: {e}", u.id)))
}

/// `GET /advertiser/verdicts/{id}`: the preview, or the result once applied.
async fn show(a: AdvertiserCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let u = load(&a, path.into_inner()).await?;
    let rows = rows_of(&u)?;
    let applied = u.applied_at.is_some();
    let Summary { approved, rejected, returned, duplicates, refused } = verdicts::summary(&rows);
    let local = a.ctx.local();
    let money = |(n, m): (i64, i64)| (n, local.money(m));
    let title = if applied { "Verdicts applied" } else { "Preview of your verdicts" };
    render(&UploadPage {
        page: a.ctx.page(title),
        id: u.id,
        filename: u.filename.clone(),
        applied,
        approved: money(approved),
        rejected: money(rejected),
        returned: money(returned),
        duplicates,
        refused,
        rows: view_rows(&rows, applied),
    })
}

/// `POST /advertiser/verdicts/{id}/apply`: apply what the preview showed, once.
async fn apply(a: AdvertiserCtx, path: web::Path<i64>, CsrfForm(_): CsrfForm<NoFields>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let u = load(&a, id).await?;
    if u.applied_at.is_some() {
        a.ctx.flash("error", "This file was applied already; see its result below. [already_applied]");
        return Ok(redirect(&format!("/advertiser/verdicts/{id}")));
    }
    let rows = rows_of(&u)?;
    let who = a.ctx.acting(&a.user);
    let first = db::run(a.ctx.pool(), move |c| {
        c.write_tx(|c| {
            let (done, effects) = verdicts::apply_previewed(c, &who, rows)?;
            let json = serde_json::to_string(&done).map_err(|e| AppError::Internal(e.into()))?;
            // Applied once: a second click (or a second tab) finds it applied and
            // its transaction changes nothing.
            if !store::finish_upload(c, id, &json)? {
                return Err(AppError::conflict("already_applied", "This file was applied already."));
            }
            Ok((verdicts::summary(&done), effects))
        })
    })
    .await;
    match first {
        Ok((s, effects)) => {
            a.ctx.state.apply(effects);
            a.ctx.flash(
                "success",
                format!(
                    "Applied: {} approved, {} rejected, {} returned; {} could not apply.",
                    s.approved.0,
                    s.rejected.0,
                    s.returned.0,
                    crate::i18n::count_words(s.refused, "row")
                ),
            );
        }
        Err(e) => a.ctx.flash("error", crate::web::leads::refusal(e)?),
    }
    Ok(redirect(&format!("/advertiser/verdicts/{id}")))
}

/// `GET /advertiser/verdicts/{id}/result.csv`: a line per row (the preview's until applied).
async fn result_file(a: AdvertiserCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let u = load(&a, path.into_inner()).await?;
    let rows = rows_of(&u)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"verdicts-{}-result.csv\"", u.id)))
        .body(verdicts::result_csv(&rows, u.applied_at.is_some())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_browsers_multipart_form() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"v.csv\"\r\nContent-Type: text/csv\r\n\r\ntxid,status\r\nA1,approved\r\n\r\n--XyZ--\r\n";
        let parts = multipart_parts("multipart/form-data; boundary=XyZ", body).expect("parts");
        assert_eq!(parts[0], Part { name: "csrf_token".into(), filename: String::new(), content: b"abc".to_vec() });
        assert_eq!((parts[1].name.as_str(), parts[1].filename.as_str()), ("file", "v.csv"));
        assert_eq!(parts[1].content, b"txid,status\r\nA1,approved\r\n".to_vec());
        assert!(multipart_parts("application/x-www-form-urlencoded", body).is_err());
    }
}
