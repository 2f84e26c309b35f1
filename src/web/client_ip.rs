//! The client's address: the socket peer, or the left-most `X-Forwarded-For` entry
//! when the peer is a trusted proxy (`QUALEAD_TRUSTED_PROXIES`).

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

pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> IpAddr {
    let peer = req.peer_addr().map(|a| canonical(a.ip())).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if !is_trusted(peer, trusted) {
        return peer;
    }
    req.headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse::<IpAddr>().ok())
        .map(canonical)
        .unwrap_or(peer)
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
}
