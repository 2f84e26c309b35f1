//! Environment → one typed [`Config`], validated at start-up. Every variable is
//! documented in `.env.example`; a bad value stops start-up with one line naming it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use rand::RngCore;
use url::Url;

use crate::db::{Backend, sqlite_path};

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub base_url: Url,
    /// Whether `QUALEAD_BASE_URL` was given; if not, it follows the bound port.
    pub base_url_explicit: bool,
    pub data_dir: PathBuf,
    /// 64 bytes: signs and encrypts cookies; derives other keys.
    pub secret_key: Vec<u8>,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub platform_fee_bps: u32,
    pub settle_interval_secs: u64,
    pub currency: String,
    pub trusted_proxies: Vec<IpNet>,
    /// `QUALEAD_GEOIP_DB`: a MaxMind DB (`.mmdb`) country database that replaces the
    /// shipped DB-IP table (unset: the shipped table).
    pub geoip_db: Option<PathBuf>,
    /// `QUALEAD_METRICS_TOKEN`: a bearer token that opens `/metrics` from anywhere
    /// (unset: only clients in `trusted_proxies` may read it).
    pub metrics_token: Option<String>,
    /// When false, publisher postbacks may target loopback / private addresses (tests).
    pub block_private_targets: bool,
    /// The first retry delay of a failed publisher postback, in milliseconds; each
    /// further retry waits twice as long (capped at one hour).
    pub postback_retry_base_ms: u64,
    pub db_pool_size: u32,
    pub workers: usize,
    /// Click writer threads, each with its own connection. One is fastest on two
    /// cores (bigger batches); more let batches overlap on a bigger PostgreSQL.
    pub click_writers: usize,
    /// How long a tracking link (membership + offer) may be served from memory; 0 = never.
    pub link_cache_secs: u64,
    /// Under load, how long the click and conversion writers wait after the first job
    /// of a batch for more (see `tracking::group_commit::Batching`). Defaults to 300 µs
    /// on SQLite, whose commit does not wait for a flush, and 0 on PostgreSQL.
    pub writer_linger: std::time::Duration,
    /// The click writer threads' nice value, 0–19 (see
    /// `tracking::group_commit::Batching::nice`); 0 leaves their priority alone.
    /// Defaults to 10 on PostgreSQL, where the writer only sends each batch and waits,
    /// and 0 on SQLite, where it does the database's work itself.
    pub click_writer_nice: i32,
}

/// A configuration error: which variable, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn bad(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { var, message: message.into() }
}

impl Config {
    /// Money in the network currency as e-mails and messages write it (in English):
    /// `$12,500.00`. Pages use their viewer's `Page::money`.
    pub fn money(&self, minor: i64) -> String {
        crate::domain::money::format_money(minor, &self.currency, crate::domain::money::Locale::En)
    }

    /// Read the process environment (after loading `.env` if present).
    pub fn from_env() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Config::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Build a config from any key lookup; `from_env` uses the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(get("QUALEAD_DATA_DIR").unwrap_or_else(|| "data".into()));

