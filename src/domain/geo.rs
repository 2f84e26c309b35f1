//! The country of a client address, offline (issue 32).
//!
//! The shipped table is DB-IP's free "IP to Country Lite" database (CC BY 4.0, "IP
//! Geolocation by DB-IP", https://db-ip.com), vendored as `geodata/dbip-country.bin.gz`
//! (`scripts/refresh-geoip.sh` writes it; `geodata/README.md` says what it is). It is
//! compiled into the binary and unpacked once, at the first lookup, into sorted arrays of
//! range starts (`u32` for IPv4, `u128` for IPv6) searched by bisection: no file, no
//! network, about 130 ns a lookup (an optimised build; 67 ms to unpack).
//!
//! An operator who has a better database (a MaxMind GeoIP2/GeoLite2 Country or City file,
//! DB-IP's own `.mmdb`) points `QUALEAD_GEOIP_DB` at it ([`Geo::from_env`]).
//!
//! Private, loopback, link-local, shared (CGNAT), documentation, multicast and other
//! reserved addresses have no country ([`is_public`]).

use std::fmt;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::LazyLock;

/// The environment variable naming an `.mmdb` file that replaces the shipped table.
pub const GEOIP_DB_ENV: &str = "QUALEAD_GEOIP_DB";

/// The attribution the DB-IP licence asks for, to show where the countries are displayed.
pub const ATTRIBUTION_HTML: &str = "<a href=\"https://db-ip.com\">IP Geolocation by DB-IP</a>";

/// A country as its ISO 3166-1 alpha-2 code, upper case (`US`, `RU`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// The country of a two-letter code in either case; `None` for anything else and for
    /// the codes that name no country (`XX` and `ZZ` unknown, `T1` Tor, `EU`/`AP` regions).
    pub fn new(code: &str) -> Option<Country> {
        let b = code.trim().as_bytes();
        if b.len() != 2 || !b.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        let c = Country([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()]);
        (!matches!(&c.0, b"XX" | b"ZZ" | b"EU" | b"AP")).then_some(c)
    }

    /// The two-letter code, upper case.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters (checked by `new` and by the table's parser).
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The two code bytes, upper case.
    pub fn code(&self) -> [u8; 2] {
        self.0
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a click's country came from, weakest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountrySource {
    /// A trusted proxy's header (`CF-IPCountry` and the like) said it.
    Header,
    /// The address was found in the geolocation database.
    Database,
    /// Guessed from a weaker hint than the address: the region of the browser's language.
    Approximate,
    /// Nothing said.
    Unknown,
}

impl CountrySource {
    /// Every source, strongest first.
    pub const ALL: [CountrySource; 4] =
        [CountrySource::Header, CountrySource::Database, CountrySource::Approximate, CountrySource::Unknown];

    /// The stored and displayed name: "header", "database", "approximate", "unknown".
    pub fn as_str(&self) -> &'static str {
        match self {
            CountrySource::Header => "header",
            CountrySource::Database => "database",
            CountrySource::Approximate => "approximate",
            CountrySource::Unknown => "unknown",
        }
    }

    /// Where the country was read, in words for the lead page.
    pub fn describe(&self) -> &'static str {
        match self {
            CountrySource::Header => "from the CDN's country header",
            CountrySource::Database => "from the IP geolocation database",
            CountrySource::Approximate => "approximate: where the address block was registered",
            CountrySource::Unknown => "not known",
        }
    }

    /// The source of a stored name ([`CountrySource::as_str`]).
    pub fn parse(s: &str) -> Option<CountrySource> {
        CountrySource::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A country and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    /// The country, `None` when no source said.
    pub country: Option<Country>,
    /// Where it came from ([`CountrySource::Unknown`] exactly when `country` is `None`).
    pub source: CountrySource,
}

