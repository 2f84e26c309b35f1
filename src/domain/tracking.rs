//! Pure tracking rules: click ids, landing-URL macros, and cleaning what shoppers'
//! browsers send.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// A click id: 26 URL-safe characters, a 24-bit time prefix (hundredths of a
/// second, wrapping every 46 hours) and then 128 random bits. The prefix keeps the
/// ids of one moment next to each other in the database's unique index, so a batch
/// of clicks writes a few index pages instead of one page per click.
pub fn new_click_id() -> String {
    let mut buf = [0u8; 19];
    let ticks = (chrono::Utc::now().timestamp_millis() / 10) as u64;
    buf[..3].copy_from_slice(&ticks.to_be_bytes()[5..8]);
    // A thread-local ChaCha generator seeded from the OS: unguessable, and no system
    // call per click.
    rand::thread_rng().fill_bytes(&mut buf[3..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The values a landing URL's macros are replaced with.
#[derive(Debug, Clone, Default)]
pub struct ClickValues<'a> {
    pub click_id: &'a str,
    pub offer_id: i64,
    pub publisher_id: i64,
    pub subs: [&'a str; 5],
    pub source: &'a str,
}

pub fn encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// A macro's value: text to URL-encode, or a number.
enum Macro<'a> {
    Text(&'a str),
    Num(i64),
}

/// Replace every `{name}` of `template` that `value` knows, in one pass over the
/// template (this runs on every click); values are URL-encoded, so a value that
/// looks like a macro is never filled again. Unknown names and lone braces stay.
fn fill_macros<'a>(template: &str, out: &mut String, value: impl Fn(&str) -> Option<Macro<'a>>) {
    use std::fmt::Write;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        let name = tail.find('}').map(|close| &tail[1..close]);
        match name.and_then(|n| Some((n, value(n)?))) {
            Some((name, m)) => {
                match m {
                    Macro::Text(t) => out.extend(url::form_urlencoded::byte_serialize(t.as_bytes())),
                    Macro::Num(n) => {
                        let _ = write!(out, "{n}");
                    }
                }
                rest = &tail[name.len() + 2..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
}

/// `sub1`…`sub5` of a macro name.
fn sub_index(name: &str) -> Option<usize> {
    match name.strip_prefix("sub")?.as_bytes() {
        [d @ b'1'..=b'5'] => Some(usize::from(d - b'1')),
        _ => None,
    }
}

/// Fill `{click_id}`, `{offer_id}`, `{publisher_id}`, `{sub1}`…`{sub5}`, `{source}`
/// (URL-encoded); append `click_id=` when the template does not carry it.
pub fn fill_landing(template: &str, v: &ClickValues<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 48);
    fill_macros(template, &mut out, |name| match name {
        "click_id" => Some(Macro::Text(v.click_id)),
        "offer_id" => Some(Macro::Num(v.offer_id)),
        "publisher_id" => Some(Macro::Num(v.publisher_id)),
        "source" => Some(Macro::Text(v.source)),
        _ => sub_index(name).map(|i| Macro::Text(v.subs[i])),
    });
    if !template.contains("{click_id}") {
        let fragment = out.find('#').map(|i| out.split_off(i)).unwrap_or_default();
        if !out.contains('?') {
            out.push('?');
        } else if !out.ends_with('?') && !out.ends_with('&') {
            out.push('&');
        }
        out.push_str("click_id=");
        out.extend(url::form_urlencoded::byte_serialize(v.click_id.as_bytes()));
        out.push_str(&fragment);
    }
    out
}

/// The values a publisher's postback URL macros are replaced with (DESIGN §5).
#[derive(Debug, Clone, Default)]
pub struct PostbackValues<'a> {
    pub click_id: &'a str,
    pub subs: [&'a str; 5],
    pub lead_id: i64,
    pub offer_id: i64,
    pub status: &'a str,
    /// Decimal string, e.g. `10.80`.
    pub payout: &'a str,
    pub event: &'a str,
}

/// Fill a publisher's postback template; values are URL-encoded.
pub fn fill_postback(template: &str, v: &PostbackValues<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 48);
    fill_macros(template, &mut out, |name| match name {
        "click_id" => Some(Macro::Text(v.click_id)),
        "lead_id" => Some(Macro::Num(v.lead_id)),
        "offer_id" => Some(Macro::Num(v.offer_id)),
        "status" => Some(Macro::Text(v.status)),
        "payout" => Some(Macro::Text(v.payout)),
        "event" => Some(Macro::Text(v.event)),
        _ => sub_index(name).map(|i| Macro::Text(v.subs[i])),
    });
    out
}

/// Keep at most `max` characters and no control characters: sub-ids and user agents
/// come from strangers.
pub fn clean(raw: &str, max: usize) -> String {
    raw.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// A two-letter country code from a proxy header (`CF-IPCountry`); `XX`/`T1` and
/// anything else unusable mean unknown.
pub fn country_code(raw: &str) -> Option<String> {
    let c = raw.trim().to_ascii_uppercase();
    (c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase()) && c != "XX").then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> ClickValues<'static> {
        ClickValues {
            click_id: "abc_-123",
            offer_id: 7,
            publisher_id: 9,
            subs: ["a b", "x&y", "", "", "5"],
            source: "fb",
        }
    }

    #[test]
    fn macros_are_filled_and_encoded() {
        let url = fill_landing(
            "https://a.example/l?cid={click_id}&o={offer_id}&p={publisher_id}&s1={sub1}&s2={sub2}&s5={sub5}&src={source}",
            &values(),
        );
        assert_eq!(url, "https://a.example/l?cid=abc_-123&o=7&p=9&s1=a+b&s2=x%26y&s5=5&src=fb");
    }

    #[test]
    fn click_id_is_appended_when_missing() {
        assert_eq!(fill_landing("https://a.example/", &values()), "https://a.example/?click_id=abc_-123");
        assert_eq!(fill_landing("https://a.example/?x=1", &values()), "https://a.example/?x=1&click_id=abc_-123");
        assert_eq!(
            fill_landing("https://a.example/p?x=1#top", &values()),
            "https://a.example/p?x=1&click_id=abc_-123#top"
        );
        assert_eq!(fill_landing("https://a.example/p?", &values()), "https://a.example/p?click_id=abc_-123");
    }

    #[test]
    fn unknown_and_unclosed_braces_are_kept() {
        assert_eq!(
            fill_landing("https://a.example/{x}/{sub6}/{sub1}{?c={click_id}&{", &values()),
            "https://a.example/{x}/{sub6}/a+b{?c=abc_-123&{"
        );
        // A value that looks like a macro is encoded, never filled again.
        let mut v = values();
        v.subs[0] = "{sub2}";
        assert_eq!(
            fill_landing("https://a.example/?a={sub1}&b={sub2}", &v),
            "https://a.example/?a=%7Bsub2%7D&b=x%26y&click_id=abc_-123"
        );
    }

    #[test]
    fn click_ids_are_128_random_bits_after_a_time_prefix() {
        let id = new_click_id();
        assert_eq!(id.len(), 26);
        // Ids of one moment share their prefix (three tries: a tick may pass between two).
        assert!((0..3).any(|_| new_click_id()[..3] == new_click_id()[..3]));
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(id, new_click_id());
    }

    #[test]
    fn cleaning_and_countries() {
        assert_eq!(clean("ab\u{0}c\ndef", 4), "abcd");
        assert_eq!(country_code(" us "), Some("US".into()));
        assert_eq!(country_code("XX"), None);
        assert_eq!(country_code("T1"), None);
        assert_eq!(country_code("USA"), None);
    }
}
