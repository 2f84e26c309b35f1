//! The advertiser's verdict from its own systems (DESIGN §6 "The advertiser's
//! verdict"): a status update by postback, by the bulk API or by a CSV upload
//! names a lead (by the advertiser's transaction id, the lead id, or the click and
//! event) and says `approved`, `rejected` or `returned`. Every channel goes through
//! [`apply`], which runs the same actions as one decision in the UI
//! ([`actions::decide_early`], [`actions::return_lead`]): the same rules, windows,
//! reasons and money. A verdict the lead already carries answers `duplicate` and
//! moves nothing; each verdict that decided a lead is recorded with its channel.

use diesel::prelude::*;

use crate::domain::lifecycle::LeadStatus;

use crate::acting::Acting;
use crate::db::DbConn;
use crate::domain::account::Role;
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::settlement::actions;
use crate::store::{disputes, leads, verdicts};

/// Most items in one bulk request or CSV upload.
pub const MAX_ITEMS: usize = 1000;

/// Where a verdict came from (stored in `lead_verdicts.channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// One lead at a time in the web UI.
    Ui,
    /// One lead at a time by `POST /api/v1/leads/{id}/approve|reject|return`.
    Api,
    Postback,
    BulkApi,
    Csv,
    /// A synchronous lead webhook's answer (DESIGN §6a).
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Ui => "ui",
            Channel::Api => "api",
            Channel::Postback => "postback",
            Channel::BulkApi => "bulk_api",
            Channel::Csv => "csv",
            Channel::Webhook => "webhook",
        }
    }
}

/// What the advertiser says of a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approved,
    Rejected,
    Returned,
}

impl Verdict {
    /// `approved`, `rejected`, `returned` (and `approve`, `reject`, `return`).
    pub fn parse(s: &str) -> Option<Verdict> {
        match s.trim().to_ascii_lowercase().as_str() {
            "approved" | "approve" => Some(Verdict::Approved),
            "rejected" | "reject" => Some(Verdict::Rejected),
            "returned" | "return" => Some(Verdict::Returned),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::Rejected => "rejected",
            Verdict::Returned => "returned",
        }
    }
}

pub use crate::store::verdicts::LeadRef;

/// One verdict to apply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Item {
    pub lead: LeadRef,
    pub verdict: Verdict,
    pub reason: String,
    pub comment: String,
}

/// A verdict that went through.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Done {
    pub lead_id: i64,
    /// `false`: the lead carried this verdict already (`duplicate`); nothing moved.
    pub applied: bool,
    /// The lead's status before and after.
    pub from: LeadStatus,
    pub status: LeadStatus,
    /// The lead's price (minor units): what left escrow to the publisher and the fee
    /// (approved), went back to the advertiser (rejected), or is disputed (returned).
    pub price: i64,
}

/// A verdict refused, with its HTTP status and reason code (DESIGN §6).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Refusal {
    pub http: u16,
    pub code: String,
    pub message: String,
}

impl Refusal {
    pub fn new(http: u16, code: &str, message: impl Into<String>) -> Refusal {
        Refusal { http, code: code.into(), message: message.into() }
    }

    /// A refused action's status and code; `Err` for what is not the client's doing.
    pub fn of(e: AppError) -> Result<Refusal, AppError> {
        Ok(match e {
            AppError::NotFound => Refusal::new(404, "unknown_lead", "No lead of yours has this id."),
            AppError::Forbidden => Refusal::new(403, "forbidden", "You may not decide this lead."),
            AppError::BadRequest { code, message } => Refusal::new(400, code, message),
            AppError::Conflict { code, message } => Refusal::new(409, code, message),
            AppError::Invalid(fields) => {
                Refusal::new(422, "invalid_request", fields.values().cloned().collect::<Vec<_>>().join(" "))
            }
            other => return Err(other),
        })
    }
}

