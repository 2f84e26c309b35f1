//! The one intake path for every conversion: server postbacks, pixels, API leads
//! and the hosted form all become a [`Conversion`] and go through the intake
//! decision ([`crate::domain::intake::decide`]) inside a group-committed
//! transaction. A batch reads what it needs in bulk and the balances and cap
//! counters under row locks ([`load`]), lets the decision judge each conversion
//! against them, and writes the accepted leads, their ledger lines, history,
//! rollups and publisher postbacks in that same transaction ([`write`]); an answer
//! is given only after the commit.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::QueryResult;
use tokio::sync::watch;

use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::domain::intake::Reason;
use crate::domain::intake::decide::{self, Facts, Stop, Tally, Who};
use crate::domain::lifecycle::{Transfer, advertiser_account, escrow_account};
use crate::effects::Effects;
use crate::error::AppError;
use crate::mail::OutboxSignal;
use crate::store::clicks::Click;
use crate::store::leads::{ClickLead, NewLead};
use crate::store::offers::{Membership, Offer};
use crate::store::{rollups, terms};
use crate::tracking::group_commit::{Batching, GroupCommit, WriterConn};
use crate::tracking::link_cache::LinkCache;
use crate::tracking::publisher_postbacks::PostbackSignal;

mod lead;
mod load;
mod write;

pub use crate::domain::intake::Conversion;
use lead::{LeadClick, LeadParts, new_lead};

/// What intake answered. `MissingFields` is a refusal `missing_field`, naming the
/// required fields the conversion lacks (absent or blank).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted { lead_id: i64 },
    Duplicate { lead_id: i64 },
    Rejected { reason: Reason, detail: String },
    MissingFields { fields: Vec<String> },
}

/// What one batch has read, decided and will add when it ends. Every decision is
/// taken against `tally`, which the batch's locks keep exact until it commits.
struct Batch<'a> {
    config: &'a Config,
    at: NaiveDateTime,
    fee_default: i64,
    offers: HashMap<i64, Option<Offer>>,
    memberships: HashMap<(i64, i64), Option<Membership>>,
    clicks: HashMap<String, Click>,
    /// The leads the batch's clicks already have.
    click_leads: HashMap<String, Vec<ClickLead>>,
    /// Locked balances and cap counters, as the batch has changed them, and the
    /// dedupe keys of the leads it accepted.
    tally: Tally,
    rollups: BTreeMap<rollups::Key, rollups::Delta>,
    /// Leads accepted in this batch, written together when it ends.
    accepted: Vec<Accepted>,
    /// Whether an account (advertiser or publisher) is active, read with its offer or
    /// membership (no query of its own).
    active_accounts: HashMap<i64, bool>,
    /// What others must hear once the batch has committed (an offer paused, mail
    /// or postbacks queued).
    effects: Effects,
    /// Each offer's versions of its terms (oldest first), read once per batch.
    terms: HashMap<i64, Vec<terms::TermsRow>>,
    /// The lead cap of each counter the batch locked that has one, for the cap
    /// alerts its additions may cross (DESIGN §4).
    cap_limits: HashMap<crate::store::caps::CounterKey, i64>,
}

/// A lead accepted in this batch, not yet written.
struct Accepted {
    lead: NewLead,
    reserve: Transfer,
    /// The publisher's postback URL template (empty: none).
    postback_template: String,
}

/// A decision whose lead id is known only when the batch writes its leads.
enum Pending {
    Done(Outcome),
    New(usize),
    DuplicateOfNew(usize),
}

