//! Offers as the advertiser defines them (DESIGN §4): payout model, price, caps,
//! quality terms with scrub parameters, visibility, and the status machine.
//! [`OfferBody`] is the JSON body of the API and the target of the web form;
//! [`validate`] is the one gate both go through.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::money::{format_minor, parse_minor};

pub const CATEGORIES: &[&str] = &[
    "finance",
    "insurance",
    "home",
    "health",
    "education",
    "ecommerce",
    "software",
    "travel",
    "gaming",
    "dating",
    "automotive",
    "legal",
    "sweepstakes",
    "other",
];

/// Macros a landing URL may contain; each is replaced at click time.
pub const LANDING_MACROS: &[&str] =
    &["click_id", "offer_id", "publisher_id", "sub1", "sub2", "sub3", "sub4", "sub5", "source"];

/// Lead fields an offer may require.
pub const LEAD_FIELDS: &[&str] =
    &["name", "email", "phone", "country", "address", "city", "zip", "state", "company", "age", "gender"];

pub const MAX_PRICE_MINOR: i64 = 100_000_000; // 1,000,000.00

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayoutModel {
    Cpl,
    Cpa,
    Cps,
}

impl PayoutModel {
    pub const ALL: [PayoutModel; 3] = [PayoutModel::Cpl, PayoutModel::Cpa, PayoutModel::Cps];

    pub fn as_str(self) -> &'static str {
        match self {
            PayoutModel::Cpl => "cpl",
            PayoutModel::Cpa => "cpa",
            PayoutModel::Cps => "cps",
        }
    }
    pub fn parse(s: &str) -> Option<PayoutModel> {
        match s {
            "cpl" => Some(PayoutModel::Cpl),
            "cpa" => Some(PayoutModel::Cpa),
            "cps" => Some(PayoutModel::Cps),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            PayoutModel::Cpl => "per lead (CPL)",
            PayoutModel::Cpa => "per action (CPA)",
            PayoutModel::Cps => "share of sale (CPS)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Approval,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Approval => "approval",
            Visibility::Private => "private",
        }
    }
    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "public" => Some(Visibility::Public),
            "approval" => Some(Visibility::Approval),
            "private" => Some(Visibility::Private),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferStatus {
    Draft,
    PendingReview,
    Active,
    Paused,
    Archived,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 5] = [
        OfferStatus::Draft,
        OfferStatus::PendingReview,
        OfferStatus::Active,
        OfferStatus::Paused,
        OfferStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Draft => "draft",
            OfferStatus::PendingReview => "pending_review",
            OfferStatus::Active => "active",
            OfferStatus::Paused => "paused",
            OfferStatus::Archived => "archived",
        }
    }
    pub fn parse(s: &str) -> Option<OfferStatus> {
        match s {
            "draft" => Some(OfferStatus::Draft),
            "pending_review" => Some(OfferStatus::PendingReview),
            "active" => Some(OfferStatus::Active),
            "paused" => Some(OfferStatus::Paused),
            "archived" => Some(OfferStatus::Archived),
            _ => None,
        }
    }
}

/// Who asks for a status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Owner,
    Admin,
}

/// The offer status machine: `draft → pending_review → active ⇄ paused → archived`.
/// An admin's rejection sends a reviewed offer back to `draft` with a note.
pub fn transition(from: OfferStatus, to: OfferStatus, by: Actor) -> Result<(), String> {
    use OfferStatus::*;
    let allowed = match (from, to) {
        (Draft, PendingReview) => by == Actor::Owner,
        (PendingReview, Active) | (PendingReview, Draft) => by == Actor::Admin,
        (Active, Paused) => true,
        (Paused, Active) => true,
        (Draft | PendingReview | Active | Paused, Archived) => true,
        _ => false,
    };
    if allowed { Ok(()) } else { Err(format!("an offer cannot go from {} to {}", from.as_str(), to.as_str())) }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Caps {
    pub daily: Option<i64>,
    pub weekly: Option<i64>,
    pub monthly: Option<i64>,
    pub total: Option<i64>,
    /// Decimal string in the API (`"500.00"`).
    pub daily_budget: Option<String>,
    pub publisher_daily: Option<i64>,
    pub publisher_total: Option<i64>,
}

/// An offer's caps and daily budget as validated and stored: the columns of the
/// `offers` row, one struct for the domain, the row read and the row written. The
/// API and the form show them as [`Caps`].
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    diesel::AsChangeset,
)]
#[diesel(table_name = crate::db::schema::offers, treat_none_as_null = true)]
pub struct Limits {
    pub cap_daily: Option<i64>,
    pub cap_weekly: Option<i64>,
    pub cap_monthly: Option<i64>,
    pub cap_total: Option<i64>,
    pub daily_budget_minor: Option<i64>,
    pub publisher_cap_daily: Option<i64>,
    pub publisher_cap_total: Option<i64>,
}

