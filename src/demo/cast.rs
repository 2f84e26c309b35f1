//! Who is in the demo marketplace: the admin, advertisers and publishers, their
//! offers in every payout model and state, and who runs which offer.

use super::*;

pub(super) const ADMIN: Person =
    Person { key: "admin", name: "Alex Morgan", company: "Qualead Demo Network", timezone: "UTC" };

pub(super) const ADVERTISERS: [Person; 3] = [
    Person { key: "sunpeak", name: "Dana Whitfield", company: "SunPeak Energy", timezone: "America/Denver" },
    Person { key: "brightcover", name: "Marcus Hale", company: "BrightCover Insurance", timezone: "America/New_York" },
    Person { key: "nova", name: "Sofia Lindqvist", company: "Nova Commerce", timezone: "Europe/London" },
];

pub(super) const PUBLISHERS: [Person; 5] = [
    Person { key: "publisher", name: "Maya Chen", company: "GreenHome Journal", timezone: "America/Los_Angeles" },
    Person { key: "dealhunter", name: "Luis Ortega", company: "DealHunter Daily", timezone: "America/Chicago" },
    Person { key: "moneywise", name: "Priya Nair", company: "MoneyWise Reviews", timezone: "America/New_York" },
    Person { key: "trailtalk", name: "Jonas Berg", company: "TrailTalk Outdoors", timezone: "Europe/Berlin" },
    Person { key: "fastleads", name: "Kevin Doyle", company: "FastLeads Media", timezone: "UTC" },
];

/// The publisher whose traffic is poor: bots, shared IPs, junk contacts, instant conversions.
pub(super) const JUNK_PUBLISHER: usize = 4;

pub(super) fn email_of(p: &Person) -> String {
    format!("{}@{DOMAIN}", p.key)
}

/// Where a publisher's clicks come from: sub1 (site), source, referrer, weight.
pub(super) type Site = (&'static str, &'static str, &'static str, u32);

pub(super) const SITES: [&[Site]; 5] = [
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
pub(super) fn placements(source: &str) -> &'static [&'static str] {
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
pub(super) const CREATIVES: &[&str] = &["cta-a", "cta-b", "banner-300x250", "banner-728x90", "text-link"];

// ------------------------------------------------------------------ the offers

pub(super) const MEMBERSHIPS: &[(usize, usize, Join)] = &[
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

pub(super) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub(super) fn terms(
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

pub(super) fn scrub(
    duplicate_days: u32,
    scope: &str,
    min_seconds: u32,
    max_leads_per_ip: u32,
    min_score: u32,
) -> Scrub {
    Scrub {
        duplicate_days,
        duplicate_scope: scope.into(),
        min_seconds,
        max_leads_per_ip,
        min_score,
        ..Scrub::default()
    }
}

pub(super) fn offer_plans() -> Vec<OfferPlan> {
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
                    Scrub {
                        duplicate_days: 0,
                        min_seconds: 5,
                        max_leads_per_ip: 5,
                        // Repeated clicks only flag: a team behind one office address signs up together.
                        duplicate_click_minutes: 10,
                        duplicate_click_flag: 3,
                        check_phone: false,
                        ..Scrub::default()
                    },
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

/// The accounts, offers and memberships, through the marketplace operations.
pub(super) fn cast(conn: &mut DbConn, config: &Config) -> anyhow::Result<World> {
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
        Ok(Acting::new(user, None, config))
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
