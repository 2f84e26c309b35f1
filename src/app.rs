//! Builds the actix application: shared state, middleware, routes, background
//! workers, and a graceful stop.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, Service};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::db::{self, DbPool};
use crate::mail::{self, Mailer, OutboxSignal};
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::sessions;
use crate::tracking::click_writer::ClickWriter;
use crate::tracking::intake::IntakeWriter;
use crate::tracking::link_cache::LinkCache;
use crate::tracking::publisher_postbacks::{self, PostbackSignal};
use crate::web::ratelimit::RateLimits;
use crate::web::session_store::DbSessionStore;

/// Content-Security-Policy for every page: our own CSS/JS/images only.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The headers that tell a browser how to treat a document, on every response
/// that did not set its own. A redirect has no document: it gets only the referrer
/// policy (which governs the request it redirects to), so the hottest response of
/// all, a click's `302`, stays small for the shopper and for us.
fn security_headers(headers: &mut actix_web::http::header::HeaderMap, status: actix_web::http::StatusCode) {
    use actix_web::http::header::{HeaderName, HeaderValue};
    const REFERRER: (HeaderName, HeaderValue) =
        (HeaderName::from_static("referrer-policy"), HeaderValue::from_static("strict-origin-when-cross-origin"));
    const DOCUMENT: [(HeaderName, HeaderValue); 4] = [
        (HeaderName::from_static("content-security-policy"), HeaderValue::from_static(CSP)),
        (HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY")),
        (HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff")),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ),
    ];
    let document = if status.is_redirection() { &[][..] } else { &DOCUMENT[..] };
    for (name, value) in std::iter::once(&REFERRER).chain(document) {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
}

/// Open the pool and apply migrations.
pub fn prepare_database(config: &Config) -> anyhow::Result<DbPool> {
    let pool = db::connect(&config.database_url, config.db_pool_size)?;
    let mut conn = pool.get().context("cannot open a database connection")?;
    let applied = db::migrate(&mut conn)?;
    for m in &applied {
        tracing::info!(migration = %m, "applied migration");
    }
    Ok(pool)
}

/// A built, bound, not yet running server and its background workers.
pub struct Application {
    port: u16,
    server: Server,
    shutdown: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
}

impl Application {
    /// Migrate, bind (`QUALEAD_BIND`; port 0 picks a free port) and start workers.
    pub async fn build(mut config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("QUALEAD_BIND: cannot listen on {}", config.bind))?;
        let local = listener.local_addr()?;
        let port = local.port();
        if !config.base_url_explicit {
            config.base_url = crate::config::default_base_url(local);
        }
        let config = Arc::new(config);
        let c = config.clone();
        let pool = tokio::task::spawn_blocking(move || prepare_database(&c)).await??;

        let (shutdown, shutdown_rx) = watch::channel(false);
        // The writers keep connections of their own between batches, apart from the
        // pool that pages and API calls share; the intake writer's pool has its own
        // session settings (`db::Session::IntakeWriter`).
        let (url, writers) = (config.database_url.clone(), config.click_writers as u32);
        let (click_pool, intake_pool) = tokio::task::spawn_blocking(move || {
            anyhow::Ok((db::connect(&url, writers)?, db::connect_for(&url, 1, db::Session::IntakeWriter)?))
        })
        .await??;
        let (clicks, click_writer) = ClickWriter::start(
            click_pool,
            config.click_writers,
            config.writer_linger,
            config.click_writer_nice,
            shutdown_rx.clone(),
        )?;
        let postbacks = PostbackSignal::default();
        let links = Arc::new(LinkCache::new(Duration::from_secs(config.link_cache_secs)));
        let outbox = OutboxSignal::default();
        let (intake, intake_writer) = IntakeWriter::start(
            intake_pool,
            config.clone(),
            postbacks.clone(),
            outbox.clone(),
            links.clone(),
            shutdown_rx.clone(),
        )?;
        // Read once at start-up: a bad database file stops the server with its reason.
        let geo = match &config.geoip_db {
            Some(path) => {
                crate::domain::geo::Geo::from_mmdb(path).map_err(|e| anyhow::anyhow!("QUALEAD_GEOIP_DB: {e}"))?
            }
            None => crate::domain::geo::Geo::shipped(),
        };
        tracing::info!(geoip = %geo.describe(), "clicks are located with");
        let state = web::Data::new(AppState {
            geo: Arc::new(geo),
            config: config.clone(),
            pool: pool.clone(),
            metrics: Metrics::new()?,
            limits: RateLimits::default(),
            outbox,
            clicks,
            intake,
            links,
            postbacks,
            repeats: crate::tracking::click_repeats::ClickRepeats::default(),
        });

        let mailer = Mailer::from_config(&config)?;
        let from = config.mail_from.parse().context("QUALEAD_MAIL_FROM")?;
        let mut workers = vec![
            click_writer,
            intake_writer,
            tokio::spawn(mail::run_outbox_worker(
                pool.clone(),
                mailer,
                from,
                state.outbox.clone(),
                shutdown_rx.clone(),
            )),
            tokio::spawn(housekeeping(state.clone(), shutdown_rx.clone())),
            tokio::spawn(crate::settlement::run_periodically(
                state.clone(),
                Duration::from_secs(config.settle_interval_secs),
                shutdown_rx.clone(),
            )),
        ];
        // The two delivery workers (publisher postbacks, lead webhooks) wake on one signal.
        for start in [publisher_postbacks::start, crate::tracking::lead_webhooks::start] {
            workers.push(start(
                pool.clone(),
                &config,
                state.metrics.clone(),
                state.postbacks.clone(),
                shutdown_rx.clone(),
            )?);
        }
        workers.push(tokio::spawn(checkpoints(pool.clone(), shutdown_rx)));

        let server = serve(listener, state, &config)?;
        tracing::info!(address = %config.bind, port, base_url = %config.base_url, database = %db::redact(&config.database_url), "Qualead is listening");
        Ok(Application { port, server, shutdown, workers })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serve until SIGTERM / Ctrl-C (or the server handle stops it), then let the
    /// workers finish what they hold and return.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await?;
        tracing::info!("HTTP server stopped; stopping background workers");
        let _ = self.shutdown.send(true);
        for w in self.workers {
            let _ = tokio::time::timeout(Duration::from_secs(30), w).await;
        }
        tracing::info!("stopped cleanly");
        Ok(())
    }
}

fn serve(listener: TcpListener, state: web::Data<AppState>, config: &Config) -> anyhow::Result<Server> {
    let key = Key::derive_from(&config.secret_key);
    let secure = config.secure_cookies();
    let pool = state.pool.clone();
    let server = HttpServer::new(move || {
        // This closure runs on each HTTP worker thread as it starts: the writers
        // answer its handlers with one wake per batch.
        state.clicks.serve_this_thread();
        state.intake.serve_this_thread();
        let metrics = state.metrics.clone();
        // Pages and the API: sessions and a tracing span per request. Tracking routes
        // (clicks, postbacks, pixels, the hosted form) are registered before this scope
        // and skip both: they keep no session and are the hot path.
        let pages = web::scope("")
            .configure(crate::api::routes)
            .configure(crate::web::routes)
            .default_service(web::to(crate::web::home::not_found))
            // Inside the session layer: an error page is drawn again with the navigation.
            .wrap_fn(|req, srv| {
                let fut = srv.call(req);
                async move { Ok(crate::web::error_page::with_nav(fut.await?).await) }
            })
            .wrap(
                SessionMiddleware::builder(DbSessionStore::new(pool.clone()), key.clone())
                    .cookie_name("qualead_session".into())
                    .cookie_secure(secure)
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .session_lifecycle(
                        PersistentSession::default().session_ttl(actix_web::cookie::time::Duration::days(14)),
                    )
                    .build(),
            )
            .wrap(tracing_actix_web::TracingLogger::default());
        App::new()
            .app_data(state.clone())
            .app_data(web::FormConfig::default().limit(64 * 1024))
            .configure(crate::tracking::routes)
            .service(pages)
            // A body that stalls is answered 408 (see `web::slow_body`).
            .wrap_fn(|mut req, srv| {
                let timed_out = crate::web::slow_body::watch(&mut req);
                let fut = srv.call(req);
                async move { crate::web::slow_body::answer(fut.await, &timed_out) }
            })
            .wrap_fn(|mut req, srv| {
                crate::web::normalize::trim_path(&mut req);
                srv.call(req)
            })
            .wrap_fn(|req, srv| {
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    let status = res.status();
                    security_headers(res.headers_mut(), status);
                    Ok(res)
                }
            })
            .wrap_fn(move |req, srv| {
                let started = Instant::now();
                let method = crate::metrics::method_label(req.method());
                let metrics = metrics.clone();
                let fut = srv.call(req);
                async move {
                    let res = fut.await?;
                    metrics.observe(method, res.status().as_u16(), started.elapsed().as_secs_f64());
                    Ok(res)
                }
            })
    })
    .workers(config.workers)
    // The request head must arrive within 5 s (408 otherwise); the body is watched
    // by `web::slow_body`.
    .client_request_timeout(Duration::from_secs(5))
    .client_disconnect_timeout(Duration::from_secs(2))
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Every 100 ms: move the SQLite write-ahead log into the database file, off the
/// writers' path (the click and conversion writers then only append to the log).
///
/// A writer whose commit takes the log past `wal_autocheckpoint` pages checkpoints
/// itself, and only that checkpoint, with no commit running beside it, lets the
/// next commit start the log over. This one copies the pages and waits for both
/// files' `fsync` on another thread, often enough that the writer's own checkpoint
/// finds almost everything already done. Once a second was not enough: at 6,000
/// leads/s the log grows past 10,000 pages in under a second, and the intake
/// writer spent about a sixth of its time blocked in the checkpoint's `fsync`.
async fn checkpoints(pool: db::DbPool, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = db::run(&pool, |c| Ok(db::checkpoint(c)?)).await {
            tracing::warn!(error = %e, "checkpoint failed");
        }
    }
}

/// Once a minute: drop expired sessions and idle rate-limit keys.
async fn housekeeping(state: web::Data<AppState>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = shutdown.changed() => return,
        }
        state.limits.prune();
        match db::run(&state.pool, |c| Ok(sessions::purge_expired(c)?)).await {
            Ok(n) if n > 0 => tracing::debug!(sessions = n, "purged expired sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot purge sessions"),
        }
    }
}