/// The id of the lead `r` names among `advertiser_id`'s leads: `unknown_lead` (404)
/// when none does (also when it is another advertiser's), `ambiguous_txid` (409)
/// when a transaction id names leads on several of its offers.
pub fn resolve(conn: &mut DbConn, advertiser_id: i64, r: &LeadRef) -> AppResult<i64> {
    let ids = verdicts::lead_ids(conn, advertiser_id, r)?;
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(AppError::NotFound),
        _ => Err(AppError::conflict(
            "ambiguous_lead",
            "Several of your leads match; name the offer (offer_id), the event, or the lead id.",
        )),
    }
}

/// Apply one verdict as `who` (the lead's advertiser) in the caller's transaction.
/// Run each item of a batch in its own savepoint so one refusal does not undo
/// the others. A duplicate changes nothing (no effects).
pub fn apply(conn: &mut DbConn, who: &Acting, channel: Channel, item: &Item) -> AppResult<(Done, Effects)> {
    if who.role() != Role::Advertiser {
        return Err(AppError::Forbidden);
    }
    let id = resolve(conn, who.user.id, &item.lead)?;
    let lead = actions::visible_lead(conn, &who.user, id)?;
    let price = lead.price_minor;
    let carried = match item.verdict {
        Verdict::Approved => lead.status == LeadStatus::Approved,
        Verdict::Rejected => lead.status == LeadStatus::Rejected,
        Verdict::Returned => {
            matches!(lead.status, LeadStatus::Disputed | LeadStatus::Reversed)
                && disputes::for_lead(conn, lead.id)?.iter().any(|d| d.kind == "return")
        }
    };
    if carried {
        let done = Done { lead_id: lead.id, applied: false, from: lead.status, status: lead.status, price };
        return Ok((done, Effects::NONE));
    }
    let (reason, comment) = (item.reason.trim(), item.comment.trim());
    let effects = match item.verdict {
        Verdict::Approved | Verdict::Rejected => {
            actions::decide_early(conn, who, lead.id, item.verdict == Verdict::Approved, reason, comment)?.1
        }
        Verdict::Returned => actions::return_lead(conn, who, lead.id, reason, comment)?.1,
    };
    verdicts::record(
        conn,
        &verdicts::NewVerdict {
            lead_id: lead.id,
            advertiser_id: lead.advertiser_id,
            actor_id: Some(who.user.id),
            channel: channel.as_str(),
            verdict: item.verdict.as_str(),
            reason: if item.verdict == Verdict::Approved { "" } else { reason },
            comment,
        },
    )?;
    let status = leads::status_of(conn, lead.id)?;
    Ok((Done { lead_id: lead.id, applied: true, from: lead.status, status, price }, effects))
}

/// Record a verdict given one lead at a time (UI or API), after its action went
/// through in the same transaction, so every channel counts towards the approve
/// rate and the time to verdict.
pub fn record_one(
    conn: &mut DbConn,
    who: &Acting,
    lead_id: i64,
    channel: Channel,
    verdict: Verdict,
    reason: &str,
    comment: &str,
) -> AppResult<()> {
    let advertiser_id = leads::advertiser_of(conn, lead_id)?;
    verdicts::record(
        conn,
        &verdicts::NewVerdict {
            lead_id,
            advertiser_id,
            actor_id: Some(who.user.id),
            channel: channel.as_str(),
            verdict: verdict.as_str(),
            reason: if verdict == Verdict::Approved { "" } else { reason.trim() },
            comment: comment.trim(),
        },
    )?;
    Ok(())
}

/// [`apply`] in a savepoint: a refusal undoes only this item and is an answer, not
/// an error; only what is not the client's doing (the database failing) is `Err`.
pub fn apply_one(
    conn: &mut DbConn,
    who: &Acting,
    channel: Channel,
    item: &Item,
) -> AppResult<Result<(Done, Effects), Refusal>> {
    match conn.transaction::<_, AppError, _>(|c| apply(c, who, channel, item)) {
        Ok(done) => Ok(Ok(done)),
        Err(e) => Refusal::of(e).map(Err),
    }
}

// ---- CSV uploads: preview, then apply what was previewed ----

