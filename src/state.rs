//! What every handler shares (`web::Data<AppState>`): the configuration, the
//! database pool, the metrics, the rate limits, and the handles of the background
//! writers and workers. `crate::app` builds it; handlers read it from here, so no
//! handler imports the module that wires the handlers together.

use std::sync::Arc;

use crate::config::Config;
use crate::db::DbPool;
use crate::mail::OutboxSignal;
use crate::metrics::Metrics;
use crate::tracking::click_repeats::ClickRepeats;
use crate::tracking::click_writer::ClickWriter;
use crate::tracking::intake::IntakeWriter;
use crate::tracking::link_cache::LinkCache;
use crate::tracking::publisher_postbacks::PostbackSignal;
use crate::web::ratelimit::RateLimits;

/// Everything handlers share. Cheap to clone (behind `web::Data`).
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: DbPool,
    pub metrics: Metrics,
    pub limits: RateLimits,
    pub outbox: OutboxSignal,
    pub clicks: ClickWriter,
    pub intake: IntakeWriter,
    pub links: Arc<LinkCache>,
    /// Wakes the publisher-postback worker after a delivery is queued.
    pub postbacks: PostbackSignal,
    /// The country database clicks are located with (DESIGN §5).
    pub geo: Arc<crate::domain::geo::Geo>,
    /// Each visitor's recent clicks per link, counted in this process (DESIGN §7
    /// `duplicate_click`, §9 unique clicks).
    pub repeats: ClickRepeats,
}

impl AppState {
    /// Apply what a committed operation changed (see [`crate::effects::Effects`]).
    pub fn apply(&self, effects: crate::effects::Effects) {
        effects.apply(&self.links, &self.outbox, &self.postbacks);
    }
}
