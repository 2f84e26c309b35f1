//! The settlement run (DESIGN §6, §7): take the pending leads whose hold has ended,
//! judge each against its offer's scrub rules, store every rule's outcome and a
//! quality score, and approve or reject it with its ledger postings, history,
//! rollups and publisher postback — a batch at a time, each batch one database
//! transaction.
//!
//! Several processes may run it at once: on PostgreSQL a batch claims its leads
//! with `FOR UPDATE SKIP LOCKED`, so two runs never take the same lead; on SQLite a
//! batch runs under `BEGIN IMMEDIATE`, which serialises writers. Either way the
//! status update is conditional on `pending`, so no lead is ever settled twice.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::domain::lifecycle::{self, LeadStatus, Mover, Transfer};
use crate::domain::netranges::{self, NetRanges};
use crate::domain::offer::Terms;
use crate::domain::scrub::{self, Domains, Facts, Verdict};
use crate::effects::Effects;
use crate::store::leads::{Lead, NewEvent, add_events};
use crate::store::rollups::{self, Delta};
use crate::store::settlement::{
    ContactRow, Decided, claim, clicks_seen, contacts_among, ip_history, record_run, update_decided,
};
pub use crate::store::settlement::{RunRow, recent_runs};
use crate::store::{ledger, now, offers, postbacks, settings, terms, webhooks};

/// Leads per batch (per database transaction).
pub const BATCH: i64 = 1000;

/// What a run decided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub approved: i64,
    pub rejected: i64,
    pub batches: i64,
    /// What others must hear once the run committed: the settled leads' postbacks
    /// and webhooks were queued, approved offer changes took effect.
    #[serde(skip)]
    pub effects: Effects,
}

impl Summary {
    pub fn settled(&self) -> i64 {
        self.approved + self.rejected
    }
}

/// The shared lists the rules judge by (DESIGN "Shared lists"), read once per run.
pub struct Lists {
    pub domains: Domains,
    pub nets: NetRanges,
}

impl Lists {
    pub fn read(conn: &mut DbConn) -> QueryResult<Lists> {
        Ok(Lists { domains: domains(conn)?, nets: nets(conn)? })
    }

    /// What a settled lead records: `disposable:…;net:…;names:…`.
    pub fn version(&self) -> String {
        format!("{};{};{}", self.domains.version(), self.nets.version(), scrub::NAME_RULES_VERSION)
    }
}

/// The disposable-domain list: the shipped one plus what admins added.
pub fn domains(conn: &mut DbConn) -> QueryResult<Domains> {
    Ok(Domains::with(crate::store::disposable::added_names(conn)?))
}

/// The datacenter and relay ranges `datacenter_ip` and `relay` judge by: the shipped
/// lists plus an admin's (settings `datacenter_ranges`, `relay_ranges`, checked when
/// saved).
pub fn nets(conn: &mut DbConn) -> QueryResult<NetRanges> {
    let mut read = |key| -> QueryResult<Vec<ipnet::IpNet>> {
        Ok(settings::get(conn, key)?.and_then(|t| netranges::parse_cidrs(&t).ok()).unwrap_or_default())
    };
    let datacenter = read(settings::DATACENTER_RANGES)?;
    let relay = read(settings::RELAY_RANGES)?;
    Ok(NetRanges::with(&datacenter, &relay))
}

/// The visitor's address of a lead: its click's, or the sender's on a browser
/// channel (pixel, hosted form); none for a server's conversion without a click.
fn visitor_ip(lead: &Lead) -> Option<std::net::IpAddr> {
    let browser = lead.click_id.is_some() || matches!(lead.channel.as_str(), "pixel" | "form");
    browser.then(|| lead.ip.parse().ok()).flatten()
}

/// Settle every lead whose hold ended by `at`, batch after batch, and record the
/// run. Returns what was decided.
pub fn settle_due(conn: &mut DbConn, at: NaiveDateTime, batch: i64) -> QueryResult<Summary> {
    let started = now();
    // Offer changes whose notice has run take effect first (DESIGN "Trust"); the
    // leads settled here keep their own terms whatever the offer carries now.
    let revised = match conn.write_tx(crate::marketplace::apply_due_revisions) {
        Ok(0) => false,
        Ok(n) => {
            tracing::info!(revisions = n, "approved offer changes took effect");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "offer changes could not take effect; the next run retries");
            false
        }
    };
    let lists = Lists::read(conn)?;
    let version = lists.version();
    let mut total = Summary::default();
    let outcome = loop {
        match conn.write_tx(|c| settle_batch(c, &lists, &version, at, batch)) {
            Ok((claimed, s)) => {
                total.approved += s.approved;
                total.rejected += s.rejected;
                total.batches += i64::from(claimed > 0);
                if claimed < batch {
                    break Ok(());
                }
            }
            Err(e) => break Err(e),
        }
    };
    if total.settled() > 0 || outcome.is_err() {
        let error = outcome.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
        record_run(conn, started, total.approved, total.rejected, &error)?;
    }
    total.effects = Effects::LINKS.when(revised) | Effects::POSTBACKS.when(total.settled() > 0);
    outcome.map(|()| total)
}

