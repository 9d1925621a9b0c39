//! Redirect URI rules: what may be registered, and how a requested URI matches.
//! https anywhere; http only on loopback (RFC 8252 §7.3: any port at authorize time);
//! private-use schemes of native apps (`cursor://…`); never fragments, wildcards or schemes that
//! run code or read files.

use url::{Host, Url};

pub const MAX_URIS: usize = 10;
pub const MAX_LEN: usize = 2000;

const FORBIDDEN_SCHEMES: &[&str] = &[
    "javascript",
    "data",
    "file",
    "vbscript",
    "about",
    "blob",
    "filesystem",
    "ftp",
    "ws",
    "wss",
];

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Why `raw` can't be registered as a redirect URI, or `Ok` with its parsed form.
pub fn validate(raw: &str) -> Result<Url, String> {
    if raw.len() > MAX_LEN {
        return Err(format!("redirect URI is longer than {MAX_LEN} characters"));
    }
    if raw.contains('*') {
        return Err(format!("{raw}: wildcards are not allowed"));
    }
    let url = Url::parse(raw).map_err(|_| format!("{raw}: not an absolute URI"))?;
    if url.fragment().is_some() || raw.contains('#') {
        return Err(format!("{raw}: a redirect URI must not contain a fragment"));
    }
    match url.scheme() {
        "https" if url.host_str().is_none_or(str::is_empty) => {
            return Err(format!("{raw}: https redirect URIs need a host"));
        }
        "http" if !is_loopback(&url) => {
            return Err(format!(
                "{raw}: http is allowed only for loopback addresses (127.0.0.1, [::1], localhost); use https"
            ));
        }
        s if FORBIDDEN_SCHEMES.contains(&s) => {
            return Err(format!("{raw}: the {s}: scheme is not allowed"));
        }
        // https with a host, loopback http, or a native app's private-use scheme (RFC 8252
        // §7.1), e.g. cursor://anysphere.cursor-mcp/…
        _ => {}
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{raw}: a redirect URI must not contain credentials"
        ));
    }
    Ok(url)
}

/// Does `requested` match one of the registered URIs? Exact string comparison, except that a
/// loopback URI matches on any port (scheme, host, path and query must still be identical).
pub fn matches(registered: &[String], requested: &str) -> bool {
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    let Ok(req) = Url::parse(requested) else {
        return false;
    };
    if req.scheme() != "http" || !is_loopback(&req) || requested.contains('#') {
        return false;
    }
    registered
        .iter()
        .filter_map(|r| Url::parse(r).ok())
        .any(|reg| {
            reg.scheme() == "http"
                && is_loopback(&reg)
                && reg.host_str() == req.host_str()
                && reg.path() == req.path()
                && reg.query() == req.query()
        })
}

/// The host shown on the consent screen ("you will be sent back to …").
pub fn display_host(uri: &str) -> String {
    match Url::parse(uri) {
        Ok(u) => match u.host_str() {
            Some(h) => match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            },
            None => format!("{}:", u.scheme()),
        },
        Err(_) => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        for ok in [
            "https://claude.ai/api/mcp/auth_callback",
            "http://127.0.0.1:33418/callback",
            "http://localhost/callback",
            "http://[::1]:8080/cb",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(validate(ok).is_ok(), "{ok}: {:?}", validate(ok));
        }
        for bad in [
            "http://example.com/cb",
            "https://example.com/cb#frag",
            "https://*.example.com/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "/relative/cb",
            "https://user:pw@example.com/cb",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_matches_any_port_but_nothing_else() {
        let reg = vec![
            "http://127.0.0.1:3000/cb".to_string(),
            "https://app.example.com/cb".to_string(),
        ];
        assert!(matches(&reg, "http://127.0.0.1:3000/cb"));
        assert!(matches(&reg, "http://127.0.0.1:51004/cb"));
        assert!(!matches(&reg, "http://127.0.0.1:51004/cb/x"));
        assert!(
            !matches(&reg, "http://localhost:51004/cb"),
            "no localhost <-> 127.0.0.1 cross-match"
        );
        assert!(!matches(&reg, "https://evil.example/cb"));
        assert!(!matches(&reg, "https://app.example.com/cb/"));
        assert!(
            !matches(&reg, "https://app.example.com:8443/cb"),
            "only loopback ignores ports"
        );
        let portless = vec!["http://localhost/callback".to_string()];
        assert!(matches(&portless, "http://localhost:61234/callback"));
        assert!(!matches(&portless, "http://localhost:61234/callback?x=1"));
    }
}