impl Limits {
    /// The caps as the API and the form show them (the budget as a decimal string).
    pub fn caps(&self) -> Caps {
        Caps {
            daily: self.cap_daily,
            weekly: self.cap_weekly,
            monthly: self.cap_monthly,
            total: self.cap_total,
            daily_budget: self.daily_budget_minor.map(super::money::format_minor),
            publisher_daily: self.publisher_cap_daily,
            publisher_total: self.publisher_cap_total,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scrub {
    pub duplicate_days: u32,
    pub duplicate_scope: String,
    pub min_seconds: u32,
    /// `slow_conversion`: a conversion more than this many days after its click is
    /// rejected; 0 = off (left out of the JSON then).
    #[serde(skip_serializing_if = "is_zero")]
    pub max_conversion_days: u32,
    pub max_leads_per_ip: u32,
    /// `duplicate_click`: the window, in minutes, in which the earlier clicks of the
    /// same IP address and user agent on the same link are counted; 0 = the rule is
    /// off (then left out of the JSON, as are both thresholds at 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub duplicate_click_minutes: u32,
    /// More than this many earlier clicks in the window flag the lead: the check
    /// passes, and the quality score loses points.
    #[serde(skip_serializing_if = "is_zero")]
    pub duplicate_click_flag: u32,
    /// More than this many reject it; 0 = never rejects, only flags.
    #[serde(skip_serializing_if = "is_zero")]
    pub duplicate_click_reject: u32,
    pub block_disposable: bool,
    pub block_bots: bool,
    /// `datacenter_ip`: the visitor's address is in a hosting or cloud range. Left
    /// out of the JSON when on (its default), so terms read back as they were sent.
    #[serde(skip_serializing_if = "is_on")]
    pub block_datacenter: bool,
    /// `relay`: the visitor came through a privacy relay (off unless the offer
    /// switches it on: a person is behind a relay). Left out of the JSON when off.
    #[serde(skip_serializing_if = "is_off")]
    pub block_relay: bool,
    pub check_email: bool,
    pub check_phone: bool,
    pub check_name: bool,
    pub min_score: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_on(b: &bool) -> bool {
    *b
}

fn is_off(b: &bool) -> bool {
    !*b
}

/// `duplicate_click`: the longest window, in minutes (a day).
pub const DUPLICATE_CLICK_MAX_MINUTES: u32 = 1440;
/// `duplicate_click`: the highest threshold; below what a visitor's clicks are
/// counted up to ([`super::scrub::REPEATS_COUNTED`]), so "more than" it is told.
pub const DUPLICATE_CLICK_MAX_THRESHOLD: u32 = 50;
/// The window clicks are counted in while `duplicate_click` is off: a click with an
/// earlier one of its visitor within it is no unique click (DESIGN §9).
pub const DEFAULT_REPEAT_WINDOW_MINUTES: u32 = 60;

const _: () = assert!((DUPLICATE_CLICK_MAX_THRESHOLD as usize) < super::scrub::REPEATS_COUNTED);

impl Scrub {
    /// The window a click's earlier clicks are counted in: the `duplicate_click`
    /// rule's, else [`DEFAULT_REPEAT_WINDOW_MINUTES`].
    pub fn repeat_window_minutes(&self) -> u32 {
        if self.duplicate_click_minutes > 0 { self.duplicate_click_minutes } else { DEFAULT_REPEAT_WINDOW_MINUTES }
    }
}

impl Default for Scrub {
    fn default() -> Self {
        Scrub {
            duplicate_days: 30,
            duplicate_scope: "offer".into(),
            min_seconds: 0,
            max_conversion_days: 0,
            max_leads_per_ip: 0,
            duplicate_click_minutes: 0,
            duplicate_click_flag: 0,
            duplicate_click_reject: 0,
            block_disposable: true,
            block_bots: true,
            block_datacenter: true,
            block_relay: false,
            check_email: true,
            check_phone: true,
            check_name: true,
            min_score: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Terms {
    pub required_fields: Vec<String>,
    pub hold_hours: u32,
    pub return_window_days: u32,
    pub max_return_rate_pct: u32,
    pub conversion_window_days: u32,
    pub allowed_countries: Vec<String>,
    /// Countries bought (targeting, ISO codes): a click located elsewhere goes to
    /// the fallback; empty: every country (left out of the JSON).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_countries: Vec<String>,
    /// Device kinds bought (`desktop`, `phone`, `tablet`); empty: every device
    /// (and then left out of the JSON, as terms written before targeting read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_devices: Vec<String>,
    /// OS families bought (`iOS`, `Android`, `Windows`, `macOS`, `Linux`,
    /// `ChromeOS`); empty: every system (left out of the JSON).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_os: Vec<String>,
    pub scrub: Scrub,
    /// Who decides a lead (DESIGN §6): `rules` (the scrub rules, at hold end) or
    /// `advertiser` (its verdict; the scrub outcome is a recommendation).
    pub decision: String,
    /// `advertiser` mode: what a lead without a verdict becomes when its hold
    /// ends, `approve` or `reject`.
    pub decision_default: String,
}

/// `terms.decision`: who decides a lead.
pub const DECISION_MODES: [&str; 2] = ["rules", "advertiser"];
/// `terms.decision_default`: a lead without a verdict at hold end in `advertiser` mode.
pub const DECISION_DEFAULTS: [&str; 2] = ["approve", "reject"];

impl Terms {
    /// The advertiser's verdict decides (`advertiser` mode).
    pub fn advertiser_decides(&self) -> bool {
        self.decision == "advertiser"
    }
    /// In `advertiser` mode, whether a lead without a verdict is approved at hold end.
    pub fn default_approves(&self) -> bool {
        self.decision_default != "reject"
    }
}

impl Default for Terms {
    fn default() -> Self {
        Terms {
            required_fields: vec!["email".into()],
            hold_hours: 72,
            return_window_days: 7,
            max_return_rate_pct: 20,
            conversion_window_days: 30,
            allowed_countries: vec![],
            target_countries: vec![],
            target_devices: vec![],
            target_os: vec![],
            scrub: Scrub::default(),
            decision: "rules".into(),
            decision_default: "approve".into(),
        }
    }
}

/// The offer body of the JSON API (DESIGN §11). Every field may be omitted and
/// takes its default; unknown fields are refused so typos do not pass silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfferBody {
    pub name: String,
    pub description: String,
    pub category: String,
    pub landing_url: String,
    pub fallback_url: Option<String>,
    pub payout_model: String,
    pub price: Option<String>,
    pub rate_bps: Option<i64>,
    pub events: Vec<String>,
    pub visibility: String,
    pub timezone: String,
    pub caps: Caps,
    pub terms: Terms,
    /// The browser pixel (`/px/…`). `None`: on for CPL and CPA, off for CPS.
    pub pixel: Option<bool>,
    /// The hosted lead form (`/f/{token}`). `None`: on for CPL and CPA; never for CPS.
    pub hosted_form: Option<bool>,
    /// Publishers may send leads they collect (`POST /api/v1/leads`); never for CPS.
    pub publisher_leads: bool,
    /// The pixel must carry `sig`, the HMAC-SHA256 of its click id, txid and amount.
    pub pixel_signature: bool,
    /// CPS only: the largest sale amount taken (decimal string); `None` is
    /// [`DEFAULT_MAX_SALE_MINOR`]. Ignored (and read as `null`) for CPL and CPA.
    pub max_sale_amount: Option<String>,
    /// Addresses or CIDRs the server postback may come from; empty: any sender.
    pub postback_ips: Vec<String>,
    /// Hours before an approved change that lowers the payout or tightens the terms
    /// takes effect; `None` is 24.
    pub notice_hours: Option<u32>,
}

/// A CPS offer's maximum sale amount when the advertiser sets none: 10,000.00.
pub const DEFAULT_MAX_SALE_MINOR: i64 = 1_000_000;
/// The notice period of an offer that sets none.
pub const DEFAULT_NOTICE_HOURS: u32 = 24;
/// At most this many entries in a postback allow-list.
pub const MAX_POSTBACK_IPS: usize = 100;

/// A validated offer, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferSpec {
    pub listing: Listing,
    pub payout_model: PayoutModel,
    pub price_minor: Option<i64>,
    pub rate_bps: Option<i32>,
    pub events: Vec<String>,
    pub visibility: Visibility,
    pub timezone: String,
    pub limits: Limits,
    pub terms: Terms,
    pub channels: Channels,
    /// Normalised: a bare address for a single host, else `net/prefix`.
    pub postback_ips: Vec<String>,
    pub notice_hours: u32,
}

impl std::ops::Deref for OfferSpec {
    type Target = Listing;
    fn deref(&self) -> &Listing {
        &self.listing
    }
}

impl std::ops::DerefMut for OfferSpec {
    fn deref_mut(&mut self) -> &mut Listing {
        &mut self.listing
    }
}

/// What a publisher reads first about an offer and where its traffic goes: one
/// struct for the validated offer, the row read, the row written and the API view.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Serialize,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    diesel::AsChangeset,
)]
#[diesel(table_name = crate::db::schema::offers, treat_none_as_null = true)]
pub struct Listing {
    pub name: String,
    pub description: String,
    pub category: String,
    pub landing_url: String,
    pub fallback_url: Option<String>,
}

/// Which channels may report an offer's conversions, and the largest sale amount
/// they may report (DESIGN "Trust"). The server postback is always open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    pub model: PayoutModel,
    pub pixel: bool,
    pub hosted_form: bool,
    pub publisher_leads: bool,
    pub pixel_signature: bool,
    /// Set for CPS offers only.
    pub max_sale_minor: Option<i64>,
}

impl Channels {
    /// What an offer of `model` gets when its body leaves the settings out.
    pub fn defaults(model: PayoutModel) -> Channels {
        let cps = model == PayoutModel::Cps;
        Channels {
            model,
            pixel: !cps,
            hosted_form: !cps,
            publisher_leads: false,
            pixel_signature: false,
            max_sale_minor: cps.then_some(DEFAULT_MAX_SALE_MINOR),
        }
    }
}

/// The settings a PATCH leaves to the payout model's defaults when it moves an
/// offer to or from CPS without naming them: the old model's values would be
/// refused (the hosted form on a CPS offer) or would open a channel the new
/// model keeps closed (the pixel).
pub const MODEL_DEPENDENT: [&str; 4] = ["pixel", "hosted_form", "publisher_leads", "max_sale_amount"];

/// Drop from a merged PATCH body the [`MODEL_DEPENDENT`] settings that `patch`
/// does not name, when it changes the payout model to or from CPS.
pub fn reset_model_defaults(merged: &mut serde_json::Value, patch: &serde_json::Value, old_model: PayoutModel) {
    let Some(new_model) = patch.get("payout_model").and_then(|v| v.as_str()).and_then(|m| PayoutModel::parse(m.trim()))
    else {
        return;
    };
    if (new_model == PayoutModel::Cps) == (old_model == PayoutModel::Cps) {
        return;
    }
    if let Some(obj) = merged.as_object_mut() {
        for key in MODEL_DEPENDENT {
            if patch.get(key).is_none() {
                obj.remove(key);
            }
        }
    }
}

/// A postback allow-list entry in its stored form: a bare address for one host,
/// else `network/prefix`.
fn allow_list_entry(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 64 {
        return None;
    }
    match crate::config::parse_cidrs(raw).ok()?.as_slice() {
        [net] => Some(allow_list_form(net)),
        _ => None,
    }
}

/// A network as an allow-list shows it: a bare address for one host, else
/// `network/prefix`.
pub fn allow_list_form(net: &ipnet::IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() { net.addr().to_string() } else { net.to_string() }
}

/// Field → message; the keys are the body's dotted paths (`caps.daily`, `terms.hold_hours`).
pub type FieldErrors = BTreeMap<String, String>;

/// Check an http(s) URL whose `{macro}`s are known; returns the problem, if any.
pub fn url_problem(raw: &str, macros: &[&str]) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Some("Enter an address starting with https:// or http://.".into());
    }
    if let Some(p) = crate::domain::text::one_line_problem(raw) {
        return Some(p);
    }
    if raw.len() > 2000 {
        return Some("Use at most 2000 characters.".into());
    }
    // Macros may fill the path, query and fragment, never the scheme or the host:
    // `https://{sub1}/` would let anyone send our tracking domain's traffic anywhere.
    let authority_end = raw
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| raw[start..].find(['/', '?', '#']).map(|e| start + e))
        .unwrap_or(raw.len());
    if raw[..authority_end].contains('{') {
        return Some("Macros are allowed in the path and query, not in the scheme or host.".into());
    }
    let mut plain = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('{') {
        plain.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            return Some("A { has no matching }.".into());
        };
        let name = &rest[open + 1..open + close];
        if !macros.contains(&name) {
            return Some(format!(
                "Unknown macro {{{name}}}; use {}.",
                macros.iter().map(|m| format!("{{{m}}}")).collect::<Vec<_>>().join(", ")
            ));
        }
        plain.push('x');
        rest = &rest[open + close + 1..];
    }
    plain.push_str(rest);
    match url::Url::parse(&plain) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => None,
        Ok(_) => Some("Only http:// and https:// addresses are allowed.".into()),
        Err(_) => Some("This is not a valid web address.".into()),
    }
}

