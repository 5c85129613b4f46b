//! Where a webhook may be sent. An endpoint's URL is chosen by a customer, so without a check a
//! webhook is a way to make the server POST into its own network (SSRF): loopback, private
//! ranges, the cloud metadata service. Only public unicast addresses are allowed, unless the
//! operator allows a network (`webhook_allowed_networks`).
//!
//! A URL is checked when an endpoint is saved and again before every attempt; a name is checked
//! when it is resolved, on every new connection (`resolve_checked`, the sender's resolver), so
//! a name that later resolves to a private address (DNS rebinding) is refused then.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use url::{Host, Url};

/// What the operator allows beyond public addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DestinationPolicy {
    /// Plain `http` URLs (for development and closed networks); `https` only otherwise.
    pub allow_http: bool,
    /// Networks webhooks may go to although they are not public, such as a receiver on the
    /// operator's own private network.
    pub allowed_networks: Vec<IpNet>,
}

/// Why an address is not public.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restricted {
    Unspecified,
    Loopback,
    Private,
    SharedNat,
    LinkLocal,
    CloudMetadata,
    Multicast,
    Broadcast,
    Documentation,
    UniqueLocal,
    Reserved,
}

impl std::fmt::Display for Restricted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Restricted::Unspecified => "unspecified",
            Restricted::Loopback => "loopback",
            Restricted::Private => "private",
            Restricted::SharedNat => "in the carrier-grade NAT range (100.64.0.0/10)",
            Restricted::LinkLocal => "link-local",
            Restricted::CloudMetadata => "the cloud metadata service",
            Restricted::Multicast => "multicast",
            Restricted::Broadcast => "broadcast",
            Restricted::Documentation => "reserved for documentation",
            Restricted::UniqueLocal => "unique-local (private IPv6)",
            Restricted::Reserved => "reserved, not a public address",
        })
    }
}

/// Why a webhook may not go somewhere.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("the webhook URL is not a valid absolute URL ({0})")]
    InvalidUrl(url::ParseError),
    #[error(
        "the webhook URL's scheme is {0}; webhooks go to https URLs \
         (http only when the operator sets webhook_allow_http)"
    )]
    Scheme(String),
    #[error("the webhook URL has no host")]
    NoHost,
    #[error(
        "the webhook URL holds a user name or password; receivers authenticate webhooks by \
         their signature"
    )]
    Credentials,
    #[error("the webhook URL has a fragment (#…), which is never sent; remove it")]
    Fragment,
    #[error(
        "the address {addr} is {kind}; webhooks go to public addresses unless the operator \
         allows the network in webhook_allowed_networks"
    )]
    Address { addr: IpAddr, kind: Restricted },
    #[error(
        "the host {host} resolves to an address that is {kind}; webhooks go to public \
         addresses unless the operator allows the network in webhook_allowed_networks"
    )]
    Resolved {
        host: String,
        addr: IpAddr,
        kind: Restricted,
    },
    #[error("the host {host} could not be resolved ({reason})")]
    Unresolved { host: String, reason: String },
    #[error("the host {host} resolves to no address")]
    NoAddress { host: String },
}

impl DestinationPolicy {
    /// Checks an endpoint's URL: absolute, `https` (or `http` when allowed), a host, no
    /// credentials, no fragment; an IP-literal host is checked at once, a name when resolved.
    pub fn check_url(&self, text: &str) -> Result<Url, DestinationError> {
        let url = Url::parse(text).map_err(DestinationError::InvalidUrl)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            other => return Err(DestinationError::Scheme(other.to_string())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(DestinationError::Credentials);
        }
        if url.fragment().is_some() {
            return Err(DestinationError::Fragment);
        }
        match url.host() {
            None => return Err(DestinationError::NoHost),
            Some(Host::Domain("")) => return Err(DestinationError::NoHost),
            Some(Host::Domain(_)) => {}
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
        }
        Ok(url)
    }

    /// Refuses an address that is not public unless it is inside an allowed network. An
    /// IPv4-mapped or -compatible IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address it holds.
    /// The metadata addresses are allowed only by naming them exactly (`169.254.169.254/32`):
    /// allowing a wider network for an appliance must not hand out the instance's credentials.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), DestinationError> {
        let ip = canonical(ip);
        let Some(kind) = restriction(ip) else {
            return Ok(());
        };
        let allowed = self.allowed_networks.iter().map(canonical_net).any(|net| {
            net.contains(&ip)
                && (kind != Restricted::CloudMetadata || net.prefix_len() == net.max_prefix_len())
        });
        if allowed {
            Ok(())
        } else {
            Err(DestinationError::Address { addr: ip, kind })
        }
    }
}