        let database_url =
            get("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}", data_dir.join("qualead.db").display()));
        let backend = Backend::of_url(&database_url)
            .ok_or_else(|| bad("DATABASE_URL", "must start with sqlite:// or postgres://"))?;
        if backend == Backend::Sqlite && sqlite_path(&database_url).is_empty() {
            return Err(bad("DATABASE_URL", "names no SQLite file"));
        }
        if backend == Backend::Postgres {
            let url = Url::parse(&database_url).map_err(|e| bad("DATABASE_URL", format!("is not a valid URL: {e}")))?;
            postgres_tls_available(&url).map_err(|m| bad("DATABASE_URL", m))?;
        }

        let bind_raw = get("QUALEAD_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_raw
            .parse()
            .map_err(|_| bad("QUALEAD_BIND", format!("must be an address like 127.0.0.1:8080, got {bind_raw:?}")))?;

        let base_url_explicit = get("QUALEAD_BASE_URL").is_some();
        let base_url = match get("QUALEAD_BASE_URL") {
            Some(raw) => parse_http_url(&raw).map_err(|m| bad("QUALEAD_BASE_URL", m))?,
            None => default_base_url(bind),
        };

        let secret_key = match get("QUALEAD_SECRET_KEY") {
            Some(raw) => decode_secret(&raw).map_err(|m| bad("QUALEAD_SECRET_KEY", m))?,
            None => load_or_create_secret(&data_dir).map_err(|m| bad("QUALEAD_SECRET_KEY", m))?,
        };

        let smtp_url = match get("QUALEAD_SMTP_URL") {
            Some(raw) => {
                let u = Url::parse(&raw).map_err(|e| bad("QUALEAD_SMTP_URL", format!("is not a valid URL: {e}")))?;
                if !matches!(u.scheme(), "smtp" | "smtps") || u.host_str().is_none() {
                    return Err(bad("QUALEAD_SMTP_URL", "must look like smtp://host:25 or smtps://user:pass@host:465"));
                }
                Some(raw)
            }
            None => None,
        };

        // A bare IP address makes no mail domain (`no-reply@127.0.0.1` reads as spam).
        let mail_domain = match base_url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            _ => "localhost".to_string(),
        };
        let mail_from = get("QUALEAD_MAIL_FROM").unwrap_or_else(|| format!("Qualead <no-reply@{mail_domain}>"));
        mail_from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| bad("QUALEAD_MAIL_FROM", format!("is not a valid mailbox: {e}")))?;

        let platform_fee_bps = parse_num::<u32>(&get, "QUALEAD_PLATFORM_FEE_BPS", 2000)?;
        if platform_fee_bps > 10_000 {
            return Err(bad("QUALEAD_PLATFORM_FEE_BPS", "must be between 0 and 10000 (basis points)"));
        }
        let settle_interval_secs = parse_num::<u64>(&get, "QUALEAD_SETTLE_INTERVAL_SECS", 60)?;
        if settle_interval_secs == 0 {
            return Err(bad("QUALEAD_SETTLE_INTERVAL_SECS", "must be at least 1"));
        }

        let currency = get("QUALEAD_CURRENCY").unwrap_or_else(|| "USD".into());
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(bad(
                "QUALEAD_CURRENCY",
                format!("must be a three-letter ISO 4217 code like USD, got {currency:?}"),
            ));
        }

        let trusted_proxies = match get("QUALEAD_TRUSTED_PROXIES") {
            Some(raw) => parse_cidrs(&raw).map_err(|m| bad("QUALEAD_TRUSTED_PROXIES", m))?,
            None => parse_cidrs("127.0.0.0/8,::1/128").unwrap_or_default(),
        };

        let geoip_db =
            get("QUALEAD_GEOIP_DB").map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).map(PathBuf::from);

        let metrics_token = get("QUALEAD_METRICS_TOKEN").map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16 || !t.chars().all(|c| c.is_ascii_graphic())) {
            return Err(bad("QUALEAD_METRICS_TOKEN", "must be at least 16 printable characters without spaces"));
        }

        let block_private_targets = parse_bool(&get, "QUALEAD_BLOCK_PRIVATE_TARGETS", true)?;
        let postback_retry_base_ms = parse_num::<u64>(&get, "QUALEAD_POSTBACK_RETRY_BASE_MS", 30_000)?;
        if !(1..=3_600_000).contains(&postback_retry_base_ms) {
            return Err(bad("QUALEAD_POSTBACK_RETRY_BASE_MS", "must be between 1 and 3600000 (one hour)"));
        }
        let db_pool_size = parse_num::<u32>(&get, "QUALEAD_DB_POOL_SIZE", 16)?;
        if db_pool_size == 0 {
            return Err(bad("QUALEAD_DB_POOL_SIZE", "must be at least 1"));
        }
        let workers = parse_num::<usize>(
            &get,
            "QUALEAD_WORKERS",
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
        )?;
        if workers == 0 {
            return Err(bad("QUALEAD_WORKERS", "must be at least 1"));
        }

        let click_writers = parse_num::<usize>(&get, "QUALEAD_CLICK_WRITERS", 1)?;
        if !(1..=16).contains(&click_writers) {
            return Err(bad("QUALEAD_CLICK_WRITERS", "must be between 1 and 16"));
        }

        let link_cache_secs = parse_num::<u64>(&get, "QUALEAD_LINK_CACHE_SECS", 5)?;
        if link_cache_secs > 300 {
            return Err(bad("QUALEAD_LINK_CACHE_SECS", "must be at most 300 seconds"));
        }

        let linger_us =
            parse_num::<u64>(&get, "QUALEAD_WRITER_LINGER_US", if backend == Backend::Sqlite { 300 } else { 0 })?;
        if linger_us > 10_000 {
            return Err(bad("QUALEAD_WRITER_LINGER_US", "must be at most 10000 microseconds"));
        }

        let click_writer_nice =
            parse_num::<i32>(&get, "QUALEAD_CLICK_WRITER_NICE", if backend == Backend::Postgres { 10 } else { 0 })?;
        if !(0..=19).contains(&click_writer_nice) {
            return Err(bad("QUALEAD_CLICK_WRITER_NICE", "must be between 0 and 19"));
        }

        Ok(Config {
            database_url,
            bind,
            base_url,
            base_url_explicit,
            data_dir,
            secret_key,
            smtp_url,
            mail_from,
            platform_fee_bps,
            settle_interval_secs,
            currency,
            trusted_proxies,
            geoip_db,
            metrics_token,
            block_private_targets,
            postback_retry_base_ms,
            db_pool_size,
            workers,
            click_writers,
            link_cache_secs,
            writer_linger: std::time::Duration::from_micros(linger_us),
            click_writer_nice,
        })
    }

    pub fn backend(&self) -> Backend {
        Backend::of_url(&self.database_url).unwrap_or(Backend::Sqlite)
    }

    /// Where `.eml` files go when no SMTP server is configured.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// Cookies carry `Secure` when the public address is HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// An absolute URL under the public base address.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base_url.as_str().trim_end_matches('/'), path_and_query)
    }
}

