//! The lead row of an accepted conversion: intake and `qualead demo` both build
//! their leads here ([`new_lead`]).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};

use crate::domain::intake::Channel;
use crate::domain::offer::split_price;
use crate::domain::terms::FrozenTerms;
use crate::store::clicks::Click;
use crate::store::leads::{LeadStatus, NewLead};
use crate::store::offers::Offer;

/// The click an accepted conversion is put down to, as far as its lead row copies it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeadClick<'a> {
    pub click_id: &'a str,
    pub subs: [&'a str; 5],
    pub source: &'a str,
    pub country: Option<&'a str>,
    pub ip: &'a str,
    pub at: NaiveDateTime,
}

impl<'a> From<&'a Click> for LeadClick<'a> {
    fn from(c: &'a Click) -> LeadClick<'a> {
        LeadClick {
            click_id: &c.click_id,
            subs: [&c.sub1, &c.sub2, &c.sub3, &c.sub4, &c.sub5],
            source: &c.source,
            country: c.country.as_deref(),
            ip: &c.ip,
            at: c.created_at,
        }
    }
}

/// What the lead row of an accepted conversion is made of (see [`new_lead`]).
pub(crate) struct LeadParts<'a> {
    pub offer: &'a Offer,
    /// The terms the lead is accepted under (price, fee, hold, countries).
    pub frozen: &'a FrozenTerms,
    /// Their stored version, if any (`offer_terms`).
    pub terms_id: Option<i64>,
    pub publisher_id: i64,
    pub click: Option<LeadClick<'a>>,
    pub channel: Channel,
    /// The event, already resolved against the offer's events.
    pub event: String,
    pub txid: Option<&'a str>,
    /// The conversion's [`dedupe_key`](crate::domain::intake::dedupe_key); `None` gets a key of its own (`new:…`).
    pub dedupe_key: Option<String>,
    pub amount_minor: Option<i64>,
    pub fields: &'a BTreeMap<String, String>,
    pub consent: bool,
    /// The sender's address, kept as the lead's when there is no click.
    pub sender_ip: &'a str,
    /// What the conversion costs the advertiser ([`FrozenTerms::price_of`]).
    pub price: i64,
    /// The platform's fee, for offers that set none of their own.
    pub platform_fee_bps: i64,
    pub at: NaiveDateTime,
}

/// The pending lead row of an accepted conversion: the price split into fee and
/// payout at the offer's fee, the subs, source and address of the click, the
/// country of the click (else the one sent), the normalised contact, and the hold
/// from `at`. Intake and `qualead demo` both build their leads here.
pub(crate) fn new_lead(parts: LeadParts<'_>) -> NewLead {
    let LeadParts {
        offer,
        frozen,
        terms_id,
        publisher_id,
        click,
        channel,
        event,
        txid,
        dedupe_key,
        amount_minor,
        fields,
        consent,
        sender_ip,
        price,
        platform_fee_bps,
        at,
    } = parts;
    let terms = &frozen.terms;
    let fee_bps = frozen.fee_bps.map(i64::from).unwrap_or(platform_fee_bps);
    let (fee, payout) = split_price(price, fee_bps);
    let country = click.and_then(|c| c.country).map(str::to_owned).or_else(|| fields.get("country").cloned());
    let contact = normalised_contact(fields, country.as_deref(), &terms.allowed_countries);
    let [sub1, sub2, sub3, sub4, sub5] = click.map(|c| c.subs.map(str::to_owned)).unwrap_or_default();
    NewLead {
        offer_id: offer.id,
        publisher_id,
        advertiser_id: offer.advertiser_id,
        click_id: click.map(|c| c.click_id.to_owned()),
        channel: channel.as_str().into(),
        event,
        txid: txid.map(str::to_owned),
        dedupe_key: dedupe_key.unwrap_or_else(|| format!("new:{}", crate::crypto::random_token(12))),
        status: LeadStatus::Pending,
        amount_minor,
        price_minor: price,
        fee_minor: fee,
        payout_minor: payout,
        fee_bps: i32::try_from(fee_bps).unwrap_or(0),
        fields: serde_json::to_string(fields).unwrap_or_else(|_| "{}".into()),
        consent,
        sub1,
        sub2,
        sub3,
        sub4,
        sub5,
        source: click.map(|c| c.source.to_owned()).unwrap_or_default(),
        country,
        ip: click.map_or(sender_ip, |c| c.ip).to_owned(),
        click_at: click.map(|c| c.at),
        hold_until: at + Duration::hours(i64::from(terms.hold_hours)),
        created_at: at,
        updated_at: at,
        email_norm: contact.email,
        phone_norm: contact.phone,
        terms_id,
    }
}

/// The lead's e-mail and phone normalised as settlement compares them (DESIGN §7),
/// stored with the lead so that `duplicate_contact` is an index lookup. Phones are
/// read for the lead's country, else the offer's first allowed country.
fn normalised_contact(
    fields: &BTreeMap<String, String>,
    country: Option<&str>,
    allowed_countries: &[String],
) -> crate::domain::scrub::Contact {
    if fields.is_empty() {
        return Default::default();
    }
    let map: serde_json::Map<String, serde_json::Value> =
        fields.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    let country = country.or(allowed_countries.first().map(String::as_str));
    crate::domain::scrub::contact(&map, country)
}
