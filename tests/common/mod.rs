//! Test support: a real Qualead server per test (port 0, its own database), a
//! cookie-keeping HTTP client that does not follow redirects, e-mail readers,
//! and a real SMTP server on loopback.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]
#![allow(dead_code)]

pub mod reports;
pub mod smtp;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};
use qualead::app::Application;
use qualead::config::Config;
use reqwest::StatusCode;
use tempfile::TempDir;

pub const PASSWORD: &str = "S3cure-pass!";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Run each named `async fn(Backend)` as a test on SQLite and on PostgreSQL.
/// The PostgreSQL copies are `#[ignore]`d in a plain `cargo test` and run by the
/// PostgreSQL suite (`cargo test -- --ignored postgres::`, see README / `.ci/run`).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "PostgreSQL suite: cargo test -- --ignored postgres::"]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// The server that PostgreSQL test databases are created on.
pub fn postgres_admin_url() -> String {
    std::env::var("QUALEAD_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database that lives as long as the test: a SQLite file in a temp folder, or a
/// fresh PostgreSQL database dropped afterwards.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("qualead.db").display());
                TestDb { url, pg_name: None, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = diesel::PgConnection::establish(&admin)
                    .unwrap_or_else(|e| panic!("the PostgreSQL suite needs a server at {admin}: {e}"));
                let name = format!(
                    "qualead_test_{}",
                    qualead::crypto::random_token(9).to_lowercase().replace(['-', '_'], "x")
                );
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .expect("create test database");
                let mut url = url::Url::parse(&admin).expect("admin url");
                url.set_path(&name);
                TestDb { url: url.to_string(), pg_name: Some(name), _dir: None }
            }
        }
    }
}

impl TestDb {
    /// The same database for a second server process; dropping it drops nothing.
    pub fn alias(&self) -> TestDb {
        TestDb { url: self.url.clone(), pg_name: None, _dir: None }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = diesel::PgConnection::establish(&postgres_admin_url())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn);
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    pub db: TestDb,
    pub backend: Backend,
    _data: TempDir,
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// The base configuration of a test server; `extra` overrides any variable.
pub fn test_config(db_url: &str, data_dir: &std::path::Path, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", db_url.to_string()),
        ("QUALEAD_BIND", "127.0.0.1:0".into()),
        ("QUALEAD_DATA_DIR", data_dir.display().to_string()),
        ("QUALEAD_SECRET_KEY", "7a".repeat(64)),
        ("QUALEAD_WORKERS", "2".into()),
        ("QUALEAD_DB_POOL_SIZE", "6".into()),
        ("QUALEAD_BLOCK_PRIVATE_TARGETS", "false".into()),
        ("QUALEAD_LINK_CACHE_SECS", "0".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| vars.get(k).cloned()).expect("valid test configuration")
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new(backend);
    spawn_on(db, backend, extra).await
}

/// Start a server on an existing test database.
pub async fn spawn_on(db: TestDb, backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let config = test_config(&db.url, data.path(), extra);
    let app = Application::build(config).await.expect("the server starts");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: new_client(),
        data_dir: data.path().to_path_buf(),
        db,
        backend,
        _data: data,
    }
}

/// The value of the hidden `csrf_token` field in a page.
pub fn csrf_of(html: &str) -> String {
    let re = regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).expect("regex");
    re.captures(html).map(|c| c[1].to_string()).unwrap_or_else(|| panic!("no CSRF token in page:\n{html}"))
}

