//! Lead intake rules with no I/O: the reason codes of DESIGN §5 with their HTTP
//! statuses, the one parser every channel's parameters go through (postback,
//! pixel, API, hosted form), so bad input is refused at the edge the same way, and
//! the decision on each conversion ([`decide`]).

use std::collections::BTreeMap;

use crate::domain::money::parse_minor;
use crate::domain::offer::LEAD_FIELDS;

pub mod decide;

/// Why a conversion was refused at intake (DESIGN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    BadToken,
    IpNotAllowed,
    UnknownClick,
    ClickOfferMismatch,
    ClickExpired,
    OfferInactive,
    CapReached,
    BudgetExhausted,
    MissingConsent,
    InvalidRequest,
    MissingField,
    ChannelNotAllowed,
    BadSignature,
    AmountOutOfRange,
    NotTargeted,
    SourceBlocked,
}

impl Reason {
    pub const ALL: [Reason; 16] = [
        Reason::BadToken,
        Reason::IpNotAllowed,
        Reason::UnknownClick,
        Reason::ClickOfferMismatch,
        Reason::ClickExpired,
        Reason::OfferInactive,
        Reason::CapReached,
        Reason::BudgetExhausted,
        Reason::MissingConsent,
        Reason::InvalidRequest,
        Reason::MissingField,
        Reason::ChannelNotAllowed,
        Reason::BadSignature,
        Reason::AmountOutOfRange,
        Reason::NotTargeted,
        Reason::SourceBlocked,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::BadToken => "bad_token",
            Reason::IpNotAllowed => "ip_not_allowed",
            Reason::UnknownClick => "unknown_click",
            Reason::ClickOfferMismatch => "click_offer_mismatch",
            Reason::ClickExpired => "click_expired",
            Reason::OfferInactive => "offer_inactive",
            Reason::CapReached => "cap_reached",
            Reason::BudgetExhausted => "budget_exhausted",
            Reason::MissingConsent => "missing_consent",
            Reason::InvalidRequest => "invalid_request",
            Reason::MissingField => "missing_field",
            Reason::ChannelNotAllowed => "channel_not_allowed",
            Reason::BadSignature => "bad_signature",
            Reason::AmountOutOfRange => "amount_out_of_range",
            Reason::NotTargeted => "not_targeted",
            Reason::SourceBlocked => "source_blocked",
        }
    }

    /// The HTTP status a refusal is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            Reason::InvalidRequest => 400,
            Reason::BudgetExhausted => 402,
            Reason::BadToken
            | Reason::IpNotAllowed
            | Reason::ChannelNotAllowed
            | Reason::BadSignature
            | Reason::NotTargeted
            | Reason::SourceBlocked => 403,
            Reason::UnknownClick => 404,
            Reason::ClickOfferMismatch | Reason::OfferInactive => 409,
            Reason::ClickExpired => 410,
            Reason::MissingConsent | Reason::MissingField | Reason::AmountOutOfRange => 422,
            Reason::CapReached => 429,
        }
    }

    /// Its label for a page (`Out of budget`), from the message catalogue
    /// ([`crate::i18n`]), where its one-line explanation for pages is too.
    pub fn label(self) -> String {
        crate::i18n::label(crate::i18n::Kind::Reason, self.code())
    }

    /// The API's message of a refusal (`"message"` in the JSON, in English
    /// whatever the viewer's language: integrators match on it). Pages read the
    /// catalogue's explanation instead ([`crate::i18n::explain`]).
    pub fn explain(self) -> &'static str {
        match self {
            Reason::BadToken => "the postback token does not belong to any offer",
            Reason::IpNotAllowed => "the sender's IP address is not on the offer's postback allow-list",
            Reason::UnknownClick => "no click has this click id",
            Reason::ClickOfferMismatch => "the click belongs to another offer or publisher",
            Reason::ClickExpired => "the click is older than the offer's conversion window",
            Reason::OfferInactive => "the offer is not active",
            Reason::CapReached => "a cap or the daily budget of the offer is full",
            Reason::BudgetExhausted => "the advertiser's balance cannot pay for this lead",
            Reason::MissingConsent => "the lead was sent without the person's consent",
            Reason::InvalidRequest => "the request is malformed",
            Reason::MissingField => "the conversion lacks a field the offer requires",
            Reason::ChannelNotAllowed => "the offer does not take conversions through this channel",
            Reason::BadSignature => "the pixel's signature (sig) is missing or does not match",
            Reason::AmountOutOfRange => "the sale amount is above the offer's maximum sale amount",
            Reason::NotTargeted => "the click is outside the offer's targeting (country, device or operating system)",
            Reason::SourceBlocked => {
                "the click came from a traffic source (a sub-id or source value) the offer or the network blocks"
            }
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Where a conversion came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Postback,
    Pixel,
    /// A publisher's lead through `POST /api/v1/leads`.
    Api,
    Form,
    /// The offer's own advertiser through `POST /api/v1/leads` with its API key and
    /// a click: its channel like the postback, trusted for the amount.
    Advertiser,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Postback => "postback",
            Channel::Pixel => "pixel",
            Channel::Api => "api",
            Channel::Form => "form",
            Channel::Advertiser => "advertiser_api",
        }
    }
}