fn check_cap(errors: &mut FieldErrors, field: &str, v: Option<i64>) {
    if v.is_some_and(|n| !(1..=1_000_000_000).contains(&n)) {
        errors.insert(field.into(), "Use a whole number of at least 1, or leave it empty for no cap.".into());
    }
}

fn check_range(errors: &mut FieldErrors, field: &str, v: u32, lo: u32, hi: u32) {
    if !(lo..=hi).contains(&v) {
        errors.insert(field.into(), format!("Use a whole number from {lo} to {hi}."));
    }
}

/// `duplicate_click`: a window of at most a day, thresholds of at most
/// [`DUPLICATE_CLICK_MAX_THRESHOLD`], a rejection no lower than the flag, and no
/// thresholds without a window.
fn check_duplicate_click(e: &mut FieldErrors, s: &Scrub) {
    let max = DUPLICATE_CLICK_MAX_THRESHOLD;
    check_range(e, "terms.scrub.duplicate_click_minutes", s.duplicate_click_minutes, 0, DUPLICATE_CLICK_MAX_MINUTES);
    check_range(e, "terms.scrub.duplicate_click_flag", s.duplicate_click_flag, 0, max);
    check_range(e, "terms.scrub.duplicate_click_reject", s.duplicate_click_reject, 0, max);
    if e.contains_key("terms.scrub.duplicate_click_flag") || e.contains_key("terms.scrub.duplicate_click_reject") {
        return;
    }
    if s.duplicate_click_reject > 0 && s.duplicate_click_reject < s.duplicate_click_flag {
        e.insert(
            "terms.scrub.duplicate_click_reject".into(),
            format!(
                "Reject above at least as many clicks as are flagged ({}), or use 0 to flag only.",
                s.duplicate_click_flag
            ),
        );
    }
    if s.duplicate_click_minutes == 0 && (s.duplicate_click_flag > 0 || s.duplicate_click_reject > 0) {
        e.entry("terms.scrub.duplicate_click_minutes".into()).or_insert_with(|| {
            "Set the window in minutes for the repeated-click thresholds, or set them to 0 to turn the rule off.".into()
        });
    }
}