/// One row of an uploaded CSV as the preview saw it (stored with the upload).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UploadRow {
    /// The row's line number in the file (the header is line 1).
    pub line: usize,
    /// The row as written: how it named the lead, and the status.
    pub named: String,
    pub status: String,
    pub reason: String,
    pub item: Option<Item>,
    /// What applying the row would do (preview) or did (result).
    pub outcome: Result<Done, Refusal>,
}

/// The rows of a verdict CSV: a header with `status` and `txid` or `lead_id` (and
/// optionally `offer_id`, `reason`, `comment`), then one verdict a row. `Err` when
/// the file as a whole cannot be read (no such header, more than [`MAX_ITEMS`]
/// rows, a broken quote).
pub fn rows_of_csv(text: &str) -> Result<Vec<UploadRow>, Refusal> {
    let bad = |m: String| Refusal::new(400, "invalid_csv", m);
    let records = crate::domain::csv::parse(text).map_err(bad)?;
    let Some((header, rows)) = records.split_first() else {
        return Err(bad("the file is empty".into()));
    };
    let col = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (txid, lead_id, offer_id, status, reason, comment) =
        (col("txid"), col("lead_id"), col("offer_id"), col("status"), col("reason"), col("comment"));
    if status.is_none() || (txid.is_none() && lead_id.is_none()) {
        return Err(bad("the first line must name the columns: txid or lead_id, status, reason, comment".into()));
    }
    if rows.len() > MAX_ITEMS {
        return Err(Refusal::new(
            413,
            "too_many_items",
            format!("at most {MAX_ITEMS} rows per file; this one has {}", rows.len()),
        ));
    }
    Ok(rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let get = |c: Option<usize>| c.and_then(|c| r.get(c)).map(|s| s.trim().to_string()).unwrap_or_default();
            let (t, l, o, s) = (get(txid), get(lead_id), get(offer_id), get(status));
            let named = if t.is_empty() { format!("lead {l}") } else { format!("txid {t}") };
            let item = row_item(&t, &l, &o, &s, get(reason), get(comment));
            UploadRow {
                line: i + 2,
                named,
                status: s,
                reason: get(reason),
                item: item.as_ref().ok().cloned(),
                outcome: item.map(|_| Done::default()),
            }
        })
        .collect())
}

fn row_item(
    txid: &str,
    lead_id: &str,
    offer_id: &str,
    status: &str,
    reason: String,
    comment: String,
) -> Result<Item, Refusal> {
    let bad = |m: &str| Refusal::new(400, "invalid_request", m);
    let verdict = Verdict::parse(status)
        .ok_or_else(|| Refusal::new(400, "invalid_status", "status must be approved, rejected or returned"))?;
    let offer_id = if offer_id.is_empty() {
        None
    } else {
        Some(offer_id.parse::<i64>().map_err(|_| bad("offer_id is not a number"))?)
    };
    let lead = match (txid.is_empty(), lead_id.is_empty()) {
        (false, true) => {
            let mut p = crate::domain::intake::Params::default();
            p.set_txid(txid).map_err(|m| Refusal::new(400, "invalid_request", m))?;
            LeadRef::Txid { txid: p.txid.unwrap_or_default(), offer_id }
        }
        (true, false) => LeadRef::Id(lead_id.parse().map_err(|_| bad("lead_id is not a number"))?),
        _ => return Err(bad("give txid or lead_id (one of them)")),
    };
    Ok(Item { lead, verdict, reason, comment })
}

/// Why a preview's transaction ends: always rolled back, with what it saw.
enum DryRun {
    Saw(Vec<UploadRow>),
    Failed(AppError),
}

impl From<diesel::result::Error> for DryRun {
    fn from(e: diesel::result::Error) -> Self {
        DryRun::Failed(e.into())
    }
}

