//! Browser tests: the main journeys in headless Chromium, driven over WebDriver
//! (chromedriver) from Rust, against a real server on SQLite. Each test clicks the
//! links and buttons and fills the forms a person would; only the actors that are
//! not browser users speak plain HTTP: the visitor's click and the advertiser's
//! server-to-server postback.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`; override with `QUALEAD_CHROMIUM` / `QUALEAD_CHROMEDRIVER`).
//! They are the **browser suite**, apart from the README's `cargo test` (which needs
//! nothing but the Rust toolchain): marked ignored there, they run with
//! `cargo test --test browser -- --ignored`, and `.ci/run` fails if that runs none.
//! Without Chromium they fail, they are never skipped. Screenshots of every role's
//! dashboard and of each journey's last page go to `target/screenshots/`.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{PASSWORD, TestApp};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use qualead::domain::offer::{OfferBody, OfferStatus, Terms};
use qualead::store::offers::{self, MembershipStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every role's home page and report page, screenshotted by
/// `journeys::dashboards_of_every_role`. Add a path here and it is opened (as the
/// role its first segment names), checked and screenshotted.
const DASHBOARDS: &[&str] =
    &["/advertiser", "/publisher", "/admin", "/advertiser/reports", "/publisher/reports", "/admin/reports"];

/// The main pages of every role, opened at a phone's and a laptop's width by
/// `journeys::every_page_fits_phones_and_laptops`: (role, name, path). `{offer}`,
/// `{lead}` (a rejected lead) and `{disputed}` (a returned lead) are filled in; the
/// role `guest` is logged out. Screenshots: `<role>-<name>-<width>.png`.
const PAGES: &[(&str, &str, &str)] = &[
    ("advertiser", "home", "/advertiser"),
    ("advertiser", "offers", "/advertiser/offers"),
    ("advertiser", "offer", "/advertiser/offers/{offer}"),
    ("advertiser", "offer-new", "/advertiser/offers/new"),
    ("advertiser", "leads", "/advertiser/leads"),
    ("advertiser", "lead", "/advertiser/leads/{lead}"),
    ("advertiser", "lead-disputed", "/advertiser/leads/{disputed}"),
    ("advertiser", "verdicts", "/advertiser/verdicts"),
    ("advertiser", "balance", "/advertiser/balance"),
    ("advertiser", "statement", "/advertiser/statement"),
    ("advertiser", "reports", "/advertiser/reports"),
    ("advertiser", "reports-by-publisher", "/advertiser/reports?group_by=publisher"),
    ("advertiser", "account", "/account"),
    ("advertiser", "error", "/advertiser/offers/999999"),
    ("publisher", "home", "/publisher"),
    ("publisher", "home-empty", "/publisher?from=2020-01-01&to=2020-01-31"),
    ("publisher", "offers", "/publisher/offers"),
    ("publisher", "offer", "/publisher/offers/{offer}"),
    ("publisher", "links", "/publisher/links"),
    ("publisher", "leads", "/publisher/leads"),
    ("publisher", "lead", "/publisher/leads/{lead}"),
    ("publisher", "postbacks", "/publisher/postbacks"),
    ("publisher", "payouts", "/publisher/payouts"),
    ("publisher", "reports", "/publisher/reports"),
    ("publisher", "account", "/account"),
    ("admin", "home", "/admin"),
    ("admin", "offers", "/admin/offers"),
    ("admin", "offer", "/admin/offers/{offer}"),
    ("admin", "users", "/admin/users"),
    ("admin", "leads", "/admin/leads"),
    ("admin", "lead", "/admin/leads/{disputed}"),
    ("admin", "disputes", "/admin/disputes"),
    ("admin", "ledger", "/admin/ledger"),
    ("admin", "deposits", "/admin/deposits"),
    ("admin", "payouts", "/admin/payouts"),
    ("admin", "traffic", "/admin/traffic"),
    ("admin", "source-blocks", "/admin/source-blocks"),
    ("admin", "reports", "/admin/reports"),
    ("admin", "reports-by-offer", "/admin/reports?group_by=offer"),
    ("admin", "audit", "/admin/audit"),
    ("admin", "account", "/account"),
    ("guest", "login", "/login"),
    ("guest", "signup", "/signup"),
    ("guest", "error", "/no-such-page"),
];

/// The smallest phone the layout is for (360 × 740), a common one (390 × 844) and a
/// laptop (1366 × 900).
const VIEWPORTS: [(u32, u32); 3] = [(360, 740), (390, 844), (1366, 900)];

/// Whether the page is wider than its viewport, and if so what sticks out.
const TOO_WIDE_JS: &str = r#"
const doc = document.documentElement, vw = window.innerWidth;
if (doc.scrollWidth <= vw) return null;
const out = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.right <= vw + 0.5) continue;
  let boxed = false;
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    if (getComputedStyle(p).overflowX !== 'visible') { boxed = true; break; }
  }
  if (boxed) continue;
  const cls = typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '';
  out.push(el.tagName.toLowerCase() + cls + ' (to ' + Math.round(r.right) + ' px)');
  if (out.length >= 8) break;
}
return 'the page is ' + doc.scrollWidth + ' px wide in a ' + vw + ' px viewport: ' + out.join(', ');
"#;

/// The raw codes (arguments[0]) in the page's visible text, outside `code` and `pre`
/// elements: each as `code in "its text"`. An option counts when its select shows.
const RAW_CODES_JS: &str = r#"
const codes = arguments[0];
const re = new RegExp('(?:^|[^A-Za-z0-9_])(' + codes.join('|') + ')(?![A-Za-z0-9_])', 'g');
const found = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const el = n.parentElement;
  if (!el || el.closest('code, pre, script, style, title, textarea, template')) continue;
  const option = el.closest('option');
  const box = option ? option.closest('select') : el;
  if (!box || !box.checkVisibility()) continue;
  re.lastIndex = 0;
  let m;
  while ((m = re.exec(n.data)) !== null) {
    found.push(m[1] + ' in "' + n.data.replace(/\s+/g, ' ').trim().slice(0, 90) + '"');
  }
}
return found;
"#;

/// The codes no page may show as they are: every intake refusal reason, the scrub
/// rules', return reasons' and statuses' codes with an underscore (the single-word
/// ones — `relay`, `duplicate`, `paused` — are also plain English), and the payout
/// models as whole words.
fn raw_codes() -> Vec<String> {
    use qualead::domain::intake::Reason;
    use qualead::domain::lifecycle::{LeadStatus, RETURN_REASONS};
    use qualead::domain::offer::PayoutModel;
    use qualead::domain::scrub;
    let mut codes: Vec<String> = Reason::ALL.iter().map(|r| r.code().to_string()).collect();
    let offer_statuses = [OfferStatus::PendingReview.as_str()];
    let underscored = scrub::RULE_CODES
        .iter()
        .chain(&[scrub::SOFT_NO_PHONE, scrub::SOFT_NO_CLICK, scrub::SOFT_REPEAT_CLICKS])
        .chain(&RETURN_REASONS)
        .chain(&LeadStatus::NAMES)
        .chain(&offer_statuses)
        .filter(|c| c.contains('_'));
    codes.extend(underscored.map(|c| c.to_string()));
    codes.extend([PayoutModel::Cpl, PayoutModel::Cpa, PayoutModel::Cps].map(|m| m.as_str().to_string()));
    codes.sort();
    codes.dedup();
    codes
}