/// A click's country from the strongest source that knows it: a trusted proxy's country
/// header, then the database's entry for `ip`, then the region of the first language in
/// `Accept-Language` (approximate: `en-US` is spoken far beyond the US).
pub fn locate(geo: &Geo, header: Option<&str>, ip: IpAddr, accept_language: Option<&str>) -> Located {
    if let Some(country) = header.and_then(Country::new).filter(|c| &c.0 != b"T1") {
        return Located { country: Some(country), source: CountrySource::Header };
    }
    if let Some(country) = geo.lookup(ip) {
        return Located { country: Some(country), source: CountrySource::Database };
    }
    if let Some(country) = accept_language.and_then(country_of_language) {
        return Located { country: Some(country), source: CountrySource::Approximate };
    }
    Located { country: None, source: CountrySource::Unknown }
}

/// The region of the first language range in an `Accept-Language` value that has one
/// (`de-AT,de;q=0.9` → AT; `fr` → none; `zh-Hans-CN` → CN).
pub fn country_of_language(accept_language: &str) -> Option<Country> {
    accept_language.split(',').take(8).find_map(|range| {
        let tag = range.split(';').next().unwrap_or_default().trim();
        tag.split(['-', '_']).skip(1).find(|sub| sub.len() == 2).and_then(Country::new)
    })
}

/// The shipped table's country of `ip` ([`Geo::shipped`]); `None` for private and reserved
/// addresses and for ranges the table has no country for.
pub fn country_of(ip: IpAddr) -> Option<Country> {
    if !is_public(ip) {
        return None;
    }
    SHIPPED.lookup(ip)
}

/// Whether `ip` is a public unicast address, one a country can be had for. IPv4-mapped
/// and NAT64 (`64:ff9b::/96`) IPv6 addresses are judged by the IPv4 address inside.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address; any other unchanged.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., a, b, c, d] = v6.octets();
                return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            }
            ip
        }
        IpAddr::V4(_) => ip,
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                      // "this network"
        || a == 10                                // private
        || (a == 100 && (64..128).contains(&b))   // shared address space (CGNAT)
        || a == 127                               // loopback
        || (a == 169 && b == 254)                 // link-local
        || (a == 172 && (16..32).contains(&b))    // private
        || (a == 192 && b == 0 && (c == 0 || c == 2)) // IETF protocol assignments, TEST-NET-1
        || (a == 192 && b == 88 && c == 99)       // 6to4 relay anycast (deprecated)
        || (a == 192 && b == 168)                 // private
        || (a == 198 && (b == 18 || b == 19))     // benchmarking
        || (a == 198 && b == 51 && c == 100)      // TEST-NET-2
        || (a == 203 && b == 0 && c == 113)       // TEST-NET-3
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00                // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80                // link-local fe80::/10
        || (s[0] & 0xff00) == 0xff00                // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8)       // documentation
        || (s[0] == 0x3fff && s[1] < 0x1000)        // documentation 3fff::/20
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
        || s[0] < 0x2000 || s[0] >= 0x4000) // outside global unicast 2000::/3
}

/// A country database: the shipped DB-IP table or an operator's `.mmdb` file.
/// Build it once at start-up and share it; lookups take `&self`.
pub struct Geo {
    inner: Inner,
}

enum Inner {
    Shipped,
    Mmdb { reader: Box<maxminddb::Reader<Vec<u8>>>, path: String },
}

impl fmt::Debug for Geo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Geo").field("source", &self.describe()).finish()
    }
}

impl Geo {
    /// The table shipped in the binary (DB-IP IP to Country Lite). Unpacks it now if no
    /// lookup has yet (tens of milliseconds, about 9 MB of memory).
    pub fn shipped() -> Geo {
        LazyLock::force(&SHIPPED);
        Geo { inner: Inner::Shipped }
    }

    /// A MaxMind DB file (`.mmdb`) read into memory: a GeoIP2/GeoLite2 Country or City
    /// database, DB-IP's, or any whose records hold `country.iso_code` or `country_code`.
    pub fn from_mmdb(path: &Path) -> Result<Geo, String> {
        let reader = maxminddb::Reader::open_readfile(path)
            .map_err(|e| format!("geolocation database {}: {e}", path.display()))?;
        Ok(Geo { inner: Inner::Mmdb { reader: Box::new(reader), path: path.display().to_string() } })
    }