fn is_event_name(e: &str) -> bool {
    !e.is_empty() && e.len() <= 40 && e.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Drop repeated entries, keeping the order the advertiser gave (bodies round-trip).
fn dedup_keep_order(list: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    list.retain(|v| seen.insert(v.clone()));
}

pub fn validate(body: &OfferBody) -> Result<OfferSpec, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 120 {
        e.insert("name".into(), "Enter a name of 1 to 120 characters.".into());
    }
    crate::domain::text::check_one_line(&mut e, "name", &name);
    if let Some(p) = crate::domain::text::multi_line_problem(&body.description) {
        e.insert("description".into(), p);
    }
    if body.description.chars().count() > 5000 {
        e.insert("description".into(), "Use at most 5000 characters.".into());
    }
    let category = body.category.trim().to_lowercase();
    if !CATEGORIES.contains(&category.as_str()) {
        e.insert("category".into(), format!("Choose one of: {}.", CATEGORIES.join(", ")));
    }
    if let Some(p) = url_problem(&body.landing_url, LANDING_MACROS) {
        e.insert("landing_url".into(), p);
    }
    let fallback_url = body.fallback_url.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(p) = fallback_url.as_deref().and_then(|u| url_problem(u, &[])) {
        e.insert("fallback_url".into(), p);
    }

    let model = PayoutModel::parse(body.payout_model.trim());
    let mut price_minor = None;
    let mut rate_bps = None;
    match model {
        None => {
            e.insert("payout_model".into(), "Choose cpl, cpa or cps.".into());
        }
        Some(PayoutModel::Cpl | PayoutModel::Cpa) => match body.price.as_deref().map(parse_minor) {
            Some(Ok(p)) if (1..=MAX_PRICE_MINOR).contains(&p) => price_minor = Some(p),
            Some(Ok(_)) => {
                e.insert("price".into(), format!("Use a price from 0.01 to {}.", format_minor(MAX_PRICE_MINOR)));
            }
            Some(Err(m)) => {
                e.insert("price".into(), format!("{m}."));
            }
            None => {
                e.insert("price".into(), "Enter the price you pay per qualified lead or action, e.g. 12.50.".into());
            }
        },
        Some(PayoutModel::Cps) => match body.rate_bps {
            Some(r) if (1..=10_000).contains(&r) => rate_bps = Some(r as i32),
            _ => {
                e.insert(
                    "rate_bps".into(),
                    "Enter the share of each sale in basis points, 1 to 10000 (1500 = 15 %).".into(),
                );
            }
        },
    }
    // Given with a CPL or CPA model, a share still has to be one (the schema's range).
    if model.is_some_and(|m| m != PayoutModel::Cps) && body.rate_bps.is_some_and(|r| !(1..=10_000).contains(&r)) {
        e.insert("rate_bps".into(), "Use a share of 1 to 10000 basis points, or leave it out.".into());
    }
    let mut events: Vec<String> =
        body.events.iter().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect();
    dedup_keep_order(&mut events);
    if events.is_empty() {
        events.push(match model {
            Some(PayoutModel::Cps) => "sale".into(),
            _ => "lead".into(),
        });
    }
    if events.len() > 20 || !events.iter().all(|ev| is_event_name(ev)) {
        e.insert(
            "events".into(),
            "Name events with lower-case letters, digits and _ (e.g. registration, deposit); at most 20.".into(),
        );
    }

    let visibility = Visibility::parse(body.visibility.trim()).unwrap_or_else(|| {
        if !body.visibility.trim().is_empty() {
            e.insert("visibility".into(), "Choose public, approval or private.".into());
        }
        Visibility::Public
    });
    let timezone = if body.timezone.trim().is_empty() { "UTC".to_string() } else { body.timezone.trim().to_string() };
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        e.insert("timezone".into(), "Use a time zone name like UTC or America/New_York.".into());
    }

    let c = &body.caps;
    check_cap(&mut e, "caps.daily", c.daily);
    check_cap(&mut e, "caps.weekly", c.weekly);
    check_cap(&mut e, "caps.monthly", c.monthly);
    check_cap(&mut e, "caps.total", c.total);
    check_cap(&mut e, "caps.publisher_daily", c.publisher_daily);
    check_cap(&mut e, "caps.publisher_total", c.publisher_total);
    let daily_budget_minor = match c.daily_budget.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match parse_minor(raw) {
            Ok(v) if v > 0 => Some(v),
            Ok(_) => {
                e.insert(
                    "caps.daily_budget".into(),
                    "Use an amount above zero, or leave it empty for no budget.".into(),
                );
                None
            }
            Err(m) => {
                e.insert("caps.daily_budget".into(), format!("{m}."));
                None
            }
        },
    };

    let mut terms = body.terms.clone();
    terms.required_fields =
        terms.required_fields.iter().map(|f| f.trim().to_lowercase()).filter(|f| !f.is_empty()).collect();
    dedup_keep_order(&mut terms.required_fields);
    if let Some(bad) = terms.required_fields.iter().find(|f| !LEAD_FIELDS.contains(&f.as_str())) {
        e.insert("terms.required_fields".into(), format!("Unknown field {bad:?}; use {}.", LEAD_FIELDS.join(", ")));
    }
    check_range(&mut e, "terms.hold_hours", terms.hold_hours, 0, 2160);
    check_range(&mut e, "terms.return_window_days", terms.return_window_days, 0, 90);
    check_range(&mut e, "terms.max_return_rate_pct", terms.max_return_rate_pct, 0, 100);
    check_range(&mut e, "terms.conversion_window_days", terms.conversion_window_days, 1, 365);
    for (field, list) in [
        ("terms.allowed_countries", &mut terms.allowed_countries),
        ("terms.target_countries", &mut terms.target_countries),
    ] {
        *list = list.iter().map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty()).collect();
        dedup_keep_order(list);
        if let Some(bad) = list.iter().find(|c| c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase())) {
            e.insert(field.into(), format!("{bad:?} is not a two-letter country code like US or GB."));
        }
    }
    if let Err(bad) = super::targeting::normalise_devices(&mut terms.target_devices) {
        e.insert(
            "terms.target_devices".into(),
            format!("{bad:?} is not a device kind; use {}.", super::targeting::DEVICE_CHOICES.join(", ")),
        );
    }
    if let Err(bad) = super::targeting::normalise_os(&mut terms.target_os) {
        let choices: Vec<&str> = super::targeting::os_choices().collect();
        e.insert("terms.target_os".into(), format!("{bad:?} is not an operating system; use {}.", choices.join(", ")));
    }
    let s = &mut terms.scrub;
    s.duplicate_scope = s.duplicate_scope.trim().to_lowercase();
    if !matches!(s.duplicate_scope.as_str(), "offer" | "advertiser") {
        e.insert("terms.scrub.duplicate_scope".into(), "Choose offer or advertiser.".into());
    }
    check_range(&mut e, "terms.scrub.duplicate_days", s.duplicate_days, 0, 365);
    check_range(&mut e, "terms.scrub.min_seconds", s.min_seconds, 0, 3600);
    check_range(&mut e, "terms.scrub.max_conversion_days", s.max_conversion_days, 0, 365);
    check_range(&mut e, "terms.scrub.max_leads_per_ip", s.max_leads_per_ip, 0, 10_000);
    check_duplicate_click(&mut e, s);
    check_range(&mut e, "terms.scrub.min_score", s.min_score, 0, 100);
    terms.decision = terms.decision.trim().to_lowercase();
    if !DECISION_MODES.contains(&terms.decision.as_str()) {
        e.insert("terms.decision".into(), "Choose rules or advertiser.".into());
    }
    terms.decision_default = terms.decision_default.trim().to_lowercase();
    if !DECISION_DEFAULTS.contains(&terms.decision_default.as_str()) {
        e.insert("terms.decision_default".into(), "Choose approve or reject.".into());
    }

    let (channels, postback_ips, notice_hours) = check_channels(&mut e, body, model.unwrap_or(PayoutModel::Cpl));

    if !e.is_empty() {
        return Err(e);
    }
    let model = model.unwrap_or(PayoutModel::Cpl);
    Ok(OfferSpec {
        listing: Listing {
            name,
            description: body.description.trim().to_string(),
            category,
            landing_url: body.landing_url.trim().to_string(),
            fallback_url,
        },
        payout_model: model,
        price_minor,
        rate_bps,
        events,
        visibility,
        timezone,
        limits: Limits {
            cap_daily: c.daily,
            cap_weekly: c.weekly,
            cap_monthly: c.monthly,
            cap_total: c.total,
            daily_budget_minor,
            publisher_cap_daily: c.publisher_daily,
            publisher_cap_total: c.publisher_total,
        },
        terms,
        channels,
        postback_ips,
        notice_hours,
    })
}

