//! Which addresses a metadata document may be fetched from: public unicast addresses only.
//! Everything RFC 6890 and its successors set aside (loopback, private, shared and link-local
//! ranges with the cloud metadata services in them, documentation, benchmarking, multicast,
//! reserved) is refused, also when it hides inside an IPv6 form (mapped, compatible, NAT64,
//! 6to4). Written here because the standard library's `is_global` is not stable.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// May Gatehouse connect to `ip` to fetch a document? `allow_loopback` is the unsafe
/// setting for tests and local development.
pub fn allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    if allow_loopback && ip.is_loopback() {
        return true;
    }
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network"
        || a == 10                             // private
        || a == 127                            // loopback
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254)              // link-local, cloud metadata services
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // documentation
        || (a == 192 && b == 88 && c == 99)    // 6to4 relay anycast
        || (a == 192 && b == 168)              // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)   // documentation
        || (a == 203 && b == 0 && c == 113)    // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let s = ip.segments();
    // ::/96 holds the unspecified and loopback addresses and the deprecated IPv4-compatible
    // form: nothing public.
    if s[..6].iter().all(|&x| x == 0) {
        return false;
    }
    // NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48): the IPv4 address inside decides.
    if s[0] == 0x64 && s[1] == 0xff9b {
        if s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0 {
            return public_v4(Ipv4Addr::new(
                (s[6] >> 8) as u8,
                s[6] as u8,
                (s[7] >> 8) as u8,
                s[7] as u8,
            ));
        }
        return false;
    }
    // 6to4 (2002::/16): the IPv4 address inside decides.
    if s[0] == 0x2002 {
        return public_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    !((s[0] & 0xfe00) == 0xfc00                 // unique local
        || (s[0] & 0xffc0) == 0xfe80            // link-local
        || (s[0] & 0xffc0) == 0xfec0            // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00            // multicast
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
        || (s[0] == 0x2001 && s[1] == 0x0db8)   // documentation
        || (s[0] == 0x2001 && s[1] < 0x0200)    // IETF protocol assignments (Teredo, ORCHID…)
        || (s[0] == 0x3fff && s[1] < 0x1000)) // documentation (2024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> bool {
        allowed(s.parse().unwrap(), false)
    }

    #[test]
    fn public_addresses_pass() {
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "2606:4700::6810:84e5",
            "2a00:1450:4001::200e",
        ] {
            assert!(ok(a), "{a}");
        }
    }

    #[test]
    fn special_use_addresses_are_refused() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:0a00:0001::1",
            "2001:db8::1",
            "100::1",
            "::127.0.0.1",
        ] {
            assert!(!ok(a), "{a}");
        }
        // NAT64 and 6to4 of a public address are public.
        assert!(ok("64:ff9b::808:808"));
        assert!(ok("2002:0808:0808::1"));
    }

    #[test]
    fn loopback_only_with_the_unsafe_setting() {
        assert!(allowed("127.0.0.1".parse().unwrap(), true));
        assert!(allowed("::1".parse().unwrap(), true));
        assert!(!allowed("10.0.0.1".parse().unwrap(), true));
    }
}
