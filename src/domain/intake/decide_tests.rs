//! The intake decision without a database: one case per refusal reason, dedupe,
//! caps, budget and price. Every case starts from [`Case::postback`], a click's
//! server postback to an active CPL offer at 5.00 whose advertiser has 100.00.

// Money is written in minor units grouped as major_minor (500_00 is 500.00).
#![allow(clippy::inconsistent_digit_grouping)]

use chrono::{NaiveDate, NaiveDateTime};

use super::*;
use crate::domain::intake::Params;
use crate::domain::offer::Listing;
use crate::store::terms::of_offer;

const ADVERTISER: i64 = 10;
const PUBLISHER: i64 = 20;

fn at(day: u32, hour: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, day).and_then(|d| d.and_hms_opt(hour, 0, 0)).expect("a date")
}

fn offer() -> Offer {
    Offer {
        id: 1,
        advertiser_id: ADVERTISER,
        listing: Listing { name: "Roofs".into(), landing_url: "https://roofs.example/".into(), ..Default::default() },
        payout_model: "cpl".into(),
        price_minor: Some(5_00),
        rate_bps: None,
        events: "[]".into(),
        fee_bps: None,
        visibility: "public".into(),
        timezone: "UTC".into(),
        status: "active".into(),
        review_note: String::new(),
        limits: Default::default(),
        terms: "{}".into(),
        countries: String::new(),
        postback_token: "secret-token".into(),
        postback_ips: String::new(),
        created_at: at(1, 0),
        updated_at: at(1, 0),
        pixel: true,
        hosted_form: true,
        publisher_leads: true,
        pixel_signature: false,
        max_sale_minor: None,
        notice_hours: 24,
    }
}

fn click(id: &str) -> Click {
    Click {
        click_id: id.into(),
        offer_id: 1,
        publisher_id: PUBLISHER,
        sub1: String::new(),
        sub2: String::new(),
        sub3: String::new(),
        sub4: String::new(),
        sub5: String::new(),
        source: String::new(),
        ip: "203.0.113.9".into(),
        user_agent: String::new(),
        referrer: String::new(),
        country: None,
        redirect_reason: None,
        created_at: at(7, 9),
        is_unique: true,
        country_source: "unknown".into(),
        device: "unknown".into(),
        os: "other".into(),
        repeat_clicks: 0,
    }
}

fn membership(status: &str) -> Membership {
    Membership {
        id: 1,
        offer_id: 1,
        publisher_id: PUBLISHER,
        status: status.into(),
        token: "link".into(),
        postback_template: String::new(),
        invited: false,
        note: String::new(),
        created_at: at(1, 0),
        decided_at: None,
    }
}

fn stored_lead(id: i64, click: &str, event: &str, txid: Option<&str>) -> ClickLead {
    let key = dedupe_key(txid, Some(click), PUBLISHER, event).expect("a key with a click");
    ClickLead {
        id,
        offer_id: 1,
        click_id: Some(click.into()),
        event: event.into(),
        txid: txid.map(str::to_string),
        dedupe_key: key,
    }
}

/// A tally whose advertiser has `balance` and whose escrow is empty, as the batch
/// locks them when it starts.
fn tally(balance: i64) -> Tally {
    let mut t = Tally::default();
    t.balances.insert(advertiser_account(ADVERTISER), (balance, 0));
    t.balances.insert(escrow_account(ADVERTISER), (0, 0));
    t
}

/// Everything a conversion is decided on.
struct Case {
    conv: Conversion,
    click: Option<Click>,
    offer: Option<Offer>,
    /// The terms in force at the click; `None`: the offer's current ones.
    frozen: Option<FrozenTerms>,
    advertiser_active: bool,
    membership: Option<Membership>,
    publisher_active: bool,
    click_leads: Vec<ClickLead>,
    keyed_lead: Option<i64>,
    now: NaiveDateTime,
}

/// An accepted conversion: its place in the batch and what it costs.
#[derive(Debug, PartialEq, Eq)]
struct Accept {
    index: usize,
    price: i64,
}

