//! The client's address for the public links' abuse limits: the TCP peer's, or what a trusted
//! proxy says in `X-Forwarded-For`. Both edges that take registrations (these pages and the gRPC
//! API) read it here, so the store only ever sees an address.
use std::net::{IpAddr, SocketAddr};

use crate::config::Config;

/// The proxies whose `X-Forwarded-For` is believed (`trusted_proxies`).
#[derive(Clone)]
pub struct TrustedProxies(Vec<IpAddr>);

impl TrustedProxies {
    pub fn new(config: &Config) -> Self {
        Self(
            config
                .trusted_proxies
                .iter()
                // Checked by `Config::validate`.
                .filter_map(|p| p.parse::<IpAddr>().ok())
                .map(|ip| ip.to_canonical())
                .collect(),
        )
    }

    /// The client's address: the TCP peer's, unless the peer is a trusted proxy, in which case
    /// `X-Forwarded-For` (every value, in order) is read from the nearest hop back to the first
    /// address that is not a trusted proxy. A header from anyone else is ignored: it is the
    /// client's to forge. IPv4-mapped IPv6 addresses come out as IPv4 ones.
    pub fn client_address(
        &self,
        peer: Option<SocketAddr>,
        forwarded_for: &[&str],
    ) -> Option<IpAddr> {
        let mut client = peer?.ip().to_canonical();
        if !self.0.contains(&client) {
            return Some(client);
        }
        for hop in forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip.to_canonical();
                    if !self.0.contains(&client) {
                        return Some(client);
                    }
                }
                // Not an address: stop at the last hop that could be trusted.
                Err(_) => break,
            }
        }
        Some(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(trusted: &[&str]) -> TrustedProxies {
        TrustedProxies::new(&Config {
            trusted_proxies: trusted.iter().map(|p| p.to_string()).collect(),
            ..Config::default()
        })
    }

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().ok()?, 40000))
    }

    fn ip(text: &str) -> Option<IpAddr> {
        text.parse().ok()
    }

    #[test]
    fn a_forwarded_for_header_counts_only_from_a_trusted_proxy() {
        let none = proxies(&[]);
        assert_eq!(
            none.client_address(peer("203.0.113.9"), &["198.51.100.1"]),
            ip("203.0.113.9"),
            "forged"
        );
        let proxied = proxies(&["10.0.0.2", "10.0.0.3"]);
        assert_eq!(
            proxied.client_address(peer("10.0.0.2"), &["198.51.100.1, 10.0.0.3"]),
            ip("198.51.100.1")
        );
        // A client's own entries sit to the left of the first untrusted hop: ignored.
        assert_eq!(
            proxied.client_address(peer("10.0.0.2"), &["1.2.3.4", "198.51.100.1"]),
            ip("198.51.100.1")
        );
        assert_eq!(
            proxied.client_address(peer("10.0.0.2"), &["garbage"]),
            ip("10.0.0.2")
        );
        assert_eq!(
            proxied.client_address(peer("10.0.0.2"), &[]),
            ip("10.0.0.2")
        );
        assert_eq!(
            proxied.client_address(peer("::ffff:10.0.0.2"), &["198.51.100.7"]),
            ip("198.51.100.7"),
            "IPv4-mapped peers are IPv4"
        );
        assert_eq!(proxied.client_address(None, &["198.51.100.1"]), None);
    }
}
