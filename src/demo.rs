//! `qualead demo [--clicks N]` (DESIGN §2): fill an empty database with a believable
//! marketplace — an admin, three advertisers with deposits, eight offers in every
//! payout model and offer state, five publishers, a month of clicks, leads in every
//! lead state, disputes and payouts — and print the logins to try.
//!
//! Nothing is written behind the product's back. Accounts, offers and memberships go
//! through the marketplace operations; clicks through [`clicks::insert_batch`]; leads
//! through the store functions the intake batch uses (the price reserved advertiser →
//! escrow, cap counters and rollups in the same transaction, a refusal kept with its
//! reason); decisions through the settlement run; returns, contests, rulings,
//! deposits and payouts through the settlement actions. So the ledger balances and
//! the rollups agree with the raw events, exactly as after real traffic.
//!
//! Leads are dated when their click converted (up to 30 days ago): the settlement
//! run finds the holds of the older ones over and leaves the recent ones pending.
//! The traffic is drawn from a seeded generator, so two demos of the same size have
//! the same shape (ids and tokens are random as always).

// Money is written in minor units grouped as major_minor (25_00 is 25.00).
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration as StdDuration, Instant};

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDateTime, Timelike, Weekday};
use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::acting::Acting;
use crate::app::prepare_database;
use crate::config::Config;
use crate::db::DbConn;
use crate::domain::account::{AccountStatus, Role};
use crate::domain::intake::{Channel, Reason, dedupe_key};
use crate::domain::lifecycle::{LeadMoney, LeadStatus, MoneyEvent, Ruling};
use crate::domain::offer::{Caps, OfferBody, OfferStatus, PayoutModel, Scrub, Terms, apply_bps};
use crate::domain::scrub;
use crate::domain::tracking::new_click_id;
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::marketplace;
use crate::settlement::{actions, money, run as settlement};
use crate::store::caps::{self, CounterKey};
use crate::store::clicks::{self, NewClick};
use crate::store::leads::{self, NewLead, Rejection};
use crate::store::ledger::{self, Posting};
use crate::store::offers::{self, Offer};
use crate::store::{now, rollups, settings, users};
use crate::tracking::intake::{LeadClick, LeadParts};

/// The password of every demo account.
pub const PASSWORD: &str = "demo-password";
/// The domain of every demo account's e-mail address (reserved for testing: no mail is delivered there).
pub const DOMAIN: &str = "demo.qualead.test";
/// Clicks when `--clicks` is not given.
pub const DEFAULT_CLICKS: u64 = 20_000;
/// Fewer clicks than this leave some part of the demo (a lead state, a dispute) empty.
pub const MIN_CLICKS: u64 = 500;
pub const MAX_CLICKS: u64 = 10_000_000;

/// Clicks per `clicks::insert_batch` call (one transaction each).
const CLICK_BATCH: usize = 1000;
/// Leads per intake transaction.
const LEAD_BATCH: usize = 500;
/// How far back the traffic goes.
const DAYS: i64 = 30;

// ------------------------------------------------------------------ the cast

/// A demo account: the e-mail's local part and who it is.
struct Person {
    key: &'static str,
    name: &'static str,
    company: &'static str,
    timezone: &'static str,
}

const ADMIN: Person = Person { key: "admin", name: "Alex Morgan", company: "Qualead Demo Network", timezone: "UTC" };

const ADVERTISERS: [Person; 3] = [
    Person { key: "sunpeak", name: "Dana Whitfield", company: "SunPeak Energy", timezone: "America/Denver" },
    Person { key: "brightcover", name: "Marcus Hale", company: "BrightCover Insurance", timezone: "America/New_York" },
    Person { key: "nova", name: "Sofia Lindqvist", company: "Nova Commerce", timezone: "Europe/London" },
];

const PUBLISHERS: [Person; 5] = [
    Person { key: "publisher", name: "Maya Chen", company: "GreenHome Journal", timezone: "America/Los_Angeles" },
    Person { key: "dealhunter", name: "Luis Ortega", company: "DealHunter Daily", timezone: "America/Chicago" },
    Person { key: "moneywise", name: "Priya Nair", company: "MoneyWise Reviews", timezone: "America/New_York" },
    Person { key: "trailtalk", name: "Jonas Berg", company: "TrailTalk Outdoors", timezone: "Europe/Berlin" },
    Person { key: "fastleads", name: "Kevin Doyle", company: "FastLeads Media", timezone: "UTC" },
];

/// The publisher whose traffic is poor: bots, shared IPs, junk contacts, instant conversions.
const JUNK_PUBLISHER: usize = 4;

fn email_of(p: &Person) -> String {
    format!("{}@{DOMAIN}", p.key)
}

/// Where a publisher's clicks come from: sub1 (site), source, referrer, weight.
type Site = (&'static str, &'static str, &'static str, u32);

const SITES: [&[Site]; 5] = [
    &[
        ("greenhomejournal.com", "blog", "https://greenhomejournal.com/", 6),
        ("greenhome-newsletter", "newsletter", "", 3),
        ("pinterest", "social", "https://www.pinterest.com/", 1),
    ],
    &[
        ("dealhunterdaily.com", "blog", "https://dealhunterdaily.com/", 5),
        ("dealhunter-weekly", "newsletter", "", 3),
        ("facebook-group", "social", "https://www.facebook.com/", 2),
    ],
    &[
        ("moneywisereviews.net", "blog", "https://moneywisereviews.net/", 6),
        ("google-ads", "search", "https://www.google.com/", 3),
    ],
    &[
        ("trailtalk.blog", "blog", "https://trailtalk.blog/", 4),
        ("youtube-trailtalk", "video", "https://www.youtube.com/", 4),
        ("instagram", "social", "https://l.instagram.com/", 2),
    ],
    &[("fl-push-17", "push", "", 5), ("fl-popunder", "popunder", "", 3), ("rewards-wall", "incentive", "", 2)],
];

/// sub3: where on the source the link sat.
fn placements(source: &str) -> &'static [&'static str] {
    match source {
        "blog" => &["in-article", "sidebar", "comparison-table"],
        "newsletter" => &["header-cta", "footer-cta"],
        "social" => &["post", "story", "bio-link"],
        "search" => &["brand-kw", "generic-kw"],
        "video" => &["description", "pinned-comment"],
        _ => &["zone-4411", "zone-5170", "zone-8802"],
    }
}

/// sub5: the creative.
const CREATIVES: &[&str] = &["cta-a", "cta-b", "banner-300x250", "banner-728x90", "text-link"];

// ------------------------------------------------------------------ the offers

/// The state an offer is left in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Live,
    /// Live until six days ago, then paused by its advertiser.
    Paused,
    PendingReview,
    /// Submitted and sent back by the admin with a note.
    Draft,
}

/// What a conversion of the offer looks like.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A lead form: contact fields, through one of these channels.
    Lead(&'static [Channel]),
    /// A sale reported by the advertiser's pixel, amount between these (minor units).
    Sale(i64, i64),
    /// A sign-up postback; some sign-ups pay for a subscription days later.
    Action,
}

struct OfferPlan {
    advertiser: usize,
    body: OfferBody,
    stage: Stage,
    kind: Kind,
    /// Share of good clicks that convert.
    cr: f64,
    /// sub2 values: the publishers' campaigns for this offer.
    campaigns: &'static [&'static str],
    /// Platform fee set by the admin for this offer, if not the default.
    fee_bps: Option<i32>,
}