/// The user agent of the visitor whose click reqwest makes (an empty or bot agent
/// would fail the offer's `bot_traffic` rule).
const VISITOR: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";

/// How long a page may take to appear after a click.
const PAGE_TIMEOUT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------
// Chromium and chromedriver
// ---------------------------------------------------------------------------

/// A browser tool: the path in `env` if set, else `default` if it exists, else
/// `name` on the PATH. Missing: the test fails and says what to install.
fn tool(env: &str, default: &str, name: &str, package: &str) -> PathBuf {
    let found = match std::env::var_os(env).filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None if Path::new(default).exists() => Some(PathBuf::from(default)),
        None => std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file())),
    };
    match found {
        Some(p) if p.is_file() => p,
        other => panic!(
            "the browser tests need {name} ({}), which is missing: install Debian's `{package}` \
             (apt-get install -y chromium chromium-driver) or point {env} at it",
            other.map(|p| p.display().to_string()).unwrap_or_else(|| format!("not at {default} nor on the PATH"))
        ),
    }
}

/// A chromedriver child process on a free loopback port, in its own process group
/// so that dropping it also ends the Chromium it started (even after a panic).
struct ChromeDriver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl ChromeDriver {
    fn start(dir: &Path) -> ChromeDriver {
        use std::os::unix::process::CommandExt;
        let binary = tool("QUALEAD_CHROMEDRIVER", "/usr/bin/chromedriver", "chromedriver", "chromium-driver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let log = dir.join("chromedriver.log");
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Chromium's own temporary folders land in the test's, removed with it.
            .env("TMPDIR", dir)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut driver = ChromeDriver { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("{} exited at start ({status}); its log:\n{}", binary.display(), driver.log_text());
            }
            assert!(Instant::now() < deadline, "{} did not listen on port {port} within 20 s", binary.display());
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    fn signal_group(&self, signal: &str) {
        let _ =
            Command::new("kill").args([signal, "--", &format!("-{}", self.child.id())]).stderr(Stdio::null()).status();
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                // chromedriver is gone; make sure no Chromium of its group lingers.
                self.signal_group("-KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        self.signal_group("-KILL");
        let _ = self.child.wait();
    }
}

/// A Chrome DevTools Protocol command, sent through chromedriver.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()))
    }
}

/// One headless Chromium session (its own profile, so its own cookies) on the
/// test's server, named after the test for its screenshots.
struct Browser {
    client: Client,
    base: String,
    test: &'static str,
    /// The viewport, in CSS pixels.
    width: u32,
    height: u32,
    // Dropped after the client: ends chromedriver and Chromium.
    driver: ChromeDriver,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(app: &TestApp, test: &'static str) -> Browser {
        Browser::start_sized(app, test, 1280, 1000).await
    }

