//! Prometheus metrics, one registry per application instance.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub email_queued: IntGauge,
    pub email_failed: IntGauge,
    /// Clicks by outcome: `landing`, a fallback reason (`bad_landing_url` among them), `unknown_link`,
    /// `not_stored`.
    pub clicks: IntCounterVec,
    pub conversions: IntCounterVec,
    /// Publisher postback attempts by outcome: `delivered`, `retry`, `failed`, `blocked`.
    pub publisher_postbacks: IntCounterVec,
    pub lead_webhooks: IntCounterVec,
    /// Settlement runs by outcome (`ok`, `error`) and the leads they decided.
    pub settlement_runs: IntCounterVec,
    pub settled_leads: IntCounterVec,
}

/// A request method as a metric label, without allocating (other methods are `other`).
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new_custom(Some("qualead".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by method and status class"),
            &["method", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer HTTP requests")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            &["method"],
        )?;
        let email_queued = IntGauge::new("email_queue_pending", "E-mails waiting to be sent")?;
        let email_failed = IntGauge::new("email_queue_failed", "E-mails given up on after every retry")?;
        let clicks = IntCounterVec::new(Opts::new("clicks_total", "Tracking-link clicks by outcome"), &["outcome"])?;
        registry.register(Box::new(clicks.clone()))?;
        let conversions =
            IntCounterVec::new(Opts::new("conversions_total", "Conversions by intake outcome"), &["outcome"])?;
        registry.register(Box::new(conversions.clone()))?;
        let publisher_postbacks = IntCounterVec::new(
            Opts::new("publisher_postbacks_total", "Publisher postback attempts by outcome"),
            &["outcome"],
        )?;
        registry.register(Box::new(publisher_postbacks.clone()))?;
        let lead_webhooks = IntCounterVec::new(
            Opts::new("lead_webhooks_total", "Lead webhook attempts by outcome (delivered, retry, blocked, failed)"),
            &["outcome"],
        )?;
        registry.register(Box::new(lead_webhooks.clone()))?;
        let settlement_runs =
            IntCounterVec::new(Opts::new("settlement_runs_total", "Settlement runs by outcome"), &["outcome"])?;
        registry.register(Box::new(settlement_runs.clone()))?;
        let settled_leads =
            IntCounterVec::new(Opts::new("settled_leads_total", "Leads decided by settlement"), &["status"])?;
        registry.register(Box::new(settled_leads.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(email_queued.clone()))?;
        registry.register(Box::new(email_failed.clone()))?;
        Ok(Metrics {
            registry,
            http_requests,
            http_duration,
            email_queued,
            email_failed,
            clicks,
            conversions,
            publisher_postbacks,
            lead_webhooks,
            settlement_runs,
            settled_leads,
        })
    }

    pub fn observe(&self, method: &str, status: u16, seconds: f64) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.http_requests.with_label_values(&[method, class]).inc();
        self.http_duration.with_label_values(&[method]).observe(seconds);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::warn!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}
