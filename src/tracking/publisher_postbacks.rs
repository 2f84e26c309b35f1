//! Platform → publisher postbacks: a background task claims due rows of
//! `postback_deliveries` (queued by `store::postbacks::enqueue` with the lead
//! event), calls each publisher's URL with a GET and records the answer; a failure
//! is retried with backoff. A guard refuses targets on loopback, private and other
//! non-public addresses, and the request goes to exactly the address it checked,
//! so a DNS answer that changes between check and connect cannot slip past.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use url::{Host, Url};

use crate::config::Config;
use crate::db::{self, DbPool};
use crate::domain::tracking::clean;
use crate::metrics::Metrics;
use crate::store::postbacks::{self, AfterFailure, Delivery};

/// Deliveries claimed at once; they are sent concurrently, well within the lease.
pub(crate) const BATCH: i64 = 20;
/// How often the queue is read when nobody wakes the worker (other processes queue too).
const POLL: Duration = Duration::from_secs(1);
/// The longest a name lookup or a request may take.
const TIMEOUT: Duration = Duration::from_secs(10);
const USER_AGENT: &str = concat!("Qualead-Postback/", env!("CARGO_PKG_VERSION"));

/// Handle to wake the outbox senders (publisher postbacks and lead webhooks) after
/// queueing a delivery, instead of waiting for their poll.
#[derive(Clone, Default)]
pub struct PostbackSignal(Arc<Notify>, pub(crate) Arc<Notify>);

impl PostbackSignal {
    pub fn wake(&self) {
        self.0.notify_one();
        self.1.notify_one();
    }
}

/// Start the delivery worker; it stops when `shutdown` flips, after finishing the
/// batch in hand.
pub fn start(
    pool: DbPool,
    config: &Config,
    metrics: Metrics,
    signal: PostbackSignal,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let sender = Sender::new(config, metrics)?;
    Ok(tokio::spawn(run(pool, sender, signal, shutdown)))
}

async fn run(pool: DbPool, sender: Sender, signal: PostbackSignal, shutdown: watch::Receiver<bool>) {
    poll_deliveries("publisher postbacks", &signal.0, shutdown, || sender.deliver_due(&pool)).await;
}