/// Resolves `host` and checks every address it gives; refused if any one is refused, so a name
/// cannot mix a public address with a private one and hope for the private one.
pub async fn resolve_checked(
    policy: &DestinationPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, DestinationError> {
    // A bracketed IPv6 literal, as a URL writes it.
    let bare = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|err| DestinationError::Unresolved {
            host: host.to_string(),
            reason: err.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(DestinationError::NoAddress {
            host: host.to_string(),
        });
    }
    for addr in &addrs {
        if let Err(DestinationError::Address { addr, kind }) = policy.check_ip(addr.ip()) {
            return Err(DestinationError::Resolved {
                host: host.to_string(),
                addr,
                kind,
            });
        }
    }
    Ok(addrs)
}

/// The IPv4 address an IPv4-mapped (`::ffff:a.b.c.d`) or -compatible (`::a.b.c.d`) IPv6
/// address stands for; any other address as it is. `::` and `::1` stay IPv6.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if !v6.is_unspecified() && !v6.is_loopback() => match v6.to_ipv4() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        _ => ip,
    }
}

/// An allowed network written in IPv4-mapped form (`::ffff:10.0.0.0/104`) is the IPv4 network
/// (`10.0.0.0/8`), as its addresses are checked as IPv4.
fn canonical_net(net: &IpNet) -> IpNet {
    if let IpNet::V6(v6) = net {
        if let (IpAddr::V4(addr), Some(len)) = (
            canonical(IpAddr::V6(v6.addr())),
            v6.prefix_len().checked_sub(96),
        ) {
            if let Ok(v4) = Ipv4Net::new(addr, len) {
                return IpNet::V4(v4);
            }
        }
    }
    *net
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

#[allow(clippy::too_many_arguments)]
const fn v6(a: u16, b: u16, c: u16, d: u16, e: u16, f: u16, g: u16, h: u16, len: u8) -> Ipv6Net {
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), len)
}

/// IPv4 special-purpose ranges (IANA registry), most specific first.
const V4_RESTRICTED: &[(Ipv4Net, Restricted)] = &[
    (v4(169, 254, 169, 254, 32), Restricted::CloudMetadata),
    (v4(255, 255, 255, 255, 32), Restricted::Broadcast),
    (v4(0, 0, 0, 0, 32), Restricted::Unspecified),
    (v4(0, 0, 0, 0, 8), Restricted::Reserved),
    (v4(10, 0, 0, 0, 8), Restricted::Private),
    (v4(100, 64, 0, 0, 10), Restricted::SharedNat),
    (v4(127, 0, 0, 0, 8), Restricted::Loopback),
    (v4(169, 254, 0, 0, 16), Restricted::LinkLocal),
    (v4(172, 16, 0, 0, 12), Restricted::Private),
    (v4(192, 0, 0, 0, 24), Restricted::Reserved),
    (v4(192, 0, 2, 0, 24), Restricted::Documentation),
    (v4(192, 88, 99, 0, 24), Restricted::Reserved),
    (v4(192, 168, 0, 0, 16), Restricted::Private),
    (v4(198, 18, 0, 0, 15), Restricted::Reserved),
    (v4(198, 51, 100, 0, 24), Restricted::Documentation),
    (v4(203, 0, 113, 0, 24), Restricted::Documentation),
    (v4(224, 0, 0, 0, 4), Restricted::Multicast),
    (v4(240, 0, 0, 0, 4), Restricted::Reserved),
];

/// IPv6 special-purpose ranges, most specific first. Anything outside 2000::/3 (the global
/// unicast space) is refused as reserved after these.
const V6_RESTRICTED: &[(Ipv6Net, Restricted)] = &[
    (
        v6(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254, 128),
        Restricted::CloudMetadata,
    ),
    (v6(0, 0, 0, 0, 0, 0, 0, 0, 128), Restricted::Unspecified),
    (v6(0, 0, 0, 0, 0, 0, 0, 1, 128), Restricted::Loopback),
    (
        v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0, 32),
        Restricted::Documentation,
    ),
    (
        v6(0x3fff, 0, 0, 0, 0, 0, 0, 0, 20),
        Restricted::Documentation,
    ),
    // IETF protocol assignments: Teredo, benchmarking, ORCHID and the like.
    (v6(0x2001, 0, 0, 0, 0, 0, 0, 0, 23), Restricted::Reserved),
    (v6(0xfc00, 0, 0, 0, 0, 0, 0, 0, 7), Restricted::UniqueLocal),
    (v6(0xfe80, 0, 0, 0, 0, 0, 0, 0, 10), Restricted::LinkLocal),
    (v6(0xff00, 0, 0, 0, 0, 0, 0, 0, 8), Restricted::Multicast),
];