/// Decode the quoted-printable soft breaks and escapes of a raw e-mail.
pub fn decode_qp(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first absolute link to `path` (e.g. `/verify-email`) in an e-mail.
pub fn link_in(email: &str, path: &str) -> String {
    let re = regex::Regex::new(&format!(r#"https?://[^\s"<>]+{}\?token=[A-Za-z0-9_\-]+"#, regex::escape(path)))
        .expect("regex");
    re.find(email).map(|m| m.as_str().to_string()).unwrap_or_else(|| panic!("no {path} link in e-mail:\n{email}"))
}

/// DESIGN §8's invariants hold after every test that ran a server: every ledger
/// transaction balanced, balances summing to zero, escrow equal to the pending
/// leads' prices, no advertiser below zero (a failing test is left to its own panic).
impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let health = qualead::db::connect(&self.db.url, 1)
            .map_err(|e| e.to_string())
            .and_then(|pool| pool.get().map_err(|e| e.to_string()))
            .and_then(|mut conn| qualead::store::ledger::health(&mut conn).map_err(|e| e.to_string()));
        match health {
            Ok(h) => assert!(h.balanced, "the ledger is not balanced after this test: {h:?}"),
            Err(e) => panic!("cannot read the ledger's health after this test: {e}"),
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_with(&self.client, path).await
    }

    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_text(&self, client: &reqwest::Client, path: &str) -> (StatusCode, String) {
        let r = self.get_with(client, path).await;
        let s = r.status();
        (s, r.text().await.expect("body"))
    }

    pub async fn post_form(&self, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        client.post(self.url(path)).form(form).send().await.expect("POST")
    }

    /// Load `page` for its CSRF token, then post `form` (plus the token) to `path`.
    pub async fn submit(
        &self,
        client: &reqwest::Client,
        page: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.get_text(client, page).await;
        let token = csrf_of(&html);
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf_token", &token));
        self.post_form(client, path, &fields).await
    }

    /// The sign-up form sent with `form` (plus its CSRF token).
    pub async fn signup_form(&self, client: &reqwest::Client, form: &[(&str, &str)]) -> reqwest::Response {
        self.submit(client, "/signup", "/signup", form).await
    }

    pub async fn signup(&self, client: &reqwest::Client, role: &str, email: &str) -> reqwest::Response {
        self.signup_form(
            client,
            &[
                ("role", role),
                ("email", email),
                ("password", PASSWORD),
                ("display_name", "Test Person"),
                ("company", "Test Co"),
            ],
        )
        .await
    }

    pub async fn login(&self, client: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
        self.submit(client, "/login", "/login", &[("email", email), ("password", password)]).await
    }

    /// Sign up, follow the verification e-mail, and log in: an active session.
    pub async fn signed_in(&self, role: &str, email: &str) -> reqwest::Client {
        let client = new_client();
        assert_eq!(self.signup(&client, role, email).await.status(), StatusCode::OK);
        let mail = self.wait_for_email(email, "/verify-email").await;
        let link = link_in(&mail, "/verify-email");
        let r = client.get(link).send().await.expect("verify");
        assert_eq!(r.status(), StatusCode::OK);
        let r = self.login(&client, email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "log-in of {email}");
        client
    }

    /// Create an account directly, as `qualead user create` does.
    pub fn create_user(&self, role: &str, email: &str) -> i64 {
        let pool = qualead::db::connect(&self.db.url, 1).expect("pool");
        let mut conn = pool.get().expect("conn");
        let hash = qualead::crypto::hash_password(PASSWORD).expect("hash");
        qualead::store::users::create(
            &mut conn,
            qualead::store::users::UserSpec::active(email, &hash, role.parse().expect("role"), "Made In Test"),
        )
        .expect("create user")
        .id
    }

    /// A web session of a seeded account (its password set to [`PASSWORD`]).
    pub async fn session_of(&self, user_id: i64) -> reqwest::Client {
        let hash = qualead::crypto::hash_password(PASSWORD).expect("hash");
        let mut conn = self.conn();
        qualead::store::users::set_password_hash(&mut conn, user_id, &hash).expect("password");
        let email = qualead::store::users::find(&mut conn, user_id).expect("q").expect("user").email;
        let client = new_client();
        assert_eq!(self.login(&client, &email, PASSWORD).await.status(), StatusCode::SEE_OTHER, "log-in of {email}");
        client
    }

    pub async fn login_as(&self, role: &str, email: &str) -> reqwest::Client {
        self.create_user(role, email);
        let client = new_client();
        let r = self.login(&client, email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "log-in of {email}");
        client
    }

    /// Every `.eml` written to the outbox folder so far, decoded.
    pub fn emails(&self) -> Vec<String> {
        let dir = self.data_dir.join("outbox");
        let Ok(entries) = std::fs::read_dir(&dir) else { return vec![] };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        // Named `<sent at>-<outbox id>-…`: the name sorts them in the order sent.
        files.sort();
        files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).map(|raw| decode_qp(&raw)).collect()
    }

    /// Wait (up to 15 s) for an e-mail to `to` containing `needle`.
    pub async fn wait_for_email(&self, to: &str, needle: &str) -> String {
        for _ in 0..150 {
            if let Some(m) =
                self.emails().into_iter().rev().find(|m| m.contains(&format!("To: {to}")) && m.contains(needle))
            {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no e-mail to {to} containing {needle:?}; outbox holds {:?}", self.emails());
    }

    pub fn conn(&self) -> qualead::db::PooledDb {
        qualead::db::connect(&self.db.url, 1).expect("pool").get().expect("conn")
    }
}

/// An active offer with one publisher (in `membership` status), created directly in
/// the database at `db_url` (which must be migrated).
pub struct SeededOffer {
    pub offer_id: i64,
    pub publisher_id: i64,
    pub token: String,
}

pub fn seed_offer(
    db_url: &str,
    landing: &str,
    fallback: Option<&str>,
    membership: qualead::store::offers::MembershipStatus,
) -> SeededOffer {
    let m = Market::of(&roofs_offer(landing, fallback)).membership(membership).seed(db_url);
    SeededOffer { offer_id: m.offer_id, publisher_id: m.publisher_id, token: m.token }
}

/// The CPL offer the click tests send traffic to: 10.00 a lead, `landing`, and
/// `fallback` for clicks that may not land.
pub fn roofs_offer(landing: &str, fallback: Option<&str>) -> qualead::domain::offer::OfferBody {
    qualead::domain::offer::OfferBody {
        name: "Roofs".into(),
        category: "home".into(),
        landing_url: landing.into(),
        fallback_url: fallback.map(str::to_string),
        payout_model: "cpl".into(),
        price: Some("10.00".into()),
        ..Default::default()
    }
}

/// The CPL offer most tests trade on: `name` at `price` a lead, landing on
/// `https://adv.example/quote?cid={click_id}`, no required field. A test sets what
/// else it needs with `OfferBody { …, ..cpl_offer(name, price) }`.
pub fn cpl_offer(name: &str, price: &str) -> qualead::domain::offer::OfferBody {
    use qualead::domain::offer::{OfferBody, Terms};
    OfferBody {
        name: name.into(),
        category: "home".into(),
        landing_url: "https://adv.example/quote?cid={click_id}".into(),
        payout_model: "cpl".into(),
        price: Some(price.into()),
        terms: Terms { required_fields: vec![], ..Terms::default() },
        ..Default::default()
    }
}

/// "Solar quotes" at `price`: [`cpl_offer`] with a fallback URL
/// (`https://adv.example/`) for clicks that may not land.
pub fn solar_offer(price: &str) -> qualead::domain::offer::OfferBody {
    qualead::domain::offer::OfferBody {
        fallback_url: Some("https://adv.example/".into()),
        ..cpl_offer("Solar quotes", price)
    }
}

/// An active offer from `body`, its advertiser (with `deposit` minor units on its
/// balance) and one publisher in `membership` status; fresh accounts every call.
#[derive(Debug, Clone)]
pub struct Market {
    pub offer_id: i64,
    pub advertiser_id: i64,
    pub publisher_id: i64,
    pub token: String,
    pub postback_token: String,
    pub advertiser_email: String,
}

/// What to seed: an offer from `body`, with a publisher and money. Build it with
/// [`Market::of`], then `.membership(…)`, `.deposit(…)`, and `.seed(db_url)`.
#[derive(Debug, Clone)]
pub struct MarketSpec<'a> {
    body: &'a qualead::domain::offer::OfferBody,
    membership: qualead::store::offers::MembershipStatus,
    deposit: i64,
}

impl Market {
    /// An active offer from `body` with one approved publisher and no deposit.
    pub fn of(body: &qualead::domain::offer::OfferBody) -> MarketSpec<'_> {
        MarketSpec { body, membership: qualead::store::offers::MembershipStatus::Approved, deposit: 0 }
    }
}

impl MarketSpec<'_> {
    /// The publisher's membership status (approved unless set).
    pub fn membership(mut self, status: qualead::store::offers::MembershipStatus) -> Self {
        self.membership = status;
        self
    }

    /// Put `minor` units on the advertiser's balance.
    pub fn deposit(mut self, minor: i64) -> Self {
        self.deposit = minor;
        self
    }

    /// Create the accounts, the offer and the membership in the (migrated) database.
    pub fn seed(self, db_url: &str) -> Market {
        seed_market(db_url, self.body, self.membership, self.deposit)
    }
}