/// One conversion as it arrives, before any check that needs the database.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub channel: Channel,
    pub params: Params,
    /// The offer a pixel URL or an API body names.
    pub offer_id: Option<i64>,
    /// The publisher an API key or a hosted-form link belongs to.
    pub publisher_id: Option<i64>,
    /// Whether the person consented (API and form); `None` where it is not asked.
    pub consent: Option<bool>,
    /// The sender's address (the advertiser's server for postbacks).
    pub ip: String,
}

/// Lead fields a conversion may carry (DESIGN §5 names name, email, phone, country;
/// the rest are the offer's own). At most this many, each this long.
pub const MAX_FIELDS: usize = 30;
pub const MAX_FIELD_LEN: usize = 512;
const MAX_ID_LEN: usize = 128;

/// The checked parameters of one conversion, whatever the channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub click_id: Option<String>,
    pub token: Option<String>,
    pub event: Option<String>,
    pub amount_minor: Option<i64>,
    pub txid: Option<String>,
    pub fields: BTreeMap<String, String>,
    /// A signed pixel's `sig` (see [`crate::domain::channels`]).
    pub sig: Option<String>,
}

/// Parameter names and their aliases (DESIGN §5).
const ALIASES: &[(&str, &str)] = &[
    ("transaction_id", "click_id"),
    ("security_token", "token"),
    ("goal", "event"),
    ("sum", "amount"),
    ("order_id", "txid"),
    ("adv_sub", "txid"),
];

/// The lead fields a postback or pixel may pass as plain parameters: every field an
/// offer can require ([`LEAD_FIELDS`]), and a name in two parts (which stands for
/// `name`, as settlement reads it).
fn lead_field(name: &str) -> bool {
    LEAD_FIELDS.contains(&name) || name == "first_name" || name == "last_name"
}

/// A macro left unfilled by the sender's system (`{zip}`, `{txid}`): no value.
fn unfilled_macro(v: &str) -> bool {
    let v = v.trim();
    v.len() > 2
        && v.starts_with('{')
        && v.ends_with('}')
        && v[1..v.len() - 1].chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The fields of `required` that `fields` lacks (absent or blank), in the order
/// required, each once. `name` is also present as `first_name` with `last_name`,
/// as settlement's `missing_field` rule reads it. Intake refuses a conversion with
/// any (`missing_field`).
pub fn missing_fields(required: &[String], fields: &BTreeMap<String, String>) -> Vec<String> {
    let filled = |key: &str| fields.get(key).is_some_and(|v| !v.trim().is_empty());
    let present = |key: &str| filled(key) || (key == "name" && filled("first_name") && filled("last_name"));
    let mut missing: Vec<String> = Vec::new();
    for key in required.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
        if !present(key) && !missing.iter().any(|m| m == key) {
            missing.push(key.to_string());
        }
    }
    missing
}

