//! The device kind and operating system of a click's `User-Agent` (issue 32), read with
//! the `woothee` parser plus a few rules of our own: tablets (woothee calls an iPad or an
//! Android tablet a smartphone) and the scripts and tools woothee does not count as
//! crawlers (curl, python-requests, headless browsers).
//!
//! An iPad on iPadOS 13 or later asks for desktop sites and sends a Mac's user agent:
//! it reads as a macOS desktop, and only the browser itself can tell otherwise.

use std::sync::LazyLock;

/// What kind of device sent a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// A desktop or laptop computer.
    Desktop,
    /// A smartphone or feature phone.
    Phone,
    /// A tablet.
    Tablet,
    /// A crawler, a script, an HTTP library or a headless browser.
    Bot,
    /// Anything else: consoles, TVs, an empty or unrecognised user agent.
    Unknown,
}

impl DeviceKind {
    /// Every kind.
    pub const ALL: [DeviceKind; 5] =
        [DeviceKind::Desktop, DeviceKind::Phone, DeviceKind::Tablet, DeviceKind::Bot, DeviceKind::Unknown];

    /// The stored and displayed name: "desktop", "phone", "tablet", "bot", "unknown".
    pub fn as_str(&self) -> &'static str {
        match self {
            DeviceKind::Desktop => "desktop",
            DeviceKind::Phone => "phone",
            DeviceKind::Tablet => "tablet",
            DeviceKind::Bot => "bot",
            DeviceKind::Unknown => "unknown",
        }
    }

    /// The kind of a stored name ([`DeviceKind::as_str`]).
    pub fn parse(s: &str) -> Option<DeviceKind> {
        DeviceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The operating system families [`Device::os`] takes.
pub const OS_FAMILIES: [&str; 7] = ["iOS", "Android", "Windows", "macOS", "Linux", "ChromeOS", "other"];

/// A request's device: its kind and operating system family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Device {
    /// Desktop, phone, tablet, bot or unknown.
    pub kind: DeviceKind,
    /// One of [`OS_FAMILIES`]: "iOS", "Android", "Windows", "macOS", "Linux", "ChromeOS"
    /// or "other" (bots, unrecognised systems, an empty user agent).
    pub os: &'static str,
}

static PARSER: LazyLock<woothee::parser::Parser> = LazyLock::new(woothee::parser::Parser::new);

/// Lower-case pieces of user agents that are tools, not people, which woothee lets through
/// or calls something else.
const BOT_MARKS: [&str; 17] = [
    "bot",
    "spider",
    "crawl",
    "slurp",
    "headlesschrome",
    "phantomjs",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "go-http-client",
    "java/",
    "libwww-perl",
    "httpclient",
    "scrapy",
    "node-fetch",
];

/// The device of a `User-Agent` header value. Never fails: what cannot be read is
/// [`DeviceKind::Unknown`] on "other".
pub fn device_of(ua: &str) -> Device {
    let ua = ua.trim();
    if ua.is_empty() {
        return Device { kind: DeviceKind::Unknown, os: "other" };
    }
    let lower = ua.to_ascii_lowercase();
    let parsed = PARSER.parse(ua);
    let (category, wos) = parsed.as_ref().map_or(("UNKNOWN", ""), |r| (r.category, r.os));
    let os = os_family(wos, &lower);
    let marked = BOT_MARKS.iter().any(|m| lower.contains(m));
    // A phone's model name may hold "bot" (CUBOT, …robot); a bot names itself "…bot/" or "…bot;".
    let marked = marked
        && !(category == "smartphone"
            && !lower.contains("bot/")
            && !lower.contains("bot;")
            && !lower.contains("headless"));
    let bot = category == "crawler" || category == "misc" || marked;
    let kind = if bot {
        DeviceKind::Bot
    } else {
        match category {
            "pc" => DeviceKind::Desktop,
            "smartphone" if wos == "iPad" || lower.contains("ipad") => DeviceKind::Tablet,
            "smartphone" if os == "Android" && (!lower.contains("mobile") || lower.contains("tablet")) => {
                DeviceKind::Tablet
            }
            "smartphone" | "mobilephone" => DeviceKind::Phone,
            _ => DeviceKind::Unknown,
        }
    };
    let os = if kind == DeviceKind::Bot { "other" } else { os };
    Device { kind, os }
}

/// How many distinct user agents each thread remembers (a click server sees the
/// same few hundred browsers again and again; the table is emptied when full).
const REMEMBERED: usize = 2048;