/// The default build's libpq is built from source without OpenSSL (no system
/// package needed), so it cannot speak TLS: a URL that demands it is refused at
/// start-up with the way out, instead of failing at the first connection.
/// `sslmode=disable|allow|prefer` (libpq's default) connect in plain text.
fn postgres_tls_available(url: &Url) -> Result<(), String> {
    if cfg!(feature = "postgres-tls") {
        return Ok(());
    }
    match url.query_pairs().find(|(k, _)| k == "sslmode").map(|(_, v)| v.into_owned()) {
        Some(mode) if matches!(mode.as_str(), "require" | "verify-ca" | "verify-full") => Err(format!(
            "sslmode={mode} needs TLS to PostgreSQL, which this build does not have; \
             build Qualead with `cargo build --release --features postgres-tls` (needs OpenSSL, \
             Debian's libssl-dev) or connect over a private network with sslmode=prefer"
        )),
        _ => Ok(()),
    }
}

pub fn default_base_url(bind: SocketAddr) -> Url {
    let host = if bind.ip().is_unspecified() { "127.0.0.1".to_string() } else { bind.ip().to_string() };
    let host = if bind.is_ipv6() && !bind.ip().is_unspecified() { format!("[{host}]") } else { host };
    Url::parse(&format!("http://{host}:{}", bind.port())).unwrap_or_else(|_| {
        Url::parse("http://127.0.0.1:8080").unwrap_or_else(|_| unreachable!("a literal URL parses"))
    })
}

fn parse_http_url(raw: &str) -> Result<Url, String> {
    let u = Url::parse(raw).map_err(|e| format!("is not a valid URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(format!("must be an http:// or https:// address, got {raw:?}"));
    }
    Ok(u)
}

fn parse_num<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|_| bad(var, format!("must be a whole number, got {raw:?}"))),
    }
}

fn parse_bool(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match get(var).as_deref().map(str::trim) {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(bad(var, format!("must be true or false, got {other:?}"))),
    }
}

/// `10.0.0.0/8, 192.168.1.7` → networks; a bare address is a /32 or /128.
pub fn parse_cidrs(raw: &str) -> Result<Vec<IpNet>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is not a CIDR like 10.0.0.0/8 or an IP address"))
        })
        .collect()
}

fn decode_secret(raw: &str) -> Result<Vec<u8>, String> {
    let raw = raw.trim();
    let bytes = hex::decode(raw)
        .ok()
        .or_else(|| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(raw).ok()
        })
        .ok_or_else(|| "must be hex or base64".to_string())?;
    if bytes.len() < 64 {
        return Err(format!("must hold at least 64 bytes (128 hex characters), got {}", bytes.len()));
    }
    Ok(bytes)
}