/// The message of a `missing_field` refusal.
pub fn missing_message(fields: &[String]) -> String {
    format!("the offer requires these fields, which are missing or blank: {}", fields.join(", "))
}

fn canonical(name: &str) -> &str {
    ALIASES.iter().find(|(alias, _)| *alias == name).map(|(_, to)| *to).unwrap_or(name)
}

fn id_like(v: &str, what: &str) -> Result<String, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if v.len() > MAX_ID_LEN {
        return Err(format!("{what} is longer than {MAX_ID_LEN} characters"));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(format!("{what} contains control characters"));
    }
    Ok(v.to_string())
}

fn event_name(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
        return Err("event must be 1–64 letters, digits, '_', '-' or '.'".into());
    }
    Ok(v.to_ascii_lowercase())
}

/// A lead field value: trimmed, no control characters, bounded.
pub fn field_value(name: &str, v: &str) -> Result<String, String> {
    if v.len() > MAX_FIELD_LEN {
        return Err(format!("field {name} is longer than {MAX_FIELD_LEN} characters"));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(format!("field {name} contains control characters"));
    }
    Ok(v.trim().to_string())
}

fn field_name(name: &str) -> Result<String, String> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("{name:?} is not a field name (letters, digits and '_', up to 64)"));
    }
    Ok(name.to_ascii_lowercase())
}

impl Params {
    /// Parse query or form pairs of a postback or pixel. Aliases count as their
    /// canonical names; a name given twice with different values is refused, a
    /// macro left unfilled (`zip={zip}`) is no value, and unknown parameters are
    /// ignored (trackers add their own).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Params, String> {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (k, v) in pairs {
            if unfilled_macro(v) {
                continue;
            }
            let name = canonical(k);
            if let Some(prev) = seen.insert(name, v.as_str())
                && prev != v
            {
                return Err(format!("{name} is given twice with different values"));
            }
        }
        let mut p = Params::default();
        for (name, v) in seen {
            match name {
                "click_id" if !v.trim().is_empty() => p.click_id = Some(id_like(v, "click_id")?),
                "token" if !v.is_empty() => p.token = Some(id_like(v, "token")?),
                "event" if !v.trim().is_empty() => p.event = Some(event_name(v)?),
                "amount" if !v.trim().is_empty() => p.amount_minor = Some(amount(v)?),
                "txid" if !v.trim().is_empty() => p.txid = Some(id_like(v, "txid")?),
                // Read only by a signed pixel; elsewhere a tracker's own `sig` stays harmless.
                "sig" => p.sig = id_like(v, "sig").ok(),
                n if lead_field(n) => {
                    let value = field_value(n, v)?;
                    if !value.is_empty() {
                        p.fields.insert(n.to_string(), value);
                    }
                }
                _ => {}
            }
        }
        Ok(p)
    }

    /// Lead fields from an API body or a form: names checked, values bounded.
    pub fn set_fields<'a>(&mut self, fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), String> {
        for (k, v) in fields {
            let name = field_name(k)?;
            let value = field_value(&name, v)?;
            if !value.is_empty() {
                self.fields.insert(name, value);
            }
            if self.fields.len() > MAX_FIELDS {
                return Err(format!("at most {MAX_FIELDS} fields"));
            }
        }
        Ok(())
    }

    pub fn set_click_id(&mut self, v: &str) -> Result<(), String> {
        self.click_id = if v.trim().is_empty() { None } else { Some(id_like(v, "click_id")?) };
        Ok(())
    }
    pub fn set_event(&mut self, v: &str) -> Result<(), String> {
        self.event = if v.trim().is_empty() { None } else { Some(event_name(v)?) };
        Ok(())
    }
    pub fn set_txid(&mut self, v: &str) -> Result<(), String> {
        self.txid = if v.trim().is_empty() { None } else { Some(id_like(v, "txid")?) };
        Ok(())
    }
    pub fn set_amount(&mut self, v: &str) -> Result<(), String> {
        self.amount_minor = if v.trim().is_empty() { None } else { Some(amount(v)?) };
        Ok(())
    }
}