/// Settle one batch inside the caller's transaction; returns how many leads it claimed.
fn settle_batch(
    conn: &mut DbConn,
    lists: &Lists,
    version: &str,
    at: NaiveDateTime,
    limit: i64,
) -> QueryResult<(i64, Summary)> {
    let ids = claim(conn, at, limit)?;
    let claimed = ids.len() as i64;
    if ids.is_empty() {
        return Ok((0, Summary::default()));
    }
    let mut batch = crate::store::leads::by_ids(conn, &ids)?;
    batch.retain(|l| l.status == LeadStatus::Pending);
    batch.sort_by_key(|l| l.id);
    let offer_ids: Vec<i64> = batch.iter().map(|l| l.offer_id).collect::<HashSet<_>>().into_iter().collect();
    let templates = postbacks::templates_for(conn, &offer_ids)?;
    let hooks = webhooks::endpoints_for(conn, &offer_ids)?;
    let decisions = judge(conn, lists, batch)?;
    write_decisions(conn, decisions, &templates, &hooks, now(), version).map(|s| (claimed, s))
}

/// What the scrub rules say of a pending lead now, before its hold ends: in
/// `advertiser` mode, the recommendation the advertiser reads before its verdict.
pub fn recommend(conn: &mut DbConn, lead: &Lead) -> QueryResult<Verdict> {
    let lists = Lists::read(conn)?;
    let judged = judge(conn, &lists, vec![lead.clone()])?;
    Ok(judged.into_iter().next().map(|(_, v, _)| v).unwrap_or(Verdict { approved: true, checks: vec![], score: 0 }))
}

/// Judge pending leads (sorted by id) against the rules of their terms: each
/// lead with the rules' verdict and what decides it at hold end.
fn judge(conn: &mut DbConn, lists: &Lists, batch: Vec<Lead>) -> QueryResult<Vec<(Lead, Verdict, Decider)>> {
    // Everything the rules need, read once for the batch.
    // Each lead is judged by the terms it was accepted under (DESIGN "Trust");
    // a lead from before terms were kept, by its offer's current ones.
    let terms_ids: Vec<i64> = batch.iter().filter_map(|l| l.terms_id).collect::<HashSet<_>>().into_iter().collect();
    let frozen: HashMap<i64, Terms> = terms::find_many(conn, &terms_ids)?
        .into_iter()
        .filter_map(|(id, row)| Some((id, row.terms()?.terms)))
        .collect();
    let mut current: HashMap<i64, Terms> = HashMap::new();
    for id in batch.iter().filter(|l| !l.terms_id.is_some_and(|t| frozen.contains_key(&t))).map(|l| l.offer_id) {
        if !current.contains_key(&id)
            && let Some(o) = offers::find(conn, id)?
        {
            current.insert(id, o.terms());
        }
    }
    let seen = clicks_seen(conn, &batch)?;
    let (domains, nets) = (&lists.domains, &lists.nets);
    let contacts = earlier_contacts(conn, &batch)?;
    let by_ip = ip_history(conn, &batch)?;

    let mut rejected_here: HashSet<i64> = HashSet::new();
    let mut decisions: Vec<(Lead, Verdict, Decider)> = Vec::with_capacity(batch.len());
    for lead in batch {
        let default_terms = Terms::default();
        let t = lead
            .terms_id
            .and_then(|id| frozen.get(&id))
            .or_else(|| current.get(&lead.offer_id))
            .unwrap_or(&default_terms);
        let fields = lead.fields_map();
        let fallback = lead.country.as_deref().or(t.allowed_countries.first().map(String::as_str));
        let phone_country = scrub::phone_country(&fields, fallback);
        let contact = scrub::Contact {
            email: lead.email_norm.clone(),
            phone: lead.phone_norm.clone(),
            name: scrub::name_of(&fields),
        };
        let duplicate_of = duplicate_of(&lead, t, &contacts, &rejected_here);
        let leads_from_ip_24h = if lead.ip.is_empty() {
            0
        } else {
            by_ip
                .get(&(lead.offer_id, lead.ip.clone()))
                .map(|rows| {
                    rows.iter().filter(|(id, c)| *id < lead.id && *c >= lead.created_at - Duration::hours(24)).count()
                })
                .unwrap_or(0) as i64
        };
        // A click id whose click is gone reads as a click with no user agent and no repeats.
        let click = lead.click_id.as_ref().map(|c| seen.get(c));
        let agent = click.map(|k| k.map_or("", |k| k.user_agent.as_str()));
        let repeat_clicks = click.map(|k| k.map_or(0, |k| i64::from(k.repeat_clicks)));
        let facts = Facts {
            fields: &fields,
            contact: &contact,
            country: lead.country.as_deref(),
            phone_country: phone_country.as_deref(),
            user_agent: agent,
            seconds_from_click: lead.click_at.map(|c| (lead.created_at - c).num_seconds()),
            repeat_clicks,
            leads_from_ip_24h,
            duplicate_of,
            network: visitor_ip(&lead).map(|ip| nets.classify(ip)),
        };
        let verdict = scrub::evaluate(t, &facts, domains);
        // In `advertiser` mode the rules only recommend: a lead still pending at
        // hold end had no verdict, and the offer's stated default decides it.
        let decider = if t.advertiser_decides() { Decider::Default(t.default_approves()) } else { Decider::Rules };
        if !decider.approves(&verdict) {
            rejected_here.insert(lead.id);
        }
        decisions.push((lead, verdict, decider));
    }
    Ok(decisions)
}

