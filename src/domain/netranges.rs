//! Datacenter and relay address ranges (issue 32): whether a click came from a rented
//! server (a cloud or hosting provider) or through a privacy relay.
//!
//! The shipped datacenter list, `geodata/datacenter-ranges.txt`, holds the ranges the big
//! cloud and hosting providers' own networks (ASNs) announce, written by
//! `scripts/refresh-netranges.sh` from RouteViews, NRO and DB-IP data (CC BY 4.0; see
//! `geodata/README.md`). CDNs whose networks also carry privacy relays (Cloudflare,
//! Akamai, Fastly) are left out of it on purpose: a relay user is a person.
//!
//! The shipped relay list, `geodata/relay-ranges.txt`, is empty (no registry carries
//! iCloud Private Relay's egress list); an admin adds ranges to either list as text
//! ([`parse_cidrs`], [`NetRanges::with`]). A relay range wins over a datacenter range.

use std::net::IpAddr;
use std::sync::LazyLock;

use ipnet::IpNet;
use sha2::{Digest, Sha256};

/// The provider name of the ranges an admin adds.
pub const ADMIN_PROVIDER: &str = "admin list";

/// What kind of network an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetKind {
    /// A cloud or hosting provider's servers.
    Datacenter {
        /// The provider ("AWS", "Hetzner", …, or [`ADMIN_PROVIDER`]).
        provider: &'static str,
    },
    /// A privacy relay's egress: a person behind it.
    Relay {
        /// The relay ("iCloud Private Relay", …, or [`ADMIN_PROVIDER`]).
        provider: &'static str,
    },
    /// Neither listed: a residential, mobile or business network, or a private address.
    Other,
}

impl NetKind {
    /// The stored and displayed name: "datacenter", "relay", "other".
    pub fn as_str(&self) -> &'static str {
        match self {
            NetKind::Datacenter { .. } => "datacenter",
            NetKind::Relay { .. } => "relay",
            NetKind::Other => "other",
        }
    }

    /// The provider of a datacenter or relay range.
    pub fn provider(&self) -> Option<&'static str> {
        match self {
            NetKind::Datacenter { provider } | NetKind::Relay { provider } => Some(provider),
            NetKind::Other => None,
        }
    }
}

/// The shipped lists' kind of `ip` ([`NetRanges::shipped`]).
pub fn classify(ip: IpAddr) -> NetKind {
    NetRanges::shipped().classify(ip)
}

/// The networks in an admin's text: CIDRs (`203.0.113.0/24`, `2001:db8::/32`) or single
/// addresses, separated by new lines, commas or spaces; `#` starts a comment. Host bits
/// are cleared (`10.1.2.3/8` is `10.0.0.0/8`). An error names the first bad entry and its line.
pub fn parse_cidrs(text: &str) -> Result<Vec<IpNet>, String> {
    let mut nets = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        for word in line.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|w| !w.is_empty()) {
            let net = match word.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match word.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => return Err(format!("line {}: {word:?} is neither a CIDR nor an address", n + 1)),
                },
            };
            nets.push(net);
        }
    }
    Ok(nets)
}

/// Datacenter and relay ranges: the shipped lists plus an admin's.
/// Build it once when the admin lists change and share it; lookups take `&self`.
#[derive(Debug, Clone, Default)]
pub struct NetRanges {
    relay: Layer,
    datacenter: Layer,
}

struct Shipped {
    relay: Layer,
    datacenter: Layer,
}

impl NetRanges {
    /// The shipped lists alone.
    pub fn shipped() -> NetRanges {
        NetRanges::default()
    }

    /// The shipped lists plus an admin's datacenter and relay networks ([`parse_cidrs`]),
    /// which read as [`ADMIN_PROVIDER`]'s.
    pub fn with(datacenter: &[IpNet], relay: &[IpNet]) -> NetRanges {
        let layer =
            |nets: &[IpNet]| Layer::new(nets.iter().map(|n| (key(n.network()), key(n.broadcast()), ADMIN_PROVIDER)));
        NetRanges { relay: layer(relay), datacenter: layer(datacenter) }
    }