impl Case {
    fn postback() -> Case {
        let mut params = Params {
            click_id: Some("c1".into()),
            token: Some("secret-token".into()),
            event: None,
            ..Params::default()
        };
        params.fields.insert("email".into(), "ann@example.com".into());
        Case {
            conv: Conversion {
                channel: Channel::Postback,
                params,
                offer_id: None,
                publisher_id: None,
                consent: None,
                ip: "198.51.100.7".into(),
            },
            click: Some(click("c1")),
            offer: Some(offer()),
            frozen: None,
            advertiser_active: true,
            membership: Some(membership("approved")),
            publisher_active: true,
            click_leads: Vec::new(),
            keyed_lead: None,
            now: at(7, 12),
        }
    }

    /// A pixel of the click (the offer named by id).
    fn pixel() -> Case {
        let mut c = Case::postback();
        c.conv.channel = Channel::Pixel;
        c.conv.params.token = None;
        c.conv.offer_id = Some(1);
        c
    }

    /// A publisher's own lead through the API: no click.
    fn api_lead() -> Case {
        let mut c = Case::postback();
        c.conv.channel = Channel::Api;
        c.conv.params.token = None;
        c.conv.params.click_id = None;
        c.conv.offer_id = Some(1);
        c.conv.publisher_id = Some(PUBLISHER);
        c.conv.consent = Some(true);
        c.click = None;
        c
    }

    fn offer_mut(&mut self) -> &mut Offer {
        self.offer.as_mut().expect("the case has an offer")
    }

    fn attribute(&self) -> Result<Who, Stop> {
        attribute(&self.conv, self.click.clone(), self.offer.clone())
    }

    /// The whole decision as the batch takes it: attribute, check, lock the
    /// counters (a new counter reads zero), admit.
    fn decide(&self, tally: &mut Tally) -> Result<Accept, Stop> {
        let who = self.attribute()?;
        let frozen = self.frozen.clone().unwrap_or_else(|| of_offer(&who.offer));
        let facts = Facts {
            conv: &self.conv,
            who: &who,
            frozen: &frozen,
            advertiser_active: self.advertiser_active,
            membership: self.membership.as_ref(),
            publisher_active: self.publisher_active,
            click_leads: &self.click_leads,
            keyed_lead: self.keyed_lead,
            now: self.now,
        };
        let checked = check(&facts, tally)?;
        let limits = limits(&who, self.now);
        for (key, _, _) in &limits {
            tally.counters.entry(key.clone()).or_insert(((0, 0), (0, 0)));
        }
        let admitted = admit(&self.conv, &who, &checked, &limits, tally)?;
        assert_eq!(admitted.advertiser, advertiser_account(ADVERTISER));
        Ok(Accept { index: admitted.index, price: checked.price })
    }

    fn reason(&self) -> Reason {
        match self.decide(&mut tally(100_00)) {
            Err(Stop::Refused(reason, _)) => reason,
            Err(Stop::Missing(_)) => Reason::MissingField,
            other => panic!("not refused: {other:?}"),
        }
    }
}

fn refused(reason: Reason) -> impl Fn(&Result<Accept, Stop>) -> bool {
    move |r| matches!(r, Err(Stop::Refused(got, _)) if *got == reason)
}

#[test]
fn a_postback_of_a_known_click_is_accepted_at_the_offer_price() {
    let mut t = tally(100_00);
    assert_eq!(Case::postback().decide(&mut t), Ok(Accept { index: 0, price: 5_00 }));
    assert_eq!(t.accepted, 1);
    assert_eq!(t.balances[&advertiser_account(ADVERTISER)], (95_00, -5_00));
    assert_eq!(t.balances[&escrow_account(ADVERTISER)], (5_00, 5_00));
}

// ---- refusals, one per reason ----

#[test]
fn bad_token_when_the_postback_has_none_or_no_offer_has_it() {
    let mut c = Case::postback();
    c.conv.params.token = None;
    assert_eq!(c.reason(), Reason::BadToken);
    let mut c = Case::postback();
    c.offer = None;
    assert_eq!(c.reason(), Reason::BadToken);
}

