//! Offer targeting (DESIGN §4, §5): the countries, device kinds and OS families an
//! offer buys, part of its terms (`target_countries`, `target_devices`,
//! `target_os`; empty = all). A click outside them goes to the offer's fallback
//! with the redirect reason `targeting`, and a conversion from such a click is
//! refused at intake (`not_targeted`). A click whose country, device or OS cannot be
//! told is not refused: only what is known can miss.

use super::device::{DeviceKind, OS_FAMILIES};
use super::geo::CountrySource;
use super::offer::Terms;

/// The click redirect reason of a click outside the offer's targeting.
pub const REASON: &str = "targeting";

/// The device kinds an offer may buy (bots are never bought).
pub const DEVICE_CHOICES: [&str; 3] = ["desktop", "phone", "tablet"];

/// The OS families an offer may list (every family but "other").
pub fn os_choices() -> impl Iterator<Item = &'static str> + Clone {
    OS_FAMILIES.into_iter().filter(|o| *o != "other")
}

/// What a click is matched against, read once from an offer's terms (it lives in
/// the link cache, so a click parses no JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targeting {
    countries: Vec<String>,
    devices: Vec<String>,
    os: Vec<String>,
}

/// The part of the targeting a click missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    Country,
    Device,
    Os,
}

impl Miss {
    /// In plain words, for the click log and the reports.
    pub fn describe(self) -> &'static str {
        match self {
            Miss::Country => "the click's country is not one the offer buys",
            Miss::Device => "the click's device is not one the offer buys",
            Miss::Os => "the click's operating system is not one the offer buys",
        }
    }
}

impl Targeting {
    pub fn of(terms: &Terms) -> Targeting {
        Targeting {
            countries: terms.target_countries.clone(),
            devices: terms.target_devices.clone(),
            os: terms.target_os.clone(),
        }
    }

    /// Which part of the targeting a click misses, if any. A country counts only when
    /// it was read from a trusted header or the geolocation database; an unknown
    /// device or OS ("unknown", "other") never misses; a bot misses any device list.
    pub fn miss(&self, country: Option<&str>, source: CountrySource, device: DeviceKind, os: &str) -> Option<Miss> {
        let located = matches!(source, CountrySource::Header | CountrySource::Database);
        if let Some(c) = country.filter(|_| located && !self.countries.is_empty())
            && !self.countries.iter().any(|a| a == c)
        {
            return Some(Miss::Country);
        }
        if !self.devices.is_empty()
            && device != DeviceKind::Unknown
            && !self.devices.iter().any(|d| d == device.as_str())
        {
            return Some(Miss::Device);
        }
        if !self.os.is_empty() && os != "other" && !self.os.iter().any(|o| o == os) {
            return Some(Miss::Os);
        }
        None
    }
}

/// Trim, canonicalise and de-duplicate an offer's device list; the entry that is
/// not a device kind, if one is not.
pub fn normalise_devices(list: &mut Vec<String>) -> Result<(), String> {
    normalise(list, DEVICE_CHOICES.iter().copied())
}

/// Trim, canonicalise ("ios" → "iOS") and de-duplicate an offer's OS list; the entry
/// that is not an OS family, if one is not.
pub fn normalise_os(list: &mut Vec<String>) -> Result<(), String> {
    normalise(list, os_choices())
}

fn normalise(list: &mut Vec<String>, choices: impl Iterator<Item = &'static str> + Clone) -> Result<(), String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for raw in list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let Some(found) = choices.clone().find(|c| c.eq_ignore_ascii_case(raw)) else {
            return Err(raw.to_string());
        };
        if !out.iter().any(|o| o == found) {
            out.push(found.to_string());
        }
    }
    *list = out;
    Ok(())
}

/// The targeting in plain words, as publishers read it with the other terms.
pub fn plain_words(t: &Terms) -> Vec<String> {
    let mut out = Vec::new();
    if !t.target_countries.is_empty() {
        out.push(format!(
            "Only clicks from {} are bought: clicks located elsewhere go to the fallback page and cannot convert.",
            join_or(&t.target_countries)
        ));
    }
    if !t.target_devices.is_empty() {
        out.push(format!(
            "Only {} traffic is bought: clicks from other devices (and from bots) go to the fallback page.",
            join_or(&t.target_devices)
        ));
    }
    if !t.target_os.is_empty() {
        out.push(format!(
            "Only visitors on {} are bought: clicks from other operating systems go to the fallback page.",
            join_or(&t.target_os)
        ));
    }
    out
}