/// Who joins which offer: (offer, publisher, how).
#[derive(Debug, Clone, Copy)]
enum Join {
    /// Approved, with this share of the pair's traffic.
    Approved(u32),
    Pending,
    Declined(&'static str),
}

const MEMBERSHIPS: &[(usize, usize, Join)] = &[
    (0, 0, Join::Approved(10)),
    (0, 1, Join::Approved(4)),
    (0, 2, Join::Approved(3)),
    (0, 4, Join::Approved(5)),
    (1, 0, Join::Approved(5)),
    (1, 1, Join::Approved(2)),
    (1, 3, Join::Pending),
    (3, 0, Join::Approved(3)),
    (3, 1, Join::Approved(6)),
    (3, 2, Join::Approved(9)),
    (3, 4, Join::Approved(8)),
    (4, 2, Join::Approved(5)),
    (4, 1, Join::Approved(2)),
    (4, 4, Join::Pending),
    (6, 3, Join::Approved(10)),
    (6, 1, Join::Approved(7)),
    (6, 0, Join::Approved(2)),
    (6, 4, Join::Approved(3)),
    (7, 1, Join::Approved(3)),
    (7, 3, Join::Approved(2)),
    (7, 2, Join::Pending),
    (7, 4, Join::Declined("Push, pop-under and incentivised traffic are not allowed on this offer.")),
];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn terms(
    required: &[&str],
    hold_hours: u32,
    return_window_days: u32,
    max_return_rate_pct: u32,
    countries: &[&str],
    scrub: Scrub,
) -> Terms {
    Terms {
        required_fields: strings(required),
        hold_hours,
        return_window_days,
        max_return_rate_pct,
        conversion_window_days: 30,
        allowed_countries: strings(countries),
        scrub,
        ..Terms::default()
    }
}

fn scrub(duplicate_days: u32, scope: &str, min_seconds: u32, max_leads_per_ip: u32, min_score: u32) -> Scrub {
    Scrub {
        duplicate_days,
        duplicate_scope: scope.into(),
        min_seconds,
        max_leads_per_ip,
        min_score,
        ..Scrub::default()
    }
}

fn offer_plans() -> Vec<OfferPlan> {
    let fallback = |s: &str| Some(s.to_string());
    vec![
        OfferPlan {
            advertiser: 0,
            body: OfferBody {
                name: "Solar panel savings quote (US homeowners)".into(),
                description: "Homeowners compare solar installation quotes from SunPeak's certified installers and \
                              see their federal tax credit. The form asks for name, e-mail, phone and ZIP code; a \
                              SunPeak advisor calls within one business day."
                    .into(),
                category: "home".into(),
                landing_url: "https://get.sunpeak-energy.example/solar-quote?cid={click_id}&aff={publisher_id}&s1={sub1}&s2={sub2}"
                    .into(),
                fallback_url: fallback("https://sunpeak-energy.example/"),
                payout_model: "cpl".into(),
                price: Some("18.00".into()),
                visibility: "public".into(),
                timezone: "America/Denver".into(),
                caps: Caps { daily: Some(250), daily_budget: Some("5000.00".into()), ..Caps::default() },
                terms: terms(
                    &["name", "email", "phone", "zip"],
                    72,
                    7,
                    15,
                    &["US"],
                    scrub(60, "advertiser", 10, 3, 0),
                ),
                // Its publishers also send the leads they collect through the API.
                publisher_leads: true,
                ..OfferBody::default()
            },
            stage: Stage::Live,
            kind: Kind::Lead(&[Channel::Form, Channel::Form, Channel::Api]),
            cr: 0.045,
            campaigns: &["solar-cost-guide", "tax-credit-explainer", "spring-newsletter"],
            fee_bps: None,
        },
        OfferPlan {
            advertiser: 0,
            body: OfferBody {
                name: "Heat pump installation quote".into(),
                description: "A free in-home assessment for an air-source heat pump, with rebates for the \
                              homeowner's state or province. Publishers are approved by SunPeak's partner team."
                    .into(),
                category: "home".into(),
                landing_url: "https://get.sunpeak-energy.example/heat-pump?cid={click_id}&aff={publisher_id}".into(),
                fallback_url: fallback("https://sunpeak-energy.example/"),
                payout_model: "cpl".into(),
                price: Some("24.00".into()),
                visibility: "approval".into(),
                timezone: "America/Denver".into(),
                caps: Caps { daily: Some(80), ..Caps::default() },
                terms: terms(
                    &["name", "email", "phone"],
                    48,
                    7,
                    15,
                    &["US", "CA"],
                    scrub(60, "advertiser", 10, 3, 50),
                ),
                ..OfferBody::default()
            },
            stage: Stage::Live,
            kind: Kind::Lead(&[Channel::Postback]),
            cr: 0.035,
            campaigns: &["heat-pump-rebates", "winter-bills"],
            fee_bps: None,
        },
        OfferPlan {
            advertiser: 0,
            body: OfferBody {
                name: "Home battery backup waitlist".into(),
                description: "Join the waitlist for SunPeak's home battery.".into(),
                category: "home".into(),
                landing_url: "https://get.sunpeak-energy.example/battery-waitlist?cid={click_id}".into(),
                fallback_url: fallback("https://sunpeak-energy.example/"),
                payout_model: "cpl".into(),
                price: Some("6.50".into()),
                visibility: "public".into(),
                terms: terms(&["name", "email"], 24, 7, 20, &["US"], Scrub::default()),
                ..OfferBody::default()
            },
            stage: Stage::Draft,
            kind: Kind::Lead(&[Channel::Form]),
            cr: 0.0,
            campaigns: &[],
            fee_bps: None,
        },
        OfferPlan {
            advertiser: 1,
            body: OfferBody {
                name: "Auto insurance quote: compare 10 insurers".into(),
                description: "Drivers compare car insurance quotes from ten insurers in one form. Only US drivers \
                              with a valid phone number; BrightCover calls every lead, so contact data must be real."
                    .into(),
                category: "insurance".into(),
                landing_url: "https://quotes.brightcover.example/auto?click={click_id}&src={source}&sub={sub1}".into(),
                fallback_url: fallback("https://brightcover.example/"),
                payout_model: "cpl".into(),
                price: Some("9.50".into()),
                visibility: "public".into(),
                timezone: "America/New_York".into(),
                caps: Caps { daily: Some(400), publisher_daily: Some(150), ..Caps::default() },
                terms: terms(&["name", "email", "phone"], 24, 5, 20, &["US"], scrub(30, "offer", 8, 2, 60)),
                publisher_leads: true,
                ..OfferBody::default()
            },
            stage: Stage::Live,
            kind: Kind::Lead(&[Channel::Api, Channel::Form]),
            cr: 0.07,
            campaigns: &["car-insurance-compare", "new-driver-tips", "renewal-reminder"],
            fee_bps: None,
        },
        OfferPlan {
            advertiser: 1,
            body: OfferBody {
                name: "Term life insurance quote".into(),
                description: "Term life cover quotes for adults aged 25 to 65 in the US and the UK. Paused while \
                              BrightCover updates its call centre hours."
                    .into(),
                category: "insurance".into(),
                landing_url: "https://quotes.brightcover.example/term-life?click={click_id}".into(),
                fallback_url: fallback("https://brightcover.example/"),
                payout_model: "cpl".into(),
                price: Some("32.00".into()),
                visibility: "approval".into(),
                timezone: "America/New_York".into(),
                caps: Caps { monthly: Some(600), ..Caps::default() },
                terms: terms(&["name", "email", "phone", "age"], 72, 10, 10, &["US", "GB"], scrub(90, "offer", 15, 2, 70)),
                ..OfferBody::default()
            },
            stage: Stage::Paused,
            kind: Kind::Lead(&[Channel::Form]),
            cr: 0.03,
            campaigns: &["life-cover-explained", "family-finance"],
            fee_bps: None,
        },
        OfferPlan {
            advertiser: 1,
            body: OfferBody {
                name: "Pet insurance: free quote".into(),
                description: "Cat and dog insurance quotes in two minutes.".into(),
                category: "insurance".into(),
                landing_url: "https://quotes.brightcover.example/pet?click={click_id}".into(),
                fallback_url: fallback("https://brightcover.example/"),
                payout_model: "cpl".into(),
                price: Some("12.00".into()),
                visibility: "public".into(),
                terms: terms(&["name", "email"], 48, 7, 20, &["US", "GB"], Scrub::default()),
                ..OfferBody::default()
            },
            stage: Stage::PendingReview,
            kind: Kind::Lead(&[Channel::Form]),
            cr: 0.0,
            campaigns: &[],
            fee_bps: None,
        },
        OfferPlan {
            advertiser: 2,
            body: OfferBody {
                name: "Nova Outfitters: outdoor gear store".into(),
                description: "8 % of every order at Nova Outfitters (tents, boots, jackets). Orders are reported by \
                              the store's pixel; a sale is held 7 days, the store's return period."
                    .into(),
                category: "ecommerce".into(),
                landing_url: "https://shop.novaoutfitters.example/?utm_source=qualead&utm_medium=affiliate&utm_campaign={sub2}&qlid={click_id}"
                    .into(),
                fallback_url: fallback("https://shop.novaoutfitters.example/"),
                payout_model: "cps".into(),
                rate_bps: Some(800),
                events: strings(&["sale"]),
                visibility: "public".into(),
                timezone: "Europe/London".into(),
                terms: terms(
                    &[],
                    168,
                    30,
                    25,
                    &["US", "GB", "CA", "DE", "AU"],
                    Scrub {
                        duplicate_days: 0,
                        block_disposable: false,
                        check_phone: false,
                        check_name: false,
                        ..Scrub::default()
                    },
                ),
                // The store reports its orders with the pixel.
                pixel: Some(true),
                ..OfferBody::default()
            },
            stage: Stage::Live,
            kind: Kind::Sale(25_00, 450_00),
            cr: 0.025,
            campaigns: &["winter-hiking-kit", "best-tents-2026", "gift-guide"],
            fee_bps: Some(1500),
        },
        OfferPlan {
            advertiser: 2,
            body: OfferBody {
                name: "Taskly project management: free trial".into(),
                description: "Pays per action: a sign-up for Taskly's 14-day trial, and again when the account \
                              starts a paid subscription. Worldwide; business e-mail addresses preferred."
                    .into(),
                category: "software".into(),
                landing_url: "https://taskly.example/signup?ref=qualead&cid={click_id}&pid={publisher_id}".into(),
                fallback_url: fallback("https://taskly.example/"),
                payout_model: "cpa".into(),
                price: Some("40.00".into()),
                events: strings(&["signup", "subscription"]),
                visibility: "approval".into(),
                caps: Caps { daily: Some(150), ..Caps::default() },
                terms: terms(
                    &["email"],
                    120,
                    14,
                    20,
                    &[],
                    Scrub { duplicate_days: 0, min_seconds: 5, max_leads_per_ip: 5, check_phone: false, ..Scrub::default() },
                ),
                ..OfferBody::default()
            },
            stage: Stage::Live,
            kind: Kind::Action,
            cr: 0.05,
            campaigns: &["remote-team-tools", "productivity-stack"],
            fee_bps: None,
        },
    ]
}

// ------------------------------------------------------------------ people and devices

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Maria",
    "Daniel", "Karen", "Matthew", "Nancy", "Anthony", "Lisa", "Mark", "Betty", "Aisha", "Sandra", "Steven",
    "Ashley", "Andrew", "Emily", "Kevin", "Donna", "Brian", "Michelle", "Wei", "Olivia", "Hiroshi", "Fatima",
    "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Lucas", "Mia", "Mateo", "Chloe", "Oliver", "Grace",
    "Ahmed", "Zoe", "Jonas", "Hannah", "Raj", "Isabella",
];