    /// The database `QUALEAD_GEOIP_DB` names, or the shipped table when it is unset or empty.
    pub fn from_env() -> Result<Geo, String> {
        match std::env::var_os(GEOIP_DB_ENV) {
            Some(path) if !path.is_empty() => Geo::from_mmdb(Path::new(&path)),
            _ => Ok(Geo::shipped()),
        }
    }

    /// What the lookups read, for the logs and the admin pages.
    pub fn describe(&self) -> String {
        match &self.inner {
            Inner::Shipped => format!("DB-IP IP to Country Lite (shipped, {})", SHIPPED_VERSION.trim()),
            Inner::Mmdb { reader, path } => format!("{} ({path})", reader.metadata().database_type),
        }
    }

    /// The country of `ip`; `None` for private and reserved addresses and for addresses
    /// the database has no country for.
    pub fn lookup(&self, ip: IpAddr) -> Option<Country> {
        if !is_public(ip) {
            return None;
        }
        match &self.inner {
            Inner::Shipped => SHIPPED.lookup(ip),
            Inner::Mmdb { reader, .. } => mmdb_country(reader, ip),
        }
    }
}

fn mmdb_country(reader: &maxminddb::Reader<Vec<u8>>, ip: IpAddr) -> Option<Country> {
    let found = reader.lookup(canonical(ip)).ok()?;
    if !found.has_data() {
        return None;
    }
    let code: Option<String> = found
        .decode_path(&maxminddb::path!["country", "iso_code"])
        .ok()
        .flatten()
        .or_else(|| found.decode_path(&maxminddb::path!["country_code"]).ok().flatten());
    code.as_deref().and_then(Country::new)
}

static SHIPPED_VERSION: &str = include_str!("../../geodata/dbip-country.version");
static SHIPPED_BYTES: &[u8] = include_bytes!("../../geodata/dbip-country.bin.gz");

static SHIPPED: LazyLock<Table> = LazyLock::new(|| {
    Table::parse(SHIPPED_BYTES).unwrap_or_else(|e| {
        tracing::error!("the shipped country table does not read ({e}); no click gets a country from it");
        Table::default()
    })
});

/// Ranges of addresses and their countries: `v4_starts[i]` up to the next start has
/// `v4_codes[i]` (`--` for none); the first start is 0, so every address has a range.
#[derive(Default)]
struct Table {
    v4_starts: Vec<u32>,
    v4_codes: Vec<[u8; 2]>,
    v6_starts: Vec<u128>,
    v6_codes: Vec<[u8; 2]>,
}

const MAGIC: &[u8] = b"QLGEOCC1";

impl Table {
    /// Reads the format `scripts/refresh-geoip.sh` writes (described there).
    fn parse(gz: &[u8]) -> Result<Table, String> {
        let mut raw = Vec::with_capacity(4 << 20);
        flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).map_err(|e| format!("gzip: {e}"))?;
        let mut r = Cursor { buf: &raw, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err("not a country table".into());
        }
        let n4 = r.u32()? as usize;
        let n6 = r.u32()? as usize;
        let v4_starts = r.starts(n4, u32::MAX as u128)?.into_iter().map(|s| s as u32).collect();
        let v4_codes = r.codes(n4)?;
        let v6_starts = r.starts(n6, u128::MAX)?;
        let v6_codes = r.codes(n6)?;
        if r.at != raw.len() {
            return Err("trailing bytes".into());
        }
        Ok(Table { v4_starts, v4_codes, v6_starts, v6_codes })
    }

    fn lookup(&self, ip: IpAddr) -> Option<Country> {
        let code = match canonical(ip) {
            IpAddr::V4(v4) => find(&self.v4_starts, &self.v4_codes, u32::from(v4)),
            IpAddr::V6(v6) => find(&self.v6_starts, &self.v6_codes, u128::from(v6)),
        }?;
        (code != *b"--").then_some(Country(code))
    }
}

fn find<T: Ord + Copy>(starts: &[T], codes: &[[u8; 2]], x: T) -> Option<[u8; 2]> {
    let i = starts.partition_point(|&s| s <= x);
    codes.get(i.checked_sub(1)?).copied()
}