impl Batch<'_> {
    /// Decide one conversion; an `Err` is a database error (the batch is retried).
    /// The decision is the domain's; this reads its facts, locks what it counts
    /// against, and keeps what it accepted or refused.
    fn decide(&mut self, conn: &mut DbConn, conv: &Conversion) -> QueryResult<Pending> {
        let click = conv.params.click_id.as_ref().and_then(|id| self.clicks.get(id)).cloned();
        let offer = self.named_offer(conn, conv, click.as_ref())?;
        let who = match decide::attribute(conv, click, offer) {
            Ok(who) => who,
            // Put down to no offer: nothing to keep for a publisher.
            Err(stop) => return self.stopped(conn, conv, None, stop),
        };
        match self.judge(conn, conv, &who)? {
            Ok(index) => Ok(Pending::New(index)),
            Err(stop) => self.stopped(conn, conv, Some(&who), stop),
        }
    }

    /// Read the facts of an attributed conversion, check it, lock the counters it
    /// counts against, and admit it; its place among the accepted leads.
    fn judge(&mut self, conn: &mut DbConn, conv: &Conversion, who: &Who) -> QueryResult<Result<usize, Stop>> {
        let at = self.at;
        let offer = &who.offer;
        // The event, the price and the largest sale come from the terms in force
        // when the click happened (DESIGN "Trust"): a lead keeps them whatever the
        // offer says later. Which channels are open is the offer's live setting.
        let (terms_id, frozen) = self.terms_at(conn, offer, who.click.as_ref().map_or(at, |c| c.created_at))?;
        // The advertiser's balance row is locked first: on PostgreSQL this orders
        // every process's conversions of one advertiser, so the duplicate checks
        // see what another process committed a moment ago.
        let (advertiser, escrow) = (advertiser_account(offer.advertiser_id), escrow_account(offer.advertiser_id));
        self.lock_balance(conn, &advertiser)?;
        let keyed_lead = self.keyed_lead(conn, conv, who, &frozen)?;
        let advertiser_active = self.account_active(conn, offer.advertiser_id)?;
        let membership = self.membership(conn, offer.id, who.publisher_id)?;
        // Without a membership the publisher is refused before its account matters.
        let publisher_active = membership.is_some() && self.account_active(conn, who.publisher_id)?;
        let click_leads = who.click.as_ref().and_then(|c| self.click_leads.get(&c.click_id));
        let facts = Facts {
            conv,
            who,
            frozen: &frozen,
            advertiser_active,
            membership: membership.as_ref(),
            publisher_active,
            click_leads: click_leads.map_or(&[], Vec::as_slice),
            keyed_lead,
            now: at,
        };
        let checked = match decide::check(&facts, &self.tally) {
            Ok(checked) => checked,
            Err(stop) => return Ok(Err(stop)),
        };
        // Caps, the daily budget and the balance, against rows held for this transaction.
        let limits = decide::limits(who, at);
        self.lock_counters(conn, &limits)?;
        self.lock_balance(conn, &escrow)?;
        let admitted = match decide::admit(conv, who, &checked, &limits, &mut self.tally) {
            Ok(admitted) => admitted,
            Err(stop) => return Ok(Err(stop)),
        };
        let new = new_lead(LeadParts {
            offer,
            frozen: &frozen,
            terms_id: Some(terms_id),
            publisher_id: who.publisher_id,
            click: who.click.as_ref().map(LeadClick::from),
            channel: conv.channel,
            event: checked.event,
            txid: conv.params.txid.as_deref(),
            dedupe_key: checked.dedupe_key,
            amount_minor: conv.params.amount_minor,
            fields: &conv.params.fields,
            consent: conv.consent.unwrap_or(false),
            sender_ip: &conv.ip,
            price: checked.price,
            platform_fee_bps: self.fee_default,
            at,
        });
        let (rollup_key, rollup_delta) = crate::store::leads::created_delta(&new);
        self.rollup(rollup_key, rollup_delta);
        debug_assert_eq!(admitted.index, self.accepted.len());
        self.accepted.push(Accepted {
            lead: new,
            reserve: Transfer::new(admitted.advertiser, admitted.escrow, checked.price),
            postback_template: checked.postback_template,
        });
        Ok(Ok(admitted.index))
    }

    /// The answer to a conversion that was not accepted; a refusal of a conversion
    /// put down to an offer is kept ([`Batch::after_refusal`]).
    fn stopped(&mut self, conn: &mut DbConn, conv: &Conversion, who: Option<&Who>, stop: Stop) -> QueryResult<Pending> {
        Ok(match stop {
            Stop::Duplicate(lead_id) => Pending::Done(Outcome::Duplicate { lead_id }),
            Stop::DuplicateOfNew(index) => Pending::DuplicateOfNew(index),
            Stop::Refused(reason, detail) => {
                if let Some(who) = who {
                    self.after_refusal(conn, conv, who, reason)?;
                }
                Pending::Done(Outcome::Rejected { reason, detail })
            }
            Stop::Missing(fields) => {
                if let Some(who) = who {
                    self.after_refusal(conn, conv, who, Reason::MissingField)?;
                }
                Pending::Done(Outcome::MissingFields { fields })
            }
        })
    }
}

/// Decide and store a batch of conversions at `now` in the caller's write
/// transaction: an outcome per conversion, and what to signal once the
/// transaction has committed. Any database error fails the whole batch (the
/// caller rolls back and retries).
fn process(
    conn: &mut DbConn,
    jobs: &[Conversion],
    config: &Config,
    now: DateTime<Utc>,
) -> QueryResult<(Vec<Outcome>, Effects)> {
    let mut batch = Batch::new(conn, config, jobs, now.naive_utc().trunc_subsecs(6))?;
    let mut pending = Vec::with_capacity(jobs.len());
    for conv in jobs {
        pending.push(batch.decide(conn, conv)?);
    }
    let (ids, effects) = batch.flush(conn)?;
    let outcomes = pending
        .into_iter()
        .map(|p| match p {
            Pending::Done(outcome) => outcome,
            Pending::New(i) => Outcome::Accepted { lead_id: ids[i] },
            Pending::DuplicateOfNew(i) => Outcome::Duplicate { lead_id: ids[i] },
        })
        .collect();
    Ok((outcomes, effects))
}