#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Kim", "Chen",
    "Murphy", "O'Brien", "Schmidt", "Okafor", "Kowalski", "Fischer", "Dubois",
];

const EMAIL_DOMAINS: &[(&str, u32)] = &[
    ("gmail.com", 40),
    ("yahoo.com", 12),
    ("outlook.com", 10),
    ("icloud.com", 10),
    ("hotmail.com", 8),
    ("comcast.net", 4),
    ("aol.com", 3),
    ("proton.me", 3),
];

fn local_email_domains(country: &str) -> &'static [&'static str] {
    match country {
        "GB" => &["btinternet.com", "sky.com", "gmail.com"],
        "DE" => &["web.de", "gmx.de", "t-online.de"],
        "AU" => &["bigpond.com", "gmail.com"],
        "FR" => &["orange.fr", "free.fr"],
        "CA" => &["rogers.com", "shaw.ca", "gmail.com"],
        _ => &[],
    }
}

/// Throw-away domains from the shipped disposable list (the `disposable_email` rule).
const DISPOSABLE_DOMAINS: &[&str] =
    &["mailinator.com", "guerrillamail.com", "yopmail.com", "10minutemail.com", "sharklasers.com", "temp-mail.org"];

/// Names the `gibberish_name` rule refuses.
const GIBBERISH_NAMES: &[&str] =
    &["Asdfg Hjkl", "Qwerty Uiop", "xxxx xxxx", "Test Test", "Jjjjj Smith", "Zxcvb Nm", "123 456", "Dfghjk Lkjh"];

/// Phones the `invalid_phone` rule refuses.
const BAD_PHONES: &[&str] = &["555-0199", "12345", "000-000-0000", "+1 (000) 123-4567", "999999999999", "0000"];

#[rustfmt::skip]
const US_AREAS: &[&str] = &[
    "212", "718", "310", "213", "415", "408", "512", "713", "214", "617", "702", "303", "404", "206", "305", "602",
    "614", "919", "312", "503", "612", "704", "813", "916",
];
const CA_AREAS: &[&str] = &["416", "647", "604", "514", "403", "613", "780", "905"];

const DESKTOP_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
];

const MOBILE_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; moto g power (2023)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
];

const TABLET_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
];

/// Agents the `bot_traffic` rule refuses.
const BOT_AGENTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "python-requests/2.32.3",
    "curl/8.5.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "Go-http-client/1.1",
    "",
];

/// Countries of traffic that no offer here targets.
const OFF_GEO: &[&str] = &["IN", "PK", "BD", "VN", "PH", "NG", "ID", "BR"];

/// Where visitors are, for offers open to every country.
const WORLD: &[(&str, u32)] =
    &[("US", 45), ("GB", 12), ("CA", 8), ("DE", 8), ("AU", 6), ("FR", 5), ("IN", 5), ("NL", 3), ("ES", 4), ("BR", 4)];

/// Relative traffic by local (US Eastern) hour of day.
#[rustfmt::skip]
const DIURNAL: [f64; 24] = [
    0.25, 0.18, 0.12, 0.10, 0.10, 0.15, 0.30, 0.50, 0.70, 0.85, 0.95, 1.00, 1.05, 1.00, 0.95, 0.95, 1.00, 1.10, 1.25,
    1.35, 1.30, 1.10, 0.80, 0.45,
];

fn pick<T: Clone>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())].clone()
}

fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total.max(1));
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// A residential-looking public address (some IPv6).
fn random_ip(rng: &mut StdRng) -> String {
    if rng.gen_bool(0.08) {
        return format!(
            "2601:{:x}:{:x}:{:x}::{:x}",
            rng.gen_range(0x100..0xfff_u32),
            rng.gen_range(0x1000..0xffff_u32),
            rng.gen_range(0x1000..0xffff_u32),
            rng.gen_range(1..0xfff_u32)
        );
    }
    const FIRST: &[u8] = &[
        24, 47, 50, 65, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 96, 97, 98, 99, 104, 107, 108, 136, 142, 173, 174, 184,
    ];
    format!("{}.{}.{}.{}", pick(rng, FIRST), rng.gen_range(0..=255), rng.gen_range(0..=255), rng.gen_range(1..=254))
}

/// A phone number as people type it, valid for `country` (checked with the same
/// parser settlement uses; a few tries at most).
fn phone_for(rng: &mut StdRng, country: &str) -> String {
    let mut candidate = String::new();
    for _ in 0..8 {
        candidate = phone_candidate(rng, country);
        if phone_is_valid(&candidate, country) {
            break;
        }
    }
    candidate
}

fn north_american(rng: &mut StdRng, areas: &[&str]) -> String {
    let area = pick(rng, areas);
    let mut exchange = rng.gen_range(201..999);
    if exchange % 100 == 11 || exchange == 555 {
        exchange += 1;
    }
    let line = rng.gen_range(0..10_000);
    match rng.gen_range(0..4) {
        0 => format!("({area}) {exchange}-{line:04}"),
        1 => format!("{area}-{exchange}-{line:04}"),
        2 => format!("+1 {area} {exchange} {line:04}"),
        _ => format!("{area}{exchange}{line:04}"),
    }
}

fn phone_candidate(rng: &mut StdRng, country: &str) -> String {
    match country {
        "US" => north_american(rng, US_AREAS),
        "CA" => north_american(rng, CA_AREAS),
        "GB" if rng.gen_bool(0.5) => {
            format!("07{}{:02} {:06}", rng.gen_range(4..10), rng.gen_range(0..100), rng.gen_range(0..1_000_000))
        }
        "GB" => format!("+44 7{}{:02} {:06}", rng.gen_range(4..10), rng.gen_range(0..100), rng.gen_range(0..1_000_000)),
        "DE" => format!("+49 15{} {:08}", pick(rng, &[1, 2, 5, 7]), rng.gen_range(0..100_000_000)),
        "AU" => format!("04{:02} {:03} {:03}", rng.gen_range(0..100), rng.gen_range(0..1000), rng.gen_range(0..1000)),
        "FR" => format!(
            "+33 6 {:02} {:02} {:02} {:02}",
            rng.gen_range(0..100),
            rng.gen_range(0..100),
            rng.gen_range(0..100),
            rng.gen_range(0..100)
        ),
        "IN" => format!("+91 9{:09}", rng.gen_range(0..1_000_000_000)),
        "BR" => format!("+55 11 9{:04}-{:04}", rng.gen_range(1000..10_000), rng.gen_range(0..10_000)),
        _ => format!("+1 {}", north_american(rng, US_AREAS).trim_start_matches("+1 ")),
    }
}

fn phone_is_valid(phone: &str, country: &str) -> bool {
    let mut fields = serde_json::Map::new();
    fields.insert("phone".into(), phone.into());
    scrub::contact(&fields, Some(country)).phone.is_some()
}

fn ascii_word(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase()
}

/// A person as a lead form collects them.
struct Contact {
    name: String,
    email: String,
    phone: String,
}

fn person(rng: &mut StdRng, country: &str) -> Contact {
    let first = pick(rng, FIRST_NAMES);
    let last = pick(rng, LAST_NAMES);
    let (f, l) = (ascii_word(first), ascii_word(last));
    let local = match rng.gen_range(0..5) {
        0 => format!("{f}.{l}{}", rng.gen_range(1..100)),
        1 => format!("{f}{l}{}", rng.gen_range(60..100)),
        2 => format!("{}{l}{}", &f[..1], rng.gen_range(1..1000)),
        3 => format!("{f}_{l}{}", rng.gen_range(1..100)),
        _ => format!("{f}.{l}.{}", rng.gen_range(1..10_000)),
    };
    let locals = local_email_domains(country);
    let domain = if !locals.is_empty() && rng.gen_bool(0.5) { pick(rng, locals) } else { weighted(rng, EMAIL_DOMAINS) };
    Contact { name: format!("{first} {last}"), email: format!("{local}@{domain}"), phone: phone_for(rng, country) }
}

/// What is wrong with a junk lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    Disposable,
    BadPhone,
    Gibberish,
    InvalidEmail,
    MissingPhone,
    Duplicate,
}