#[test]
fn ip_not_allowed_outside_the_postback_allow_list() {
    let mut c = Case::postback();
    c.offer_mut().postback_ips = "10.0.0.0/8".into();
    assert_eq!(c.reason(), Reason::IpNotAllowed);
    c.conv.ip = "10.1.2.3".into();
    assert!(c.decide(&mut tally(100_00)).is_ok());
}

#[test]
fn unknown_click_for_a_click_id_not_stored_or_none_at_all() {
    let mut c = Case::postback();
    c.click = None;
    assert_eq!(c.reason(), Reason::UnknownClick);
    let mut c = Case::pixel();
    c.click = None;
    assert_eq!(c.reason(), Reason::UnknownClick);
    c.conv.params.click_id = None;
    assert_eq!(
        c.attribute().err(),
        Some(Stop::Refused(Reason::UnknownClick, "no click id (parameter or cookie)".into()))
    );
}

#[test]
fn click_offer_mismatch_for_another_offer_or_publisher() {
    let mut c = Case::postback();
    c.click.as_mut().expect("a click").offer_id = 2;
    assert_eq!(c.reason(), Reason::ClickOfferMismatch);
    let mut c = Case::pixel();
    c.conv.publisher_id = Some(PUBLISHER + 1);
    assert_eq!(c.reason(), Reason::ClickOfferMismatch);
}

#[test]
fn click_expired_after_the_conversion_window_not_on_its_last_instant() {
    let mut c = Case::postback();
    let window = of_offer(&offer()).terms.conversion_window_days;
    c.now = c.click.as_ref().expect("a click").created_at + Duration::days(i64::from(window));
    assert!(c.decide(&mut tally(100_00)).is_ok(), "the window's last instant");
    c.now += Duration::seconds(1);
    assert_eq!(c.reason(), Reason::ClickExpired);
}

#[test]
fn offer_inactive_for_the_offer_its_advertiser_the_link_or_the_publisher() {
    let mut c = Case::postback();
    c.offer_mut().status = "paused".into();
    assert_eq!(c.reason(), Reason::OfferInactive);
    let mut c = Case::postback();
    c.advertiser_active = false;
    assert_eq!(c.reason(), Reason::OfferInactive);
    let mut c = Case::postback();
    c.membership = Some(membership("pending"));
    assert_eq!(c.reason(), Reason::OfferInactive);
    c.membership = None;
    assert_eq!(c.reason(), Reason::OfferInactive);
    let mut c = Case::postback();
    c.publisher_active = false;
    assert_eq!(c.reason(), Reason::OfferInactive);
}

#[test]
fn missing_consent_when_the_person_did_not_consent() {
    let mut c = Case::api_lead();
    c.conv.consent = Some(false);
    assert_eq!(c.reason(), Reason::MissingConsent);
}

#[test]
fn missing_field_names_the_required_fields_absent_or_blank() {
    let mut c = Case::postback();
    let mut frozen = of_offer(&offer());
    frozen.terms.required_fields = vec!["email".into(), "phone".into(), "zip".into()];
    c.frozen = Some(frozen);
    c.conv.params.fields.insert("zip".into(), " ".into());
    assert_eq!(c.decide(&mut tally(100_00)), Err(Stop::Missing(vec!["phone".into(), "zip".into()])));
}

#[test]
fn channel_not_allowed_when_the_offer_closed_the_channel() {
    let mut c = Case::pixel();
    c.offer_mut().pixel = false;
    assert_eq!(c.reason(), Reason::ChannelNotAllowed);
    let mut c = Case::api_lead();
    c.offer_mut().publisher_leads = false;
    assert_eq!(c.reason(), Reason::ChannelNotAllowed);
}

#[test]
fn a_click_of_the_offers_cps_days_is_reported_only_by_the_advertiser() {
    let mut c = Case::pixel();
    let mut cps = offer();
    cps.payout_model = "cps".into();
    cps.rate_bps = Some(10_00);
    c.frozen = Some(of_offer(&cps));
    c.conv.params.amount_minor = Some(70_00);
    assert_eq!(c.reason(), Reason::ChannelNotAllowed, "the offer is CPL now, the click's terms CPS");
    c.conv.channel = Channel::Postback;
    c.conv.params.token = Some("secret-token".into());
    assert_eq!(c.decide(&mut tally(100_00)), Ok(Accept { index: 0, price: 7_00 }), "10% of 70.00");
}