/// Decide and store `jobs` as if they arrived at `now`, in one write transaction
/// of its own on `conn`, as the intake writer does for each batch (which passes
/// the current time): an outcome per conversion and the [`Effects`] the caller
/// applies once this returns (the transaction has committed by then). Leads,
/// their ledger lines, rejections, rollups and cap periods take `now`; a click
/// older than its offer's conversion window at `now` is `click_expired`. For
/// running intake at a past time (`qualead demo`); an error rolls everything back.
pub fn process_at(
    conn: &mut DbConn,
    jobs: &[Conversion],
    config: &Config,
    now: DateTime<Utc>,
) -> QueryResult<(Vec<Outcome>, Effects)> {
    conn.write_tx(|c| process(c, jobs, config, now))
}

/// Group commit for conversions: one write transaction per batch. A `None` answer
/// means the conversion could not be stored (answer 503).
#[derive(Clone)]
pub struct IntakeWriter(GroupCommit<Conversion, Option<Outcome>>);

const MAX_BATCH: usize = 512;

impl IntakeWriter {
    /// Start the writer on `pool`, which must be its own (opened with
    /// [`crate::db::Session::IntakeWriter`]). Once a batch has committed it applies the batch's
    /// [`Effects`]: a queued publisher postback wakes their delivery worker
    /// (`postbacks`), a paused offer clears `links` (its clicks go to the fallback
    /// at once), and the mail it queued wakes the mailer (`outbox`).
    pub fn start(
        pool: DbPool,
        config: Arc<Config>,
        postbacks: PostbackSignal,
        outbox: OutboxSignal,
        links: Arc<LinkCache>,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<(IntakeWriter, tokio::task::JoinHandle<()>)> {
        let signals = Signals { links, outbox, postbacks };
        let (writer, handle) = GroupCommit::start(
            "intake-writer",
            1,
            // Left at the HTTP workers' priority: a lower one made no difference to
            // accepted postbacks (stop 23), and this writer does most of intake's work.
            Batching { max: MAX_BATCH, linger: config.writer_linger, nice: 0 },
            pool,
            shutdown,
            Arc::new(move |conn: &mut WriterConn, batch: Vec<Conversion>| commit(conn, &config, &signals, &batch)),
        )?;
        Ok((IntakeWriter(writer), handle))
    }

    /// Answer this thread's conversions through one wake per batch (call it on an
    /// HTTP worker thread; see [`GroupCommit::serve_this_thread`]).
    pub fn serve_this_thread(&self) {
        self.0.serve_this_thread();
    }

    /// Decide a conversion; `None` when it could not be stored (try again).
    pub async fn submit(&self, conv: Conversion) -> Option<Outcome> {
        self.0.submit(conv).await.flatten()
    }
}

/// Whom a committed batch's [`Effects`] are told.
struct Signals {
    links: Arc<LinkCache>,
    outbox: OutboxSignal,
    postbacks: PostbackSignal,
}

fn commit(conn: &mut WriterConn, config: &Config, signals: &Signals, batch: &[Conversion]) -> Vec<Option<Outcome>> {
    let n = batch.len();
    let stored = |conn: &mut WriterConn, jobs: &[Conversion]| {
        // The time is read once the write lock is held, so a batch that waited for
        // the lock is dated when it is decided (cap periods, click windows).
        let (out, effects) = conn.run(|c| Ok(c.write_tx(|c| process(c, jobs, config, Utc::now()))?))?;
        effects.apply(&signals.links, &signals.outbox, &signals.postbacks);
        Ok::<_, AppError>(out)
    };
    // The whole batch in one transaction; a failure (a busy database, a deadlock or
    // a duplicate raced in by another process) rolls it back and it runs again.
    for attempt in 0..3u32 {
        match stored(conn, batch) {
            Ok(out) => return out.into_iter().map(Some).collect(),
            Err(e) => {
                tracing::warn!(error = %e, conversions = n, attempt, "conversion batch rolled back");
                std::thread::sleep(std::time::Duration::from_millis(20 << attempt));
            }
        }
    }
    // Then one by one, so that one conversion that cannot be stored does not keep
    // the others from being answered.
    let mut out = Vec::with_capacity(n);
    for one in batch.chunks(1) {
        match stored(conn, one) {
            Ok(mut v) => out.push(v.pop()),
            Err(e) => {
                tracing::error!(error = %e, "conversion could not be stored");
                out.push(None);
            }
        }
    }
    out
}

/// Record an intake answer in the metrics.
pub fn count(metrics: &crate::metrics::Metrics, outcome: Option<&Outcome>) {
    let label = match outcome {
        Some(Outcome::Accepted { .. }) => "accepted",
        Some(Outcome::Duplicate { .. }) => "duplicate",
        Some(Outcome::Rejected { reason, .. }) => reason.code(),
        Some(Outcome::MissingFields { .. }) => Reason::MissingField.code(),
        None => "error",
    };
    metrics.conversions.with_label_values(&[label]).inc();
}
