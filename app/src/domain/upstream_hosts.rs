//! Which hosts an org admin may point an upstream MCP server at
//! (`GATEHOUSE_UPSTREAM_ALLOWED_HOSTS`). Gatehouse calls upstreams from inside the operator's
//! network, so without a list it refuses the addresses that only make sense from there
//! (loopback, private, link-local such as cloud metadata, `localhost`); with a list, only the
//! listed hosts (`mcp.internal.example`, `10.0.0.7`, `*.corp.example` for its subdomains).
//! A leaf of the domain, so that the instance settings can hold it.

use std::net::IpAddr;

/// The operator's list of upstream hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamHosts(Vec<String>);

impl UpstreamHosts {
    /// Parses a comma- or space-separated list; the reason in words when an entry is no host.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for entry in raw
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let entry = entry.to_ascii_lowercase();
            let host = entry.strip_prefix("*.").unwrap_or(&entry);
            let ok = host.parse::<IpAddr>().is_ok()
                || (!host.is_empty()
                    && host.len() <= 253
                    && host.split('.').all(|l| {
                        !l.is_empty()
                            && l.len() <= 63
                            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    }));
            if !ok {
                return Err(format!(
                    "{entry:?} is not a host name, an IP address or *.domain"
                ));
            }
            out.push(entry);
        }
        if out.is_empty() {
            return Err("name at least one host".into());
        }
        Ok(Self(out))
    }

    pub fn entries(&self) -> &[String] {
        &self.0
    }

    fn lists(&self, host: &str) -> bool {
        self.0.iter().any(|e| match e.strip_prefix("*.") {
            Some(domain) => host.ends_with(&format!(".{domain}")),
            None => e == host,
        })
    }
}

/// Whether an upstream may be at `host` (as a URL states it, lower-case, IPv6 without
/// brackets): on the operator's list when there is one, else not an internal address.
pub fn allowed(list: Option<&UpstreamHosts>, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    match list {
        Some(list) => list.lists(&host),
        None => !internal(&host),
    }
}

fn internal(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.octets()[0] == 100 && (64..128).contains(&ip.octets()[1])
        }
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| internal(&v4.to_string()))
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_list_internal_addresses_are_refused() {
        for host in [
            "127.0.0.1",
            "localhost",
            "10.1.2.3",
            "192.168.0.10",
            "169.254.169.254",
            "[::1]",
            "fd00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert!(!allowed(None, host), "{host}");
        }
        for host in ["mcp.example.com", "93.184.216.34", "2606:4700::1"] {
            assert!(allowed(None, host), "{host}");
        }
    }

    #[test]
    fn a_list_allows_what_it_names_and_nothing_else() {
        let list = UpstreamHosts::parse("127.0.0.1, *.corp.example mcp.example.com").unwrap();
        assert!(allowed(Some(&list), "127.0.0.1"));
        assert!(allowed(Some(&list), "tools.corp.example"));
        assert!(!allowed(Some(&list), "corp.example"));
        assert!(allowed(Some(&list), "MCP.example.com"));
        assert!(!allowed(Some(&list), "other.example.com"));
        assert!(UpstreamHosts::parse("").is_err());
        assert!(UpstreamHosts::parse("http://x.example").is_err());
    }
}