fn seed_market(
    db_url: &str,
    body: &qualead::domain::offer::OfferBody,
    membership: qualead::store::offers::MembershipStatus,
    deposit: i64,
) -> Market {
    use qualead::domain::offer::{self, OfferStatus};
    use qualead::store::{offers, users};
    let pool = qualead::db::connect(db_url, 1).expect("pool");
    let mut conn = pool.get().expect("conn");
    let tag = qualead::crypto::random_token(6).to_lowercase();
    let mut user = |role: &str, email: &str| {
        users::create(&mut conn, users::UserSpec::active(email, "not-a-login", role.parse().expect("role"), "Seeded"))
            .expect("user")
            .id
    };
    let advertiser_email = format!("seed-adv-{tag}@example.com");
    let advertiser_id = user("advertiser", &advertiser_email);
    let publisher_id = user("publisher", &format!("seed-pub-{tag}@example.com"));
    let spec = offer::validate(body).expect("valid offer");
    let o = offers::create(&mut conn, advertiser_id, &spec).expect("offer");
    offers::set_status(&mut conn, o.id, OfferStatus::Draft, OfferStatus::Active, None).expect("activate");
    let m = offers::add_member(&mut conn, o.id, publisher_id, membership, false).expect("member");
    if deposit > 0 {
        deposit_to(&mut conn, advertiser_id, deposit);
    }
    Market {
        offer_id: o.id,
        advertiser_id,
        publisher_id,
        token: m.token,
        postback_token: o.postback_token,
        advertiser_email,
    }
}

