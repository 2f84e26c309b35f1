//! The client's address, one rule for every caller (clicks, conversions and the
//! postback allow-list, log-in and form rate limits, scrub rules, audit lines):
//!
//! walking `X-Forwarded-For` from the right, starting at the socket peer, every hop
//! that is a trusted proxy (`QUALEAD_TRUSTED_PROXIES`) is skipped; the first one that
//! is not is the client. An untrusted peer is itself the client (its header is not
//! read); when every entry is trusted, the left-most one is. A proxy that appends
//! (nginx's `$proxy_add_x_forwarded_for`) puts the address it saw on the right, so a
//! shopper's forged left-most entry is never reached.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::HttpRequest;
use ipnet::IpNet;

pub fn is_trusted(peer: IpAddr, trusted: &[IpNet]) -> bool {
    let peer = canonical(peer);
    trusted.iter().any(|n| n.contains(&peer))
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port (`1.2.3.4:5`,
/// `[::1]:5`) or in brackets.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).and_then(|r| r.parse::<IpAddr>().ok()).map(canonical)
}

/// The walk itself: `peer` is the socket peer, `forwarded` every `X-Forwarded-For`
/// header value in the order received.
pub fn walk<'a>(peer: IpAddr, forwarded: impl IntoIterator<Item = &'a str>, trusted: &[IpNet]) -> IpAddr {
    let mut client = canonical(peer);
    if !is_trusted(client, trusted) {
        return client;
    }
    let hops: Vec<&str> = forwarded.into_iter().flat_map(|v| v.split(',')).collect();
    for raw in hops.iter().rev() {
        if raw.trim().is_empty() {
            continue;
        }
        match parse_hop(raw) {
            Some(ip) => {
                client = ip;
                if !is_trusted(ip, trusted) {
                    return ip;
                }
            }
            // Garbage where an address should be: a trusted proxy wrote nothing like
            // it, so whoever did is beyond them; the last good hop is the client.
            None => return client,
        }
    }
    client
}

pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> IpAddr {
    let peer = req.peer_addr().map(|a| canonical(a.ip())).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let values = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok());
    walk(peer, values, trusted)
}

/// Whether headers set by the peer (country, forwarded-for) may be believed.
pub fn peer_is_trusted(req: &HttpRequest, trusted: &[IpNet]) -> bool {
    req.peer_addr().is_some_and(|a| is_trusted(a.ip(), trusted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn nets() -> Vec<IpNet> {
        crate::config::parse_cidrs("127.0.0.0/8,10.0.0.0/8").expect("cidrs")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_for_only_from_trusted_peers() {
        let trusted = TestRequest::default()
            .peer_addr("10.1.2.3:5000".parse().expect("addr"))
            .insert_header(("X-Forwarded-For", "203.0.113.9, 10.1.2.3"))
            .to_http_request();
        assert_eq!(client_ip(&trusted, &nets()).to_string(), "203.0.113.9");

        let stranger = TestRequest::default()
            .peer_addr("198.51.100.7:5000".parse().expect("addr"))
            .insert_header(("X-Forwarded-For", "203.0.113.9"))
            .to_http_request();
        assert_eq!(client_ip(&stranger, &nets()).to_string(), "198.51.100.7");

        let garbage = TestRequest::default()
            .peer_addr("127.0.0.1:5000".parse().expect("addr"))
            .insert_header(("X-Forwarded-For", "not-an-ip"))
            .to_http_request();
        assert_eq!(client_ip(&garbage, &nets()).to_string(), "127.0.0.1");
    }

    #[test]
    fn a_forged_left_most_entry_is_never_the_client() {
        // The shopper sent `X-Forwarded-For: 6.6.6.6`; nginx appended the address it saw.
        assert_eq!(walk(ip("127.0.0.1"), ["6.6.6.6, 203.0.113.9"], &nets()), ip("203.0.113.9"));
        // Two proxies of ours: skip both, stop at the first stranger.
        assert_eq!(walk(ip("10.0.0.2"), ["6.6.6.6, 203.0.113.9, 10.0.0.1"], &nets()), ip("203.0.113.9"));
        // The header split over two lines reads as one list.
        assert_eq!(walk(ip("127.0.0.1"), ["6.6.6.6", "203.0.113.9"], &nets()), ip("203.0.113.9"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client() {
        assert_eq!(walk(ip("198.51.100.7"), ["203.0.113.9"], &nets()), ip("198.51.100.7"));
        assert_eq!(walk(ip("::ffff:198.51.100.7"), ["10.0.0.1"], &nets()), ip("198.51.100.7"));
    }

    #[test]
    fn all_trusted_gives_the_left_most() {
        assert_eq!(walk(ip("127.0.0.1"), ["10.0.0.5, 10.0.0.1"], &nets()), ip("10.0.0.5"));
        assert_eq!(walk(ip("127.0.0.1"), [], &nets()), ip("127.0.0.1"));
        assert_eq!(walk(ip("127.0.0.1"), [" , "], &nets()), ip("127.0.0.1"));
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_good_hop() {
        assert_eq!(walk(ip("127.0.0.1"), ["203.0.113.9, junk, 10.0.0.1"], &nets()), ip("10.0.0.1"));
        assert_eq!(walk(ip("127.0.0.1"), ["junk"], &nets()), ip("127.0.0.1"));
    }

    #[test]
    fn hops_with_ports_and_brackets() {
        assert_eq!(walk(ip("127.0.0.1"), ["203.0.113.9:4711"], &nets()), ip("203.0.113.9"));
        assert_eq!(walk(ip("127.0.0.1"), ["[2001:db8::1]:443"], &nets()), ip("2001:db8::1"));
        assert_eq!(walk(ip("127.0.0.1"), ["[2001:db8::1]"], &nets()), ip("2001:db8::1"));
        assert_eq!(walk(ip("127.0.0.1"), ["::ffff:203.0.113.9"], &nets()), ip("203.0.113.9"));
    }
}