const FLAWS: &[(Flaw, u32)] = &[
    (Flaw::Disposable, 4),
    (Flaw::BadPhone, 3),
    (Flaw::Gibberish, 3),
    (Flaw::InvalidEmail, 2),
    (Flaw::MissingPhone, 1),
    (Flaw::Duplicate, 3),
];

// ------------------------------------------------------------------ what is planned

/// A click that converts, as its lead needs it.
#[derive(Debug, Clone)]
struct ClickRef {
    click_id: String,
    subs: [String; 5],
    source: String,
    country: Option<String>,
    ip: String,
    at: NaiveDateTime,
}

impl ClickRef {
    fn of(c: &NewClick) -> ClickRef {
        ClickRef {
            click_id: c.click_id.clone(),
            subs: [c.sub1.clone(), c.sub2.clone(), c.sub3.clone(), c.sub4.clone(), c.sub5.clone()],
            source: c.source.clone(),
            country: c.country.clone(),
            ip: c.ip.clone(),
            at: c.created_at,
        }
    }

    /// The click as the lead row copies it.
    fn as_lead_click(&self) -> LeadClick<'_> {
        LeadClick {
            click_id: &self.click_id,
            subs: self.subs.each_ref().map(String::as_str),
            source: &self.source,
            country: self.country.as_deref(),
            ip: &self.ip,
            at: self.at,
        }
    }
}

/// A conversion to send through intake.
#[derive(Debug, Clone)]
struct Planned {
    offer: usize,
    publisher: usize,
    click: ClickRef,
    channel: Channel,
    event: String,
    txid: Option<String>,
    amount_minor: Option<i64>,
    fields: BTreeMap<String, String>,
    consent: bool,
    created_at: NaiveDateTime,
}

/// The offers and accounts as stored, and the clock of the demo.
struct World {
    t0: NaiveDateTime,
    start: NaiveDateTime,
    pause_at: NaiveDateTime,
    plans: Vec<OfferPlan>,
    offers: Vec<Offer>,
    admin: Acting,
    advertisers: Vec<Acting>,
    publishers: Vec<Acting>,
    /// Approved (offer, publisher, weight) pairs that get traffic.
    pairs: Vec<(usize, usize, u32)>,
}

impl World {
    fn live(&self, offer: usize, at: NaiveDateTime) -> bool {
        match self.plans[offer].stage {
            Stage::Live => true,
            Stage::Paused => at < self.pause_at,
            Stage::PendingReview | Stage::Draft => false,
        }
    }
}

// ------------------------------------------------------------------ progress

/// One stage of the fill on stderr: a bar (or a spinner) on a terminal; when stderr
/// is not a terminal nothing is drawn and [`done`] prints one plain line instead.
fn stage(name: &str, len: Option<u64>) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    let template = if len.is_some() {
        "{prefix:>9} [{bar:36}] {human_pos}/{human_len} {msg} ({elapsed}, {eta} left)"
    } else {
        "{prefix:>9} {spinner} {msg} ({elapsed})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_prefix(name.to_string());
    if len.is_none() && !pb.is_hidden() {
        pb.enable_steady_tick(StdDuration::from_millis(120));
    }
    pb
}

/// End a stage with what it did.
fn done(pb: &ProgressBar, message: String) {
    if pb.is_hidden() {
        eprintln!("demo: {}: {message} ({:.1} s)", pb.prefix(), pb.elapsed().as_secs_f64());
    } else if let Ok(style) = ProgressStyle::with_template("{prefix:>9} {msg} ({elapsed})") {
        pb.set_style(style);
    }
    pb.finish_with_message(message);
}

// ------------------------------------------------------------------ the fill