/// Put money on an advertiser's balance (external → advertiser).
/// A new pending CPL lead (10.00: fee 2.00, payout 8.00) of `publisher_id` on the
/// market's offer, on a fresh click and dedupe key; override what a test needs.
pub fn new_lead(m: &Market, publisher_id: i64) -> qualead::store::leads::NewLead {
    let now = qualead::store::now();
    qualead::store::leads::NewLead {
        offer_id: m.offer_id,
        publisher_id,
        advertiser_id: m.advertiser_id,
        click_id: Some(format!("clk{}", qualead::crypto::random_token(8))),
        channel: "postback".into(),
        event: "lead".into(),
        dedupe_key: qualead::crypto::random_token(12),
        price_minor: 1000,
        fee_minor: 200,
        payout_minor: 800,
        fee_bps: 2000,
        fields: "{}".into(),
        consent: true,
        ip: "203.0.113.5".into(),
        hold_until: now + chrono::Duration::hours(72),
        created_at: now,
        updated_at: now,
        ..Default::default()
    }
}

pub fn deposit_to(conn: &mut qualead::db::DbConn, advertiser_id: i64, amount: i64) {
    use qualead::store::ledger::{self, Posting, Transfer};
    let posting = Posting { kind: "deposit", lead_id: None, actor_id: None, memo: "test deposit" };
    ledger::post(conn, &posting, &[Transfer::new(ledger::EXTERNAL, ledger::advertiser(advertiser_id), amount)])
        .map_err(|e| format!("{e:?}"))
        .expect("deposit");
}

/// A browser's user agent (an empty or bot agent fails an offer's bot rule).
pub const BROWSER: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

/// A visitor's HTTP client: it does not follow redirects, so a test sees the 302.
pub fn visitor(agent: &str) -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).user_agent(agent).build().expect("client")
}

/// A click through a publisher's link `/c/{token}?{query}`: asserts the redirect to
/// the landing URL and returns the click id it carries (`cid={click_id}`).
pub async fn click_through(app: &TestApp, client: &reqwest::Client, token: &str, query: &str) -> String {
    let r = client.get(app.url(&format!("/c/{token}?{query}"))).send().await.expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"].to_str().expect("location").to_string();
    loc.split("cid=").nth(1).expect("click id in the landing URL")[..26].to_string()
}

/// A click on `/c/{token}`: asserts the redirect and returns where it went and the
/// reason stored with the click (`None` when it went to the landing page). The
/// click is read back as the latest one, so for tests that click one at a time.
pub async fn click_and_reason(app: &TestApp, token: &str) -> (String, Option<String>) {
    let r = visitor(BROWSER).get(app.url(&format!("/c/{token}"))).send().await.expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let stored = qualead::store::clicks::latest(&mut app.conn()).expect("q").expect("click");
    (location, stored.redirect_reason)
}

/// The advertiser's server postback for a click, with lead fields: its status and
/// JSON answer.
pub async fn postback_for(
    app: &TestApp,
    postback_token: &str,
    click_id: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    let mut query = vec![("click_id", click_id), ("token", postback_token)];
    query.extend_from_slice(fields);
    let r = reqwest::Client::new().get(app.url("/postback")).query(&query).send().await.expect("postback");
    let status = r.status();
    (status, r.json().await.expect("a JSON answer"))
}