    /// The kind of network `ip` belongs to: an admin's relay ranges, the shipped relay
    /// ranges, an admin's datacenter ranges, the shipped datacenter ranges, in that order.
    pub fn classify(&self, ip: IpAddr) -> NetKind {
        let k = key(ip);
        if let Some(provider) = self.relay.find(k).or_else(|| SHIPPED.relay.find(k)) {
            return NetKind::Relay { provider };
        }
        if let Some(provider) = self.datacenter.find(k).or_else(|| SHIPPED.datacenter.find(k)) {
            return NetKind::Datacenter { provider };
        }
        NetKind::Other
    }

    /// How many ranges the shipped lists and the admin's hold, as (datacenter, relay).
    pub fn len(&self) -> (usize, usize) {
        (
            self.datacenter.ranges.len() + SHIPPED.datacenter.ranges.len(),
            self.relay.ranges.len() + SHIPPED.relay.ranges.len(),
        )
    }

    /// Whether no list holds a range.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    /// The lists' version as a settled lead records it (DESIGN "Shared lists"):
    /// `net:<datacenter ranges>+<relay ranges>:<first 12 hex digits of a SHA-256>`
    /// over the shipped and the admin's merged ranges.
    pub fn version(&self) -> String {
        let (datacenter, relay) = self.len();
        let mut h = Sha256::new();
        h.update(SHIPPED_DIGEST.as_slice());
        for layer in [&self.datacenter, &self.relay] {
            layer.digest(&mut h);
            h.update(b"|");
        }
        format!("net:{datacenter}+{relay}:{}", &hex::encode(h.finalize())[..12])
    }
}

/// The digest of the shipped lists, worked out once.
static SHIPPED_DIGEST: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for layer in [&SHIPPED.datacenter, &SHIPPED.relay] {
        layer.digest(&mut h);
        h.update(b"|");
    }
    h.finalize().to_vec()
});

static SHIPPED: LazyLock<Shipped> = LazyLock::new(|| Shipped {
    relay: read_shipped("relay-ranges.txt", include_str!("../../geodata/relay-ranges.txt")),
    datacenter: read_shipped("datacenter-ranges.txt", include_str!("../../geodata/datacenter-ranges.txt")),
});

fn read_shipped(name: &str, text: &'static str) -> Layer {
    match parse_sections(text) {
        Ok(ranges) => Layer::new(ranges),
        Err(e) => {
            tracing::error!("the shipped {name} does not read ({e}); it is left out");
            Layer::default()
        }
    }
}

/// The ranges of a shipped list: `[Provider]` lines start a provider's section, followed
/// by its networks in [`parse_cidrs`]'s form.
fn parse_sections(text: &'static str) -> Result<Vec<(u128, u128, &'static str)>, String> {
    let mut out = Vec::new();
    let mut provider: Option<&'static str> = None;
    for (n, line) in text.lines().enumerate() {
        let bare = line.split('#').next().unwrap_or_default().trim();
        if let Some(name) = bare.strip_prefix('[') {
            let name = name.strip_suffix(']').ok_or_else(|| format!("line {}: an unclosed '['", n + 1))?.trim();
            provider = Some(name);
            continue;
        }
        let nets = parse_cidrs(bare).map_err(|e| format!("line {}: {e}", n + 1))?;
        if !nets.is_empty() {
            let p = provider.ok_or_else(|| format!("line {}: a network before any [Provider]", n + 1))?;
            out.extend(nets.iter().map(|net| (key(net.network()), key(net.broadcast()), p)));
        }
    }
    Ok(out)
}