/// What the demo made, printed when it is done.
#[derive(Debug, Clone)]
pub struct Report {
    pub login_url: String,
    /// (role, e-mail, who)
    pub logins: Vec<(&'static str, String, String)>,
    pub offers: usize,
    pub clicks: u64,
    pub leads_by_status: Vec<(String, i64)>,
    pub intake_rejected: i64,
    pub disputes: usize,
    pub payouts: usize,
    pub seconds: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let leads: i64 = self.leads_by_status.iter().map(|(_, n)| n).sum();
        let by_status = self.leads_by_status.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ");
        writeln!(
            f,
            "Demo marketplace ready in {:.1} s: {} accounts, {} offers, {} clicks, {leads} leads ({by_status}), \
             {} refused at intake, {}, {}.",
            self.seconds,
            self.logins.len(),
            self.offers,
            self.clicks,
            self.intake_rejected,
            plural(self.disputes, "dispute"),
            plural(self.payouts, "payout"),
        )?;
        writeln!(f)?;
        writeln!(f, "Start the server (`qualead`, or `cargo run --release`) and log in at {}", self.login_url)?;
        writeln!(f)?;
        writeln!(f, "    {:<12}{:<34}{:<16}account", "role", "e-mail", "password")?;
        for (role, email, who) in &self.logins {
            writeln!(f, "    {role:<12}{email:<34}{PASSWORD:<16}{who}")?;
        }
        Ok(())
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// Fill the empty database of `config` with `clicks` clicks' worth of marketplace.
/// Refuses (changing nothing) when the database already has accounts.
pub fn run(config: &Config, clicks: u64) -> anyhow::Result<Report> {
    anyhow::ensure!(
        (MIN_CLICKS..=MAX_CLICKS).contains(&clicks),
        "--clicks: use {MIN_CLICKS} to {MAX_CLICKS} clicks (got {clicks})"
    );
    let started = Instant::now();
    let pool = prepare_database(config)?;
    let mut conn = pool.get().context("cannot open a database connection")?;
    let conn: &mut DbConn = &mut conn;
    refuse_unless_empty(conn)?;

    let mut rng = StdRng::seed_from_u64(0x5157_1ead ^ clicks);
    let pb = stage("accounts", None);
    pb.set_message("admin, advertisers, publishers, offers and memberships");
    let world = cast(conn, config)?;
    done(
        &pb,
        format!(
            "{} accounts, {} offers, {} memberships",
            1 + world.advertisers.len() + world.publishers.len(),
            world.offers.len(),
            MEMBERSHIPS.len()
        ),
    );

    let pb = stage("clicks", Some(clicks));
    let mut planned = traffic(conn, &world, &mut rng, clicks, &pb)?;
    done(&pb, format!("{clicks} clicks over the last {DAYS} days, {} of them convert", planned.len()));
    planned.sort_by_key(|p| p.created_at);

    let pb = stage("deposits", None);
    let deposited = deposit(conn, &world, &planned)?;
    let currency = &config.currency;
    done(&pb, format!("{} {currency} prepaid by the advertisers", crate::domain::money::format_minor(deposited)));

    let pb = stage("leads", Some(planned.len() as u64));
    let fee_default = settings::platform_fee_bps(conn, config.platform_fee_bps)?;
    let (mut accepted, mut refused) = (0, 0);
    for chunk in planned.chunks(LEAD_BATCH) {
        let (a, r) = intake(conn, &world, chunk, fee_default)?;
        (accepted, refused) = (accepted + a, refused + r);
        pb.inc(chunk.len() as u64);
    }
    done(&pb, format!("{accepted} leads accepted, {refused} conversions refused"));

    let pb = stage("settle", None);
    pb.set_message("scrub rules on every lead whose hold is over");
    let summary = settlement::settle_due(conn, now(), settlement::BATCH)?;
    done(&pb, format!("{} approved, {} rejected", summary.approved, summary.rejected));

    let pb = stage("disputes", None);
    pb.set_message("early decisions, returns, contests and rulings");
    let disputes = people(conn, &world, &mut rng)?;
    pb.set_message("payouts");
    let payouts = payouts(conn, &world)?;
    pause(conn, &world)?;
    done(&pb, format!("{disputes} disputes, {payouts} payouts"));

    let health = ledger::health(conn)?;
    anyhow::ensure!(health.balanced, "the demo left the ledger unbalanced: {health:?}");
    report(conn, config, &world, clicks, disputes, payouts, started)
}

fn refuse_unless_empty(conn: &mut DbConn) -> anyhow::Result<()> {
    use crate::db::schema::users::dsl as u;
    let n: i64 = u::users.count().get_result(conn)?;
    anyhow::ensure!(
        n == 0,
        "the database already has {n} account{}; `qualead demo` only fills an empty database \
         (point DATABASE_URL at a new one, e.g. DATABASE_URL=sqlite://data/demo.db)",
        if n == 1 { "" } else { "s" }
    );
    Ok(())
}

/// Run a product action in its own write transaction.
fn must<T>(conn: &mut DbConn, what: &str, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> anyhow::Result<T> {
    conn.write_tx(f).map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

/// A product action the product may refuse (a conflict or a bad request): the
/// refusal is `Ok(Err(..))` and the demo moves on; other errors stop the demo.
fn attempt<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> anyhow::Result<Result<T, AppError>> {
    match conn.write_tx(f) {
        Ok(v) => Ok(Ok(v)),
        Err(e @ (AppError::Conflict { .. } | AppError::BadRequest { .. } | AppError::Invalid(_))) => Ok(Err(e)),
        Err(e) => Err(anyhow::anyhow!(e)),
    }
}

/// The value of an operation, its effects dropped: the demo fills the database
/// before any server runs, so no link cache, mailer or postback worker in this
/// process is there to tell (a server's workers find the queued e-mails and
/// postbacks when they start).
fn unheard<T>((value, _effects): (T, Effects)) -> T {
    value
}

/// The accounts, offers and memberships, through the marketplace operations.
fn cast(conn: &mut DbConn, config: &Config) -> anyhow::Result<World> {
    let base_url = config.base_url.to_string();
    let account = |conn: &mut DbConn, p: &Person, role: Role| -> anyhow::Result<Acting> {
        let hash = crate::crypto::hash_password(PASSWORD)?;
        let email = email_of(p);
        let user = conn.write_tx(|c| -> anyhow::Result<users::User> {
            let u = users::create(
                c,
                users::UserSpec {
                    email: &email,
                    password_hash: &hash,
                    role,
                    status: AccountStatus::Active,
                    display_name: p.name,
                    company: p.company,
                    verified: true,
                },
            )
            .map_err(|e| anyhow::anyhow!("cannot create {email}: {e}"))?;
            users::update_profile(c, u.id, p.name, p.company, p.timezone)?;
            users::find(c, u.id)?.context("the new account")
        })?;
        Ok(Acting {
            user,
            ip: None,
            base_url: base_url.clone(),
            currency: config.currency.clone(),
            platform_fee_bps: config.platform_fee_bps,
        })
    };
    let admin = account(conn, &ADMIN, Role::Admin)?;
    let advertisers =
        ADVERTISERS.iter().map(|p| account(conn, p, Role::Advertiser)).collect::<anyhow::Result<Vec<_>>>()?;
    let publishers =
        PUBLISHERS.iter().map(|p| account(conn, p, Role::Publisher)).collect::<anyhow::Result<Vec<_>>>()?;

    let plans = offer_plans();
    let mut offers = Vec::with_capacity(plans.len());
    for plan in &plans {
        let adv = &advertisers[plan.advertiser];
        let o = must(conn, "create an offer", |c| marketplace::create_offer(c, adv, &plan.body))?;
        let id = o.id;
        must(conn, "submit an offer", |c| {
            marketplace::change_status(c, adv, id, OfferStatus::PendingReview, None).map(unheard)
        })?;
        match plan.stage {
            Stage::Live | Stage::Paused => {
                must(conn, "approve an offer", |c| {
                    marketplace::review_offer(c, &admin, id, true, "Landing page, tracking and terms checked.")
                        .map(unheard)
                })?;
            }
            Stage::Draft => {
                must(conn, "send an offer back", |c| {
                    marketplace::review_offer(
                        c,
                        &admin,
                        id,
                        false,
                        "Please say in the description which states the waitlist covers and when deliveries start.",
                    )
                    .map(unheard)
                })?;
            }
            Stage::PendingReview => {}
        }
        if let Some(fee) = plan.fee_bps {
            must(conn, "set an offer's fee", |c| marketplace::set_offer_fee(c, &admin, id, Some(fee)).map(unheard))?;
        }
        offers.push(o);
    }

    let mut pairs = Vec::new();
    for &(offer, publisher, join) in MEMBERSHIPS {
        let (o, p, adv) = (offers[offer].id, &publishers[publisher], &advertisers[plans[offer].advertiser]);
        let m = must(conn, "join an offer", |c| marketplace::join(c, p, o).map(unheard))?;
        let pid = p.user.id;
        match join {
            Join::Approved(weight) => {
                if !m.is_approved() {
                    must(conn, "approve a publisher", |c| {
                        marketplace::decide_membership(
                            c,
                            adv,
                            o,
                            pid,
                            true,
                            "Welcome aboard: your traffic sources fit this offer.",
                        )
                        .map(unheard)
                    })?;
                }
                pairs.push((offer, publisher, weight));
            }
            Join::Declined(note) => {
                must(conn, "decline a publisher", |c| {
                    marketplace::decide_membership(c, adv, o, pid, false, note).map(unheard)
                })?;
            }
            Join::Pending => {}
        }
    }
    // The stored offers, with their final terms, fees and states.
    for o in &mut offers {
        *o = offers::find(conn, o.id)?.context("a demo offer")?;
    }
    let t0 = now();
    Ok(World {
        t0,
        start: t0 - Duration::days(DAYS),
        pause_at: t0 - Duration::days(6) - Duration::hours(5),
        plans,
        offers,
        admin,
        advertisers,
        publishers,
        pairs,
    })
}

/// Relative traffic of each hour of the window: day and night, weekends, a month of
/// growth, and some day-to-day noise.
fn hour_weights(rng: &mut StdRng, start: NaiveDateTime, hours: i64) -> Vec<f64> {
    let noise: Vec<f64> = (0..=DAYS).map(|_| rng.gen_range(0.85..1.15)).collect();
    (0..hours)
        .map(|h| {
            let t = start + Duration::hours(h);
            let local = ((t.hour() + 24 - 5) % 24) as usize;
            let weekend = if matches!(t.weekday(), Weekday::Sat | Weekday::Sun) { 0.85 } else { 1.0 };
            let trend = 0.8 + 0.4 * h as f64 / hours as f64;
            DIURNAL[local] * weekend * trend * noise[(h / 24) as usize]
        })
        .collect()
}

/// Write `n` clicks spread over the window (in batches, through `clicks::insert_batch`)
/// and plan the conversions some of them lead to.
fn traffic(
    conn: &mut DbConn,
    world: &World,
    rng: &mut StdRng,
    n: u64,
    pb: &ProgressBar,
) -> anyhow::Result<Vec<Planned>> {
    let hours = DAYS * 24;
    let weights = hour_weights(rng, world.start, hours);
    let total: f64 = weights.iter().sum();
    let shared_ips: Vec<String> = (0..60).map(|_| random_ip(rng)).collect();
    let junk_ips: Vec<String> = (0..20).map(|_| random_ip(rng)).collect();
    let mut planned = Vec::new();
    let mut batch: Vec<NewClick> = Vec::with_capacity(CLICK_BATCH);
    // The latest good click of each offer, to make sure each live offer has a lead in hold.
    let mut latest: HashMap<usize, (ClickRef, usize)> = HashMap::new();
    let mut junk_leads = 0usize;
    // Who gets traffic: every approved pair until the paused offer stops, then the live ones.
    let choices = |at: NaiveDateTime| -> Vec<((usize, usize), u32)> {
        world.pairs.iter().filter(|(o, _, _)| world.live(*o, at)).map(|&(o, p, w)| ((o, p), w)).collect()
    };
    let (before_pause, after_pause) = (choices(world.start), choices(world.t0));
    let (mut cum, mut done) = (0.0, 0u64);
    for (h, w) in weights.iter().enumerate() {
        cum += w;
        let target = if h as i64 == hours - 1 { n } else { ((n as f64) * cum / total).floor() as u64 };
        let count = target.saturating_sub(done);
        done += count;
        let slot = world.start + Duration::hours(h as i64);
        let room = (world.t0 - Duration::seconds(90) - slot).num_seconds().clamp(1, 3600);
        let mut offsets: Vec<i64> = (0..count).map(|_| rng.gen_range(0..room * 1_000_000)).collect();
        offsets.sort_unstable();
        for micros in offsets {
            let at = slot + Duration::microseconds(micros);
            let (offer, publisher) = weighted(rng, if at < world.pause_at { &before_pause } else { &after_pause });
            let (click, bot) = new_click(rng, world, offer, publisher, at, &shared_ips, &junk_ips);
            let junk = publisher == JUNK_PUBLISHER;
            let quality = if junk {
                1.4
            } else if publisher == 0 {
                1.2
            } else {
                1.0
            };
            let p = world.plans[offer].cr * quality * if bot { if junk { 1.2 } else { 0.05 } } else { 1.0 };
            if rng.gen_bool(p.clamp(0.0, 1.0)) {
                let force_flaw = junk && junk_leads < 4;
                let leads = conversions(rng, world, offer, publisher, &ClickRef::of(&click), force_flaw, false);
                junk_leads += usize::from(junk) * leads.len();
                planned.extend(leads);
            }
            if !bot && !junk {
                latest.insert(offer, (ClickRef::of(&click), publisher));
            }
            batch.push(click);
            if batch.len() == CLICK_BATCH {
                clicks::insert_batch(conn, &batch)?;
                pb.inc(batch.len() as u64);
                batch.clear();
            }
        }
    }
    if !batch.is_empty() {
        clicks::insert_batch(conn, &batch)?;
        pb.inc(batch.len() as u64);
    }
    // Every live offer has a lead still in its hold: the newest good click converts
    // if nothing recent did.
    for (offer, (click, publisher)) in latest {
        if world.plans[offer].stage != Stage::Live {
            continue;
        }
        let hold = Duration::hours(i64::from(world.offers[offer].terms().hold_hours));
        let recent = planned.iter().any(|p| p.offer == offer && p.created_at > world.t0 - hold + Duration::hours(1));
        if !recent && click.at > world.t0 - hold + Duration::hours(1) {
            planned.extend(conversions(rng, world, offer, publisher, &click, false, true));
        }
    }
    Ok(planned)
}

/// One click of `publisher` on `offer` at `at`, and whether its visitor is a bot.
fn new_click(
    rng: &mut StdRng,
    world: &World,
    offer: usize,
    publisher: usize,
    at: NaiveDateTime,
    shared_ips: &[String],
    junk_ips: &[String],
) -> (NewClick, bool) {
    let junk = publisher == JUNK_PUBLISHER;
    let sites: Vec<((&str, &str, &str), u32)> =
        SITES[publisher].iter().map(|&(s, src, r, w)| ((s, src, r), w)).collect();
    let (site, source, referrer) = weighted(rng, &sites);
    let bot = rng.gen_bool(if junk { 0.3 } else { 0.02 });
    let (device, agent) = if bot {
        ("desktop", pick(rng, BOT_AGENTS))
    } else {
        match rng.gen_range(0..100) {
            0..=57 => ("mobile", pick(rng, MOBILE_AGENTS)),
            58..=93 => ("desktop", pick(rng, DESKTOP_AGENTS)),
            _ => ("tablet", pick(rng, TABLET_AGENTS)),
        }
    };
    let ip = if junk && rng.gen_bool(0.6) {
        pick(rng, junk_ips)
    } else if rng.gen_bool(0.05) {
        pick(rng, shared_ips)
    } else {
        random_ip(rng)
    };
    let allowed = &world.plans[offer].body.terms.allowed_countries;
    let country = if rng.gen_bool(0.03) {
        None
    } else if rng.gen_bool(if junk { 0.2 } else { 0.03 }) {
        Some(pick(rng, OFF_GEO).to_string())
    } else if allowed.is_empty() {
        Some(weighted(rng, WORLD).to_string())
    } else {
        let weights: Vec<(&str, u32)> = allowed
            .iter()
            .map(|c| (c.as_str(), WORLD.iter().find(|(w, _)| w == c).map(|(_, n)| *n).unwrap_or(3)))
            .collect();
        Some(weighted(rng, &weights).to_string())
    };
    let campaigns = world.plans[offer].campaigns;
    let click = NewClick {
        click_id: new_click_id(),
        offer_id: world.offers[offer].id,
        publisher_id: world.publishers[publisher].user.id,
        sub1: site.to_string(),
        sub2: if campaigns.is_empty() { String::new() } else { pick(rng, campaigns).to_string() },
        sub3: pick(rng, placements(source)).to_string(),
        sub4: device.to_string(),
        sub5: pick(rng, CREATIVES).to_string(),
        source: source.to_string(),
        ip,
        user_agent: agent.to_string(),
        referrer: referrer.to_string(),
        country,
        redirect_reason: None,
        created_at: at,
        is_unique: rng.gen_bool(if junk { 0.65 } else { 0.9 }),
    };
    (click, bot)
}

/// The conversions a click leads to: usually one, a paid subscription after some
/// Taskly sign-ups. Those that would happen after now (or after a paused offer
/// stopped) do not happen.
fn conversions(
    rng: &mut StdRng,
    world: &World,
    offer: usize,
    publisher: usize,
    click: &ClickRef,
    force_flaw: bool,
    soon: bool,
) -> Vec<Planned> {
    let junk = publisher == JUNK_PUBLISHER;
    let plan = &world.plans[offer];
    let stored = &world.offers[offer];
    let terms = stored.terms();
    let country =
        click.country.clone().or_else(|| terms.allowed_countries.first().cloned()).unwrap_or_else(|| "US".to_string());
    let delay = if soon {
        rng.gen_range(30..90)
    } else if junk && rng.gen_bool(0.35) {
        rng.gen_range(1..5)
    } else {
        match (plan.kind, rng.gen_range(0..100)) {
            (Kind::Sale(..), _) => rng.gen_range(120..172_800),
            (Kind::Action, _) => rng.gen_range(60..1800),
            (_, 0..=69) => rng.gen_range(45..1200),
            (_, 70..=94) => rng.gen_range(1200..21_600),
            _ => rng.gen_range(21_600..259_200),
        }
    };
    let created_at = click.at + Duration::seconds(delay) + Duration::microseconds(rng.gen_range(0..1_000_000));
    let base = Planned {
        offer,
        publisher,
        click: click.clone(),
        channel: Channel::Postback,
        event: terms_event(stored),
        txid: None,
        amount_minor: None,
        fields: BTreeMap::new(),
        consent: false,
        created_at,
    };
    let p_flaw = if force_flaw {
        1.0
    } else if junk {
        0.5
    } else {
        0.06
    };
    let mut out = Vec::new();
    match plan.kind {
        Kind::Lead(channels) => {
            let channel = pick(rng, channels);
            let c = person(rng, &country);
            let mut fields = BTreeMap::new();
            let required = &terms.required_fields;
            fields.insert("name".to_string(), c.name);
            fields.insert("email".to_string(), c.email);
            if required.iter().any(|f| f == "phone") || rng.gen_bool(0.6) {
                fields.insert("phone".to_string(), c.phone);
            }
            if required.iter().any(|f| f == "zip") {
                fields.insert("zip".to_string(), format!("{:05}", rng.gen_range(1001..99_951)));
            }
            if required.iter().any(|f| f == "age") {
                fields.insert("age".to_string(), rng.gen_range(25..66).to_string());
            }
            if channel != Channel::Postback {
                fields.insert("country".to_string(), country.clone());
            }
            if rng.gen_bool(p_flaw) {
                flaw(rng, world, offer, &mut fields, &country);
            }
            out.push(Planned { channel, fields, consent: channel != Channel::Postback, ..base });
        }
        Kind::Sale(min, max) => {
            let amount = min + ((max - min) as f64 * rng.gen_range(0.0f64..1.0).powi(2)) as i64;
            let amount = amount / 100 * 100 + pick(rng, &[0, 50, 95, 99]);
            let mut fields = BTreeMap::new();
            if rng.gen_bool(0.7) {
                fields.insert("email".to_string(), person(rng, &country).email);
            }
            out.push(Planned {
                channel: Channel::Pixel,
                event: "sale".into(),
                txid: Some(format!("NO-{}", rng.gen_range(100_000..1_000_000))),
                amount_minor: Some(amount),
                fields,
                ..base
            });
        }
        Kind::Action => {
            let c = person(rng, &country);
            let mut fields = BTreeMap::new();
            fields.insert("name".to_string(), c.name);
            fields.insert("email".to_string(), c.email.clone());
            if rng.gen_bool(p_flaw) {
                let flaw = pick(rng, &[Flaw::Disposable, Flaw::Gibberish, Flaw::InvalidEmail]);
                apply_flaw(rng, flaw, &mut fields, &country);
            }
            let email = fields.get("email").cloned().unwrap_or_default();
            let signup = Planned { event: "signup".into(), fields, ..base.clone() };
            if !junk && rng.gen_bool(0.25) {
                let later = created_at + Duration::seconds(rng.gen_range(3 * 86_400..14 * 86_400));
                let mut fields = BTreeMap::new();
                fields.insert("email".to_string(), email);
                out.push(Planned {
                    event: "subscription".into(),
                    txid: Some(format!("sub_{}", crate::crypto::random_token(8))),
                    fields,
                    created_at: later,
                    ..base
                });
            }
            out.push(signup);
        }
    }
    let cutoff = if plan.stage == Stage::Paused { world.pause_at } else { world.t0 - Duration::seconds(30) };
    out.retain(|p| p.created_at < cutoff);
    out
}

fn terms_event(o: &Offer) -> String {
    o.events().first().cloned().unwrap_or_else(|| "lead".into())
}

/// Spoil a lead the way poor traffic does.
fn flaw(rng: &mut StdRng, world: &World, offer: usize, fields: &mut BTreeMap<String, String>, country: &str) {
    let mut kind = weighted(rng, FLAWS);
    if kind == Flaw::MissingPhone && !world.offers[offer].terms().required_fields.iter().any(|f| f == "phone") {
        kind = Flaw::BadPhone;
    }
    apply_flaw(rng, kind, fields, country);
}

fn apply_flaw(rng: &mut StdRng, kind: Flaw, fields: &mut BTreeMap<String, String>, country: &str) {
    let local = fields.get("email").and_then(|e| e.split('@').next()).unwrap_or("lead").to_string();
    match kind {
        Flaw::Disposable => {
            fields.insert("email".into(), format!("{local}@{}", pick(rng, DISPOSABLE_DOMAINS)));
        }
        Flaw::BadPhone => {
            fields.insert("phone".into(), pick(rng, BAD_PHONES).to_string());
        }
        Flaw::Gibberish => {
            fields.insert("name".into(), pick(rng, GIBBERISH_NAMES).to_string());
        }
        Flaw::InvalidEmail => {
            let bad = match rng.gen_range(0..3) {
                0 => format!("{local}@gmail"),
                1 => format!("{local}@@yahoo.com"),
                _ => format!("{local}.gmail.com"),
            };
            fields.insert("email".into(), bad);
        }
        Flaw::MissingPhone => {
            fields.remove("phone");
        }
        Flaw::Duplicate => {
            // The same person twice: a fixed contact per country, so the second
            // (and later) copies meet the first one.
            let mut twin = StdRng::seed_from_u64(country.bytes().map(u64::from).sum());
            let c = person(&mut twin, country);
            fields.insert("name".into(), c.name);
            fields.insert("email".into(), c.email);
            if fields.contains_key("phone") {
                fields.insert("phone".into(), c.phone);
            }
        }
    }
}

/// Prepaid balances that cover the month's leads with room to spare, recorded by
/// the admin (external → advertiser).
fn deposit(conn: &mut DbConn, world: &World, planned: &[Planned]) -> anyhow::Result<i64> {
    let mut spend = vec![0i64; world.advertisers.len()];
    for p in planned {
        spend[world.plans[p.offer].advertiser] += price_of(&world.offers[p.offer], p.amount_minor);
    }
    // Dated a day before the first lead, as a real advertiser pays before it buys,
    // so every month's statement starts from a funded balance.
    let at = planned.iter().map(|p| p.created_at).min().unwrap_or(world.t0) - Duration::days(1);
    let mut sum = 0;
    for (i, adv) in world.advertisers.iter().enumerate() {
        let total = round_up(spend[i] * 13 / 10 + 2_000_00, 1_000_00);
        let first = round_up(total * 6 / 10, 500_00);
        for (amount, memo) in [(first, "Initial prepayment (wire transfer)"), (total - first, "Top-up (card)")] {
            if amount > 0 {
                let tx =
                    must(conn, "record a deposit", |c| actions::deposit(c, &world.admin, adv.user.id, amount, memo))?;
                ledger::backdate(conn, tx, at)?;
                sum += amount;
            }
        }
    }
    Ok(sum)
}

/// `x` (not negative) rounded up to a multiple of `step`.
fn round_up(x: i64, step: i64) -> i64 {
    (x + step - 1) / step * step
}

/// What a conversion costs the advertiser (as intake prices it).
fn price_of(offer: &Offer, amount_minor: Option<i64>) -> i64 {
    match offer.model() {
        PayoutModel::Cps => apply_bps(amount_minor.unwrap_or(0), offer.rate_bps.map(i64::from).unwrap_or(0)),
        _ => offer.price_minor.unwrap_or(0),
    }
}

/// A cap counter's `(leads, spend)`.
type Tally = (i64, i64);

/// One intake transaction for a batch of conversions, as the intake batch writes
/// them: advertisers' balances and the cap counters read under lock, each
/// conversion accepted (lead, history, price reserved advertiser → escrow) or
/// refused with its reason, then balances, counters and rollups written.
fn intake(conn: &mut DbConn, world: &World, batch: &[Planned], fee_default: i64) -> anyhow::Result<(usize, usize)> {
    conn.write_tx(|c| -> anyhow::Result<(usize, usize)> {
        let names: BTreeSet<String> = batch
            .iter()
            .map(|p| world.offers[p.offer].advertiser_id)
            .flat_map(|a| [ledger::advertiser(a), ledger::escrow(a)])
            .collect();
        let mut balances: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for name in names {
            let value = ledger::lock_balance(c, &name)?;
            balances.insert(name, (value, 0));
        }
        let mut counters: BTreeMap<CounterKey, (Tally, Tally)> = BTreeMap::new();
        let mut deltas: BTreeMap<rollups::Key, rollups::Delta> = BTreeMap::new();
        let mut refusals = 0;
        for p in batch {
            let offer = &world.offers[p.offer];
            let publisher_id = world.publishers[p.publisher].user.id;
            let price = price_of(offer, p.amount_minor);
            let limits = caps::limits(offer, publisher_id, p.created_at);
            let mut refused = None;
            for (key, max_leads, max_spend) in &limits {
                if !counters.contains_key(key) {
                    counters.insert(key.clone(), (caps::lock(c, key)?, (0, 0)));
                }
                if counters.get(key).is_some_and(|(v, _)| caps::refuses(*v, price, *max_leads, *max_spend)) {
                    refused = Some(Reason::CapReached);
                    break;
                }
            }
            let advertiser = ledger::advertiser(offer.advertiser_id);
            if refused.is_none() && balances.get(&advertiser).is_none_or(|(v, _)| *v < price) {
                refused = Some(Reason::BudgetExhausted);
            }
            if let Some(reason) = refused {
                let (key, delta) = leads::record_rejection(
                    c,
                    &Rejection {
                        offer_id: offer.id,
                        publisher_id,
                        click_id: Some(&p.click.click_id),
                        channel: p.channel.as_str(),
                        event: &p.event,
                        txid: p.txid.as_deref(),
                        reason: reason.code(),
                        sub1: &p.click.subs[0],
                        at: p.created_at,
                    },
                )?;
                let d = deltas.entry(key).or_default();
                *d += delta;
                refusals += 1;
                continue;
            }
            let lead = new_lead(p, offer, publisher_id, price, fee_default);
            let (fee, payout) = (lead.fee_minor, lead.payout_minor);
            let id = leads::insert_row(c, &lead)?;
            let (key, delta) = leads::created_delta(&lead);
            let d = deltas.entry(key).or_default();
            *d += delta;
            let event =
                MoneyEvent::Accepted { advertiser_id: offer.advertiser_id, money: LeadMoney { price, payout, fee } };
            if price > 0 {
                let posting = Posting { kind: event.kind(), lead_id: Some(id), actor_id: None, memo: "price reserved" };
                ledger::record(c, &posting, &event.transfers(), p.created_at)?;
                for t in event.transfers() {
                    for (account, amount) in [(&t.from, -t.amount), (&t.to, t.amount)] {
                        if let Some((value, change)) = balances.get_mut(account) {
                            *value += amount;
                            *change += amount;
                        }
                    }
                }
            }
            for (key, _, _) in &limits {
                if let Some((value, change)) = counters.get_mut(key) {
                    *value = (value.0 + 1, value.1 + price);
                    *change = (change.0 + 1, change.1 + price);
                }
            }
        }
        for (account, (_, change)) in &balances {
            if *change != 0 {
                ledger::add_to_balance(c, account, *change)?;
            }
        }
        for (key, (_, (n, spend))) in &counters {
            if (*n, *spend) != (0, 0) {
                caps::add(c, key, *n, *spend)?;
            }
        }
        rollups::add_many(c, &deltas)?;
        Ok((batch.len() - refusals, refusals))
    })
}

/// The lead row intake writes for an accepted conversion.
fn new_lead(p: &Planned, offer: &Offer, publisher_id: i64, price: i64, fee_default: i64) -> NewLead {
    crate::tracking::intake::new_lead(LeadParts {
        offer,
        frozen: &crate::store::terms::of_offer(offer),
        terms_id: None,
        publisher_id,
        click: Some(p.click.as_lead_click()),
        channel: p.channel,
        event: p.event.clone(),
        txid: p.txid.as_deref(),
        dedupe_key: dedupe_key(p.txid.as_deref(), Some(&p.click.click_id), publisher_id, &p.event),
        amount_minor: p.amount_minor,
        fields: &p.fields,
        consent: p.consent,
        sender_ip: &p.click.ip,
        price,
        platform_fee_bps: fee_default,
        at: p.created_at,
    })
}

fn list(conn: &mut DbConn, status: LeadStatus, advertiser_id: Option<i64>) -> anyhow::Result<Vec<leads::Lead>> {
    let filter = leads::Filter { status: Some(status), advertiser_id, limit: Some(500), ..leads::Filter::default() };
    Ok(leads::list(conn, &filter)?)
}

/// How many leads are in `status`.
fn count(conn: &mut DbConn, status: LeadStatus) -> anyhow::Result<i64> {
    use crate::db::schema::leads::dsl as l;
    Ok(l::leads.filter(l::status.eq(status)).count().get_result(conn)?)
}

const RETURNS: &[(&str, &str)] = &[
    ("bad_contact", "The phone number is disconnected; three call attempts over two days."),
    ("consumer_denies", "The consumer says they never asked for a quote."),
    ("duplicate", "The same household came through our own website the day before."),
    ("out_of_criteria", "The caller rents the property: outside the published criteria."),
    ("fraud_suspected", "Contact details belong to someone who did not fill in the form."),
];

const CONTESTS: &[&str] = &[
    "The customer confirmed by phone that this is their real address and number.",
    "This visitor came from our newsletter, not from a bot; we can share the signup log.",
    "Different person at the same address: the earlier lead was their spouse.",
];

/// What people do after settlement: early decisions on pending leads, returns of
/// approved leads, contests of rejected ones, and the admin's rulings. Some
/// disputes stay open. Returns how many disputes were opened.
fn people(conn: &mut DbConn, world: &World, rng: &mut StdRng) -> anyhow::Result<usize> {
    // SunPeak decides two pending leads early (if enough are pending).
    let sunpeak = &world.advertisers[0];
    let pending = list(conn, LeadStatus::Pending, Some(sunpeak.user.id))?;
    if pending.len() >= 6 {
        let (a, b) = (pending[pending.len() - 1].id, pending[pending.len() - 2].id);
        let _ = attempt(conn, |c| {
            actions::decide_early(c, sunpeak, a, true, "", "Installer visit already booked.").map(unheard)
        })?;
        let _ = attempt(conn, |c| {
            actions::decide_early(c, sunpeak, b, false, "out_of_criteria", "The homeowner's roof faces north only.")
                .map(unheard)
        })?;
    }

    let mut disputes = 0;
    // Returns: upheld (reversed), denied (approved again), and left open (disputed).
    let approved = list(conn, LeadStatus::Approved, None)?;
    let wanted = (count(conn, LeadStatus::Approved)? / 40).clamp(3, 30) as usize;
    let mut candidates: Vec<&leads::Lead> =
        approved.iter().filter(|l| l.publisher_id != world.publishers[JUNK_PUBLISHER].user.id).collect();
    candidates.extend(approved.iter().filter(|l| l.publisher_id == world.publishers[JUNK_PUBLISHER].user.id));
    let mut opened = 0;
    for lead in candidates {
        if opened == wanted {
            break;
        }
        let Some(adv) = world.advertisers.iter().find(|a| a.user.id == lead.advertiser_id) else { continue };
        let (reason, comment) = if lead.event == "sale" {
            ("other", "The order was returned for a full refund.")
        } else {
            pick(rng, RETURNS)
        };
        let mut dispute = attempt(conn, |c| actions::return_lead(c, adv, lead.id, reason, comment).map(unheard))?;
        if let Err(AppError::Conflict { code: "return_rate_exceeded", .. }) = dispute {
            // Past the offer's maximum return rate an admin must allow more returns.
            let offer = lead.offer_id;
            must(conn, "allow returns", |c| actions::allow_returns(c, &world.admin, offer, 10))?;
            dispute = attempt(conn, |c| actions::return_lead(c, adv, lead.id, reason, comment).map(unheard))?;
        }
        let Ok(dispute) = dispute else { continue };
        disputes += 1;
        let ruling = match opened % 3 {
            0 => Some((Ruling::Upheld, "Call recordings confirm it; the return is accepted.")),
            1 => Some((Ruling::Denied, "The lead met the published terms when it was delivered; return denied.")),
            _ => None,
        };
        if let Some((ruling, note)) = ruling {
            must(conn, "rule on a return", |c| actions::rule(c, &world.admin, dispute.id, ruling, note).map(unheard))?;
        }
        opened += 1;
    }

    // Contests: upheld (approved after all), denied (rejected again), left open.
    let rejected = list(conn, LeadStatus::Rejected, None)?;
    let wanted = (count(conn, LeadStatus::Rejected)? / 40).clamp(3, 20) as usize;
    let mut opened = 0;
    let mut order: Vec<&leads::Lead> =
        rejected.iter().filter(|l| l.publisher_id != world.publishers[JUNK_PUBLISHER].user.id).collect();
    order.extend(rejected.iter().filter(|l| l.publisher_id == world.publishers[JUNK_PUBLISHER].user.id));
    for lead in order {
        if opened == wanted {
            break;
        }
        let Some(publisher) = world.publishers.iter().find(|p| p.user.id == lead.publisher_id) else { continue };
        let comment = CONTESTS[opened % CONTESTS.len()];
        let Ok(dispute) = attempt(conn, |c| actions::contest(c, publisher, lead.id, comment).map(unheard))? else {
            continue;
        };
        disputes += 1;
        let ruling = match opened % 3 {
            0 => Some((Ruling::Upheld, "The advertiser's own CRM shows the customer; the lead is paid.")),
            1 => Some((Ruling::Denied, "The rule that rejected the lead applies as published.")),
            _ => None,
        };
        if let Some((ruling, note)) = ruling {
            // An upheld contest needs the advertiser's balance; without it the dispute stays open.
            let _ = attempt(conn, |c| actions::rule(c, &world.admin, dispute.id, ruling, note).map(unheard))?;
        }
        opened += 1;
    }
    Ok(disputes)
}

/// Payout requests: some paid by the admin, some still waiting.
fn payouts(conn: &mut DbConn, world: &World) -> anyhow::Result<usize> {
    let minimum = settings::payout_minimum_minor(conn)?;
    let plan: [(usize, i64, bool, &str); 5] = [
        (0, 60, true, "PayPal maya@greenhomejournal.com"),
        (0, 50, false, "PayPal maya@greenhomejournal.com"),
        (1, 70, true, "Bank transfer, account ending 4471"),
        (2, 50, false, "Bank transfer, account ending 0932"),
        (3, 80, true, "Wise, EUR account"),
    ];
    let mut n = 0;
    for (publisher, pct, paid, method) in plan {
        let p = &world.publishers[publisher];
        let available = money::publisher_balance(conn, p.user.id)?.available;
        let amount = available * pct / 100 / 100 * 100;
        if amount < minimum {
            continue;
        }
        let Ok(payout) = attempt(conn, |c| money::request_payout(c, p, amount, method))? else { continue };
        n += 1;
        if paid {
            let note = format!("Paid, reference DEMO-{:04}", payout.id);
            must(conn, "pay a payout", |c| money::mark_paid(c, &world.admin, payout.id, &note).map(unheard))?;
        }
    }
    Ok(n)
}

/// BrightCover pauses its life insurance offer (traffic stopped six days ago).
fn pause(conn: &mut DbConn, world: &World) -> anyhow::Result<()> {
    for (i, plan) in world.plans.iter().enumerate() {
        if plan.stage == Stage::Paused {
            let (adv, id) = (&world.advertisers[plan.advertiser], world.offers[i].id);
            must(conn, "pause an offer", |c| {
                marketplace::change_status(c, adv, id, OfferStatus::Paused, None).map(unheard)
            })?;
        }
    }
    Ok(())
}

fn report(
    conn: &mut DbConn,
    config: &Config,
    world: &World,
    clicks: u64,
    disputes: usize,
    payouts: usize,
    started: Instant,
) -> anyhow::Result<Report> {
    use crate::db::schema::leads::dsl as l;
    let counts: Vec<(LeadStatus, i64)> =
        l::leads.group_by(l::status).select((l::status, diesel::dsl::count_star())).load(conn)?;
    let leads_by_status: Vec<(String, i64)> = LeadStatus::ALL
        .iter()
        .map(|s| (s.to_string(), counts.iter().find(|(c, _)| c == s).map(|(_, n)| *n).unwrap_or(0)))
        .collect();
    let mut logins = vec![("admin", email_of(&ADMIN), ADMIN.name.to_string())];
    for (role, people) in [("advertiser", &ADVERTISERS[..]), ("publisher", &PUBLISHERS[..])] {
        for p in people {
            logins.push((role, email_of(p), format!("{} ({})", p.name, p.company)));
        }
    }
    Ok(Report {
        login_url: config.url("/login"),
        logins,
        offers: world.offers.len(),
        clicks,
        leads_by_status,
        intake_rejected: leads::rejections_count(conn)?,
        disputes,
        payouts,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offer_body_is_valid() {
        for plan in offer_plans() {
            let r = crate::domain::offer::validate(&plan.body);
            assert!(r.is_ok(), "{}: {r:?}", plan.body.name);
        }
        for &(offer, publisher, _) in MEMBERSHIPS {
            assert!(offer < offer_plans().len() && publisher < PUBLISHERS.len());
        }
    }

    #[test]
    fn good_contacts_pass_the_scrub_rules_and_junk_fails_them() {
        let mut rng = StdRng::seed_from_u64(7);
        for country in ["US", "CA", "GB", "DE", "AU", "FR", "IN", "BR", "NL", "PK"] {
            for _ in 0..300 {
                let c = person(&mut rng, country);
                assert!(phone_is_valid(&c.phone, country), "{country} {}", c.phone);
                assert!(scrub::name_problem(&c.name).is_none(), "{}", c.name);
                assert!(scrub::email_problem(&c.email).is_none(), "{}", c.email);
            }
        }
        for name in FIRST_NAMES.iter().chain(LAST_NAMES) {
            assert!(scrub::name_problem(name).is_none(), "{name}");
        }
        for name in GIBBERISH_NAMES {
            assert!(scrub::name_problem(name).is_some(), "{name}");
        }
        for phone in BAD_PHONES {
            assert!(!phone_is_valid(phone, "US"), "{phone}");
        }
        let domains = scrub::Domains::shipped();
        for d in DISPOSABLE_DOMAINS {
            assert!(domains.contains(d), "{d}");
        }
        for (d, _) in EMAIL_DOMAINS {
            assert!(!domains.contains(d), "{d}");
        }
        for bad in ["ann@gmail", "ann@@yahoo.com", "ann.gmail.com"] {
            assert!(scrub::email_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn browsers_pass_and_bots_fail_the_bot_rule() {
        for ua in DESKTOP_AGENTS.iter().chain(MOBILE_AGENTS).chain(TABLET_AGENTS) {
            assert!(scrub::bot_signature(ua).is_none(), "{ua}");
        }
        for ua in BOT_AGENTS {
            assert!(scrub::bot_signature(ua).is_some(), "{ua:?}");
        }
    }

    #[test]
    fn the_password_is_acceptable_for_every_login() {
        for p in std::iter::once(&ADMIN).chain(&ADVERTISERS).chain(&PUBLISHERS) {
            let email = email_of(p);
            assert!(crate::domain::account::is_valid_email(&email), "{email}");
            assert!(crate::domain::account::password_problem(PASSWORD, &email).is_none());
        }
    }
}
