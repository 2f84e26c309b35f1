//! Bot detection: the user-agent markers of automated clients and
//! [`bot_signature`], which the `bot_traffic` rule applies.

use std::sync::LazyLock;

/// Lower-case fragments of user agents of crawlers, HTTP libraries, headless
/// browsers and automation tools, matched anywhere in the agent, ignoring case.
pub const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "curl",
    "wget",
    "python",
    "aiohttp",
    "httpx",
    "httpclient",
    "http-client",
    "okhttp",
    "java/",
    "libwww",
    "lwp::",
    "scrapy",
    "axios",
    "node-fetch",
    "undici",
    "guzzlehttp",
    "postmanruntime",
    "insomnia",
    "httpie",
    "dart:io",
    "winhttp",
    "mechanize",
    "httrack",
    "nutch",
    "headless",
    "phantomjs",
    "selenium",
    "webdriver",
    "puppeteer",
    "playwright",
    "cypress",
    "lighthouse",
    "pagespeed",
    "facebookexternalhit",
    "ia_archiver",
    "mediapartners-google",
    "bingpreview",
    "skypeuripreview",
    "embedly",
    "chatgpt",
    "anthropic-ai",
    "zgrab",
    "masscan",
    "nmap",
    "nikto",
    "sqlmap",
];

/// Phones whose names contain "bot" (the Cubot brand): (text, offset of "bot" in it).
const NOT_BOTS: &[(&str, usize)] = &[("cubot", 2)];

/// [`BOT_MARKERS`] by first byte, so an agent is scanned once.
static MARKERS_BY_FIRST_BYTE: LazyLock<[Vec<&'static str>; 128]> = LazyLock::new(|| {
    let mut index: [Vec<&'static str>; 128] = std::array::from_fn(|_| Vec::new());
    for m in BOT_MARKERS {
        index[usize::from(m.as_bytes()[0] & 0x7f)].push(m);
    }
    index
});

fn is_not_bot_at(ua: &[u8], i: usize) -> bool {
    NOT_BOTS.iter().any(|(text, offset)| {
        i >= *offset
            && ua.get(i - offset..i - offset + text.len()).is_some_and(|w| w.eq_ignore_ascii_case(text.as_bytes()))
    })
}

/// Why `ua` looks automated, or `None` for an ordinary browser.
pub fn bot_signature(ua: &str) -> Option<String> {
    let ua = ua.trim();
    if ua.is_empty() {
        return Some("empty user agent".into());
    }
    if !ua.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Some("user agent has no letters".into());
    }
    let bytes = ua.as_bytes();
    let index = &*MARKERS_BY_FIRST_BYTE;
    for (i, b) in bytes.iter().enumerate() {
        if !b.is_ascii() {
            continue;
        }
        for m in &index[usize::from(b.to_ascii_lowercase())] {
            let hit = bytes.get(i..i + m.len()).is_some_and(|w| w.eq_ignore_ascii_case(m.as_bytes()));
            if hit && !(*m == "bot" && is_not_bot_at(bytes, i)) {
                return Some(format!("user agent of an automated client (\"{m}\")"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scrub::testing::*;
    use crate::domain::scrub::*;

    // ---- bot_traffic ----

    const BROWSERS: &[&str] = &[
        CHROME,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 10; CUBOT P40) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/430.0.0.33.113;FBBV/500000000;FBDV/iPhone14,2;FBMD/iPhone;FBSN/iOS;FBSV/16.6;FBSS/3;FBLC/en_US]",
        "Mozilla/5.0 (Linux; Android 12; M2101K6G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.5615.136 Mobile Safari/537.36 Instagram 280.0.0.18.114 Android",
        "Mozilla/5.0 (Linux; Android 11; RMX2193) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 YaBrowser/23.3.1 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 OPR/108.0.0.0",
        "Mozilla/5.0 (Linux; U; Android 8.1.0; en-US; Redmi 5A Build/OPM1.171019.026) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/57.0.2987.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_32.5.0 JsSdk/2.0 NetType/WIFI BytedanceWebview/d8a21c6",
    ];

    const BOTS: &[&str] = &[
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "curl/8.5.0",
        "Wget/1.21.4",
        "python-requests/2.31.0",
        "Python-urllib/3.11",
        "Go-http-client/2.0",
        "Java/17.0.2",
        "okhttp/4.12.0",
        "Apache-HttpClient/4.5.14 (Java/17.0.8)",
        "libwww-perl/6.72",
        "Scrapy/2.11.0 (+https://scrapy.org)",
        "axios/1.6.8",
        "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36",
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
        "Mozilla/5.0 Selenium",
        "Puppeteer",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Playwright/1.43",
        "PostmanRuntime/7.37.3",
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
        "Mozilla/5.0 (compatible; archive.org_bot +http://archive.org/details/archive.org_bot)",
        "UptimeRobot/2.0",
        "Dart/3.3 (dart:io)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36 Chrome-Lighthouse",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0 Safari/537.36 Cypress/13.6.0",
        "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
        "MJ12bot",
        "CRAWLER",
    ];

    #[test]
    fn browsers_are_not_bots() {
        for ua in BROWSERS {
            assert_eq!(bot_signature(ua), None, "{ua}");
        }
    }

    #[test]
    fn bots_are_bots() {
        for ua in BOTS {
            assert!(bot_signature(ua).is_some(), "{ua}");
        }
        assert_eq!(bot_signature("curl/8.5.0").as_deref(), Some("user agent of an automated client (\"curl\")"));
        assert_eq!(
            bot_signature("Mozilla/5.0 (compatible; Googlebot/2.1)").as_deref(),
            Some("user agent of an automated client (\"bot\")")
        );
        assert_eq!(bot_signature("  ").as_deref(), Some("empty user agent"));
        assert_eq!(bot_signature("-").as_deref(), Some("user agent has no letters"));
        // A Cubot phone next to a real bot marker is still a bot.
        assert!(bot_signature("CUBOT X30 Googlebot").is_some());
        assert!(bot_signature("ÜberPhone bot").is_some());
    }

    #[test]
    fn bot_traffic_rule() {
        let mut t = bare_terms();
        t.scrub.block_bots = true;
        let mut lead = good_lead();
        assert_eq!(check(&lead.eval(&t), BOT_TRAFFIC).detail, "browser user agent");
        lead.ua = Some("");
        assert!(!check(&lead.eval(&t), BOT_TRAFFIC).passed);
        lead.ua = Some("   ");
        assert!(!check(&lead.eval(&t), BOT_TRAFFIC).passed);
        lead.ua = Some("python-requests/2.31");
        assert!(!check(&lead.eval(&t), BOT_TRAFFIC).passed);
        lead.ua = None;
        lead.secs = None;
        let v = lead.eval(&t);
        assert!(check(&v, BOT_TRAFFIC).passed);
        assert_eq!(check(&v, BOT_TRAFFIC).detail, "no click");
    }
}
