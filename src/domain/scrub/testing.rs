//! Test helpers shared by the rule files' unit tests: bare terms and a lead
//! whose facts a test adjusts before evaluating it.

use serde_json::{Map, Value, json};

use super::*;
use crate::domain::offer::Scrub;

pub(super) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// Terms with every switchable rule off, so a test turns on only what it looks at.
pub(super) fn bare_terms() -> Terms {
    Terms {
        required_fields: vec![],
        allowed_countries: vec![],
        scrub: Scrub {
            duplicate_days: 0,
            duplicate_scope: "offer".into(),
            min_seconds: 0,
            max_conversion_days: 0,
            max_leads_per_ip: 0,
            duplicate_click_minutes: 0,
            duplicate_click_flag: 0,
            duplicate_click_reject: 0,
            block_disposable: false,
            block_bots: false,
            block_datacenter: false,
            block_relay: false,
            check_email: false,
            check_phone: false,
            check_name: false,
            min_score: 0,
        },
        ..Terms::default()
    }
}

pub(super) struct Lead {
    pub(super) fields: Map<String, Value>,
    pub(super) contact: Contact,
    pub(super) country: Option<&'static str>,
    pub(super) ua: Option<&'static str>,
    pub(super) secs: Option<i64>,
    pub(super) ip_leads: i64,
    pub(super) repeats: Option<i64>,
    pub(super) dup: Option<Duplicate>,
    pub(super) network: Option<NetKind>,
}

pub(super) const CHROME: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

impl Lead {
    pub(super) fn new(fields: Value, country: Option<&'static str>) -> Lead {
        let fields = obj(fields);
        let contact = contact(&fields, country);
        Lead {
            fields,
            contact,
            country,
            ua: Some(CHROME),
            secs: Some(60),
            ip_leads: 0,
            repeats: Some(0),
            dup: None,
            network: Some(NetKind::Other),
        }
    }

    pub(super) fn facts(&self) -> Facts<'_> {
        Facts {
            fields: &self.fields,
            contact: &self.contact,
            country: self.country,
            phone_country: self.country,
            user_agent: self.ua,
            seconds_from_click: self.secs,
            repeat_clicks: self.repeats,
            leads_from_ip_24h: self.ip_leads,
            duplicate_of: self.dup,
            network: self.network,
        }
    }

    pub(super) fn eval(&self, terms: &Terms) -> Verdict {
        evaluate(terms, &self.facts(), &Domains::shipped())
    }
}

pub(super) fn good_lead() -> Lead {
    Lead::new(json!({"email": "Jane.Roe@Example.com", "phone": "+1 202 555 0143", "name": "Jane Roe"}), Some("US"))
}

pub(super) fn check<'a>(v: &'a Verdict, code: &str) -> &'a Check {
    v.checks.iter().find(|c| c.code == code).unwrap_or_else(|| panic!("no {code} check in {v:?}"))
}