/// "a", "a or b", "a, b or c".
fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [head @ .., last] => format!("{} or {last}", head.join(", ")),
    }
}

/// How the targeting narrowed between two versions of the terms (a tightening, for
/// the notice period of DESIGN §13), in plain words.
pub fn narrowed(old: &Terms, new: &Terms) -> Vec<String> {
    let mut out = Vec::new();
    let lists = [
        ("allowed countries", "every country", &old.allowed_countries, &new.allowed_countries),
        ("targeted countries", "every country", &old.target_countries, &new.target_countries),
        ("targeted devices", "every device", &old.target_devices, &new.target_devices),
        ("targeted operating systems", "every operating system", &old.target_os, &new.target_os),
    ];
    for (what, all, o, n) in lists {
        if !n.is_empty() && (o.is_empty() || o.iter().any(|c| !n.contains(c))) {
            let was = if o.is_empty() { all.to_string() } else { o.join(", ") };
            out.push(format!("{what} change from {was} to {}", n.join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(countries: &[&str], devices: &[&str], os: &[&str]) -> Terms {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        Terms { target_countries: v(countries), target_devices: v(devices), target_os: v(os), ..Default::default() }
    }

    #[test]
    fn an_empty_targeting_buys_everything() {
        let t = Targeting::of(&Terms::default());
        assert_eq!(t.miss(Some("DE"), CountrySource::Header, DeviceKind::Bot, "other"), None);
    }

    #[test]
    fn a_located_country_outside_the_list_misses_an_unknown_or_approximate_one_does_not() {
        let t = Targeting::of(&terms(&["US", "GB"], &[], &[]));
        assert_eq!(t.miss(Some("US"), CountrySource::Database, DeviceKind::Phone, "iOS"), None);
        assert_eq!(t.miss(Some("DE"), CountrySource::Header, DeviceKind::Phone, "iOS"), Some(Miss::Country));
        assert_eq!(t.miss(Some("DE"), CountrySource::Database, DeviceKind::Phone, "iOS"), Some(Miss::Country));
        assert_eq!(t.miss(Some("DE"), CountrySource::Approximate, DeviceKind::Phone, "iOS"), None);
        assert_eq!(t.miss(None, CountrySource::Unknown, DeviceKind::Phone, "iOS"), None);
    }

    #[test]
    fn devices_and_os_families() {
        let t = Targeting::of(&terms(&[], &["phone", "tablet"], &["iOS", "Android"]));
        assert_eq!(t.miss(None, CountrySource::Unknown, DeviceKind::Phone, "Android"), None);
        assert_eq!(t.miss(None, CountrySource::Unknown, DeviceKind::Desktop, "Windows"), Some(Miss::Device));
        assert_eq!(t.miss(None, CountrySource::Unknown, DeviceKind::Bot, "other"), Some(Miss::Device));
        assert_eq!(t.miss(None, CountrySource::Unknown, DeviceKind::Unknown, "other"), None);
        assert_eq!(t.miss(None, CountrySource::Unknown, DeviceKind::Tablet, "Windows"), Some(Miss::Os));
    }

    #[test]
    fn lists_are_canonicalised_and_unknown_entries_named() {
        let mut d = vec![" Phone".to_string(), "phone".into(), "".into(), "TABLET".into()];
        normalise_devices(&mut d).expect("valid");
        assert_eq!(d, ["phone", "tablet"]);
        let mut o = vec!["ios".to_string(), "macos".into()];
        normalise_os(&mut o).expect("valid");
        assert_eq!(o, ["iOS", "macOS"]);
        assert_eq!(normalise_devices(&mut vec!["bot".into()]), Err("bot".into()));
        assert_eq!(normalise_os(&mut vec!["other".into()]), Err("other".into()));
    }

    #[test]
    fn plain_words_and_narrowing() {
        let t = terms(&["US"], &["phone", "tablet"], &["iOS"]);
        let words = plain_words(&t).join(" ");
        assert!(words.contains("Only clicks from US are bought"), "{words}");
        assert!(words.contains("Only phone or tablet traffic"), "{words}");
        assert!(words.contains("Only visitors on iOS"), "{words}");
        let wider = terms(&["US"], &["phone", "tablet", "desktop"], &[]);
        assert!(narrowed(&t, &wider).is_empty());
        assert_eq!(
            narrowed(&wider, &t),
            [
                "targeted devices change from phone, tablet, desktop to phone, tablet",
                "targeted operating systems change from every operating system to iOS"
            ]
        );
    }
}
