//! Settlement (DESIGN §6–§8): the periodic run that judges leads whose hold ended
//! ([`run`]), what people do to leads and money afterwards ([`actions`]: early
//! decisions, returns, contests, rulings, deposits), balances and payouts
//! ([`money`]), and the lead as each role may read it ([`view`]).

pub mod actions;
pub mod money;
pub mod reconciliation;
pub mod run;
pub mod verdicts;
pub mod view;

use std::time::Duration;

use tokio::sync::watch;

use crate::db::{self, DbPool};
use crate::effects::Effects;
use crate::metrics::Metrics;
use crate::store::now;

/// What a run of [`run::settle_due`] leaves for others once it committed: the
/// settled leads' publisher postbacks and lead webhooks, queued (it queues no e-mail).
pub const SETTLE_EFFECTS: Effects = Effects::POSTBACKS;

/// Run settlement every `interval` until shutdown. Each run settles every due lead;
/// other processes may run at the same time (see [`run`]).
pub async fn run_periodically(pool: DbPool, interval: Duration, metrics: Metrics, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
        match db::run(&pool, |c| Ok(run::settle_due(c, now(), run::BATCH)?)).await {
            Ok(s) => {
                metrics.settlement_runs.with_label_values(&["ok"]).inc();
                metrics.settled_leads.with_label_values(&["approved"]).inc_by(s.approved as u64);
                metrics.settled_leads.with_label_values(&["rejected"]).inc_by(s.rejected as u64);
                if s.settled() > 0 {
                    tracing::info!(approved = s.approved, rejected = s.rejected, "settlement run");
                }
            }
            Err(e) => {
                metrics.settlement_runs.with_label_values(&["error"]).inc();
                tracing::warn!(error = %e, "settlement run failed; the next run retries");
            }
        }
    }
}