struct Cursor<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or("truncated")?;
        let bytes = &self.buf[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// `n` starts, each a LEB128 difference from the one before, strictly increasing and
    /// at most `max`.
    fn starts(&mut self, n: usize, max: u128) -> Result<Vec<u128>, String> {
        let mut out = Vec::with_capacity(n);
        let mut prev: u128 = 0;
        for i in 0..n {
            let mut delta: u128 = 0;
            let mut shift = 0;
            loop {
                let byte = *self.take(1)?.first().ok_or("truncated")?;
                if shift >= 128 {
                    return Err("varint too long".into());
                }
                delta |= u128::from(byte & 0x7f) << shift;
                shift += 7;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            if i > 0 && delta == 0 {
                return Err("starts not increasing".into());
            }
            prev = prev.checked_add(delta).filter(|&s| s <= max).ok_or("start out of range")?;
            out.push(prev);
        }
        if out.first().is_some_and(|&s| s != 0) {
            return Err("the first range does not start at 0".into());
        }
        Ok(out)
    }

    fn codes(&mut self, n: usize) -> Result<Vec<[u8; 2]>, String> {
        let bytes = self.take(n.checked_mul(2).ok_or("too many codes")?)?;
        let codes: Vec<[u8; 2]> = bytes.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
        if let Some(bad) = codes.iter().find(|c| **c != *b"--" && !c.iter().all(u8::is_ascii_uppercase)) {
            return Err(format!("odd country code {bad:?}"));
        }
        Ok(codes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn cc(s: &str) -> Option<String> {
        country_of(ip(s)).map(|c| c.to_string())
    }

    #[test]
    fn the_shipped_table_reads_and_covers_both_families() {
        let t = Table::parse(SHIPPED_BYTES).expect("the shipped table reads");
        assert!(t.v4_starts.len() > 100_000, "{}", t.v4_starts.len());
        assert!(t.v6_starts.len() > 100_000, "{}", t.v6_starts.len());
        assert!(t.v4_starts.windows(2).all(|w| w[0] < w[1]));
        assert!(t.v6_starts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(t.v4_starts.len(), t.v4_codes.len());
        assert_eq!(t.v6_starts.len(), t.v6_codes.len());
    }

    #[test]
    fn well_known_public_addresses_have_their_country() {
        // As the shipped DB-IP data says (a refresh may move one; look it up then).
        assert_eq!(cc("8.8.8.8").as_deref(), Some("US"));
        assert_eq!(cc("77.88.8.8").as_deref(), Some("RU")); // Yandex DNS
        assert_eq!(cc("193.0.6.139").as_deref(), Some("NL")); // RIPE NCC
        assert_eq!(cc("81.2.69.142").as_deref(), Some("GB"));
        assert_eq!(cc("133.242.0.3").as_deref(), Some("JP"));
        assert_eq!(cc("200.160.2.3").as_deref(), Some("BR"));
        assert_eq!(cc("2a02:6b8::feed:ff").as_deref(), Some("RU")); // Yandex
        assert_eq!(cc("2a00:1450:4001:800::200e").as_deref(), Some("DE")); // Google, Frankfurt
        assert_eq!(cc("2001:67c:2e8:22::c100:68b").as_deref(), Some("NL")); // RIPE NCC
        // IPv4-mapped IPv6 is the IPv4 address.
        assert_eq!(cc("::ffff:77.88.8.8").as_deref(), Some("RU"));
    }

    #[test]
    fn private_and_reserved_addresses_have_none() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "100.64.0.1",
            "169.254.1.1",
            "0.0.0.0",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(cc(a), None, "{a}");
            assert!(!is_public(ip(a)), "{a}");
        }
        assert!(is_public(ip("8.8.8.8")));
        assert!(is_public(ip("2a02:6b8::feed:ff")));
        assert!(is_public(ip("64:ff9b::808:808"))); // NAT64 of 8.8.8.8
    }

    #[test]
    fn the_edges_of_a_range_belong_to_it() {
        // 77.88.0.0 – 77.88.19.31 is one RU range in the data at hand; check the bisection
        // against a hand-made table instead, so a refresh cannot break it.
        let t = Table {
            v4_starts: vec![0, 10, 20, 30],
            v4_codes: vec![*b"--", *b"US", *b"--", *b"RU"],
            v6_starts: vec![0],
            v6_codes: vec![*b"--"],
        };
        let at = |n: u32| t.lookup(IpAddr::V4(Ipv4Addr::from(n))).map(|c| c.to_string());
        assert_eq!(at(9), None);
        assert_eq!(at(10).as_deref(), Some("US"));
        assert_eq!(at(19).as_deref(), Some("US"));
        assert_eq!(at(20), None);
        assert_eq!(at(30).as_deref(), Some("RU"));
        assert_eq!(at(u32::MAX).as_deref(), Some("RU"));
    }

    #[test]
    fn a_damaged_table_is_refused() {
        assert!(Table::parse(b"not gzip").is_err());
        let gz = |raw: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, raw).expect("write");
            e.finish().expect("finish")
        };
        assert!(Table::parse(&gz(b"QLGEOCC1\x01\0\0\0")).is_err()); // truncated
        assert!(Table::parse(&gz(b"QLGEOCC1\x01\0\0\0\0\0\0\0\x00us")).is_err()); // lower case
        assert!(Table::parse(&gz(b"QLGEOCC1\x01\0\0\0\0\0\0\0\x05US")).is_err()); // not from 0
        let ok = Table::parse(&gz(b"QLGEOCC1\x01\0\0\0\x01\0\0\0\x00US\x00--")).expect("a tiny table");
        assert_eq!(ok.lookup(ip("8.8.8.8")).map(|c| c.to_string()).as_deref(), Some("US"));
    }

    #[test]
    fn country_codes_and_sources() {
        assert_eq!(Country::new("us").map(|c| c.to_string()).as_deref(), Some("US"));
        assert_eq!(Country::new(" de ").map(|c| c.to_string()).as_deref(), Some("DE"));
        for bad in ["", "U", "USA", "X1", "XX", "ZZ", "EU", "ü"] {
            assert_eq!(Country::new(bad), None, "{bad}");
        }
        for s in CountrySource::ALL {
            assert_eq!(CountrySource::parse(s.as_str()), Some(s));
        }
        let names: Vec<_> = CountrySource::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["header", "database", "approximate", "unknown"]);
    }

    #[test]
    fn locate_takes_the_strongest_source() {
        let geo = Geo::shipped();
        let l = locate(&geo, Some("fr"), ip("77.88.8.8"), Some("de-DE"));
        assert_eq!((l.country.map(|c| c.to_string()).as_deref(), l.source), (Some("FR"), CountrySource::Header));
        // Cloudflare's "XX" (unknown) and "T1" (Tor) say nothing.
        for h in [None, Some("XX"), Some("T1"), Some("")] {
            let l = locate(&geo, h, ip("77.88.8.8"), Some("de-DE"));
            assert_eq!((l.country.map(|c| c.to_string()).as_deref(), l.source), (Some("RU"), CountrySource::Database));
        }
        let l = locate(&geo, None, ip("10.0.0.1"), Some("de-AT,de;q=0.9,en;q=0.5"));
        assert_eq!((l.country.map(|c| c.to_string()).as_deref(), l.source), (Some("AT"), CountrySource::Approximate));
        let l = locate(&geo, None, ip("10.0.0.1"), Some("fr,en;q=0.5"));
        assert_eq!(l, Located { country: None, source: CountrySource::Unknown });
        assert_eq!(country_of_language("zh-Hans-CN").map(|c| c.to_string()).as_deref(), Some("CN"));
        assert_eq!(country_of_language("*"), None);
    }

    #[test]
    fn a_missing_mmdb_file_is_an_error_naming_it() {
        let e = Geo::from_mmdb(Path::new("/nonexistent/GeoLite2-Country.mmdb")).expect_err("no file");
        assert!(e.contains("/nonexistent/GeoLite2-Country.mmdb"), "{e}");
        assert!(Geo::shipped().describe().starts_with("DB-IP IP to Country Lite"));
    }

    /// A one-node IPv4 MaxMind DB: addresses whose first bit is 0 (0.0.0.0 – 127.255.255.255)
    /// hold `record` (MaxMind DB data-section bytes), the others nothing.
    fn tiny_mmdb(record: &[u8]) -> Vec<u8> {
        fn s(out: &mut Vec<u8>, text: &str) {
            out.push(0x40 | text.len() as u8); // a UTF-8 string shorter than 29 bytes
            out.extend_from_slice(text.as_bytes());
        }
        let mut db = vec![0, 0, 17, 0, 0, 1]; // 24-bit records: left → data at offset 0, right → none
        db.extend_from_slice(&[0; 16]);
        db.extend_from_slice(record);
        db.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        db.push(0xE0 | 9); // a map of 9 entries
        s(&mut db, "node_count");
        db.extend_from_slice(&[0xC1, 1]);
        s(&mut db, "record_size");
        db.extend_from_slice(&[0xA1, 24]);
        s(&mut db, "ip_version");
        db.extend_from_slice(&[0xA1, 4]);
        s(&mut db, "database_type");
        s(&mut db, "Tiny-Country");
        s(&mut db, "languages");
        db.extend_from_slice(&[0x00, 0x04]); // an empty array
        s(&mut db, "binary_format_major_version");
        db.extend_from_slice(&[0xA1, 2]);
        s(&mut db, "binary_format_minor_version");
        db.push(0xA0);
        s(&mut db, "build_epoch");
        db.extend_from_slice(&[0x01, 0x02, 1]); // uint64 1
        s(&mut db, "description");
        db.push(0xE0);
        db
    }

    #[test]
    fn an_mmdb_file_replaces_the_shipped_table() {
        // {"country": {"iso_code": "FR"}} as GeoIP2 writes it; {"country_code": "JP"} as
        // ip-location-db does.
        let geoip2 = b"\xE1\x47country\xE1\x48iso_code\x42FR";
        let flat = b"\xE1\x4Ccountry_code\x42JP";
        for (record, want) in [(&geoip2[..], "FR"), (&flat[..], "JP")] {
            let file = tempfile::NamedTempFile::new().expect("temp file");
            std::fs::write(file.path(), tiny_mmdb(record)).expect("write");
            let geo = Geo::from_mmdb(file.path()).expect("a tiny mmdb");
            assert!(geo.describe().starts_with("Tiny-Country"), "{}", geo.describe());
            assert_eq!(geo.lookup(ip("8.8.8.8")).map(|c| c.to_string()).as_deref(), Some(want));
            assert_eq!(geo.lookup(ip("77.88.8.8")).map(|c| c.to_string()).as_deref(), Some(want));
            assert_eq!(geo.lookup(ip("200.160.2.3")), None); // no record
            assert_eq!(geo.lookup(ip("10.0.0.1")), None); // private, never looked up
            assert_eq!(geo.lookup(ip("2a02:6b8::feed:ff")), None); // an IPv4-only file
        }
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), b"not a database").expect("write");
        assert!(Geo::from_mmdb(file.path()).is_err());
    }

    /// Time a lookup: `cargo test --release --lib geo::tests::lookup_speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn lookup_speed() {
        let started = std::time::Instant::now();
        let geo = Geo::shipped();
        eprintln!("unpacking the shipped table: {:?}", started.elapsed());
        let mut x: u32 = 0x9e37_79b9;
        let addrs: Vec<IpAddr> = (0..1_000_000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if i % 4 == 0 {
                    IpAddr::V6(Ipv6Addr::from((0x2a00_u128 << 112) | (u128::from(x) << 64)))
                } else {
                    IpAddr::V4(Ipv4Addr::from(x))
                }
            })
            .collect();
        let started = std::time::Instant::now();
        let found = addrs.iter().filter(|a| geo.lookup(**a).is_some()).count();
        let per = started.elapsed().as_nanos() / addrs.len() as u128;
        eprintln!("{per} ns a lookup ({found} of {} found; 3/4 IPv4, 1/4 IPv6)", addrs.len());
    }
}