/// What applying `rows` would do, row by row, through [`apply`] itself, in a
/// transaction that is then rolled back: the preview changes nothing.
pub fn preview(conn: &mut DbConn, who: &Acting, mut rows: Vec<UploadRow>) -> AppResult<Vec<UploadRow>> {
    let ran = conn.write_tx(|c| {
        for row in rows.iter_mut() {
            if let Some(item) = &row.item {
                // Rolled back below: what applying would queue is never queued.
                let outcome = apply_one(c, who, Channel::Csv, item).map_err(DryRun::Failed)?;
                row.outcome = outcome.map(|(done, _rolled_back)| done);
            }
        }
        Err::<(), _>(DryRun::Saw(rows))
    });
    match ran {
        Err(DryRun::Saw(rows)) => Ok(rows),
        Err(DryRun::Failed(e)) => Err(e),
        Ok(()) => Err(AppError::Internal(anyhow::anyhow!("a preview must not commit"))),
    }
}

/// Apply what the preview showed, in the caller's transaction: only rows it said
/// would apply, each only if its lead is still as the preview saw it (else
/// `changed_since_preview`, 409); rows it could not apply stay as they were.
pub fn apply_previewed(conn: &mut DbConn, who: &Acting, rows: Vec<UploadRow>) -> AppResult<(Vec<UploadRow>, Effects)> {
    let mut out = Vec::with_capacity(rows.len());
    let mut effects = Effects::NONE;
    for mut row in rows {
        if let (Some(item), Ok(seen)) = (&row.item, &row.outcome)
            && seen.applied
        {
            let seen = seen.clone();
            let ran = conn.transaction::<_, AppError, _>(|c| {
                let id = resolve(c, who.user.id, &item.lead)?;
                let now = leads::status_of(c, id)?;
                if id != seen.lead_id || now != seen.from {
                    return Err(AppError::conflict(
                        "changed_since_preview",
                        format!("The lead was {} in the preview and is {now} now; upload the file again.", seen.from),
                    ));
                }
                apply(c, who, Channel::Csv, item)
            });
            row.outcome = match ran {
                Ok((done, changed)) => {
                    effects |= changed;
                    Ok(done)
                }
                Err(e) => Err(Refusal::of(e)?),
            };
        }
        out.push(row);
    }
    Ok((out, effects))
}

/// Counts and money of a preview or a result, per verdict, in minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub approved: (i64, i64),
    pub rejected: (i64, i64),
    pub returned: (i64, i64),
    pub duplicates: i64,
    pub refused: i64,
}

pub fn summary(rows: &[UploadRow]) -> Summary {
    let mut s = Summary::default();
    for r in rows {
        match (&r.outcome, &r.item) {
            (Ok(d), Some(item)) if d.applied => {
                let slot = match item.verdict {
                    Verdict::Approved => &mut s.approved,
                    Verdict::Rejected => &mut s.rejected,
                    Verdict::Returned => &mut s.returned,
                };
                slot.0 += 1;
                slot.1 += d.price;
            }
            (Ok(_), _) => s.duplicates += 1,
            (Err(_), _) => s.refused += 1,
        }
    }
    s
}

/// The result file: one line per row of the upload; before the apply (`applied`
/// false) it says what each row would do (`will_apply`).
pub fn result_csv(rows: &[UploadRow], applied: bool) -> String {
    use crate::domain::csv::line;
    let mut out = line(&[
        "line",
        "lead",
        "status",
        "outcome",
        "lead_id",
        "lead_status",
        "lead_status_label",
        "http",
        "code",
        "message",
    ]);
    for r in rows {
        let fields: Vec<String> = match &r.outcome {
            Ok(d) => vec![
                r.line.to_string(),
                r.named.clone(),
                r.status.clone(),
                match (d.applied, applied) {
                    (true, true) => "applied",
                    (true, false) => "will_apply",
                    (false, _) => "duplicate",
                }
                .into(),
                d.lead_id.to_string(),
                d.status.to_string(),
                crate::i18n::label(crate::i18n::Kind::LeadStatus, d.status.as_str()),
                "200".into(),
                String::new(),
                String::new(),
            ],
            Err(e) => vec![
                r.line.to_string(),
                r.named.clone(),
                r.status.clone(),
                "error".into(),
                String::new(),
                String::new(),
                String::new(),
                e.http.to_string(),
                e.code.clone(),
                e.message.clone(),
            ],
        };
        out.push_str(&line(&fields));
    }
    out
}
