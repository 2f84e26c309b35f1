//! Settlement (DESIGN §6–§8): the periodic run that judges leads whose hold ended
//! ([`run`]), what people do to leads and money afterwards ([`actions`]: early
//! decisions, returns, contests, rulings, deposits), balances and payouts
//! ([`money`]), and the lead as each role may read it ([`view`]).

pub mod actions;
pub mod money;
pub mod reconciliation;
pub mod run;
pub mod topups;
pub mod verdicts;
pub mod view;

use std::time::Duration;

use tokio::sync::watch;

use actix_web::web;

use crate::db;
use crate::domain::lifecycle::LeadStatus;
use crate::effects::Effects;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::now;

/// What a settlement run leaves others to hear: its own report, or, when it
/// failed part-way (earlier batches and offer changes may have committed), all
/// it could have caused.
pub fn effects_of<E>(run: &Result<run::Summary, E>) -> Effects {
    match run {
        Ok(s) => s.effects,
        Err(_) => Effects::LINKS | Effects::POSTBACKS,
    }
}

/// Count a settlement run in the metrics: whether it ran, and what it decided.
pub fn count<E>(metrics: &Metrics, run: &Result<run::Summary, E>) {
    match run {
        Ok(s) => {
            metrics.settlement_runs.with_label_values(&["ok"]).inc();
            for (status, n) in [(LeadStatus::Approved, s.approved), (LeadStatus::Rejected, s.rejected)] {
                metrics.settled_leads.with_label_values(&[status.as_str()]).inc_by(n.unsigned_abs());
            }
        }
        Err(_) => metrics.settlement_runs.with_label_values(&["error"]).inc(),
    }
}

/// Run settlement every `interval` until shutdown. Each run settles every due lead;
/// other processes may run at the same time (see [`run`]).
pub async fn run_periodically(state: web::Data<AppState>, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
        let outcome = db::run(&state.pool, |c| Ok(run::settle_due(c, now(), run::BATCH)?)).await;
        count(&state.metrics, &outcome);
        state.apply(effects_of(&outcome));
        match outcome {
            Ok(s) => {
                if s.settled() > 0 {
                    tracing::info!(approved = s.approved, rejected = s.rejected, "settlement run");
                }
            }
            Err(e) => tracing::warn!(error = %e, "settlement run failed; the next run retries"),
        }
    }
}