#[test]
fn bad_signature_for_a_signed_pixel_without_the_right_sig() {
    let mut c = Case::pixel();
    c.offer_mut().pixel_signature = true;
    assert_eq!(c.reason(), Reason::BadSignature);
    c.conv.params.sig = Some("00".into());
    assert_eq!(c.reason(), Reason::BadSignature);
    let message = channels::signature_message("c1", None, None);
    c.conv.params.sig = Some(channels::sign("secret-token", &message));
    assert!(c.decide(&mut tally(100_00)).is_ok());
}

#[test]
fn amount_out_of_range_above_the_maximum_sale_not_at_it() {
    let mut c = Case::postback();
    let o = c.offer_mut();
    (o.payout_model, o.rate_bps, o.max_sale_minor) = ("cps".into(), Some(10_00), Some(200_00));
    c.conv.params.amount_minor = Some(200_00);
    assert_eq!(c.decide(&mut tally(100_00)), Ok(Accept { index: 0, price: 20_00 }));
    c.conv.params.amount_minor = Some(200_01);
    assert_eq!(c.reason(), Reason::AmountOutOfRange);
}

#[test]
fn invalid_request_for_what_only_the_offer_can_tell() {
    // Malformed parameters are refused at the HTTP edge (Params::from_pairs).
    let mut c = Case::postback();
    c.conv.params.click_id = None;
    assert_eq!(c.reason(), Reason::InvalidRequest, "a postback without click_id");
    let mut c = Case::pixel();
    c.conv.offer_id = None;
    assert_eq!(c.reason(), Reason::InvalidRequest, "no offer_id");
    let mut c = Case::pixel();
    c.offer = None;
    assert_eq!(c.reason(), Reason::InvalidRequest, "no such offer");
    let mut c = Case::postback();
    c.offer_mut().events = r#"["lead","sale"]"#.into();
    c.conv.params.event = Some("deposit".into());
    assert_eq!(c.reason(), Reason::InvalidRequest, "an event the offer does not have");
    c.conv.params.event = Some("sale".into());
    assert!(c.decide(&mut tally(100_00)).is_ok());
    let mut c = Case::api_lead();
    c.conv.params.amount_minor = Some(10_00);
    assert_eq!(c.decide(&mut tally(100_00)), Err(Stop::Refused(Reason::InvalidRequest, channels::NO_AMOUNT.into())));
    let mut c = Case::postback();
    c.offer_mut().payout_model = "cps".into();
    assert_eq!(c.reason(), Reason::InvalidRequest, "a sale without an amount");
}

#[test]
fn cap_reached_and_budget_exhausted_are_decided_here() {
    let mut c = Case::postback();
    c.offer_mut().limits.cap_total = Some(0);
    assert_eq!(c.reason(), Reason::CapReached);
    assert!(refused(Reason::BudgetExhausted)(&Case::postback().decide(&mut tally(4_99))));
}

/// `base` changed by `edit`.
fn case(base: fn() -> Case, edit: impl FnOnce(&mut Case)) -> Case {
    let mut c = base();
    edit(&mut c);
    c
}

