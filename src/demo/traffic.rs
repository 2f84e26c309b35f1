//! A month of traffic: clicks through the day and week on each publisher's placements,
//! and the conversions some of them become.

use super::*;
use crate::domain::device::device_of;
use crate::domain::geo::CountrySource;
use crate::domain::targeting::{self, Targeting};
use crate::tracking::click_repeats::ClickRepeats;

/// Relative traffic of each hour of the window: day and night, weekends, a month of
/// growth, and some day-to-day noise.
pub(super) fn hour_weights(rng: &mut StdRng, start: NaiveDateTime, hours: i64) -> Vec<f64> {
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
pub(super) fn traffic(
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
    // Repeated clicks counted as the click handler counts them, in time order.
    let repeats = ClickRepeats::default();
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
            let (click, bot) = new_click(rng, world, (offer, publisher), at, (&shared_ips, &junk_ips), &repeats);
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

/// One click of `publisher` on `offer` at `at` (from one of the shared or the junk
/// addresses now and then), and whether its visitor is a bot.
pub(super) fn new_click(
    rng: &mut StdRng,
    world: &World,
    (offer, publisher): (usize, usize),
    at: NaiveDateTime,
    (shared_ips, junk_ips): (&[String], &[String]),
    repeats: &ClickRepeats,
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
    // Located as a CDN's country header would locate it; the offer's targeting sends
    // the clicks it does not buy to the fallback, as the live click handler does.
    let country_source = if country.is_some() { CountrySource::Header } else { CountrySource::Unknown };
    let seen = device_of(agent);
    let redirect_reason = Targeting::of(&world.plans[offer].body.terms)
        .miss(country.as_deref(), country_source, seen.kind, seen.os)
        .map(|_| targeting::REASON.to_string());
    let (offer_id, publisher_id) = (world.offers[offer].id, world.publishers[publisher].user.id);
    let window = world.plans[offer].body.terms.scrub.repeat_window_minutes();
    let repeat_clicks = repeats.record(offer_id, publisher_id, &ip, agent, at, window);
    let click = NewClick {
        click_id: new_click_id(),
        offer_id,
        publisher_id,
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
        redirect_reason,
        created_at: at,
        // Some browsers carry the offer's cookie from an earlier visit.
        is_unique: rng.gen_bool(if junk { 0.65 } else { 0.9 }) && repeat_clicks == 0,
        country_source: country_source.as_str().to_string(),
        device: seen.kind.as_str().to_string(),
        os: seen.os.to_string(),
        repeat_clicks,
    };
    (click, bot)
}

/// The conversions a click leads to: usually one, a paid subscription after some
/// Taskly sign-ups. Those that would happen after now (or after a paused offer
/// stopped) do not happen.
pub(super) fn conversions(
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

pub(super) fn terms_event(o: &Offer) -> String {
    o.events().first().cloned().unwrap_or_else(|| "lead".into())
}