/// The channel settings of a body: the payout model's defaults where it leaves
/// them out; the hosted form and publisher leads refused on CPS (they carry no
/// amount, and a CPS price is a share of one); the maximum sale amount of a CPS
/// offer above zero and at most [`MAX_AMOUNT_MINOR`](crate::domain::intake::MAX_AMOUNT_MINOR).
fn check_channels(e: &mut FieldErrors, body: &OfferBody, model: PayoutModel) -> (Channels, Vec<String>, u32) {
    let mut ch = Channels::defaults(model);
    let cps = model == PayoutModel::Cps;
    ch.pixel = body.pixel.unwrap_or(ch.pixel);
    ch.hosted_form = body.hosted_form.unwrap_or(ch.hosted_form);
    ch.publisher_leads = body.publisher_leads;
    ch.pixel_signature = body.pixel_signature;
    if cps && ch.hosted_form {
        e.insert(
            "hosted_form".into(),
            "A share-of-sale (CPS) offer cannot take leads through the hosted form: a form has no sale amount.".into(),
        );
    }
    if cps && ch.publisher_leads {
        e.insert(
            "publisher_leads".into(),
            "A share-of-sale (CPS) offer cannot take leads from publishers: only you can report a sale.".into(),
        );
    }
    if cps {
        let max = crate::domain::intake::MAX_AMOUNT_MINOR;
        match body.max_sale_amount.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(parse_minor) {
            None => {}
            Some(Ok(v)) if (1..=max).contains(&v) => ch.max_sale_minor = Some(v),
            Some(Ok(_)) => {
                e.insert("max_sale_amount".into(), format!("Use an amount from 0.01 to {}.", format_minor(max)));
            }
            Some(Err(m)) => {
                e.insert("max_sale_amount".into(), format!("{m}."));
            }
        }
    }
    let mut ips = Vec::new();
    for raw in &body.postback_ips {
        match allow_list_entry(raw) {
            Some(entry) => ips.push(entry),
            None => {
                e.insert(
                    "postback_ips".into(),
                    format!("{:?} is not an IP address or a CIDR like 198.51.100.0/24.", raw.trim()),
                );
                break;
            }
        }
    }
    dedup_keep_order(&mut ips);
    if ips.len() > MAX_POSTBACK_IPS {
        e.insert("postback_ips".into(), format!("Use at most {MAX_POSTBACK_IPS} addresses or networks."));
    }
    let notice_hours = body.notice_hours.unwrap_or(DEFAULT_NOTICE_HOURS);
    check_range(e, "notice_hours", notice_hours, 0, 720);
    (ch, ips, notice_hours)
}