    /// A session whose viewport is `width` × `height` CSS pixels (a phone's 390 × 844,
    /// a laptop's 1366 × 900).
    async fn start_sized(app: &TestApp, test: &'static str, width: u32, height: u32) -> Browser {
        let chromium = tool("QUALEAD_CHROMIUM", "/usr/bin/chromium", "chromium", "chromium");
        let profile = tempfile::tempdir().expect("temp dir");
        let driver = ChromeDriver::start(profile.path());
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            format!("--window-size={width},{height}"),
            "--no-first-run".into(),
            "--disable-extensions".into(),
            format!("--user-data-dir={}", profile.path().join("chromium").display()),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium.display().to_string(), "args": args },
        });
        let Value::Object(caps) = caps else { unreachable!("a JSON object") };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client =
            ClientBuilder::new(connector).capabilities(caps).connect(&driver.url()).await.unwrap_or_else(|e| {
                panic!(
                    "cannot open a Chromium session ({}): {e}; chromedriver's log:\n{}",
                    chromium.display(),
                    driver.log_text()
                )
            });
        let b = Browser { client, base: app.address.clone(), test, width, height, driver, _profile: profile };
        b.set_viewport(width, height).await;
        b
    }

    /// Make the viewport `width` × `height` CSS pixels (Chromium's device-metrics
    /// override: a window cannot be made narrower than 500 px) and check that it is.
    async fn set_viewport(&self, width: u32, height: u32) {
        let params = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false });
        self.client
            .issue_cmd(Cdp { cmd: "Emulation.setDeviceMetricsOverride", params })
            .await
            .unwrap_or_else(|e| panic!("set the viewport to {width} × {height}: {e}"));
        let v = self.client.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.expect("viewport");
        let n = |i: usize| v.get(i).and_then(Value::as_u64).unwrap_or(0);
        assert_eq!((n(0), n(1)), (u64::from(width), u64::from(height)), "Chromium's viewport");
    }

    /// End the session (Chromium quits); chromedriver ends when `self` drops.
    async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Open `path` and return the HTTP status of the page the browser shows.
    async fn open(&self, path: &str) -> u16 {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.status().await
    }

    /// Open `path`, which must answer 200.
    async fn goto(&self, path: &str) {
        let status = self.open(path).await;
        if status != 200 {
            self.fail(&format!("GET {path} answered {status}, not 200")).await;
        }
    }

    /// The HTTP status of the current document (Navigation Timing).
    async fn status(&self) -> u16 {
        let v = self
            .client
            .execute(
                "const n = performance.getEntriesByType('navigation')[0]; return n ? n.responseStatus : 0;",
                vec![],
            )
            .await
            .expect("navigation status");
        v.as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(0)
    }

    /// The path (and query) of the current page.
    async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// The visible text of the page.
    async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => self.fail(&format!("no element {css}: {e}")).await,
        }
    }

    /// The one element `xpath` matches (zero or several: the test fails).
    async fn only(&self, xpath: &str, what: &str) -> Element {
        let mut found = self.client.find_all(Locator::XPath(xpath)).await.expect("find");
        if found.len() != 1 {
            self.fail(&format!("expected exactly one {what}, found {}", found.len())).await;
        }
        found.remove(0)
    }

    /// Click `element`, wait until the next page has replaced this one, and check
    /// that page's HTTP status.
    async fn click_to_next_page(&self, element: Element, what: &str, expected: u16) {
        let old = self.client.find(Locator::Css("html")).await.expect("the page");
        if let Err(e) = element.click().await {
            self.fail(&format!("cannot click {what}: {e}")).await;
        }
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            match old.tag_name().await {
                Err(e) if e.is_stale_element_reference() => break,
                _ if Instant::now() > deadline => self.fail(&format!("no new page after clicking {what}")).await,
                _ => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
        while self.client.execute("return document.readyState", vec![]).await.ok()
            != Some(Value::String("complete".into()))
        {
            if Instant::now() > deadline {
                self.fail(&format!("the page after {what} never finished loading")).await;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let status = self.status().await;
        if status != expected {
            self.fail(&format!("clicking {what} led to a {status} page, not {expected}")).await;
        }
    }

    /// Follow the link whose text is exactly `text` on the page (several such links
    /// must all lead to the same place).
    async fn click_link(&self, text: &str) {
        self.follow(&format!("//a[normalize-space()={}]", xpath_literal(text)), &format!("link {text:?}")).await;
    }

    /// Follow the link `text` of the main navigation bar.
    async fn nav(&self, text: &str) {
        self.follow(&format!("//header//nav//a[normalize-space()={}]", xpath_literal(text)), &format!("menu {text:?}"))
            .await;
    }

    async fn follow(&self, xpath: &str, what: &str) {
        let links = self.client.find_all(Locator::XPath(xpath)).await.expect("find links");
        let mut hrefs = Vec::new();
        for l in &links {
            hrefs.push(l.attr("href").await.expect("href").unwrap_or_default());
        }
        hrefs.sort();
        hrefs.dedup();
        match (links.into_iter().next(), hrefs.len()) {
            (None, _) => self.fail(&format!("no {what}")).await,
            (Some(link), 1) => self.click_to_next_page(link, what, 200).await,
            (Some(_), _) => self.fail(&format!("{what} is ambiguous: it leads to {hrefs:?}")).await,
        }
    }

    /// Press the button whose text is exactly `text` (it must be the only one); the
    /// next page answers 200.
    async fn press(&self, text: &str) {
        self.press_expecting(text, 200).await;
    }

    /// Press the button `text`; the next page answers `status`.
    async fn press_expecting(&self, text: &str, status: u16) {
        let button = self
            .only(&format!("//button[normalize-space()={}]", xpath_literal(text)), &format!("button {text:?}"))
            .await;
        self.click_to_next_page(button, &format!("button {text:?}"), status).await;
    }

    /// Type `value` into the field named `name`, replacing what it held.
    async fn fill(&self, name: &str, value: &str) {
        let field = self.find(&format!("[name=\"{name}\"]")).await;
        field.clear().await.unwrap_or_else(|e| panic!("clear {name}: {e}"));
        if !value.is_empty() {
            field.send_keys(value).await.unwrap_or_else(|e| panic!("type into {name}: {e}"));
        }
    }

    /// Choose the option `value` of the select named `name`.
    async fn select(&self, name: &str, value: &str) {
        let select = self.find(&format!("select[name=\"{name}\"]")).await;
        select.select_by_value(value).await.unwrap_or_else(|e| panic!("choose {value} in {name}: {e}"));
    }

    /// On the sign-up form: sign up as an advertiser, open the confirmation link
    /// from the e-mail and log in.
    async fn sign_up_advertiser(&self, app: &TestApp, name: &str, company: &str, email: &str) {
        self.tick("role", "advertiser", true).await;
        self.fill("display_name", name).await;
        self.fill("company", company).await;
        self.fill("email", email).await;
        self.fill("password", PASSWORD).await;
        self.press("Create account").await;
        self.see("Check your inbox").await;
        let mail = app.wait_for_email(email, "/verify-email").await;
        self.client.goto(&common::link_in(&mail, "/verify-email")).await.expect("open the confirmation link");
        self.see("E-mail confirmed").await;
        self.login(email, "/advertiser").await;
    }

    /// The id of the advertiser's offer whose page is open.
    async fn offer_on_page(&self) -> i64 {
        let path = self.path().await;
        path.strip_prefix("/advertiser/offers/")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("the new offer's page, not {path}"))
    }

    /// Tick (or untick) the checkbox or radio button `name` = `value`.
    async fn tick(&self, name: &str, value: &str, on: bool) {
        let input = self.find(&format!("input[name=\"{name}\"][value=\"{value}\"]")).await;
        if input.is_selected().await.expect("checked?") != on {
            input.click().await.unwrap_or_else(|e| panic!("tick {name}={value}: {e}"));
        }
    }

    /// The page shows `needle` (in its visible text).
    async fn see(&self, needle: &str) {
        if !self.text().await.contains(needle) {
            self.fail(&format!("the page does not show {needle:?}")).await;
        }
    }

    async fn dont_see(&self, needle: &str) {
        if self.text().await.contains(needle) {
            self.fail(&format!("the page shows {needle:?}")).await;
        }
    }

    /// The flash message at the top of the page.
    async fn flash(&self) -> String {
        match self.client.find(Locator::Css(".flash")).await {
            Ok(f) => f.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn see_flash(&self, needle: &str) {
        let flash = self.flash().await;
        if !flash.contains(needle) {
            self.fail(&format!("the flash message {flash:?} does not say {needle:?}")).await;
        }
    }

    /// The status badge of the page's heading.
    async fn heading_badge(&self) -> String {
        self.find("h1 .badge").await.text().await.expect("badge text")
    }

    /// Log in through the form; the browser lands on the role's home page.
    async fn login(&self, email: &str, home: &str) {
        self.goto("/login").await;
        self.fill("email", email).await;
        self.fill("password", PASSWORD).await;
        self.press("Log in").await;
        let at = self.path().await;
        if at != home {
            self.fail(&format!("log-in of {email} landed on {at}, not {home}")).await;
        }
    }

    async fn logout(&self) {
        self.press("Log out").await;
        self.see("Log in").await;
    }

    /// Save a full-page PNG as `target/screenshots/<test>-<name>.png`.
    async fn screenshot(&self, name: &str) -> PathBuf {
        self.shoot(&format!("{}-{name}", self.test)).await
    }

    /// Save a full-page PNG, at the session's width, as `target/screenshots/<stem>.png`.
    async fn shoot(&self, stem: &str) -> PathBuf {
        // Grow the window so that the viewport holds the whole page, then shoot.
        let sizes = self
            .client
            .execute("return [Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)];", vec![])
            .await
            .unwrap_or_default();
        let page = sizes[0].as_f64().unwrap_or(1000.0).clamp(f64::from(self.height), 10_000.0);
        self.set_viewport(self.width, page as u32).await;
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot {stem}: {e}"));
        self.set_viewport(self.width, self.height).await;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let file = dir.join(format!("{stem}.png"));
        std::fs::write(&file, &png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        file
    }

    /// `None` when the page is no wider than the viewport
    /// (`document.documentElement.scrollWidth <= window.innerWidth`); else the widths
    /// and the first elements that stick out (outside any scroll box of their own).
    async fn too_wide(&self) -> Option<String> {
        let v = self.client.execute(TOO_WIDE_JS, vec![]).await.expect("page width");
        v.as_str().map(str::to_string)
    }

    /// The raw codes among `codes` that the page shows in its visible text outside a
    /// `<code>` (or `<pre>`) element, each with the text around it.
    async fn raw_codes_shown(&self, codes: &[String]) -> Vec<String> {
        let v = self.client.execute(RAW_CODES_JS, vec![json!(codes)]).await.expect("raw codes");
        v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
    }

    /// Fail the test with the page's address, text and a screenshot of it.
    async fn fail(&self, why: &str) -> ! {
        let at = self.path().await;
        let text = self.text().await;
        let shot = self.screenshot("failure").await;
        panic!(
            "{why}\n  page: {at}\n  screenshot: {}\n  chromedriver: port {}\n--- page text ---\n{text}",
            shot.display(),
            self.driver.port
        );
    }
}

/// `target/screenshots` (under `CARGO_TARGET_DIR` when that is set).
fn screenshot_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    root.join(target).join("screenshots")
}

/// `s` as an XPath string literal.
fn xpath_literal(s: &str) -> String {
    if s.contains('"') {
        assert!(!s.contains('\''), "no text with both kinds of quotes: {s}");
        format!("'{s}'")
    } else {
        format!("\"{s}\"")
    }
}

// ---------------------------------------------------------------------------
// The marketplace around a journey (set up directly, as `qualead user create` and
// the offer review would), and the actors that are not browsers
// ---------------------------------------------------------------------------

/// A server whose own settlement timer stays out of the way: the tests settle.
async fn app() -> TestApp {
    common::spawn_app_with(common::Backend::Sqlite, &[("QUALEAD_SETTLE_INTERVAL_SECS", "86400")]).await
}

/// An active public CPL offer at 10.00 (8.00 to the publisher after the 20 % fee).
fn live_offer(app: &TestApp, advertiser_id: i64, name: &str, terms: Terms) -> offers::Offer {
    let body = OfferBody {
        name: name.into(),
        description: "Homeowners who want a quote for solar panels".into(),
        category: "home".into(),
        landing_url: "https://adv.example/quote?cid={click_id}&s={sub1}".into(),
        fallback_url: Some("https://adv.example/".into()),
        payout_model: "cpl".into(),
        price: Some("10.00".into()),
        terms,
        ..Default::default()
    };
    let spec = qualead::domain::offer::validate(&body).expect("valid offer");
    let mut conn = app.conn();
    let offer = offers::create(&mut conn, advertiser_id, &spec).expect("offer");
    offers::set_status(&mut conn, offer.id, OfferStatus::Draft, OfferStatus::Active, None).expect("activate");
    offer
}

/// Leads are due at once.
fn no_hold() -> Terms {
    Terms { hold_hours: 0, ..Terms::default() }
}

fn deposit(app: &TestApp, advertiser_id: i64, amount: i64) {
    common::deposit_to(&mut app.conn(), advertiser_id, amount);
}

/// A visitor follows `link` (not following the redirect); the click id the landing
/// page receives.
async fn visit(link: &str) -> String {
    let visitor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(VISITOR)
        .build()
        .expect("client");
    let r = visitor.get(format!("{link}?sub1=blog")).send().await.expect("click");
    assert_eq!(r.status(), StatusCode::FOUND, "the tracking link redirects");
    let landing = r.headers()["location"].to_str().expect("location").to_string();
    assert!(landing.starts_with("https://adv.example/quote?cid="), "to the landing page: {landing}");
    let url = url::Url::parse(&landing).expect("landing URL");
    let cid = url.query_pairs().find(|(k, _)| k == "cid").map(|(_, v)| v.into_owned()).expect("cid");
    assert!((22..=26).contains(&cid.len()), "a click id: {cid}");
    cid
}

/// The advertiser's server reports a conversion at `postback` (the URL template of
/// its offer page); the lead id.
async fn convert(postback: &str, click_id: &str, txid: &str, email: &str, name: &str) -> i64 {
    let url = postback.replace("{click_id}", click_id).replace("{txid}", txid);
    let r = reqwest::Client::new().get(url).query(&[("email", email), ("name", name)]).send().await.expect("postback");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["status"], "accepted", "{v}");
    v["lead_id"].as_i64().expect("lead id")
}

/// The settlement run, at a time after every hold.
fn settle(app: &TestApp) -> qualead::settlement::run::Summary {
    let later = qualead::store::now() + chrono::Duration::minutes(1);
    qualead::settlement::run::settle_due(&mut app.conn(), later, qualead::settlement::run::BATCH).expect("settlement")
}

/// `publisher_id` runs `offer`: its tracking link.
fn join(app: &TestApp, offer: &offers::Offer, publisher_id: i64) -> String {
    let m =
        offers::add_member(&mut app.conn(), offer.id, publisher_id, MembershipStatus::Approved, false).expect("member");
    app.url(&format!("/c/{}", m.token))
}

/// A visitor clicks `link` and converts on `offer`: the lead id.
async fn lead_through(app: &TestApp, link: &str, offer: &offers::Offer, email: &str, name: &str) -> i64 {
    let cid = visit(link).await;
    let postback = qualead::tracking::links::advertiser_postback_url(&app.address, offer);
    convert(&postback, &cid, &format!("order-{cid}"), email, name).await
}

/// A publisher's approved lead on `offer`, from a click and a postback, settled.
async fn approved_lead(app: &TestApp, offer: &offers::Offer, publisher_id: i64, email: &str) -> i64 {
    let link = join(app, offer, publisher_id);
    let id = lead_through(app, &link, offer, email, "Ann Lee").await;
    assert_eq!(settle(app).approved, 1);
    id
}

// ---------------------------------------------------------------------------
// The journeys
// ---------------------------------------------------------------------------

mod journeys {
    use super::*;

    /// An advertiser signs up, confirms its address and logs in, writes an offer in
    /// the offer form, saves it as a draft and submits it for review; an admin
    /// approves it from the review queue; the offer is live for the advertiser and in
    /// a publisher's marketplace.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser suite: cargo test --test browser -- --ignored"]
    async fn advertiser_posts_an_offer_that_an_admin_approves() {
        let app = app().await;
        app.create_user("admin", "admin@example.com");
        app.create_user("publisher", "pub@example.com");
        let b = Browser::start(&app, "offer_review").await;

        // Sign-up in the browser; the confirmation link from the e-mail; log-in.
        b.goto("/").await;
        b.click_link("Sign up").await;
        b.sign_up_advertiser(&app, "Sunny Roofs", "Sunny Roofs Ltd", "adv@example.com").await;
        b.see("Welcome, Sunny Roofs").await;

        // The offer form: a bad landing URL comes back marked, the rest kept.
        b.click_link("Create an offer").await;
        assert_eq!(b.path().await, "/advertiser/offers/new");
        b.fill("name", "Solar panel quotes").await;
        b.fill("description", "Homeowners in the US who want a solar quote").await;
        b.select("category", "home").await;
        b.select("visibility", "public").await;
        b.fill("landing_url", "javascript:alert(1)").await;
        b.fill("fallback_url", "https://sun.example/").await;
        b.select("payout_model", "cpl").await;
        b.fill("price", "25.00").await;
        b.fill("cap_daily", "50").await;
        b.fill("daily_budget", "1000.00").await;
        b.tick("required_fields", "name", true).await;
        b.tick("required_fields", "email", true).await;
        b.fill("hold_hours", "24").await;
        b.fill("allowed_countries", "US, CA").await;
        b.tick("check_name", "1", true).await;
        b.press_expecting("Save as draft", 422).await;
        b.see("Only http:// and https:// addresses are allowed.").await;
        let kept = b.find("input[name=\"name\"]").await.prop("value").await.expect("value");
        assert_eq!(kept.as_deref(), Some("Solar panel quotes"), "typed values are kept");
        b.fill("landing_url", "https://sun.example/quote?cid={click_id}&s={sub1}").await;
        b.press("Save as draft").await;
        let id = b.offer_on_page().await;
        assert_eq!(b.heading_badge().await, "draft");
        b.see("25.00").await;
        b.see("held for 24 hours").await;
        b.press("Submit for review").await;
        assert_eq!(b.heading_badge().await, "pending review");
        b.logout().await;

        // The admin approves it from the review queue.
        b.login("admin@example.com", "/admin").await;
        b.nav("Offers").await;
        b.see("Solar panel quotes").await;
        b.click_link("Solar panel quotes").await;
        assert_eq!(b.path().await, format!("/admin/offers/{id}"));
        b.see("by adv@example.com").await;
        b.fill("note", "Looks good").await;
        b.press("Approve — make it live").await;
        b.see_flash("Offer approved; it is live.").await;
        b.dont_see("Solar panel quotes").await;
        b.click_link("Active").await;
        b.click_link("Solar panel quotes").await;
        assert_eq!(b.heading_badge().await, "active");
        b.logout().await;

        // Live: for the advertiser, and in the marketplace at the payout (25.00 - 20 %).
        b.login("adv@example.com", "/advertiser").await;
        b.nav("Offers").await;
        b.click_link("Solar panel quotes").await;
        assert_eq!(b.heading_badge().await, "active");
        b.see("Looks good").await;
        b.logout().await;
        b.login("pub@example.com", "/publisher").await;
        b.nav("Marketplace").await;
        b.see("Solar panel quotes").await;
        b.see("20.00").await;
        b.click_link("Solar panel quotes").await;
        b.see("held for 24 hours").await;
        b.dont_see("25.00").await;
        b.screenshot("final").await;
        b.close().await;
    }

    /// A publisher joins an offer in the marketplace and copies its tracking link
    /// from "My links"; a visitor clicks it and the advertiser's server reports the
    /// conversion at the postback URL its offer page shows; after settlement the
    /// publisher sees the approved lead, its payout, and the earning on its statement.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser suite: cargo test --test browser -- --ignored"]
    async fn publisher_joins_and_sees_its_lead_paid() {
        let app = app().await;
        let advertiser_id = app.create_user("advertiser", "adv@example.com");
        app.create_user("publisher", "pub@example.com");
        let offer = live_offer(&app, advertiser_id, "Solar quotes", no_hold());
        deposit(&app, advertiser_id, 100_00);
        let b = Browser::start(&app, "lead_paid").await;

        // Join, then copy the tracking link from the DOM of "My links".
        b.login("pub@example.com", "/publisher").await;
        b.nav("Marketplace").await;
        b.click_link("Solar quotes").await;
        b.see("8.00").await;
        b.press("Join this offer").await;
        b.see("approved").await;
        b.nav("My links").await;
        let link = b.find(&format!("#click-{}", offer.id)).await.text().await.expect("link text");
        assert!(link.starts_with(&format!("{}/c/", app.address)), "a tracking link: {link}");

        // The advertiser's integration: the postback URL as its offer page shows it.
        b.logout().await;
        b.login("adv@example.com", "/advertiser").await;
        b.nav("Offers").await;
        b.click_link("Solar quotes").await;
        let postback = b.find("#postback-url").await.text().await.expect("postback URL");
        assert!(postback.starts_with(&format!("{}/postback?click_id={{click_id}}&token=", app.address)), "{postback}");
        b.logout().await;

        // A visitor clicks, converts; the hold (none) ends; settlement approves.
        let cid = visit(&link).await;
        let lead = convert(&postback, &cid, "order-1", "ann.lee@example.org", "Ann Lee").await;
        assert_eq!(settle(&app).approved, 1);

        // The publisher sees the approved lead, its rules and payout, and the money.
        b.login("pub@example.com", "/publisher").await;
        b.nav("Leads").await;
        b.see(&format!("#{lead}")).await;
        b.select("status", "approved").await;
        b.press("Filter").await;
        b.click_link(&format!("#{lead}")).await;
        assert_eq!(b.path().await, format!("/publisher/leads/{lead}"));
        assert_eq!(b.heading_badge().await, "approved");
        b.see("8.00").await;
        b.see("blog").await;
        b.dont_see("ann.lee@example.org").await;
        b.dont_see("Platform fee").await;
        b.nav("Payouts").await;
        b.see("Available to request").await;
        b.see("8.00").await;
        b.click_link("Your statement: every line of your balance").await;
        b.see("lead approved").await;
        b.see(&format!("Lead #{lead}")).await;
        b.see("8.00").await;
        b.screenshot("final").await;
        b.close().await;
    }

    /// The advertiser returns an approved lead with a reason; the admin reads it in
    /// the dispute queue and upholds it; the advertiser and the publisher both see
    /// the lead reversed, with the ruling's note.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser suite: cargo test --test browser -- --ignored"]
    async fn a_returned_lead_is_ruled_on_by_the_admin() {
        let app = app().await;
        let advertiser_id = app.create_user("advertiser", "adv@example.com");
        let publisher_id = app.create_user("publisher", "pub@example.com");
        app.create_user("admin", "admin@example.com");
        let offer = live_offer(&app, advertiser_id, "Solar quotes", no_hold());
        deposit(&app, advertiser_id, 50_00);
        let lead = approved_lead(&app, &offer, publisher_id, "ann.lee@example.org").await;
        let b = Browser::start(&app, "lead_return").await;

        // The advertiser returns it.
        b.login("adv@example.com", "/advertiser").await;
        b.nav("Leads").await;
        b.click_link(&format!("#{lead}")).await;
        assert_eq!(b.heading_badge().await, "approved");
        b.see("ann.lee@example.org").await;
        b.select("reason", "bad_contact").await;
        b.fill("comment", "The number does not exist").await;
        b.tick("confirm", "yes", true).await;
        b.press("Return the lead").await;
        b.see_flash("Lead returned").await;
        assert_eq!(b.heading_badge().await, "disputed");
        b.logout().await;

        // The admin rules from the dispute queue.
        b.login("admin@example.com", "/admin").await;
        b.nav("Disputes").await;
        b.see("The number does not exist").await;
        b.see("bad_contact").await;
        b.see("adv@example.com").await;
        b.click_link(&format!("Lead #{lead}")).await;
        assert_eq!(b.path().await, format!("/admin/leads/{lead}"));
        b.fill("note", "Verified: the number is dead").await;
        b.press("Uphold").await;
        b.see_flash("upheld").await;
        assert_eq!(b.heading_badge().await, "reversed");
        b.nav("Disputes").await;
        b.see("No open disputes.").await;
        b.logout().await;

        // Both parties see the outcome.
        for (email, home) in [("adv@example.com", "/advertiser"), ("pub@example.com", "/publisher")] {
            b.login(email, home).await;
            b.nav("Leads").await;
            b.click_link(&format!("#{lead}")).await;
            assert_eq!(b.heading_badge().await, "reversed", "{email}");
            b.see("Verified: the number is dead").await;
            b.see("The number does not exist").await;
            if home == "/publisher" {
                b.screenshot("final").await;
            }
            b.logout().await;
        }
        b.close().await;
    }

    /// An advertiser creates an offer that requires e-mail and zip in the offer
    /// form; an admin approves it. The advertiser copies the postback URL from its
    /// offer page and the test link: a test click and a test postback without zip
    /// show the refusal (`missing_field`, naming zip) on the offer page and leave no
    /// trace in reports or caps (a daily cap of 1 still admits the real lead). A
    /// visitor's real click, the postback URL with its macros filled, and the lead is
    /// approved at settlement.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser suite: cargo test --test browser -- --ignored"]
    async fn an_offer_requiring_zip_is_tested_and_paid() {
        let app = app().await;
        let advertiser_id = app.create_user("advertiser", "adv@example.com");
        let publisher_id = app.create_user("publisher", "pub@example.com");
        app.create_user("admin", "admin@example.com");
        deposit(&app, advertiser_id, 100_00);
        let b = Browser::start(&app, "required_fields").await;

        // The offer form: e-mail and zip required, no hold, a daily cap of one lead.
        b.login("adv@example.com", "/advertiser").await;
        b.click_link("Create an offer").await;
        b.fill("name", "Roof quotes").await;
        b.fill("description", "Homeowners who want a roof quote").await;
        b.select("category", "home").await;
        b.select("visibility", "public").await;
        b.fill("landing_url", "https://adv.example/quote?cid={click_id}&s={sub1}").await;
        b.fill("fallback_url", "https://adv.example/").await;
        b.select("payout_model", "cpl").await;
        b.fill("price", "10.00").await;
        b.fill("cap_daily", "1").await;
        b.tick("required_fields", "email", true).await;
        b.tick("required_fields", "zip", true).await;
        b.fill("hold_hours", "0").await;
        b.press("Save as draft").await;
        let id = b.offer_on_page().await;
        b.press("Submit for review").await;
        b.logout().await;
        b.login("admin@example.com", "/admin").await;
        b.nav("Offers").await;
        b.click_link("Roof quotes").await;
        b.press("Approve — make it live").await;
        b.see_flash("Offer approved; it is live.").await;
        b.logout().await;
        let offer = offers::find(&mut app.conn(), id).expect("query").expect("offer");
        let link = join(&app, &offer, publisher_id);

        // The advertiser's integration, as its offer page shows it.
        b.login("adv@example.com", "/advertiser").await;
        b.goto(&format!("/advertiser/offers/{id}")).await;
        assert_eq!(b.heading_badge().await, "active");
        let postback = b.find("#postback-url").await.text().await.expect("postback URL");
        assert!(postback.starts_with(&format!("{}/postback?click_id={{click_id}}&token=", app.address)), "{postback}");
        assert!(postback.contains("&email={email}") && postback.contains("&zip={zip}"), "{postback}");
        b.see("the postal or ZIP code").await;
        let test_link = b.find("#test-link").await.text().await.expect("test link");

        // A test click on the test link, then a test postback without zip.
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(VISITOR)
            .build()
            .expect("client")
            .get(&test_link)
            .send()
            .await
            .expect("test click");
        assert_eq!(r.status(), StatusCode::FOUND);
        let landing = url::Url::parse(r.headers()["location"].to_str().expect("location")).expect("landing URL");
        assert_eq!(landing.host_str(), Some("adv.example"), "the offer's own landing page");
        let test_cid = landing.query_pairs().find(|(k, _)| k == "cid").map(|(_, v)| v.into_owned()).expect("cid");
        let fill = |cid: &str, txid: &str, zip: &str| {
            postback
                .replace("{click_id}", cid)
                .replace("{txid}", txid)
                .replace("{email}", "ann.lee%40example.org")
                .replace("{zip}", zip)
        };
        let r = reqwest::get(fill(&test_cid, "test-1", "")).await.expect("test postback");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v: Value = r.json().await.expect("json");
        assert_eq!((v["reason"].as_str(), v["test"].as_bool()), (Some("missing_field"), Some(true)), "{v}");
        assert_eq!(v["fields"], json!(["zip"]));
        b.goto(&format!("/advertiser/offers/{id}")).await;
        b.see("refused Missing field missing_field").await;
        b.see("missing: zip").await;
        b.screenshot("test-refused").await;

        // No trace: nothing in the reports, the cap of one still free.
        let totals = qualead::store::rollups::offer_totals(&mut app.conn(), id).expect("rollups");
        assert_eq!((totals.clicks, totals.leads), (0, 0), "{totals:?}");
        b.goto("/advertiser/reports").await;
        b.screenshot("reports-after-test").await;

        // A visitor's real click and the real postback: accepted, approved at settlement.
        let cid = visit(&link).await;
        let r = reqwest::get(fill(&cid, "order-1", "94107")).await.expect("postback");
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["status"], "accepted", "a daily cap of 1 admits it: {v}");
        let lead = v["lead_id"].as_i64().expect("lead id");
        assert_eq!(settle(&app).approved, 1);
        b.nav("Leads").await;
        b.click_link(&format!("#{lead}")).await;
        assert_eq!(b.heading_badge().await, "approved");
        b.see("94107").await;
        b.screenshot("final").await;
        b.close().await;
    }

    /// Every page of `DASHBOARDS`, as its role, on a marketplace with some traffic:
    /// a screenshot of each; each must answer 200.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser suite: cargo test --test browser -- --ignored"]
    async fn dashboards_of_every_role() {
        let app = app().await;
        let advertiser_id = app.create_user("advertiser", "adv@example.com");
        let publisher_id = app.create_user("publisher", "pub@example.com");
        app.create_user("admin", "admin@example.com");
        // Some traffic to show: clicks, an approved, a rejected and a pending lead.
        let solar = live_offer(&app, advertiser_id, "Solar quotes", no_hold());
        let roofs = live_offer(&app, advertiser_id, "Roof repair leads", Terms::default());
        deposit(&app, advertiser_id, 100_00);
        let solar_link = join(&app, &solar, publisher_id);
        let roofs_link = join(&app, &roofs, publisher_id);
        for _ in 0..3 {
            visit(&solar_link).await;
            visit(&roofs_link).await;
        }
        lead_through(&app, &solar_link, &solar, "ann.lee@example.org", "Ann Lee").await;
        lead_through(&app, &solar_link, &solar, "x@mailinator.com", "Bo Chan").await;
        lead_through(&app, &roofs_link, &roofs, "cy.dee@example.org", "Cy Dee").await;
        let run = settle(&app);
        assert_eq!((run.approved, run.rejected), (1, 1), "the pending lead is held for 72 hours");
        let b = Browser::start(&app, "dashboards").await;

        for (role, email) in
            [("advertiser", "adv@example.com"), ("publisher", "pub@example.com"), ("admin", "admin@example.com")]
        {
            let home = format!("/{role}");
            b.login(email, &home).await;
            for path in DASHBOARDS.iter().filter(|p| p.split('/').nth(1) == Some(role)) {
                let status = b.open(path).await;
                let name = path.trim_start_matches('/').replace('/', "-");
                if status != 200 {
                    b.fail(&format!("{path} answered {status}")).await;
                }
                b.screenshot(&name).await;
            }
            b.goto(&home).await;
            b.logout().await;
        }
        b.close().await;
    }

    /// An advertiser whose offer it decides itself uploads a CSV of verdicts from
    /// its CRM, reads the preview (nothing has changed yet), applies it, and the
    /// publisher sees each decision with its reason.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser suite: cargo test --test browser -- --ignored"]
    async fn advertiser_uploads_verdicts_that_the_publisher_sees() {
        let app = app().await;
        let advertiser_id = app.create_user("advertiser", "adv@example.com");
        let publisher_id = app.create_user("publisher", "pub@example.com");
        let terms = Terms { decision: "advertiser".into(), decision_default: "reject".into(), ..Terms::default() };
        let offer = live_offer(&app, advertiser_id, "Solar quotes", terms);
        deposit(&app, advertiser_id, 100_00);
        let link = join(&app, &offer, publisher_id);
        let sold = lead_through(&app, &link, &offer, "ann.lee@example.org", "Ann Lee").await;
        let lost = lead_through(&app, &link, &offer, "bo.chan@example.org", "Bo Chan").await;
        let txid =
            |id| qualead::store::leads::find(&mut app.conn(), id).expect("q").expect("lead").row.txid.expect("txid");
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("crm-export.csv");
        std::fs::write(
            &file,
            format!(
                "txid,status,reason,comment\n{},approved,,\n{},rejected,bad_contact,\"no answer, 3 calls\"\nnot-ours,approved,,\n",
                txid(sold),
                txid(lost)
            ),
        )
        .expect("csv");
        let b = Browser::start(&app, "verdict_upload").await;

        b.login("adv@example.com", "/advertiser").await;
        b.nav("Leads").await;
        b.click_link(&format!("#{sold}")).await;
        b.see("You decide this lead. The scrub rules recommend: approve.").await;
        b.nav("Verdicts").await;
        let input = b.find("input[name=\"file\"]").await;
        input.send_keys(&file.display().to_string()).await.expect("choose the file");
        b.press("Preview").await;
        b.see("Preview of your verdicts").await;
        assert_eq!(b.find("#sum-approved").await.text().await.expect("count"), "1");
        assert_eq!(b.find("#sum-rejected").await.text().await.expect("count"), "1");
        assert_eq!(b.find("#sum-refused").await.text().await.expect("count"), "1");
        b.see("$10.00 paid from escrow").await;
        b.see("[unknown_lead]").await;
        let status =
            |id| qualead::store::leads::find(&mut app.conn(), id).expect("q").expect("lead").status.to_string();
        assert_eq!(
            (status(sold), status(lost)),
            ("pending".to_string(), "pending".to_string()),
            "a preview changes nothing"
        );
        b.press("Apply these verdicts").await;
        b.see_flash("Applied: 1 approved, 1 rejected").await;
        b.see("Download the result file").await;
        assert_eq!((status(sold), status(lost)), ("approved".to_string(), "rejected".to_string()));
        b.logout().await;

        b.login("pub@example.com", "/publisher").await;
        b.nav("Leads").await;
        b.click_link(&format!("#{lost}")).await;
        assert_eq!(b.heading_badge().await, "rejected");
        b.see("bad_contact").await;
        b.see("no answer, 3 calls").await;
        b.nav("Leads").await;
        b.click_link(&format!("#{sold}")).await;
        assert_eq!(b.heading_badge().await, "approved");
        b.see("8.00").await;
        b.screenshot("final").await;
        b.close().await;
    }
    /// Every role's main pages (`PAGES`), with data in them — approved, rejected,
    /// pending and returned leads, a dispute, a top-up request, a payout, an offer
    /// waiting for review — at phone
    /// widths (360 × 740, 390 × 844) and a laptop's (1366 × 900): no page is wider than
    /// its viewport, no raw reason or status code shows outside a `<code>` tag, and
    /// each page is screenshotted as `<role>-<name>-<width>.png`. On the phone the
    /// menu is collapsed behind its button and the KPI cards stand two in a row.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser suite: cargo test --test browser -- --ignored"]
    async fn every_page_fits_phones_and_laptops() {
        let app = app().await;
        let advertiser_id = app.create_user("advertiser", "adv@example.com");
        let publisher_id = app.create_user("publisher", "pub@example.com");
        app.create_user("admin", "admin@example.com");
        let solar = live_offer(&app, advertiser_id, "Solar panel quotes for homeowners", no_hold());
        let roofs = live_offer(&app, advertiser_id, "Roof repair leads", Terms::default());
        // An offer waiting for review, for the review queues.
        let spec = qualead::domain::offer::validate(&OfferBody {
            name: "Window replacement quotes".into(),
            description: "Homeowners who want new windows".into(),
            category: "home".into(),
            landing_url: "https://adv.example/windows?cid={click_id}".into(),
            payout_model: "cpa".into(),
            price: Some("30.00".into()),
            ..Default::default()
        })
        .expect("valid offer");
        let waiting = offers::create(&mut app.conn(), advertiser_id, &spec).expect("offer");
        offers::set_status(&mut app.conn(), waiting.id, OfferStatus::Draft, OfferStatus::PendingReview, None)
            .expect("submit");
        deposit(&app, advertiser_id, 100_00);
        let solar_link = join(&app, &solar, publisher_id);
        let roofs_link = join(&app, &roofs, publisher_id);
        for _ in 0..3 {
            visit(&solar_link).await;
            visit(&roofs_link).await;
        }
        lead_through(&app, &solar_link, &solar, "ann.lee@example.org", "Ann Lee").await;
        let returned = lead_through(&app, &solar_link, &solar, "cy.dee@example.org", "Cy Dee").await;
        let rejected = lead_through(&app, &solar_link, &solar, "x@mailinator.com", "Bo Chan").await;
        lead_through(&app, &roofs_link, &roofs, "di.ewe@example.org", "Di Ewe").await;
        let run = settle(&app);
        assert_eq!((run.approved, run.rejected), (2, 1), "the roof lead is held for 72 hours");

        // A return (an open dispute), a top-up request and a payout request, through
        // the forms' own routes.
        let adv = app.session_of(advertiser_id).await;
        let lead_page = format!("/advertiser/leads/{returned}");
        let form = [("reason", "bad_contact"), ("comment", "The number does not exist")];
        let r = app.submit(&adv, &lead_page, &format!("{lead_page}/return"), &form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let form = [("amount", "250.00"), ("method", "bank transfer"), ("reference", "INV-2026-0042")];
        let r = app.submit(&adv, "/advertiser/balance", "/advertiser/topups", &form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        qualead::store::settings::set(&mut app.conn(), qualead::store::settings::PAYOUT_MINIMUM_MINOR, "500")
            .expect("payout minimum");
        let publisher = app.session_of(publisher_id).await;
        let form = [("amount", "5.00"), ("method", "bank transfer")];
        let r = app.submit(&publisher, "/publisher/payouts", "/publisher/payouts", &form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            qualead::store::payouts::for_publisher(&mut app.conn(), publisher_id, 5).expect("payouts").len(),
            1,
            "the payout request is kept"
        );

        let codes = raw_codes();
        let fill = |path: &str| {
            path.replace("{offer}", &solar.id.to_string())
                .replace("{lead}", &rejected.to_string())
                .replace("{disputed}", &returned.to_string())
        };
        let mut too_wide = Vec::new();
        let mut raw = Vec::new();
        let mut shots = 0;
        for (width, height) in VIEWPORTS {
            let b = Browser::start_sized(&app, "pages", width, height).await;
            for role in ["advertiser", "publisher", "admin", "guest"] {
                b.client.delete_all_cookies().await.expect("log out");
                let email = match role {
                    "advertiser" => Some("adv@example.com"),
                    "publisher" => Some("pub@example.com"),
                    "admin" => Some("admin@example.com"),
                    _ => None,
                };
                if let Some(email) = email {
                    b.login(email, &format!("/{role}")).await;
                }
                if width < 640 && role != "guest" {
                    // The menu is one button until it is opened.
                    let nav = b.find("#main-nav").await;
                    assert!(!nav.is_displayed().await.expect("nav shown?"), "the phone's menu starts closed");
                    b.find("label.menu-button").await.click().await.expect("open the menu");
                    assert!(nav.is_displayed().await.expect("nav shown?"), "the menu opens");
                    let link = b.find("#main-nav a[href='/account']").await;
                    assert!(link.is_displayed().await.expect("link shown?"), "its links show");
                }
                for (_, name, path) in PAGES.iter().filter(|(r, _, _)| *r == role) {
                    let path = fill(path);
                    let status = b.open(&path).await;
                    let expected = if *name == "error" { 404 } else { 200 };
                    if status != expected {
                        b.fail(&format!("{path} answered {status}, not {expected}")).await;
                    }
                    if *name == "home-empty" {
                        // A range without traffic: the chart says so in words.
                        b.see("No clicks in this range yet — share your link").await;
                        assert!(b.client.find(Locator::Css("main svg")).await.is_err(), "no empty axes");
                    }
                    if let Some(why) = b.too_wide().await {
                        too_wide.push(format!("{role} {path} at {width} px: {why}"));
                    }
                    // No card scrolls sideways (its content clipped): only a report
                    // table's own box may.
                    let cards = b
                        .client
                        .execute(
                            "return [...document.querySelectorAll('.card')]\
                             .filter(card => card.scrollWidth > card.clientWidth + 1)\
                             .map(card => (card.id || card.className) + ' (' + card.scrollWidth + ' px in ' + card.clientWidth + ': ' + \
                               [...card.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > card.getBoundingClientRect().right + 1)\
                               .slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + e.className).join(', ') + ')');",
                            vec![],
                        )
                        .await
                        .expect("cards");
                    for card in cards.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        too_wide.push(format!("{role} {path} at {width} px: the card {card} scrolls sideways"));
                    }
                    if width >= 1366 {
                        // Report tables fit a laptop without scrolling inside their card.
                        let clipped = b
                            .client
                            .execute(
                                "return [...document.querySelectorAll('.table-scroll')]\
                                 .filter(box => box.scrollWidth > box.clientWidth + 1)\
                                 .map(box => (box.closest('section') || box).id + ': ' + box.scrollWidth + ' px in ' + box.clientWidth);",
                                vec![],
                            )
                            .await
                            .expect("report tables");
                        for table in clipped.as_array().into_iter().flatten().filter_map(Value::as_str) {
                            too_wide.push(format!("{role} {path} at {width} px: the report table {table} scrolls"));
                        }
                    }
                    for code in b.raw_codes_shown(&codes).await {
                        raw.push(format!("{role} {path} at {width} px: {code}"));
                    }
                    if width < 640 && path == "/publisher" {
                        let tops = b
                            .client
                            .execute(
                                "return [...document.querySelectorAll('.kpi')].slice(0, 3).map(k => k.offsetTop);",
                                vec![],
                            )
                            .await
                            .expect("KPI positions");
                        let tops: Vec<i64> = tops.as_array().expect("list").iter().filter_map(Value::as_i64).collect();
                        assert!(
                            tops.len() == 3 && tops[0] == tops[1] && tops[2] > tops[1],
                            "two KPI cards in a row on a phone: {tops:?}"
                        );
                    }
                    let file = b.shoot(&format!("{role}-{name}-{width}")).await;
                    assert!(file.exists());
                    shots += 1;
                }
            }
            b.close().await;
        }
        assert_eq!(shots, PAGES.len() * VIEWPORTS.len());
        assert!(too_wide.is_empty(), "pages wider than the viewport:\n{}", too_wide.join("\n"));
        assert!(raw.is_empty(), "raw codes shown outside a code tag:\n{}", raw.join("\n"));
    }

    /// A new advertiser signs up in the browser, writes an offer and submits it: it
    /// is warned that its balance cannot pay for one lead, and requests a top-up on
    /// its balance page. An admin confirms the top-up (#topups) and approves the
    /// offer; it is live. A publisher joins it and sees it live on "My links"; the
    /// advertiser pauses it; the publisher sees it paused there and has the e-mail.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "browser suite: cargo test --test browser -- --ignored"]
    async fn a_new_advertiser_funds_its_offer_and_its_publisher_sees_it_paused() {
        let app = app().await;
        app.create_user("admin", "admin@example.com");
        app.create_user("publisher", "pub@example.com");
        let b = Browser::start(&app, "funding").await;

        // Sign-up, the confirmation link, log-in.
        b.goto("/signup").await;
        b.sign_up_advertiser(&app, "Marta Kowalska", "Kowalska Solar sp. z o.o.", "marta@kowalska-solar.example").await;

        // The offer form, then "Submit for review": warned about the empty balance.
        b.click_link("Create an offer").await;
        b.fill("name", "Heat pump quotes").await;
        b.fill("description", "Homeowners who want a heat pump installed").await;
        b.select("category", "home").await;
        b.select("visibility", "public").await;
        b.fill("landing_url", "https://kowalska-solar.example/quote?cid={click_id}").await;
        b.fill("fallback_url", "https://kowalska-solar.example/").await;
        b.select("payout_model", "cpl").await;
        b.fill("price", "12.50").await;
        b.tick("required_fields", "email", true).await;
        b.press("Save as draft").await;
        let id = b.offer_on_page().await;
        b.press("Submit for review").await;
        let warning = b.find(".flash.flash-warning").await.text().await.expect("warning");
        assert!(warning.contains("Sent for review") && warning.contains("cannot pay for one lead"), "{warning}");
        assert_eq!(b.heading_badge().await, "pending review");

        // A top-up request on the balance page.
        b.nav("Balance").await;
        b.fill("amount", "500.00").await;
        b.select("method", "bank transfer").await;
        b.fill("reference", "KS-2026-118").await;
        b.press("Request top-up").await;
        b.see("waiting for an admin").await;
        b.see("KS-2026-118").await;
        b.logout().await;

        // The admin confirms it in the top-up requests, then approves the offer.
        b.login("admin@example.com", "/admin").await;
        b.goto("/admin/deposits#topups").await;
        b.find("#topups").await;
        b.see("KS-2026-118").await;
        b.press("Confirm").await;
        b.see_flash("confirmed").await;
        let advertiser_id = offers::find(&mut app.conn(), id).expect("q").expect("offer").advertiser_id;
        let account = qualead::store::ledger::advertiser(advertiser_id);
        let balance = qualead::store::ledger::balance(&mut app.conn(), &account).expect("balance");
        assert_eq!(balance, 500_00, "the top-up is on the advertiser's balance");
        b.nav("Offers").await;
        b.click_link("Heat pump quotes").await;
        b.press("Approve — make it live").await;
        b.see_flash("Offer approved; it is live.").await;
        b.logout().await;

        // The publisher joins and sees it live on its links.
        b.login("pub@example.com", "/publisher").await;
        b.nav("Marketplace").await;
        b.click_link("Heat pump quotes").await;
        b.press("Join this offer").await;
        b.nav("My links").await;
        assert_eq!(b.find("[data-live]").await.attr("data-live").await.expect("attr").as_deref(), Some("live"));
        b.logout().await;

        // The advertiser pauses it.
        b.login("marta@kowalska-solar.example", "/advertiser").await;
        b.goto(&format!("/advertiser/offers/{id}")).await;
        assert_eq!(b.heading_badge().await, "active");
        b.press("Pause").await;
        b.see_flash("Offer paused").await;
        b.logout().await;

        // The publisher sees it paused, and has the e-mail.
        b.login("pub@example.com", "/publisher").await;
        b.nav("My links").await;
        assert_eq!(b.find("[data-live]").await.attr("data-live").await.expect("attr").as_deref(), Some("paused"));
        let mail = app.wait_for_email("pub@example.com", "is paused").await;
        assert!(mail.contains("Heat pump quotes"), "{mail}");
        b.screenshot("final").await;
        b.close().await;
    }
}