/// An accepted postback's lead id (fails the test on any other answer).
pub async fn accepted_lead(app: &TestApp, postback_token: &str, click_id: &str, fields: &[(&str, &str)]) -> i64 {
    let (status, v) = postback_for(app, postback_token, click_id, fields).await;
    assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("accepted")), "{v}");
    v["lead_id"].as_i64().expect("lead id")
}

/// A seeded market whose advertiser and publisher have `password` and are logged
/// in: (market, advertiser's client, publisher's client, publisher's e-mail).
pub async fn signed_in_market(
    app: &TestApp,
    body: &qualead::domain::offer::OfferBody,
    deposit: i64,
    password: &str,
) -> (Market, reqwest::Client, reqwest::Client, String) {
    use qualead::store::users;
    let m = Market::of(body).deposit(deposit).seed(&app.db.url);
    let hash = qualead::crypto::hash_password(password).expect("hash");
    let mut conn = app.conn();
    users::set_password_hash(&mut conn, m.advertiser_id, &hash).expect("password");
    users::set_password_hash(&mut conn, m.publisher_id, &hash).expect("password");
    let publisher_email = users::find(&mut conn, m.publisher_id).expect("q").expect("publisher").email;
    drop(conn);
    let adv = new_client();
    assert_eq!(app.login(&adv, &m.advertiser_email, password).await.status(), StatusCode::SEE_OTHER);
    let publisher = new_client();
    assert_eq!(app.login(&publisher, &publisher_email, password).await.status(), StatusCode::SEE_OTHER);
    (m, adv, publisher, publisher_email)
}

/// A new API key for a user (its secret, as sent in `Authorization: Bearer`).
pub fn api_key(app: &TestApp, user_id: i64) -> String {
    qualead::store::api_keys::create(&mut app.conn(), user_id, "test").expect("key").0
}

/// `method /api/v1{path}` with a bearer key and a JSON body: the status and the
/// JSON answer (`null` when the answer is not JSON).
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    key: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    call_as(app, method, Some(key), path, body).await
}

/// `call` with the key left out when `None` (an anonymous request).
pub async fn call_as(
    app: &TestApp,
    method: reqwest::Method,
    key: Option<&str>,
    path: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut req = reqwest::Client::new().request(method, app.url(&format!("/api/v1{path}")));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// Every migration back to the reports one, newest first, as
/// `qualead::db::revert_last_migration` names them: a new migration goes first here.
pub const MIGRATIONS_NEWEST_FIRST: &[&str] = &[
    "20261207000025",
    "20261207000024",
    "20261207000023",
    "20261207000022",
    "20261207000021",
    "20261207000020",
    "20261207000019",
    "20261207000018",
    "20261207000017",
    "20261207000016",
    "20261207000015",
    "20261207000014",
    "20261207000013",
    "20261207000012",
    "20261203000011",
    "20261202000010",
    "20261201000009",
    "20261201000008",
    "20261201000007",
    "20261123000006",
];

/// Revert the newest migrations one by one down to `oldest` (included), checking
/// each is the one expected; how many were reverted.
pub fn revert_through(conn: &mut qualead::db::DbConn, oldest: &str) -> usize {
    for (i, name) in MIGRATIONS_NEWEST_FIRST.iter().enumerate() {
        assert_eq!(qualead::db::revert_last_migration(conn).expect("revert"), *name);
        if *name == oldest {
            return i + 1;
        }
    }
    panic!("{oldest} is not in MIGRATIONS_NEWEST_FIRST");
}

/// The codes a person must not read as they are (DESIGN §9 "Words, not codes"):
/// every code of the message catalogue with an underscore, and the payout models.
pub fn raw_codes_in_text(html: &str) -> Vec<String> {
    use qualead::i18n::Kind;
    // What a person reads: without code, pre, script and style elements, without tags.
    let hidden =
        regex::Regex::new(r"(?s)<(code|pre|script|style|textarea)\b[^>]*>.*?</(code|pre|script|style|textarea)>")
            .expect("re");
    let text = hidden.replace_all(html, " ");
    let text = regex::Regex::new(r"(?s)<[^>]*>").expect("re").replace_all(&text, " ");
    let mut codes: Vec<&str> = Kind::ALL.iter().flat_map(|k| k.codes()).filter(|c| c.contains('_')).collect();
    codes.extend(["cpl", "cpa", "cps"]);
    codes.sort_unstable();
    codes.dedup();
    codes
        .into_iter()
        .filter(|c| regex::Regex::new(&format!(r"\b{c}\b")).expect("re").is_match(&text))
        .map(str::to_string)
        .collect()
}