/// Round half up, for non-negative money: `round_half_up(n × bps / 10000)`.
pub fn apply_bps(amount_minor: i64, bps: i64) -> i64 {
    let n = i128::from(amount_minor) * i128::from(bps);
    let q = (n + 5_000).div_euclid(10_000);
    i64::try_from(q).unwrap_or(i64::MAX)
}

/// `(fee, payout)` of a price: fee = round_half_up(price × fee_bps / 10000), payout = price − fee.
pub fn split_price(price_minor: i64, fee_bps: i64) -> (i64, i64) {
    let fee = apply_bps(price_minor, fee_bps);
    (fee, price_minor - fee)
}

/// Apply an RFC 7386 JSON merge patch: objects merge, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match patch {
        serde_json::Value::Object(p) => {
            if !target.is_object() {
                *target = serde_json::Value::Object(Default::default());
            }
            if let serde_json::Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// `duplicate_click` in plain words, without a capital or a full stop ("a lead
/// whose click follows more than 5 clicks … is flagged …"), as the terms and the
/// notice of a change tell it; None when the rule is off.
pub fn duplicate_click_words(s: &Scrub) -> Option<String> {
    if s.duplicate_click_minutes == 0 {
        return None;
    }
    let window = crate::i18n::duration_words(i64::from(s.duplicate_click_minutes) * 60);
    let follows = |n: u32| if n == 0 { "another click".to_string() } else { format!("more than {n} clicks") };
    let (flag, reject) = (s.duplicate_click_flag, s.duplicate_click_reject);
    let lead = |n: u32| {
        format!(
            "a lead whose click follows {} from the same IP address and browser on this link within {window}",
            follows(n)
        )
    };
    Some(if reject > 0 && reject <= flag {
        format!("{} is rejected", lead(reject))
    } else if reject > 0 {
        format!("{} is flagged (its quality score drops); after more than {reject}, it is rejected", lead(flag))
    } else {
        format!("{} is flagged (its quality score drops), never rejected for that alone", lead(flag))
    })
}

/// The terms in plain words, as publishers read them before joining.
pub fn plain_terms(spec_terms: &Terms, caps: &Caps) -> Vec<String> {
    let t = spec_terms;
    let mut out = Vec::new();
    if t.required_fields.is_empty() {
        out.push("A lead needs no particular fields.".to_string());
    } else {
        out.push(format!("A qualified lead has these fields filled in: {}.", t.required_fields.join(", ")));
    }
    out.push(if t.allowed_countries.is_empty() {
        "Traffic from every country is accepted.".to_string()
    } else {
        format!(
            "Only traffic from {} is paid; leads from clicks in other countries are rejected.",
            t.allowed_countries.join(", ")
        )
    });
    out.extend(super::targeting::plain_words(t));
    out.push(if t.hold_hours == 0 {
        "Each lead is checked and paid at the next settlement run, with no hold.".to_string()
    } else {
        format!(
            "Each lead is held for {} before it is checked and paid.",
            crate::i18n::count_words(i64::from(t.hold_hours), "hour")
        )
    });
    out.push(format!(
        "A conversion counts if it arrives within {} of the click.",
        crate::i18n::count_words(i64::from(t.conversion_window_days), "day")
    ));
    if t.advertiser_decides() {
        out.push(format!(
            "The advertiser decides each lead from its own CRM; the scrub rules below are only its recommendation. \
             A lead it has not decided when the hold ends is {}.",
            if t.default_approves() { "approved (and paid)" } else { "rejected (not paid)" }
        ));
    }
    if t.return_window_days == 0 {
        out.push("The advertiser cannot return approved leads.".to_string());
    } else {
        out.push(format!(
            "The advertiser may return an approved lead within {}, with a reason; above {} % returns an admin must agree.",
            crate::i18n::count_words(i64::from(t.return_window_days), "day"),
            t.max_return_rate_pct
        ));
    }
    let s = &t.scrub;
    if s.duplicate_days > 0 {
        out.push(format!(
            "Duplicates are rejected: the same e-mail or phone seen in the last {} on this {}.",
            crate::i18n::count_words(i64::from(s.duplicate_days), "day"),
            if s.duplicate_scope == "advertiser" { "advertiser's offers" } else { "offer" }
        ));
    }
    if s.check_email {
        out.push("The e-mail must be a valid address.".to_string());
    }
    if s.block_disposable {
        out.push("Disposable e-mail domains are rejected.".to_string());
    }
    if s.check_phone {
        out.push("The phone number must be valid for the lead's country.".to_string());
    }
    if s.check_name {
        out.push("Names must look real (no keyboard mash or repeated characters).".to_string());
    }
    if s.block_bots {
        out.push("Clicks from bots and automation tools are not paid.".to_string());
    }
    if s.block_datacenter {
        out.push("Visitors from hosting and cloud servers (not homes, offices or phones) are not paid.".to_string());
    }
    if s.block_relay {
        out.push("Visitors behind a privacy relay such as iCloud Private Relay are not paid.".to_string());
    }
    if s.min_seconds > 0 {
        out.push(format!(
            "A conversion less than {} after its click is rejected as too fast.",
            crate::i18n::count_words(i64::from(s.min_seconds), "second")
        ));
    }
    if s.max_conversion_days > 0 {
        let days = s.max_conversion_days;
        out.push(format!(
            "A conversion more than {} after its click is rejected as too slow.",
            crate::i18n::count_words(i64::from(days), "day")
        ));
    }
    if s.max_leads_per_ip > 0 {
        out.push(format!(
            "At most {} per IP address in 24 hours are paid.",
            crate::i18n::count_words(i64::from(s.max_leads_per_ip), "lead")
        ));
    }
    if let Some(words) = duplicate_click_words(s) {
        out.push(format!("Repeated clicks: {words}."));
    }
    if s.min_score > 0 {
        out.push(format!("The lead's quality score must be at least {} of 100.", s.min_score));
    }
    let cap = |n: Option<i64>, what: &str| n.map(|v| format!("{} per {what}", crate::i18n::count_words(v, "lead")));
    let caps_list: Vec<String> =
        [cap(caps.daily, "day"), cap(caps.weekly, "week"), cap(caps.monthly, "month"), cap(caps.total, "lifetime")]
            .into_iter()
            .flatten()
            .collect();
    if !caps_list.is_empty() {
        out.push(format!(
            "Caps: {}; past a cap, clicks go to the fallback page and conversions are refused with the reason “{}”.",
            caps_list.join(", "),
            crate::i18n::label(crate::i18n::Kind::Reason, "cap_reached")
        ));
    }
    let pub_caps: Vec<String> =
        [cap(caps.publisher_daily, "day"), cap(caps.publisher_total, "lifetime")].into_iter().flatten().collect();
    if !pub_caps.is_empty() {
        out.push(format!("Each publisher may deliver at most {}.", pub_caps.join(" and ")));
    }
    if let Some(b) = &caps.daily_budget {
        out.push(format!(
            "The advertiser's daily budget is {b}; past it, conversions are rejected (budget_exhausted)."
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> OfferBody {
        OfferBody {
            name: "Solar panels quote".into(),
            category: "home".into(),
            landing_url: "https://adv.example/quote?cid={click_id}&s={sub1}".into(),
            payout_model: "cpl".into(),
            price: Some("12.00".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_minimal_body_takes_defaults() {
        let spec = validate(&body()).expect("valid");
        assert_eq!(spec.price_minor, Some(1200));
        assert_eq!(spec.events, vec!["lead"]);
        assert_eq!(spec.visibility, Visibility::Public);
        assert_eq!(spec.timezone, "UTC");
        assert_eq!(spec.terms, Terms::default());
    }

    #[test]
    fn landing_urls() {
        assert!(
            url_problem(
                "https://a.example/x?c={click_id}&o={offer_id}&p={publisher_id}&s={sub5}&src={source}",
                LANDING_MACROS
            )
            .is_none()
        );
        assert!(url_problem("http://a.example/{sub1}/path", LANDING_MACROS).is_none());
        for bad in [
            "javascript:alert(1)",
            "ftp://a.example",
            "https://",
            "a.example",
            "https://a.example/{nope}",
            "https://a.example/{click_id",
            "",
            "https://{sub1}/",
            "https://a.{sub1}.example/x",
            "{source}://a.example/",
        ] {
            assert!(url_problem(bad, LANDING_MACROS).is_some(), "{bad}");
        }
    }

    #[test]
    fn each_model_needs_its_price() {
        let mut b = body();
        b.price = None;
        assert!(validate(&b).expect_err("no price").contains_key("price"));
        b.payout_model = "cps".into();
        assert!(validate(&b).expect_err("no rate").contains_key("rate_bps"));
        b.rate_bps = Some(1500);
        let spec = validate(&b).expect("cps");
        assert_eq!(
            (spec.rate_bps, spec.price_minor, spec.events.clone()),
            (Some(1500), None, vec!["sale".to_string()])
        );
        b.payout_model = "cpa".into();
        b.price = Some("0".into());
        assert!(validate(&b).expect_err("zero").contains_key("price"));
        b.price = Some("40".into());
        b.events = vec!["Deposit".into(), "bad event".into()];
        assert!(validate(&b).expect_err("bad event").contains_key("events"));
    }

    #[test]
    fn terms_and_caps_are_checked() {
        let mut b = body();
        b.caps.daily = Some(0);
        b.caps.daily_budget = Some("-5".into());
        b.terms.allowed_countries = vec!["us".into(), "USA".into()];
        b.terms.required_fields = vec!["email".into(), "ssn".into()];
        b.terms.scrub.duplicate_scope = "galaxy".into();
        b.terms.hold_hours = 5000;
        let e = validate(&b).expect_err("invalid");
        for k in [
            "caps.daily",
            "caps.daily_budget",
            "terms.allowed_countries",
            "terms.required_fields",
            "terms.scrub.duplicate_scope",
            "terms.hold_hours",
        ] {
            assert!(e.contains_key(k), "{k}: {e:?}");
        }
    }

    #[test]
    fn channel_settings_follow_the_payout_model() {
        let spec = validate(&body()).expect("cpl");
        assert_eq!(spec.channels, Channels::defaults(PayoutModel::Cpl));
        assert_eq!((spec.notice_hours, spec.postback_ips.len()), (DEFAULT_NOTICE_HOURS, 0));
        let mut b = OfferBody { payout_model: "cps".into(), rate_bps: Some(1000), ..body() };
        let spec = validate(&b).expect("cps");
        assert_eq!(spec.channels.max_sale_minor, Some(DEFAULT_MAX_SALE_MINOR));
        assert!(!spec.channels.pixel && !spec.channels.hosted_form);
        b.hosted_form = Some(true);
        b.publisher_leads = true;
        b.max_sale_amount = Some("0".into());
        b.postback_ips = vec!["10.0.0.1".into(), "10.0.0.0/33".into()];
        b.notice_hours = Some(721);
        let e = validate(&b).expect_err("refused");
        for k in ["hosted_form", "publisher_leads", "max_sale_amount", "postback_ips", "notice_hours"] {
            assert!(e.contains_key(k), "{k}: {e:?}");
        }
        b = OfferBody {
            max_sale_amount: Some("99.5".into()),
            postback_ips: vec![" 203.0.113.7 ".into(), "2001:db8::/32".into(), "203.0.113.7/32".into()],
            ..b
        };
        b.hosted_form = None;
        b.publisher_leads = false;
        b.notice_hours = None;
        let spec = validate(&b).expect("valid");
        assert_eq!(spec.channels.max_sale_minor, Some(9950));
        assert_eq!(spec.postback_ips, vec!["203.0.113.7", "2001:db8::/32"]);
    }

    #[test]
    fn a_move_to_or_from_cps_resets_what_it_does_not_name() {
        let current = serde_json::json!({"payout_model": "cpl", "pixel": true, "hosted_form": true, "notice_hours": 5});
        let mut merged = current.clone();
        let patch = serde_json::json!({"payout_model": "cps", "pixel": true});
        merge_patch(&mut merged, &patch);
        reset_model_defaults(&mut merged, &patch, PayoutModel::Cpl);
        assert_eq!(merged, serde_json::json!({"payout_model": "cps", "pixel": true, "notice_hours": 5}));
        let mut merged = current.clone();
        let patch = serde_json::json!({"payout_model": "cpa"});
        merge_patch(&mut merged, &patch);
        reset_model_defaults(&mut merged, &patch, PayoutModel::Cpl);
        assert_eq!(merged["hosted_form"], true, "CPL to CPA keeps the settings");
    }

    #[test]
    fn status_machine() {
        use OfferStatus::*;
        assert!(transition(Draft, PendingReview, Actor::Owner).is_ok());
        assert!(transition(Draft, PendingReview, Actor::Admin).is_err());
        assert!(transition(PendingReview, Active, Actor::Owner).is_err(), "only admins make offers live");
        assert!(transition(PendingReview, Active, Actor::Admin).is_ok());
        assert!(transition(Active, Paused, Actor::Owner).is_ok());
        assert!(transition(Paused, Active, Actor::Owner).is_ok());
        assert!(transition(Draft, Active, Actor::Owner).is_err());
        assert!(transition(Archived, Active, Actor::Admin).is_err());
        assert!(transition(Active, Archived, Actor::Owner).is_ok());
    }

    #[test]
    fn fee_rounding_is_half_up() {
        assert_eq!(split_price(1200, 2000), (240, 960));
        assert_eq!(split_price(1, 5000), (1, 0)); // 0.5 rounds up
        assert_eq!(split_price(3, 2500), (1, 2)); // 0.75 → 1
        assert_eq!(split_price(1, 4999), (0, 1)); // 0.4999 → 0
        assert_eq!(apply_bps(19_999, 1500), 3000); // 2999.85 → 3000
        assert_eq!(apply_bps(10_001, 10_000), 10_001);
    }

    #[test]
    fn merge_patch_follows_rfc7386() {
        let mut t = serde_json::json!({"name":"a","caps":{"daily":5,"total":9},"events":["x"]});
        merge_patch(&mut t, &serde_json::json!({"name":"b","caps":{"daily":null,"weekly":3},"events":["y","z"]}));
        assert_eq!(t, serde_json::json!({"name":"b","caps":{"total":9,"weekly":3},"events":["y","z"]}));
    }

    #[test]
    fn plain_terms_say_what_counts() {
        let t = Terms { allowed_countries: vec!["US".into()], ..Default::default() };
        let caps = Caps { daily: Some(100), ..Default::default() };
        let text = plain_terms(&t, &caps).join(" ");
        assert!(text.contains("Only traffic from US"));
        assert!(text.contains("held for 72 hours"));
        assert!(text.contains("100 leads per day"));
        assert!(!text.contains("advertiser decides"), "the rules decide by default");
        let t = Terms { decision: "advertiser".into(), decision_default: "reject".into(), ..Default::default() };
        let text = plain_terms(&t, &caps).join(" ");
        assert!(text.contains("The advertiser decides each lead"), "{text}");
        assert!(text.contains("is rejected (not paid)"), "{text}");
    }

    #[test]
    fn the_duplicate_click_rule_is_checked_shown_and_round_trips() {
        let with = |minutes, flag, reject| {
            let mut b = body();
            b.terms.scrub.duplicate_click_minutes = minutes;
            b.terms.scrub.duplicate_click_flag = flag;
            b.terms.scrub.duplicate_click_reject = reject;
            b
        };
        let spec = validate(&with(10, 5, 20)).expect("valid");
        let words = plain_terms(&spec.terms, &Caps::default()).join(" ");
        assert!(
            words.contains(
                "Repeated clicks: a lead whose click follows more than 5 clicks from the same IP address and \
                 browser on this link within 10 minutes is flagged (its quality score drops); after more than 20, \
                 it is rejected."
            ),
            "{words}"
        );
        let json = serde_json::to_value(&spec.terms.scrub).expect("json");
        assert_eq!(
            (&json["duplicate_click_minutes"], &json["duplicate_click_flag"], &json["duplicate_click_reject"]),
            (&serde_json::json!(10), &serde_json::json!(5), &serde_json::json!(20))
        );
        let back: Scrub = serde_json::from_value(json).expect("read back");
        assert_eq!(back, spec.terms.scrub);
        // Off by default, and then nothing of it in the JSON or the words.
        let off = serde_json::to_string(&Scrub::default()).expect("json");
        assert!(!off.contains("duplicate_click"), "{off}");
        assert!(!plain_terms(&Terms::default(), &Caps::default()).join(" ").contains("Repeated clicks"));
        assert_eq!(Scrub::default().repeat_window_minutes(), DEFAULT_REPEAT_WINDOW_MINUTES);
        assert_eq!(spec.terms.scrub.repeat_window_minutes(), 10);
        // Flag only; reject only (reject at the flag).
        let flag_only = plain_terms(&validate(&with(60, 0, 0)).expect("valid").terms, &Caps::default()).join(" ");
        assert!(
            flag_only.contains(
                "follows another click from the same IP address and browser on this link within 1 hour \
                 is flagged (its quality score drops), never rejected for that alone."
            ),
            "{flag_only}"
        );
        let reject_only = plain_terms(&validate(&with(5, 3, 3)).expect("valid").terms, &Caps::default()).join(" ");
        assert!(
            reject_only.contains("more than 3 clicks") && reject_only.contains("5 minutes is rejected."),
            "{reject_only}"
        );

        for (b, field, message) in [
            (with(10, 5, 4), "terms.scrub.duplicate_click_reject", "at least as many clicks as are flagged (5)"),
            (with(0, 5, 0), "terms.scrub.duplicate_click_minutes", "Set the window in minutes"),
            (with(2000, 0, 0), "terms.scrub.duplicate_click_minutes", "from 0 to 1440"),
            (with(10, 51, 0), "terms.scrub.duplicate_click_flag", "from 0 to 50"),
            (with(10, 0, 99), "terms.scrub.duplicate_click_reject", "from 0 to 50"),
        ] {
            let e = validate(&b).expect_err("invalid");
            assert!(e.get(field).is_some_and(|m| m.contains(message)), "{field}: {e:?}");
        }
    }

    #[test]
    fn decision_mode_is_checked() {
        let mut b = body();
        b.terms.decision = " Advertiser ".into();
        b.terms.decision_default = "reject".into();
        let spec = validate(&b).expect("valid");
        assert!(spec.terms.advertiser_decides() && !spec.terms.default_approves());
        b.terms.decision = "crm".into();
        b.terms.decision_default = "maybe".into();
        let e = validate(&b).expect_err("invalid");
        assert!(e.contains_key("terms.decision") && e.contains_key("terms.decision_default"), "{e:?}");
        let old: Terms = serde_json::from_str(r#"{"hold_hours":24}"#).expect("a stored version without the mode");
        assert!(!old.advertiser_decides(), "terms stored before the mode are decided by the rules");
    }
}