/// What decides a lead at hold end (DESIGN §6): the scrub rules, or, in
/// `advertiser` mode without a verdict, the offer's default (`true`: approve).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decider {
    Rules,
    Default(bool),
}

/// History reasons (and the rejected lead's reason) of a default applied at hold end.
pub const DEFAULT_APPROVED: &str = "default_approved";
pub const DEFAULT_REJECTED: &str = "default_rejected";

impl Decider {
    fn approves(self, verdict: &Verdict) -> bool {
        match self {
            Decider::Rules => verdict.approved,
            Decider::Default(approve) => approve,
        }
    }
}

/// Non-rejected leads sharing an e-mail or phone with a lead of the batch, indexed
/// by e-mail and by phone.
#[derive(Default)]
struct Contacts {
    rows: Vec<ContactRow>,
    by_email: HashMap<String, Vec<usize>>,
    by_phone: HashMap<String, Vec<usize>>,
}

fn earlier_contacts(conn: &mut DbConn, batch: &[Lead]) -> QueryResult<Contacts> {
    let emails: Vec<&str> =
        batch.iter().filter_map(|l| l.email_norm.as_deref()).collect::<HashSet<_>>().into_iter().collect();
    let phones: Vec<&str> =
        batch.iter().filter_map(|l| l.phone_norm.as_deref()).collect::<HashSet<_>>().into_iter().collect();
    let out = contacts_among(conn, &emails, &phones)?;
    let mut contacts = Contacts::default();
    for (i, c) in out.iter().enumerate() {
        if let Some(e) = &c.email_norm {
            contacts.by_email.entry(e.clone()).or_default().push(i);
        }
        if let Some(p) = &c.phone_norm {
            contacts.by_phone.entry(p.clone()).or_default().push(i);
        }
    }
    contacts.rows = out;
    Ok(contacts)
}

/// DESIGN §7 `duplicate_contact`: the first earlier non-rejected lead with the same
/// e-mail or phone within `duplicate_days`, on the same offer or the same advertiser,
/// and which of the two it shares. Leads this batch has just rejected no longer count.
fn duplicate_of(
    lead: &Lead,
    terms: &Terms,
    contacts: &Contacts,
    rejected_here: &HashSet<i64>,
) -> Option<scrub::Duplicate> {
    let days = terms.scrub.duplicate_days;
    if days == 0 || (lead.email_norm.is_none() && lead.phone_norm.is_none()) {
        return None;
    }
    let since = lead.created_at - Duration::days(i64::from(days));
    let by_advertiser = terms.scrub.duplicate_scope == "advertiser";
    let first = |same: Option<&Vec<usize>>| {
        same.into_iter()
            .flatten()
            .map(|i| &contacts.rows[*i])
            .filter(|c| c.id < lead.id && c.created_at >= since && c.status != LeadStatus::Rejected)
            .filter(|c| !rejected_here.contains(&c.id))
            .filter(|c| if by_advertiser { c.advertiser_id == lead.advertiser_id } else { c.offer_id == lead.offer_id })
            .map(|c| c.id)
            .min()
    };
    let by_email = first(lead.email_norm.as_ref().and_then(|e| contacts.by_email.get(e)));
    let by_phone = first(lead.phone_norm.as_ref().and_then(|p| contacts.by_phone.get(p)));
    let lead_id = by_email.into_iter().chain(by_phone).min()?;
    Some(scrub::Duplicate { lead_id, email: by_email == Some(lead_id), phone: by_phone == Some(lead_id) })
}