#[test]
fn every_reason_is_decided_here_but_bad_input_also_at_the_edge() {
    // bad_token and invalid_request are also given at the HTTP edge (an unknown
    // token of a verdict postback, malformed parameters); every other reason only here.
    let cases = [
        (Reason::BadToken, case(Case::postback, |c| c.conv.params.token = None)),
        (Reason::IpNotAllowed, case(Case::postback, |c| c.offer_mut().postback_ips = "10.0.0.0/8".into())),
        (Reason::UnknownClick, case(Case::postback, |c| c.click = None)),
        (Reason::ClickOfferMismatch, case(Case::pixel, |c| c.conv.publisher_id = Some(PUBLISHER + 1))),
        (Reason::ClickExpired, case(Case::postback, |c| c.now = at(31, 0) + Duration::days(60))),
        (Reason::OfferInactive, case(Case::postback, |c| c.offer_mut().status = "paused".into())),
        (Reason::CapReached, case(Case::postback, |c| c.offer_mut().limits.cap_daily = Some(0))),
        (Reason::BudgetExhausted, case(Case::postback, |c| c.offer_mut().price_minor = Some(1_000_00))),
        (Reason::MissingConsent, case(Case::api_lead, |c| c.conv.consent = Some(false))),
        (Reason::InvalidRequest, case(Case::postback, |c| c.conv.params.click_id = None)),
        (Reason::MissingField, case(Case::postback, |c| c.conv.params.fields.clear())),
        (Reason::ChannelNotAllowed, case(Case::pixel, |c| c.offer_mut().pixel = false)),
        (Reason::BadSignature, case(Case::pixel, |c| c.offer_mut().pixel_signature = true)),
        (
            Reason::NotTargeted,
            case(Case::postback, |c| {
                if let Some(click) = c.click.as_mut() {
                    click.redirect_reason = Some("targeting".into());
                }
            }),
        ),
        (
            Reason::SourceBlocked,
            case(Case::postback, |c| {
                if let Some(click) = c.click.as_mut() {
                    click.redirect_reason = Some("source_blocked".into());
                }
            }),
        ),
        (
            Reason::AmountOutOfRange,
            case(Case::postback, |c| {
                c.offer_mut().payout_model = "cps".into();
                c.conv.params.amount_minor = Some(1_000_000_00);
            }),
        ),
    ];
    for (reason, c) in &cases {
        assert_eq!(c.reason(), *reason);
    }
    for r in Reason::ALL {
        assert!(cases.iter().any(|(reason, _)| *reason == r), "{r} has no case");
    }
}

// ---- dedupe ----

#[test]
fn the_same_click_twice_in_one_batch_is_a_duplicate_of_the_first() {
    let mut t = tally(100_00);
    assert_eq!(Case::postback().decide(&mut t), Ok(Accept { index: 0, price: 5_00 }));
    assert_eq!(Case::postback().decide(&mut t), Err(Stop::DuplicateOfNew(0)));
    assert_eq!((t.accepted, t.balance(&advertiser_account(ADVERTISER))), (1, Some(95_00)), "charged once");
}

#[test]
fn a_click_and_event_already_stored_is_a_duplicate_of_that_lead() {
    let mut c = Case::postback();
    c.click_leads = vec![stored_lead(41, "c1", "lead", None)];
    assert_eq!(c.decide(&mut tally(100_00)), Err(Stop::Duplicate(41)));
    c.conv.params.event = Some("sale".into());
    assert!(c.decide(&mut tally(100_00)).is_ok(), "another event of the click");
}

#[test]
fn transaction_ids_tell_two_sales_of_one_click_apart() {
    let mut c = Case::postback();
    c.conv.params.txid = Some("T1".into());
    c.click_leads = vec![stored_lead(41, "c1", "lead", Some("T1"))];
    assert_eq!(c.decide(&mut tally(100_00)), Err(Stop::Duplicate(41)), "the same txid");
    c.conv.params.txid = Some("T2".into());
    let mut t = tally(100_00);
    assert_eq!(c.decide(&mut t), Ok(Accept { index: 0, price: 5_00 }), "another sale");
    assert_eq!(c.decide(&mut t), Err(Stop::DuplicateOfNew(0)), "its retry in the batch");
    // A lead stored without a txid: a conversion with one is another sale only if
    // the earlier one had a txid too.
    c.click_leads = vec![stored_lead(42, "c1", "lead", None)];
    assert_eq!(c.decide(&mut tally(100_00)), Err(Stop::Duplicate(42)));
}

#[test]
fn a_pixel_repeats_its_click_and_event_whatever_its_txid() {
    let mut c = Case::pixel();
    c.conv.params.txid = Some("T2".into());
    c.click_leads = vec![stored_lead(41, "c1", "lead", Some("T1"))];
    assert_eq!(c.decide(&mut tally(100_00)), Err(Stop::Duplicate(41)));
}