const V6_GLOBAL_UNICAST: Ipv6Net = v6(0x2000, 0, 0, 0, 0, 0, 0, 0, 3);
/// Prefixes that carry an IPv4 address inside, which a translator would reach: NAT64 holds it
/// in the last 32 bits, 6to4 in the 32 bits after 2002::/16.
const V6_NAT64: Ipv6Net = v6(0x64, 0xff9b, 0, 0, 0, 0, 0, 0, 96);
const V6_6TO4: Ipv6Net = v6(0x2002, 0, 0, 0, 0, 0, 0, 0, 16);

/// Why `ip` is not a public address, or `None` when it is.
fn restriction(ip: IpAddr) -> Option<Restricted> {
    match ip {
        IpAddr::V4(ip) => V4_RESTRICTED
            .iter()
            .find(|(net, _)| net.contains(&ip))
            .map(|(_, kind)| *kind),
        IpAddr::V6(ip) => {
            if let Some((_, kind)) = V6_RESTRICTED.iter().find(|(net, _)| net.contains(&ip)) {
                return Some(*kind);
            }
            let bits = u128::from(ip);
            if V6_NAT64.contains(&ip) {
                return restriction(IpAddr::V4(Ipv4Addr::from(bits as u32)));
            }
            if V6_6TO4.contains(&ip) {
                return restriction(IpAddr::V4(Ipv4Addr::from((bits >> 80) as u32)));
            }
            if !V6_GLOBAL_UNICAST.contains(&ip) {
                return Some(Restricted::Reserved);
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn kind_of(policy: &DestinationPolicy, text: &str) -> Option<Restricted> {
        match policy.check_ip(ip(text)) {
            Ok(()) => None,
            Err(DestinationError::Address { kind, .. }) => Some(kind),
            Err(other) => panic!("unexpected {other}"),
        }
    }

    fn allowing(networks: &[&str]) -> DestinationPolicy {
        DestinationPolicy {
            allow_http: false,
            allowed_networks: networks
                .iter()
                .map(|n| n.parse().expect("a network"))
                .collect(),
        }
    }

    #[test]
    fn public_addresses_pass_and_special_ones_are_refused() {
        let policy = DestinationPolicy::default();
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(kind_of(&policy, public), None, "{public}");
        }
        let cases = [
            ("127.0.0.1", Restricted::Loopback),
            ("127.255.0.9", Restricted::Loopback),
            ("::1", Restricted::Loopback),
            ("0.0.0.0", Restricted::Unspecified),
            ("::", Restricted::Unspecified),
            ("0.1.2.3", Restricted::Reserved),
            ("10.0.0.1", Restricted::Private),
            ("172.16.0.1", Restricted::Private),
            ("172.31.255.255", Restricted::Private),
            ("192.168.1.1", Restricted::Private),
            ("100.64.0.1", Restricted::SharedNat),
            ("100.127.255.254", Restricted::SharedNat),
            ("169.254.1.1", Restricted::LinkLocal),
            ("fe80::1", Restricted::LinkLocal),
            ("169.254.169.254", Restricted::CloudMetadata),
            ("fd00:ec2::254", Restricted::CloudMetadata),
            ("224.0.0.1", Restricted::Multicast),
            ("ff02::1", Restricted::Multicast),
            ("255.255.255.255", Restricted::Broadcast),
            ("192.0.2.7", Restricted::Documentation),
            ("198.51.100.7", Restricted::Documentation),
            ("203.0.113.7", Restricted::Documentation),
            ("2001:db8::1", Restricted::Documentation),
            ("240.0.0.1", Restricted::Reserved),
            ("198.18.0.1", Restricted::Reserved),
            ("fc00::1", Restricted::UniqueLocal),
            ("fd12:3456::1", Restricted::UniqueLocal),
            ("2001::1", Restricted::Reserved),
            ("100::1", Restricted::Reserved),
            // IPv4 inside IPv6 is the IPv4 address.
            ("::ffff:127.0.0.1", Restricted::Loopback),
            ("::ffff:10.1.2.3", Restricted::Private),
            ("::ffff:169.254.169.254", Restricted::CloudMetadata),
            ("::10.1.2.3", Restricted::Private),
            ("64:ff9b::a00:1", Restricted::Private),
            ("2002:7f00:1::", Restricted::Loopback),
        ];
        for (address, kind) in cases {
            assert_eq!(kind_of(&policy, address), Some(kind), "{address}");
        }
        // Just outside the private ranges.
        for public in ["172.32.0.1", "100.128.0.1", "11.0.0.1", "64:ff9b::808:808"] {
            assert_eq!(kind_of(&policy, public), None, "{public}");
        }
    }

    #[test]
    fn allowed_networks_open_only_themselves() {
        let policy = allowing(&["10.1.0.0/16", "127.0.0.0/8", "169.254.0.0/16"]);
        assert_eq!(kind_of(&policy, "10.1.2.3"), None);
        assert_eq!(kind_of(&policy, "::ffff:10.1.2.3"), None);
        assert_eq!(kind_of(&policy, "10.2.0.1"), Some(Restricted::Private));
        assert_eq!(kind_of(&policy, "127.0.0.1"), None);
        assert_eq!(kind_of(&policy, "::1"), Some(Restricted::Loopback));
        assert_eq!(kind_of(&policy, "169.254.1.1"), None);
        assert_eq!(
            kind_of(&policy, "169.254.169.254"),
            Some(Restricted::CloudMetadata),
            "a wide network does not open the metadata service"
        );
        let exact = allowing(&["169.254.169.254/32", "::ffff:192.168.0.0/112"]);
        assert_eq!(kind_of(&exact, "169.254.169.254"), None);
        assert_eq!(kind_of(&exact, "192.168.4.4"), None);
    }

    #[test]
    fn refusals_say_what_and_how_to_allow_it() {
        let err = DestinationPolicy::default()
            .check_ip(ip("10.0.0.1"))
            .expect_err("private");
        assert_eq!(
            err.to_string(),
            "the address 10.0.0.1 is private; webhooks go to public addresses unless the \
             operator allows the network in webhook_allowed_networks"
        );
    }

    #[test]
    fn urls_are_absolute_https_with_a_host_and_nothing_hidden() {
        let policy = DestinationPolicy::default();
        let url = policy
            .check_url("https://hooks.example.com/beckon?x=1")
            .expect("fine");
        assert_eq!(url.host_str(), Some("hooks.example.com"));
        assert!(policy.check_url("https://8.8.8.8:8443/hook").is_ok());

        let refused = |text: &str| policy.check_url(text).expect_err(text);
        assert!(matches!(
            refused("/relative"),
            DestinationError::InvalidUrl(_)
        ));
        assert!(matches!(
            refused("not a url"),
            DestinationError::InvalidUrl(_)
        ));
        assert_eq!(
            refused("http://hooks.example.com/"),
            DestinationError::Scheme("http".into())
        );
        assert_eq!(
            refused("ftp://hooks.example.com/"),
            DestinationError::Scheme("ftp".into())
        );
        assert_eq!(
            refused("https://user:pw@hooks.example.com/"),
            DestinationError::Credentials
        );
        assert_eq!(
            refused("https://user@hooks.example.com/"),
            DestinationError::Credentials
        );
        assert_eq!(
            refused("https://hooks.example.com/#x"),
            DestinationError::Fragment
        );
        // IP literals in every spelling a URL parser accepts are checked at once.
        for text in [
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1:443/",
        ] {
            assert!(
                matches!(refused(text), DestinationError::Address { .. }),
                "{text}"
            );
        }

        let http = DestinationPolicy {
            allow_http: true,
            ..DestinationPolicy::default()
        };
        assert!(http.check_url("http://hooks.example.com/").is_ok());
        assert!(http.check_url("ws://hooks.example.com/").is_err());
    }

    #[tokio::test]
    async fn names_are_refused_if_any_address_is() {
        let policy = DestinationPolicy::default();
        let err = resolve_checked(&policy, "localhost", 443)
            .await
            .expect_err("loopback");
        let DestinationError::Resolved { host, kind, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!((host.as_str(), *kind), ("localhost", Restricted::Loopback));
        assert!(
            err.to_string()
                .starts_with("the host localhost resolves to "),
            "{err}"
        );

        let err = resolve_checked(&policy, "[::1]", 443)
            .await
            .expect_err("loopback literal");
        assert!(matches!(err, DestinationError::Resolved { .. }), "{err}");

        let loopback = allowing(&["127.0.0.0/8", "::1/128"]);
        let addrs = resolve_checked(&loopback, "localhost", 8080)
            .await
            .expect("allowed");
        assert!(!addrs.is_empty());
        assert!(addrs
            .iter()
            .all(|a| a.port() == 8080 && a.ip().is_loopback()));
    }
}