/// A delivery worker's loop, until `shutdown` flips: deliver a due batch (one of
/// [`BATCH`] at the most), again at once after a full one (more may be waiting),
/// else after `wake` or [`POLL`]. `what` names the queue in the log.
pub(crate) async fn poll_deliveries<F, Fut>(
    what: &str,
    wake: &Notify,
    mut shutdown: watch::Receiver<bool>,
    mut deliver_due: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    loop {
        if *shutdown.borrow() {
            return;
        }
        match deliver_due().await {
            Ok(n) if n as i64 >= BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "{what}: cannot read the queue"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Delivered(u16),
    Failed {
        code: Option<u16>,
        error: String,
    },
    /// Refused by the guard (or a URL that can never work): not retried.
    Blocked(String),
}

/// Where the guard lets a request connect.
enum Target {
    /// An IP literal (already checked) or any host, when the guard is off.
    Direct,
    /// A host name and the checked addresses it resolved to.
    Pinned(String, Vec<SocketAddr>),
}

/// The private-target guard and its clients (lead webhooks send through it too).
pub(crate) struct Sender {
    block_private: bool,
    pub(crate) retry_base: chrono::Duration,
    metrics: Metrics,
    /// For IP literals (guard on: it cannot look names up) or every target (guard off).
    direct: reqwest::Client,
}

impl Sender {
    pub(crate) fn new(config: &Config, metrics: Metrics) -> anyhow::Result<Sender> {
        let block_private = config.block_private_targets;
        let mut builder = client_builder();
        if block_private {
            builder = builder.dns_resolver(Arc::new(NoLookups));
        }
        Ok(Sender {
            block_private,
            retry_base: chrono::Duration::milliseconds(i64::try_from(config.postback_retry_base_ms)?),
            metrics,
            direct: builder.build()?,
        })
    }

    /// Claim one batch and attempt each; returns how many were claimed.
    async fn deliver_due(&self, pool: &DbPool) -> anyhow::Result<usize> {
        let batch = db::run(pool, |c| Ok(postbacks::claim_due(c, BATCH)?)).await?;
        join_all(batch.iter().map(|d| self.deliver(pool, d))).await;
        Ok(batch.len())
    }

    async fn deliver(&self, pool: &DbPool, d: &Delivery) {
        let outcome = self.attempt(&d.url).await;
        let host = Url::parse(&d.url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        let (id, attempts, base) = (d.id, d.attempts, self.retry_base);
        let label = match &outcome {
            Outcome::Delivered(code) => {
                tracing::info!(id, lead_id = d.lead_id, %host, code, "publisher postback delivered");
                "delivered"
            }
            Outcome::Blocked(reason) => {
                tracing::warn!(id, lead_id = d.lead_id, %host, reason = %reason, "publisher postback blocked");
                "blocked"
            }
            Outcome::Failed { code, error } => {
                tracing::warn!(id, lead_id = d.lead_id, %host, code, attempt = attempts + 1, error = %error, "publisher postback failed");
                "retry"
            }
        };
        let recorded = db::run(pool, move |c| {
            Ok(match outcome {
                Outcome::Delivered(code) => {
                    postbacks::mark_delivered(c, id, i32::from(code))?;
                    None
                }
                Outcome::Blocked(reason) => {
                    postbacks::mark_blocked(c, id, &reason)?;
                    None
                }
                Outcome::Failed { code, error } => {
                    Some(postbacks::mark_failed(c, id, attempts, code.map(i32::from), &error, base)?)
                }
            })
        })
        .await;
        match recorded {
            Ok(Some(AfterFailure::GaveUp)) => {
                tracing::warn!(id, lead_id = d.lead_id, %host, "publisher postback given up after every retry");
                self.metrics.publisher_postbacks.with_label_values(&["failed"]).inc();
            }
            Ok(_) => self.metrics.publisher_postbacks.with_label_values(&[label]).inc(),
            // The lease runs out and the delivery is attempted again.
            Err(e) => tracing::warn!(id, error = %e, "publisher postback: cannot record the attempt"),
        }
    }

    async fn attempt(&self, raw: &str) -> Outcome {
        let (url, client) = match self.client_for(raw).await {
            Ok(pair) => pair,
            Err(refused) => return refused,
        };
        match client.get(url).send().await {
            Ok(resp) if resp.status().is_success() => Outcome::Delivered(resp.status().as_u16()),
            Ok(mut resp) => {
                let code = resp.status().as_u16();
                // The start of the body often says what the tracker disliked.
                let body = match resp.chunk().await {
                    Ok(Some(bytes)) => clean(&String::from_utf8_lossy(&bytes), 200),
                    _ => String::new(),
                };
                let error = if body.trim().is_empty() {
                    format!("HTTP {code}")
                } else {
                    format!("HTTP {code}: {}", body.trim())
                };
                Outcome::Failed { code: Some(code), error }
            }
            Err(e) => Outcome::Failed { code: None, error: error_text(&e) },
        }
    }

    /// The URL and a client that may reach it, or why not (the guard's refusal, a
    /// failed lookup).
    pub(crate) async fn client_for(&self, raw: &str) -> Result<(Url, reqwest::Client), Outcome> {
        let url = Url::parse(raw).map_err(|e| Outcome::Blocked(format!("not a valid URL: {e}")))?;
        let client = match self.check(&url).await? {
            Target::Direct => self.direct.clone(),
            Target::Pinned(host, addrs) => {
                pinned_client(&host, &addrs).map_err(|e| Outcome::Failed { code: None, error: error_text(&e) })?
            }
        };
        Ok((url, client))
    }

    /// The guard: http(s) only, and (when on) only public addresses.
    async fn check(&self, url: &Url) -> Result<Target, Outcome> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Outcome::Blocked(format!("the scheme {:?} is not http or https", url.scheme())));
        }
        let host = url.host().ok_or_else(|| Outcome::Blocked("the URL has no host".into()))?;
        if !self.block_private {
            return Ok(Target::Direct);
        }
        let literal = match host {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        };
        if let Some(ip) = literal {
            return match non_public_kind(ip) {
                Some(kind) => Err(Outcome::Blocked(format!("{ip} is a {kind} address"))),
                None => Ok(Target::Direct),
            };
        }
        let name = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> =
            match tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((name.as_str(), port))).await {
                Ok(Ok(addrs)) => addrs.collect(),
                Ok(Err(e)) => return Err(Outcome::Failed { code: None, error: format!("cannot resolve {name}: {e}") }),
                Err(_) => return Err(Outcome::Failed { code: None, error: format!("resolving {name} timed out") }),
            };
        if addrs.is_empty() {
            return Err(Outcome::Failed { code: None, error: format!("{name} has no address") });
        }
        if let Some((ip, kind)) = addrs.iter().find_map(|a| non_public_kind(a.ip()).map(|k| (a.ip(), k))) {
            return Err(Outcome::Blocked(format!("{name} resolves to {ip}, a {kind} address")));
        }
        Ok(Target::Pinned(name, addrs))
    }
}

fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would connect on our behalf to addresses the guard never saw.
        .no_proxy()
}

/// A client that reaches `host` only at `addrs` (the checked ones) and no other name.
fn pinned_client(host: &str, addrs: &[SocketAddr]) -> reqwest::Result<reqwest::Client> {
    client_builder().dns_resolver(Arc::new(NoLookups)).resolve_to_addrs(host, addrs).build()
}

/// The resolver of guarded clients: every name they may reach was resolved and
/// checked beforehand and pinned with `resolve_to_addrs`; anything else is refused.
struct NoLookups;

impl reqwest::dns::Resolve for NoLookups {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let message = format!("{} was not checked by the private-target guard", name.as_str());
        Box::pin(async move { Err(message.into()) })
    }
}

/// A reqwest error and its causes on one line, without the URL (the log page shows it).
pub(crate) fn error_text(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() { "timed out".to_string() } else { e.to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text.replace(&format!(" for url ({})", e.url().map(Url::as_str).unwrap_or_default()), "")
}

/// Whether a postback may go to `ip`: not loopback, private, link-local,
/// unique-local, unspecified, shared (CGNAT), multicast or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    non_public_kind(ip).is_none()
}

/// What kind of non-public address `ip` is, or `None` for a public one.
pub fn non_public_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if a == 0 {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (b & 0xc0) == 64 {
        Some("shared (CGNAT)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_documentation() {
        Some("documentation")
    } else if a >= 240 || (a == 198 && (b & 0xfe) == 18) || (a == 192 && b == 0 && c == 0) {
        Some("reserved")
    } else {
        None
    }
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if let Some(kind) = embedded_ipv4(ip).into_iter().find_map(v4_kind) {
        // An address that carries an IPv4 address reaches (or may reach) it: it is
        // judged by that address.
        Some(kind)
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some("unique-local")
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Some("link-local")
    } else if (s[0] & 0xffc0) == 0xfec0 {
        Some("site-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        Some("documentation")
    } else if s[..4] == [0x0100, 0, 0, 0] {
        Some("discard-only")
    } else {
        None
    }
}

/// The IPv4 addresses an IPv6 address embeds, in each form that routes to them:
/// IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, IPv4-compatible
/// `::a.b.c.d`, NAT64 (`64:ff9b::/96`, and the local-use `64:ff9b:1::/48` in each
/// RFC 6052 layout it may be used with: /48, /56, /64, /96), 6to4 (`2002::/16`),
/// Teredo (`2001::/32`: the server, and the client stored inverted) and ISATAP
/// interface identifiers (`…:0:5efe:a.b.c.d`, `…:200:5efe:a.b.c.d`).
pub fn embedded_ipv4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let b = ip.octets();
    let v4 = |o: [u8; 4]| Ipv4Addr::from(o);
    let tail = v4([b[12], b[13], b[14], b[15]]);
    let mut out = Vec::new();
    let mapped_or_compatible = s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0); // `::`, `::1` judged before
    let translated = s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0;
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if mapped_or_compatible || translated || nat64 {
        out.push(tail);
    } else if s[..3] == [0x64, 0xff9b, 0x0001] {
        // Each layout keeps bits 64–71 and its suffix zero; /96 has no suffix.
        let zero = |from: usize| b[8] == 0 && b[from..].iter().all(|&x| x == 0);
        if zero(11) {
            out.push(v4([b[6], b[7], b[9], b[10]])); // /48
        }
        if zero(12) {
            out.push(v4([b[7], b[9], b[10], b[11]])); // /56
        }
        if zero(13) {
            out.push(v4([b[9], b[10], b[11], b[12]])); // /64
        }
        out.push(tail); // /96
    } else if s[0] == 0x2002 {
        out.push(v4([b[2], b[3], b[4], b[5]]));
    } else if s[0] == 0x2001 && s[1] == 0 {
        out.push(v4([b[4], b[5], b[6], b[7]]));
        out.push(v4([!b[12], !b[13], !b[14], !b[15]]));
    }
    if (s[4] & 0xfdff) == 0 && s[5] == 0x5efe {
        out.push(tail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().expect("an IP address"))
    }

    #[test]
    fn non_public_ipv4_is_refused() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.10",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
        ] {
            assert!(!public(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_ipv4_is_allowed() {
        for ip in
            ["1.1.1.1", "8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "93.184.216.34"]
        {
            assert!(public(ip), "{ip} must be allowed");
        }
    }

    #[test]
    fn non_public_ipv6_is_refused() {
        for ip in [
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::192.168.1.1",
            "2002:c0a8:0101::1",
        ] {
            assert!(!public(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn ipv4_embedding_forms_are_judged_by_their_ipv4_address() {
        for (ip, kind) in [
            // IPv4-mapped
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:7f00:1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            // IPv4-translated (SIIT)
            ("::ffff:0:127.0.0.1", "loopback"),
            ("::ffff:0:10.0.0.1", "private"),
            // IPv4-compatible
            ("::127.0.0.2", "loopback"),
            ("::192.168.1.1", "private"),
            // NAT64, well-known and local-use prefixes
            ("64:ff9b::127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("64:ff9b:1::127.0.0.1", "loopback"),
            ("64:ff9b:1:7f00:0:100::", "loopback"),
            ("64:ff9b:1:0:a:0:100:0", "private"),
            // 6to4
            ("2002:7f00:1::1", "loopback"),
            ("2002:a9fe:a9fe::", "link-local"),
            // Teredo: server 8.8.8.8 (public), client 127.0.0.1 stored inverted
            ("2001:0:808:808:0:0:80ff:fffe", "loopback"),
            // Teredo: a private server
            ("2001:0:a00:1::1", "private"),
            // ISATAP interface identifiers
            ("2606:4700::5efe:127.0.0.1", "loopback"),
            ("2606:4700::200:5efe:192.168.0.1", "private"),
        ] {
            let addr: IpAddr = ip.parse().expect("an IP address");
            assert_eq!(non_public_kind(addr), Some(kind), "{ip}");
        }
        // The same forms around public IPv4 addresses pass.
        for ip in [
            "::ffff:0:8.8.8.8",
            "64:ff9b:1::8.8.8.8",
            "2002:808:808::1",
            "2001:0:808:808:0:0:f7f7:f7f7",
            "2606:4700::5efe:8.8.8.8",
        ] {
            assert!(public(ip), "{ip} must be allowed");
        }
    }

    #[test]
    fn public_ipv6_is_allowed() {
        for ip in ["2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(public(ip), "{ip} must be allowed");
        }
    }

    #[test]
    fn the_reason_names_the_kind() {
        assert_eq!(non_public_kind("127.0.0.1".parse().expect("ip")), Some("loopback"));
        assert_eq!(non_public_kind("100.64.1.1".parse().expect("ip")), Some("shared (CGNAT)"));
        assert_eq!(non_public_kind("fd00::1".parse().expect("ip")), Some("unique-local"));
    }

    fn sender(block_private: bool) -> Sender {
        Sender {
            block_private,
            retry_base: chrono::Duration::seconds(30),
            metrics: Metrics::new().expect("metrics"),
            direct: client_builder().build().expect("client"),
        }
    }

    async fn blocked_reason(s: &Sender, url: &str) -> Option<String> {
        match s.check(&Url::parse(url).expect("url")).await {
            Err(Outcome::Blocked(reason)) => Some(reason),
            _ => None,
        }
    }

    #[tokio::test]
    async fn the_guard_refuses_private_targets_and_other_schemes() {
        let on = sender(true);
        for url in [
            "http://127.0.0.1:9/pb",
            "http://[::1]/pb",
            "https://10.0.0.8/pb",
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:192.168.0.1]/",
            "http://[::ffff:0:127.0.0.1]/",
            "http://[64:ff9b:1::7f00:1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[::127.0.0.1]/",
            "http://[2002:7f00:1::1]/",
            "http://[2001:0:808:808::80ff:fffe]/",
            "http://0x7f.1/",
            "http://localhost:8080/pb",
            "ftp://tracker.example/pb",
            "file:///etc/passwd",
        ] {
            assert!(blocked_reason(&on, url).await.is_some(), "{url} must be blocked");
        }
        assert_eq!(blocked_reason(&on, "http://127.0.0.1/").await.as_deref(), Some("127.0.0.1 is a loopback address"));
        let localhost = blocked_reason(&on, "http://localhost/").await.expect("blocked");
        assert!(localhost.starts_with("localhost resolves to "), "{localhost}");
        assert!(matches!(on.check(&Url::parse("http://8.8.8.8/pb").expect("url")).await, Ok(Target::Direct)));
    }

    #[tokio::test]
    async fn a_pinned_client_connects_to_the_checked_address_only() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 2048];
            let n = socket.read(&mut buf).await.expect("read");
            let _ = socket.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n").await;
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        // A name no DNS server knows: only the pin can take the request anywhere.
        let client = pinned_client("tracker.qualead.invalid", &[addr]).expect("client");
        let url = format!("http://tracker.qualead.invalid:{}/pb?x=1", addr.port());
        let resp = client.get(&url).send().await.expect("the pinned address answers");
        assert_eq!(resp.status().as_u16(), 204);
        let head = server.await.expect("server");
        assert!(head.starts_with("GET /pb?x=1 HTTP/1.1\r\n"), "{head}");
        assert!(head.to_ascii_lowercase().contains("host: tracker.qualead.invalid:"), "{head}");

        let err = client.get("http://other.qualead.invalid/").send().await.expect_err("no lookups");
        assert!(error_text(&err).contains("not checked by the private-target guard"), "{}", error_text(&err));
        assert!(!error_text(&err).contains("http://"), "{}", error_text(&err));
    }

    #[tokio::test]
    async fn with_the_guard_off_only_the_scheme_is_checked() {
        let off = sender(false);
        assert!(matches!(off.check(&Url::parse("http://127.0.0.1:9/pb").expect("url")).await, Ok(Target::Direct)));
        assert!(blocked_reason(&off, "gopher://127.0.0.1/").await.is_some());
    }
}
