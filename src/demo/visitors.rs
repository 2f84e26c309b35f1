//! The people behind the demo's clicks and leads: names, e-mail addresses and phones
//! by country, browsers and bots, addresses, and the flaws scrub rules catch.

use super::*;

#[rustfmt::skip]
pub(super) const FIRST_NAMES: &[&str] = &[
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Maria",
    "Daniel", "Karen", "Matthew", "Nancy", "Anthony", "Lisa", "Mark", "Betty", "Aisha", "Sandra", "Steven",
    "Ashley", "Andrew", "Emily", "Kevin", "Donna", "Brian", "Michelle", "Wei", "Olivia", "Hiroshi", "Fatima",
    "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Lucas", "Mia", "Mateo", "Chloe", "Oliver", "Grace",
    "Ahmed", "Zoe", "Jonas", "Hannah", "Raj", "Isabella",
];

#[rustfmt::skip]
pub(super) const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Kim", "Chen",
    "Murphy", "O'Brien", "Schmidt", "Okafor", "Kowalski", "Fischer", "Dubois",
];

pub(super) const EMAIL_DOMAINS: &[(&str, u32)] = &[
    ("gmail.com", 40),
    ("yahoo.com", 12),
    ("outlook.com", 10),
    ("icloud.com", 10),
    ("hotmail.com", 8),
    ("comcast.net", 4),
    ("aol.com", 3),
    ("proton.me", 3),
];

pub(super) fn local_email_domains(country: &str) -> &'static [&'static str] {
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
pub(super) const DISPOSABLE_DOMAINS: &[&str] =
    &["mailinator.com", "guerrillamail.com", "yopmail.com", "10minutemail.com", "sharklasers.com", "temp-mail.org"];

/// Names the `gibberish_name` rule refuses.
pub(super) const GIBBERISH_NAMES: &[&str] =
    &["Asdfg Hjkl", "Qwerty Uiop", "xxxx xxxx", "Test Test", "Jjjjj Smith", "Zxcvb Nm", "123 456", "Dfghjk Lkjh"];

/// Phones the `invalid_phone` rule refuses.
pub(super) const BAD_PHONES: &[&str] =
    &["555-0199", "12345", "000-000-0000", "+1 (000) 123-4567", "999999999999", "0000"];

#[rustfmt::skip]
pub(super) const US_AREAS: &[&str] = &[
    "212", "718", "310", "213", "415", "408", "512", "713", "214", "617", "702", "303", "404", "206", "305", "602",
    "614", "919", "312", "503", "612", "704", "813", "916",
];
pub(super) const CA_AREAS: &[&str] = &["416", "647", "604", "514", "403", "613", "780", "905"];

pub(super) const DESKTOP_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
];

pub(super) const MOBILE_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; moto g power (2023)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
];

pub(super) const TABLET_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
];

/// Agents the `bot_traffic` rule refuses.
pub(super) const BOT_AGENTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "python-requests/2.32.3",
    "curl/8.5.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "Go-http-client/1.1",
    "",
];

/// Countries of traffic that no offer here targets.
pub(super) const OFF_GEO: &[&str] = &["IN", "PK", "BD", "VN", "PH", "NG", "ID", "BR"];

/// Where visitors are, for offers open to every country.
pub(super) const WORLD: &[(&str, u32)] =
    &[("US", 45), ("GB", 12), ("CA", 8), ("DE", 8), ("AU", 6), ("FR", 5), ("IN", 5), ("NL", 3), ("ES", 4), ("BR", 4)];

/// Relative traffic by local (US Eastern) hour of day.
#[rustfmt::skip]
pub(super) const DIURNAL: [f64; 24] = [
    0.25, 0.18, 0.12, 0.10, 0.10, 0.15, 0.30, 0.50, 0.70, 0.85, 0.95, 1.00, 1.05, 1.00, 0.95, 0.95, 1.00, 1.10, 1.25,
    1.35, 1.30, 1.10, 0.80, 0.45,
];

pub(super) fn pick<T: Clone>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())].clone()
}

pub(super) fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
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
pub(super) fn random_ip(rng: &mut StdRng) -> String {
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
pub(super) fn phone_for(rng: &mut StdRng, country: &str) -> String {
    let mut candidate = String::new();
    for _ in 0..8 {
        candidate = phone_candidate(rng, country);
        if phone_is_valid(&candidate, country) {
            break;
        }
    }
    candidate
}

pub(super) fn north_american(rng: &mut StdRng, areas: &[&str]) -> String {
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

pub(super) fn phone_candidate(rng: &mut StdRng, country: &str) -> String {
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

pub(super) fn phone_is_valid(phone: &str, country: &str) -> bool {
    let mut fields = serde_json::Map::new();
    fields.insert("phone".into(), phone.into());
    scrub::contact(&fields, Some(country)).phone.is_some()
}

pub(super) fn ascii_word(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase()
}

pub(super) fn person(rng: &mut StdRng, country: &str) -> Contact {
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

pub(super) const FLAWS: &[(Flaw, u32)] = &[
    (Flaw::Disposable, 4),
    (Flaw::BadPhone, 3),
    (Flaw::Gibberish, 3),
    (Flaw::InvalidEmail, 2),
    (Flaw::MissingPhone, 1),
    (Flaw::Duplicate, 3),
];

// ------------------------------------------------------------------ what is planned

/// Spoil a lead the way poor traffic does.
pub(super) fn flaw(
    rng: &mut StdRng,
    world: &World,
    offer: usize,
    fields: &mut BTreeMap<String, String>,
    country: &str,
) {
    let mut kind = weighted(rng, FLAWS);
    if kind == Flaw::MissingPhone && !world.offers[offer].terms().required_fields.iter().any(|f| f == "phone") {
        kind = Flaw::BadPhone;
    }
    apply_flaw(rng, kind, fields, country);
}

pub(super) fn apply_flaw(rng: &mut StdRng, kind: Flaw, fields: &mut BTreeMap<String, String>, country: &str) {
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