/// An address as a number in one space for both families: IPv4 as IPv4-mapped IPv6.
fn key(ip: IpAddr) -> u128 {
    match super::geo::canonical(ip) {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// Disjoint inclusive ranges sorted by start, each with its provider.
#[derive(Debug, Clone, Default)]
struct Layer {
    ranges: Vec<(u128, u128, &'static str)>,
}

impl Layer {
    /// Feed the ranges (start, end, provider) to a digest.
    fn digest(&self, h: &mut Sha256) {
        for (start, end, provider) in &self.ranges {
            h.update(start.to_be_bytes());
            h.update(end.to_be_bytes());
            h.update(provider.as_bytes());
            h.update(b"\n");
        }
    }

    /// Sorts and merges: overlapping or touching ranges of one provider become one; where
    /// two providers' ranges overlap, the one starting first keeps the overlap.
    fn new(ranges: impl IntoIterator<Item = (u128, u128, &'static str)>) -> Layer {
        let mut ranges: Vec<_> = ranges.into_iter().filter(|r| r.0 <= r.1).collect();
        ranges.sort_unstable();
        let mut out: Vec<(u128, u128, &'static str)> = Vec::with_capacity(ranges.len());
        for (mut start, end, provider) in ranges {
            if let Some(last) = out.last_mut() {
                if last.2 == provider && start <= last.1.saturating_add(1) {
                    last.1 = last.1.max(end);
                    continue;
                }
                if start <= last.1 {
                    if end <= last.1 {
                        continue;
                    }
                    start = last.1 + 1;
                }
            }
            out.push((start, end, provider));
        }
        Layer { ranges: out }
    }

    fn find(&self, k: u128) -> Option<&'static str> {
        let i = self.ranges.partition_point(|r| r.0 <= k).checked_sub(1)?;
        let (_, end, provider) = self.ranges[i];
        (k <= end).then_some(provider)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn the_version_follows_the_ranges() {
        let shipped = NetRanges::shipped().version();
        let (dc, relay) = NetRanges::shipped().len();
        assert!(shipped.starts_with(&format!("net:{dc}+{relay}:")), "{shipped}");
        assert_eq!(shipped, NetRanges::shipped().version(), "stable");
        let net: IpNet = "203.0.113.0/24".parse().expect("net");
        let as_datacenter = NetRanges::with(&[net], &[]).version();
        let as_relay = NetRanges::with(&[], &[net]).version();
        assert!(as_datacenter.starts_with(&format!("net:{}+{relay}:", dc + 1)), "{as_datacenter}");
        assert_ne!(as_datacenter, shipped);
        assert_ne!(as_datacenter, as_relay, "which list a range is on counts");
    }

    #[test]
    fn the_shipped_lists_read() {
        let dc = parse_sections(include_str!("../../geodata/datacenter-ranges.txt")).expect("datacenter list");
        assert!(dc.len() > 10_000, "{}", dc.len());
        assert!(parse_sections(include_str!("../../geodata/relay-ranges.txt")).expect("relay list").is_empty());
        let (datacenter, relay) = NetRanges::shipped().len();
        assert!(datacenter > 5_000 && relay == 0, "{datacenter} {relay}");
    }

    #[test]
    fn cloud_addresses_are_datacenters() {
        // From the shipped data (a refresh may move one; look it up then).
        for (a, provider) in [
            ("52.95.110.1", "AWS"),
            ("3.5.140.2", "AWS"),
            ("35.190.0.1", "Google"),
            ("20.42.0.1", "Microsoft"),
            ("159.89.0.1", "DigitalOcean"),
            ("5.9.0.1", "Hetzner"),
            ("51.38.0.1", "OVH"),
            ("2a05:d018::1", "AWS"),
            ("2a01:4f8::1", "Hetzner"),
        ] {
            assert_eq!(classify(ip(a)), NetKind::Datacenter { provider }, "{a}");
        }
    }

    #[test]
    fn other_networks_are_other() {
        // A German and a Russian consumer ISP, Cloudflare's resolver (left out on purpose:
        // relays), private addresses.
        for a in ["84.128.0.1", "95.24.0.1", "1.1.1.1", "10.0.0.1", "192.168.1.10", "::1", "2003:e0::1"] {
            assert_eq!(classify(ip(a)), NetKind::Other, "{a}");
        }
        assert_eq!(NetKind::Other.as_str(), "other");
        assert_eq!(NetKind::Other.provider(), None);
    }

    #[test]
    fn admin_ranges_extend_the_shipped_ones_and_relays_win() {
        let dc = parse_cidrs("# rented boxes\n198.51.100.0/24, 84.128.0.0/16\n2001:db8:1::/48").expect("dc");
        let relay = parse_cidrs("52.95.110.0/24 172.224.224.7").expect("relay");
        let nets = NetRanges::with(&dc, &relay);
        let dc_admin = NetKind::Datacenter { provider: ADMIN_PROVIDER };
        assert_eq!(nets.classify(ip("84.128.3.4")), dc_admin);
        assert_eq!(nets.classify(ip("2001:db8:1:ffff::1")), dc_admin);
        assert_eq!(nets.classify(ip("2001:db8:2::1")), NetKind::Other);
        assert_eq!(nets.classify(ip("52.95.110.1")), NetKind::Relay { provider: ADMIN_PROVIDER });
        assert_eq!(nets.classify(ip("172.224.224.7")), NetKind::Relay { provider: ADMIN_PROVIDER });
        assert_eq!(nets.classify(ip("172.224.224.8")), NetKind::Other);
        assert_eq!(nets.classify(ip("::ffff:84.128.0.1")), dc_admin);
        assert_eq!(nets.classify(ip("3.5.140.2")), NetKind::Datacenter { provider: "AWS" });
        assert_eq!(nets.classify(ip("3.5.140.2")).as_str(), "datacenter");
    }

    #[test]
    fn parse_cidrs_reads_cidrs_and_addresses_and_names_a_bad_entry() {
        let nets = parse_cidrs("10.1.2.3/8\n\n  203.0.113.5 ; 2001:db8::/32 # docs\n").expect("nets");
        let shown: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/8", "203.0.113.5/32", "2001:db8::/32"]);
        assert_eq!(parse_cidrs("# nothing\n").expect("empty"), vec![]);
        let e = parse_cidrs("10.0.0.0/8\n10.0.0.0/33").expect_err("bad prefix");
        assert!(e.contains("line 2") && e.contains("10.0.0.0/33"), "{e}");
        assert!(parse_cidrs("example.com").is_err());
    }

    /// Time a lookup: `cargo test --release --lib netranges::tests::classify_speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn classify_speed() {
        let started = std::time::Instant::now();
        classify(ip("8.8.8.8"));
        eprintln!("reading the shipped lists: {:?}", started.elapsed());
        let mut x: u32 = 0x9e37_79b9;
        let addrs: Vec<IpAddr> = (0..1_000_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                IpAddr::V4(x.into())
            })
            .collect();
        let nets = NetRanges::shipped();
        let started = std::time::Instant::now();
        let dc = addrs.iter().filter(|a| matches!(nets.classify(**a), NetKind::Datacenter { .. })).count();
        let per = started.elapsed().as_nanos() / addrs.len() as u128;
        eprintln!("{per} ns a lookup ({dc} of {} in a datacenter)", addrs.len());
    }

    #[test]
    fn layers_merge_and_split_overlaps() {
        let l = Layer::new([(10, 20, "A"), (15, 30, "A"), (31, 40, "A"), (35, 50, "B"), (60, 70, "B"), (62, 65, "A")]);
        assert_eq!(l.ranges, [(10, 40, "A"), (41, 50, "B"), (60, 70, "B")]);
        assert_eq!(l.find(9), None);
        assert_eq!(l.find(10), Some("A"));
        assert_eq!(l.find(40), Some("A"));
        assert_eq!(l.find(41), Some("B"));
        assert_eq!(l.find(55), None);
        assert_eq!(l.find(63), Some("B"));
        assert_eq!(l.find(u128::MAX), None);
    }
}