#[test]
fn a_publishers_transaction_id_is_its_key_without_a_click() {
    let mut c = Case::api_lead();
    c.conv.params.txid = Some("P-1".into());
    c.keyed_lead = Some(7);
    assert_eq!(c.decide(&mut tally(100_00)), Err(Stop::Duplicate(7)));
    c.keyed_lead = None;
    let mut t = tally(100_00);
    assert!(c.decide(&mut t).is_ok());
    assert_eq!(c.decide(&mut t), Err(Stop::DuplicateOfNew(0)));
    c.conv.params.txid = None;
    assert_eq!(c.decide(&mut t), Ok(Accept { index: 1, price: 5_00 }), "no txid, no key: never a duplicate");
}

#[test]
fn a_retry_is_a_duplicate_even_once_the_offer_is_paused_but_not_through_a_closed_channel() {
    let mut c = Case::pixel();
    c.click_leads = vec![stored_lead(41, "c1", "lead", None)];
    c.offer_mut().status = "paused".into();
    assert_eq!(c.decide(&mut tally(0)), Err(Stop::Duplicate(41)));
    c.offer_mut().pixel = false;
    assert_eq!(c.reason(), Reason::ChannelNotAllowed);
}

// ---- caps and budget ----

#[test]
fn a_daily_cap_takes_exactly_its_number_across_a_batch() {
    let mut c = Case::postback();
    c.offer_mut().limits.cap_daily = Some(2);
    let mut t = tally(100_00);
    for (i, id) in ["c1", "c2", "c3"].iter().enumerate() {
        c.conv.params.click_id = Some(id.to_string());
        c.click = Some(click(id));
        let got = c.decide(&mut t);
        if i < 2 {
            assert_eq!(got, Ok(Accept { index: i, price: 5_00 }));
        } else {
            assert!(refused(Reason::CapReached)(&got), "{got:?}");
        }
    }
    let day = CounterKey { offer_id: 1, publisher_id: 0, period: "d:2026-12-07".into() };
    assert_eq!(t.counters[&day], ((2, 10_00), (2, 10_00)), "counted, with the change to write");
    assert_eq!(t.balance(&advertiser_account(ADVERTISER)), Some(90_00), "the refused one is not charged");
}

#[test]
fn a_total_cap_counts_what_is_stored_and_a_publisher_cap_only_its_publisher() {
    let mut c = Case::postback();
    c.offer_mut().limits.cap_total = Some(5);
    let total = CounterKey { offer_id: 1, publisher_id: 0, period: "t".into() };
    let mut t = tally(100_00);
    t.counters.insert(total.clone(), ((4, 20_00), (0, 0)));
    assert!(c.decide(&mut t).is_ok(), "the fifth");
    c.conv.params.event = Some("sale".into());
    assert!(refused(Reason::CapReached)(&c.decide(&mut t)), "a sixth");
    let mut c = Case::postback();
    c.offer_mut().limits.publisher_cap_daily = Some(1);
    let mut t = tally(100_00);
    assert!(c.decide(&mut t).is_ok());
    c.conv.params.event = Some("sale".into());
    assert!(refused(Reason::CapReached)(&c.decide(&mut t)));
    let mine = CounterKey { offer_id: 1, publisher_id: PUBLISHER, period: "d:2026-12-07".into() };
    assert_eq!(t.counters[&mine].0, (1, 5_00));
}

#[test]
fn a_daily_budget_is_spent_to_the_minor_unit_not_past_it() {
    let mut c = Case::postback();
    c.offer_mut().limits.daily_budget_minor = Some(10_00);
    let mut t = tally(100_00);
    for event in ["a", "b"] {
        c.conv.params.event = Some(event.into());
        assert!(c.decide(&mut t).is_ok(), "{event}");
    }
    c.conv.params.event = Some("c".into());
    assert!(refused(Reason::CapReached)(&c.decide(&mut t)));
    c.offer_mut().limits.daily_budget_minor = Some(14_99);
    let mut t = tally(100_00);
    c.conv.params.event = Some("a".into());
    assert!(c.decide(&mut t).is_ok());
    c.conv.params.event = Some("b".into());
    assert!(c.decide(&mut t).is_ok());
    c.conv.params.event = Some("c".into());
    assert!(refused(Reason::CapReached)(&c.decide(&mut t)), "14.99 cannot pay a third 5.00");
}