/// Write a batch's decisions: lead rows, history, ledger, balances, rollups, postbacks.
fn write_decisions(
    conn: &mut DbConn,
    decisions: Vec<(Lead, Verdict, Decider)>,
    templates: &HashMap<(i64, i64), String>,
    hooks: &HashMap<i64, Vec<webhooks::Webhook>>,
    at: NaiveDateTime,
    lists: &str,
) -> QueryResult<Summary> {
    let mut summary = Summary::default();
    let mut events = Vec::with_capacity(decisions.len());
    let mut approved_money: Vec<(i64, Vec<Transfer>)> = Vec::new();
    let mut rejected_money: Vec<(i64, Vec<Transfer>)> = Vec::new();
    let mut net: BTreeMap<String, i64> = BTreeMap::new();
    let mut deltas: BTreeMap<rollups::Key, Delta> = BTreeMap::new();
    let mut settled: Vec<Lead> = Vec::with_capacity(decisions.len());
    let mut updates: Vec<Decided> = Vec::with_capacity(decisions.len());
    let mut defaulted: Vec<(i64, i64, bool)> = Vec::new();
    for (mut lead, verdict, decider) in decisions {
        let approved = decider.approves(&verdict);
        let to = if approved { LeadStatus::Approved } else { LeadStatus::Rejected };
        // DESIGN §6's table says what settlement may do and what it posts.
        let posts = lifecycle::transition(LeadStatus::Pending, to, None, Mover::Settlement)
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?
            .posts;
        let failed = verdict.failed_codes();
        let (reasons, history_reason, comment) = match decider {
            Decider::Rules => (
                serde_json::to_string(&failed).unwrap_or_else(|_| "[]".into()),
                if failed.is_empty() { "settlement".to_string() } else { failed.join(", ") },
                format!("quality score {}", verdict.score),
            ),
            Decider::Default(approve) => {
                let code = if approve { DEFAULT_APPROVED } else { DEFAULT_REJECTED };
                let reasons = if approve { "[]".to_string() } else { format!("[\"{code}\"]") };
                let advice =
                    if verdict.approved { "approve".to_string() } else { format!("reject ({})", failed.join(", ")) };
                let comment = format!(
                    "no verdict from the advertiser when the hold ended: the offer's default applied; \
                     the scrub rules recommended {advice}, quality score {}",
                    verdict.score
                );
                defaulted.push((lead.id, lead.advertiser_id, approve));
                (reasons, code.to_string(), comment)
            }
        };
        let checks = serde_json::to_string(&verdict.checks).unwrap_or_else(|_| "[]".into());
        updates.push(Decided {
            id: lead.id,
            status: to.as_str(),
            reasons: reasons.clone(),
            checks,
            score: verdict.score,
        });
        events.push(NewEvent {
            lead_id: lead.id,
            from_status: Some(LeadStatus::Pending),
            to_status: to,
            actor_id: None,
            reason: history_reason,
            comment,
            created_at: at,
        });
        let money = lead.money();
        *if approved { &mut summary.approved } else { &mut summary.rejected } += 1;
        let transfers =
            posts.event(lead.advertiser_id, lead.publisher_id, money).map(|e| e.transfers()).unwrap_or_default();
        ledger::add_net(&mut net, &transfers);
        if approved { &mut approved_money } else { &mut rejected_money }.push((lead.id, transfers));
        *deltas.entry(lead.rollup_key()).or_default() += Delta::transition(LeadStatus::Pending, to, money);
        lead.status = to;
        lead.reasons = reasons;
        settled.push(lead);
    }
    // The batch's leads are claimed (locked, or the SQLite write lock is held), so
    // every one of them is still pending.
    let updated = update_decided(conn, &updates, at, lists)?;
    if updated != updates.len() {
        return Err(diesel::result::Error::QueryBuilderError(
            format!("settled {updated} of {} claimed leads", updates.len()).into(),
        ));
    }
    add_events(conn, &events)?;
    ledger::record_many(conn, "lead_approved", "settlement", &approved_money, at)?;
    ledger::record_many(conn, "lead_rejected", "settlement", &rejected_money, at)?;
    ledger::apply_net(conn, &net)?;
    rollups::add_many(conn, &deltas)?;
    crate::store::verdicts::record_defaults(conn, &defaulted, at)?;
    for lead in &settled {
        if let Some(t) = templates.get(&(lead.offer_id, lead.publisher_id)) {
            postbacks::enqueue_with(conn, lead, lead.status.as_str(), t)?;
        }
        if let Some(h) = hooks.get(&lead.offer_id) {
            webhooks::enqueue_to(conn, h, lead, lead.status.as_str())?;
        }
    }
    Ok(summary)
}