/// A sale amount: a non-negative decimal with at most two places.
fn amount(v: &str) -> Result<i64, String> {
    let minor = parse_minor(v)?;
    if minor < 0 {
        return Err("amount must not be negative".into());
    }
    if minor > MAX_AMOUNT_MINOR {
        return Err("amount is larger than 1,000,000,000.00".into());
    }
    Ok(minor)
}

/// The unique key of a conversion on its offer. With a click: the transaction id
/// under that click (`tx:{click}:{txid}`), else the click and event
/// (`ev:{click}:{event}`). Without a click (a publisher's own lead): the
/// publisher's transaction id (`pub:{publisher}:{txid}`), else none. Transaction
/// ids are scoped by click or publisher so that nobody can claim someone else's.
pub fn dedupe_key(txid: Option<&str>, click_id: Option<&str>, publisher_id: i64, event: &str) -> Option<String> {
    match (txid, click_id) {
        (Some(tx), Some(click)) => Some(format!("tx:{click}:{tx}")),
        (None, Some(click)) => Some(format!("ev:{click}:{event}")),
        (Some(tx), None) => Some(format!("pub:{publisher_id}:{tx}")),
        (None, None) => None,
    }
}

/// Whether a conversion of a click and event repeats an earlier lead of the same
/// click and event: yes unless both carry transaction ids and they differ (two
/// sales from one click are two conversions).
pub fn same_conversion(earlier_txid: Option<&str>, txid: Option<&str>) -> bool {
    match (earlier_txid, txid) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The largest sale amount taken (minor units): 1,000,000,000.00.
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn aliases_mean_the_canonical_names() {
        let p = Params::from_pairs(&pairs(&[
            ("transaction_id", "abc"),
            ("security_token", "tok"),
            ("goal", "Deposit"),
            ("sum", "12.5"),
            ("adv_sub", "T-1"),
            ("email", " a@b.co "),
            ("utm", "ignored"),
        ]))
        .expect("valid");
        assert_eq!(p.click_id.as_deref(), Some("abc"));
        assert_eq!(p.token.as_deref(), Some("tok"));
        assert_eq!(p.event.as_deref(), Some("deposit"));
        assert_eq!(p.amount_minor, Some(1250));
        assert_eq!(p.txid.as_deref(), Some("T-1"));
        assert_eq!(p.fields.get("email").map(String::as_str), Some("a@b.co"));
        let order = Params::from_pairs(&pairs(&[("order_id", "O-9")])).expect("valid");
        assert_eq!(order.txid.as_deref(), Some("O-9"));
    }

    #[test]
    fn conflicting_or_bad_values_are_refused() {
        assert!(Params::from_pairs(&pairs(&[("txid", "a"), ("order_id", "b")])).is_err());
        assert!(Params::from_pairs(&pairs(&[("txid", "a"), ("order_id", "a")])).is_ok());
        assert!(Params::from_pairs(&pairs(&[("amount", "12.345")])).is_err());
        assert!(Params::from_pairs(&pairs(&[("amount", "-1")])).is_err());
        assert!(Params::from_pairs(&pairs(&[("amount", "1e9")])).is_err());
        assert!(Params::from_pairs(&pairs(&[("event", "a b")])).is_err());
        assert!(Params::from_pairs(&pairs(&[("click_id", &"x".repeat(129))])).is_err());
        assert!(Params::from_pairs(&pairs(&[("txid", "a\u{0}b")])).is_err());
        assert!(Params::from_pairs(&pairs(&[("name", &"n".repeat(600))])).is_err());
        let mut p = Params::default();
        assert!(p.set_fields([("bad name", "x")]).is_err());
        assert!(p.set_fields([("zip", "12345")]).is_ok());
    }

    #[test]
    fn every_field_an_offer_can_require_is_taken_from_a_postback() {
        let mut raw: Vec<(String, String)> = LEAD_FIELDS.iter().map(|f| (f.to_string(), format!("v-{f}"))).collect();
        raw.push(("first_name".into(), "Ann".into()));
        raw.push(("tracker_id".into(), "ignored".into()));
        let p = Params::from_pairs(&raw).expect("valid");
        for f in LEAD_FIELDS {
            assert_eq!(p.fields.get(*f).map(String::as_str), Some(format!("v-{f}").as_str()), "{f}");
        }
        assert_eq!(p.fields.get("first_name").map(String::as_str), Some("Ann"));
        assert!(!p.fields.contains_key("tracker_id"));
        let long = Params::from_pairs(&pairs(&[("zip", &"9".repeat(MAX_FIELD_LEN + 1))])).expect_err("too long");
        assert!(long.contains("zip"), "{long}");
    }

    #[test]
    fn unfilled_macros_are_no_value() {
        let p = Params::from_pairs(&pairs(&[
            ("click_id", "abc"),
            ("email", "{email}"),
            ("zip", " {zip} "),
            ("txid", "{txid}"),
            ("email", "a@b.co"),
            ("city", "{not a macro}"),
        ]))
        .expect("valid: an unfilled macro does not conflict with a value");
        assert_eq!(p.fields.get("email").map(String::as_str), Some("a@b.co"));
        assert!(!p.fields.contains_key("zip") && p.txid.is_none());
        assert_eq!(p.fields.get("city").map(String::as_str), Some("{not a macro}"));
    }

    #[test]
    fn missing_fields_are_the_required_ones_absent_or_blank() {
        let req = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut f = BTreeMap::new();
        f.insert("email".to_string(), "a@b.co".to_string());
        f.insert("city".to_string(), "  ".to_string());
        assert_eq!(missing_fields(&req(&["email", "zip", "city", "zip"]), &f), vec!["zip", "city"]);
        assert!(missing_fields(&req(&[]), &f).is_empty());
        assert!(missing_fields(&req(&["email", " "]), &f).is_empty());
        assert_eq!(missing_fields(&req(&["name"]), &f), vec!["name"]);
        f.insert("first_name".to_string(), "Ann".to_string());
        f.insert("last_name".to_string(), "Lee".to_string());
        assert!(missing_fields(&req(&["name"]), &f).is_empty(), "a name in two parts");
        assert!(missing_message(&req(&["zip", "city"])).ends_with("zip, city"));
        assert_eq!((Reason::MissingField.code(), Reason::MissingField.http_status()), ("missing_field", 422));
    }

    #[test]
    fn every_reason_has_a_4xx_and_a_code() {
        for r in Reason::ALL {
            assert!((400..500).contains(&r.http_status()), "{r}");
            assert!(!r.explain().is_empty());
        }
        assert_eq!(Reason::ClickOfferMismatch.code(), "click_offer_mismatch");
    }

    #[test]
    fn transaction_ids_are_scoped_by_click_or_publisher() {
        assert_eq!(dedupe_key(Some("T1"), Some("c"), 9, "lead").as_deref(), Some("tx:c:T1"));
        assert_eq!(dedupe_key(None, Some("c"), 9, "lead").as_deref(), Some("ev:c:lead"));
        assert_eq!(dedupe_key(Some("T1"), None, 9, "lead").as_deref(), Some("pub:9:T1"));
        assert_eq!(dedupe_key(None, None, 9, "lead"), None);
        assert!(same_conversion(None, Some("T")) && same_conversion(Some("T"), None) && same_conversion(None, None));
        assert!(same_conversion(Some("T"), Some("T")) && !same_conversion(Some("T"), Some("U")));
        assert!(Params::from_pairs(&pairs(&[("amount", "1000000000.01")])).is_err());
    }
}