#[test]
fn a_balance_of_exactly_one_price_pays_one_lead_then_none() {
    let mut c = Case::postback();
    let mut t = tally(5_00);
    assert_eq!(c.decide(&mut t), Ok(Accept { index: 0, price: 5_00 }));
    assert_eq!(t.balance(&advertiser_account(ADVERTISER)), Some(0));
    c.conv.params.event = Some("sale".into());
    assert!(refused(Reason::BudgetExhausted)(&c.decide(&mut t)));
    assert_eq!((t.accepted, t.balance(&escrow_account(ADVERTISER))), (1, Some(5_00)));
}

#[test]
fn a_full_cap_is_refused_before_the_balance_is_looked_at() {
    let mut c = Case::postback();
    c.offer_mut().limits.cap_daily = Some(0);
    assert_eq!(c.decide(&mut tally(0)), Err(Stop::Refused(Reason::CapReached, Reason::CapReached.explain().into())));
}

#[test]
fn budget_exhausted_pauses_the_offer_unless_a_pixel_set_a_cps_price() {
    let c = Case::postback();
    let who = c.attribute().expect("attributed");
    assert!(pauses_offer(&c.conv, &who, Reason::BudgetExhausted));
    assert!(!pauses_offer(&c.conv, &who, Reason::CapReached));
    let mut c = Case::pixel();
    assert!(pauses_offer(&c.conv, &c.attribute().expect("attributed"), Reason::BudgetExhausted), "a CPL pixel");
    c.offer_mut().payout_model = "cps".into();
    assert!(!pauses_offer(&c.conv, &c.attribute().expect("attributed"), Reason::BudgetExhausted));
}

// ---- price ----

#[test]
fn cpl_is_the_fixed_price_whatever_the_amount() {
    let mut c = Case::postback();
    c.conv.params.amount_minor = Some(999_00);
    assert_eq!(c.decide(&mut tally(100_00)), Ok(Accept { index: 0, price: 5_00 }));
}

#[test]
fn cps_is_the_rate_of_the_sale_rounded_half_up() {
    let mut c = Case::postback();
    let o = c.offer_mut();
    (o.payout_model, o.rate_bps) = ("cps".into(), Some(12_50));
    c.conv.params.amount_minor = Some(80_04);
    assert_eq!(c.decide(&mut tally(100_00)), Ok(Accept { index: 0, price: 10_01 }), "12.5% of 80.04 is 10.005");
    c.conv.params.amount_minor = Some(0);
    assert_eq!(c.reason(), Reason::InvalidRequest, "a sale of nothing");
}

#[test]
fn the_price_and_events_are_the_clicks_terms_not_the_offers_now() {
    let mut c = Case::postback();
    let mut then = offer();
    then.price_minor = Some(3_00);
    c.frozen = Some(of_offer(&then));
    c.offer_mut().price_minor = Some(9_00);
    assert_eq!(c.decide(&mut tally(100_00)), Ok(Accept { index: 0, price: 3_00 }));
}

#[test]
fn checked_carries_the_event_key_and_postback_template() {
    let mut c = Case::postback();
    let mut m = membership("approved");
    m.postback_template = "https://pub.example/pb?c={click_id}".into();
    c.membership = Some(m);
    c.conv.params.txid = Some("T9".into());
    let who = c.attribute().expect("attributed");
    let frozen = of_offer(&who.offer);
    let facts = Facts {
        conv: &c.conv,
        who: &who,
        frozen: &frozen,
        advertiser_active: true,
        membership: c.membership.as_ref(),
        publisher_active: true,
        click_leads: &[],
        keyed_lead: None,
        now: c.now,
    };
    let checked = check(&facts, &Tally::default()).expect("checked");
    assert_eq!(checked.event, "lead");
    assert_eq!(checked.dedupe_key.as_deref(), Some("tx:c1:T9"));
    assert_eq!(checked.postback_template, "https://pub.example/pb?c={click_id}");
    assert_eq!(named_offer_token(&c.conv), Some("secret-token"));
    assert_eq!(named_offer_token(&Case::pixel().conv), None);
}