thread_local! {
    static SEEN: std::cell::RefCell<std::collections::HashMap<Box<str>, Device>> =
        std::cell::RefCell::new(std::collections::HashMap::with_capacity(REMEMBERED));
}

/// [`device_of`], remembered per thread: the parser runs once per distinct user
/// agent instead of once per click (about 2 µs a parse, tens of nanoseconds a hit).
pub fn device_of_remembered(ua: &str) -> Device {
    if let Some(d) = SEEN.with(|seen| seen.borrow().get(ua).copied()) {
        return d;
    }
    let d = device_of(ua);
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        seen.insert(ua.into(), d);
    });
    d
}

/// woothee's operating system name (or, failing that, the user agent) as one of [`OS_FAMILIES`].
fn os_family(wos: &str, lower_ua: &str) -> &'static str {
    match wos {
        "iPhone" | "iPad" | "iPod" | "iOS" => "iOS",
        "Android" => "Android",
        "Mac OSX" | "Mac OS Classic" => "macOS",
        "ChromeOS" => "ChromeOS",
        "Linux" if lower_ua.contains("android") => "Android",
        "Linux" => "Linux",
        w if w.starts_with("Windows") && !w.starts_with("Windows Phone") && w != "Windows CE" => "Windows",
        _ if lower_ua.contains("cros ") => "ChromeOS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_device_is_the_parsed_one() {
        let ua = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
        for _ in 0..3 {
            assert_eq!(device_of_remembered(ua), device_of(ua));
        }
        for i in 0..REMEMBERED + 10 {
            let other = format!("curl/{i}");
            assert_eq!(device_of_remembered(&other).kind, DeviceKind::Bot);
        }
        assert_eq!(device_of_remembered(ua).kind, DeviceKind::Tablet);
    }

    fn check(ua: &str, kind: &str, os: &str) {
        let d = device_of(ua);
        assert_eq!((d.kind.as_str(), d.os), (kind, os), "{ua}");
    }

    #[test]
    fn real_browsers() {
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "phone",
            "iOS",
        );
        check(
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
            "tablet",
            "iOS",
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
            "phone",
            "Android",
        );
        check(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36",
            "phone",
            "Android",
        );
        check(
            "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "tablet",
            "Android",
        );
        check("Mozilla/5.0 (Android 13; Tablet; rv:126.0) Gecko/126.0 Firefox/126.0", "tablet", "Android");
        check(
            "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
            "phone",
            "Android",
        );
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
            "desktop",
            "Windows",
        );
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
            "desktop",
            "Windows",
        );
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
            "desktop",
            "macOS",
        );
        check("Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", "desktop", "Linux");
        check("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", "desktop", "Linux");
        check(
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
            "desktop",
            "ChromeOS",
        );
    }

    #[test]
    fn bots_and_tools() {
        check("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot", "other");
        check(
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.175 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "bot",
            "other",
        );
        check("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bot", "other");
        check("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "bot", "other");
        check("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "bot", "other");
        check("curl/8.5.0", "bot", "other");
        check("Wget/1.21.4", "bot", "other");
        check("python-requests/2.32.3", "bot", "other");
        check("Go-http-client/1.1", "bot", "other");
        check(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/125.0.0.0 Safari/537.36",
            "bot",
            "other",
        );
    }

    #[test]
    fn empty_and_unreadable() {
        check("", "unknown", "other");
        check("   ", "unknown", "other");
        check("-", "unknown", "other");
        check(
            "Mozilla/5.0 (Linux; Android 12; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
            "phone",
            "Android",
        );
        check(
            "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)",
            "unknown",
            "other",
        );
    }

    #[test]
    fn kind_names_round_trip() {
        let names: Vec<_> = DeviceKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, ["desktop", "phone", "tablet", "bot", "unknown"]);
        for k in DeviceKind::ALL {
            assert_eq!(DeviceKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(DeviceKind::parse("pc"), None);
    }

    /// Time a parse: `cargo test --release --lib device::tests::parse_speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn parse_speed() {
        let uas = [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ];
        device_of(uas[0]);
        let n = 100_000;
        let started = std::time::Instant::now();
        let bots = (0..n).filter(|i| device_of(uas[i % uas.len()]).kind == DeviceKind::Bot).count();
        eprintln!("{} ns a user agent ({bots} bots)", started.elapsed().as_nanos() / n as u128);
    }
}
