//! Client addresses as the limits count them. One client must not become many by writing its
//! address differently or by changing the bits it controls: an IPv4-mapped IPv6 address
//! (`::ffff:192.0.2.1`, what a dual-stack socket reports) is its IPv4 address, and an IPv6
//! address counts as its /64, the prefix a provider gives one subscriber.

use std::net::{IpAddr, Ipv6Addr};

/// Bits of an IPv6 address that one subscriber's network shares.
const IPV6_PREFIX_BITS: u32 = 64;

/// The address `ip` counts as for per-address limits and blocks.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mask = u128::MAX << (128 - IPV6_PREFIX_BITS);
                IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & mask))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str) -> String {
        limit_key(ip.parse().unwrap()).to_string()
    }

    #[test]
    fn ipv4_mapped_ipv6_counts_as_its_ipv4_address() {
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn ipv6_counts_as_its_64_prefix() {
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }
}