/// The secret lives in `data/secret.key` so sessions survive restarts without setup.
fn load_or_create_secret(data_dir: &Path) -> Result<Vec<u8>, String> {
    let path = data_dir.join("secret.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return decode_secret(&text).map_err(|m| format!("{} {m}", path.display()));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let mut key = vec![0u8; 64];
    rand::rngs::OsRng.fill_bytes(&mut key);
    write_private(&path, &hex::encode(&key)).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(key)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        map.entry("QUALEAD_SECRET_KEY".into()).or_insert_with(|| "ab".repeat(64));
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_sqlite_on_loopback() {
        let c = cfg(&[]).expect("defaults are valid");
        assert_eq!(c.database_url, "sqlite://data/qualead.db");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.base_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(c.platform_fee_bps, 2000);
        assert_eq!(c.currency, "USD");
        assert!(c.block_private_targets);
        assert_eq!(c.postback_retry_base_ms, 30_000);
        assert_eq!(c.click_writers, 1);
        assert_eq!(c.click_writer_nice, 0, "the SQLite writer does the database's work");
        assert_eq!(c.writer_linger, std::time::Duration::from_micros(300), "SQLite commits without a flush");
        let pg = cfg(&[("DATABASE_URL", "postgres://u@h/db")]).expect("valid");
        assert_eq!(pg.writer_linger, std::time::Duration::ZERO, "a PostgreSQL commit gathers the next batch");
        assert_eq!(pg.click_writer_nice, 10, "the PostgreSQL click writer runs after the HTTP workers");
        assert!(c.trusted_proxies.iter().any(|n| n.contains(&"127.0.0.1".parse::<std::net::IpAddr>().expect("ip"))));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, val) in [
            ("QUALEAD_PLATFORM_FEE_BPS", "abc"),
            ("QUALEAD_PLATFORM_FEE_BPS", "10001"),
            ("QUALEAD_BIND", "localhost"),
            ("DATABASE_URL", "mysql://x"),
            ("QUALEAD_CURRENCY", "usd"),
            ("QUALEAD_TRUSTED_PROXIES", "10.0.0.0/99"),
            ("QUALEAD_SMTP_URL", "http://mail"),
            ("QUALEAD_SECRET_KEY", "short"),
            ("QUALEAD_BASE_URL", "ftp://x"),
            ("QUALEAD_POSTBACK_RETRY_BASE_MS", "0"),
            ("QUALEAD_BLOCK_PRIVATE_TARGETS", "maybe"),
            ("QUALEAD_CLICK_WRITERS", "0"),
            ("QUALEAD_CLICK_WRITERS", "17"),
            ("QUALEAD_CLICK_WRITER_NICE", "20"),
            ("QUALEAD_CLICK_WRITER_NICE", "-5"),
        ] {
            let err = cfg(&[(var, val)]).expect_err(var);
            assert_eq!(err.var, var);
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn tls_to_postgres_needs_the_tls_build() {
        let plain = cfg(&[("DATABASE_URL", "postgres://u@h/db?sslmode=prefer")]);
        assert!(plain.is_ok(), "sslmode=prefer connects without TLS");
        let strict = cfg(&[("DATABASE_URL", "postgres://u@h/db?sslmode=require")]);
        if cfg!(feature = "postgres-tls") {
            assert!(strict.is_ok());
        } else {
            let err = strict.expect_err("the default build has no TLS to PostgreSQL");
            assert_eq!(err.var, "DATABASE_URL");
            assert!(err.message.contains("postgres-tls"), "{err}");
        }
    }

    #[test]
    fn the_sender_has_a_mail_domain() {
        assert_eq!(cfg(&[]).expect("defaults").mail_from, "Qualead <no-reply@localhost>", "not @127.0.0.1");
        let c = cfg(&[("QUALEAD_BASE_URL", "https://leads.example.com")]).expect("valid");
        assert_eq!(c.mail_from, "Qualead <no-reply@leads.example.com>");
    }

    #[test]
    fn cidrs_accept_bare_addresses() {
        let nets = parse_cidrs("10.0.0.0/8, 192.168.1.7,::1").expect("valid");
        assert_eq!(nets.len(), 3);
        assert_eq!(nets[1].to_string(), "192.168.1.7/32");
    }
}
