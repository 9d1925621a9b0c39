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
/// What kind of app a client says it is (RFC 7591 `application_type`, as OpenID Connect
/// Dynamic Client Registration defines it and MCP 2026-07-28 asks servers to honour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationType {
    /// Runs on a web server: https redirect URIs only, and not on loopback.
    Web,
    /// Runs on the person's device: loopback http (any port), a private-use scheme, or (RFC
    /// 8252 §7.2) a claimed https URL.
    Native,
}

impl ApplicationType {
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, String> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some("web") => Ok(Some(Self::Web)),
            Some("native") => Ok(Some(Self::Native)),
            Some(other) => Err(format!(
                "application_type {other:?} is not one of web, native"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Native => "native",
        }
    }

    /// Whether `url` (already a valid redirect URI) suits this kind of app; why not, if not.
    pub fn allows(self, url: &Url) -> Result<(), String> {
        match self {
            Self::Web if url.scheme() != "https" => Err(format!(
                "{url}: a web application's redirect URIs must use https (loopback and app schemes are for application_type native)"
            )),
            Self::Web if is_loopback(url) => Err(format!(
                "{url}: a web application can't redirect to this computer (loopback is for application_type native)"
            )),
            _ => Ok(()),
        }
    }
}

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

/// Where the consent screen says the app sends the person back: the host for https, and the
/// scheme too for anything else (`http://127.0.0.1:33418`, `cursor://anysphere.cursor-mcp`,
/// `com.example.app:`), so a look-alike scheme can't pass for a web site.
pub fn display_origin(uri: &str) -> String {
    let Ok(u) = Url::parse(uri) else {
        return uri.to_string();
    };
    let host = match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => String::new(),
    };
    match (u.scheme(), host.is_empty()) {
        ("https", false) => host,
        (scheme, false) => format!("{scheme}://{host}"),
        (scheme, true) => format!("{scheme}:"),
    }
}

/// An org's allowed redirect targets: `scheme://host` pairs (a bare host means https). Empty
/// means any redirect URI the registration rules accept. A redirect URI matches an entry when
/// both its scheme and its host are the entry's (any port: loopback tools pick one at random).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RedirectAllowList(Vec<String>);

/// The stored list could not be read (corrupt JSON or a bad entry): callers refuse every
/// redirect rather than read it as "empty = any".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadablePolicy;

impl RedirectAllowList {
    /// The org's list as stored (a JSON array of entries).
    pub fn of(
        org: &crate::domain::entities::organization::Model,
    ) -> Result<Self, UnreadablePolicy> {
        Self::from_json(&org.allowed_redirect_hosts)
    }

    pub fn from_json(stored: &str) -> Result<Self, UnreadablePolicy> {
        let raw: Vec<String> = serde_json::from_str(stored).map_err(|_| UnreadablePolicy)?;
        raw.iter()
            .map(|e| parse_entry(e).map_err(|_| UnreadablePolicy))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Entries as an admin typed them (one per line, or separated by commas or spaces), each
    /// checked; the first bad one is the error. Duplicates are dropped.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut out: Vec<String> = Vec::new();
        for raw in entries.iter().filter(|e| !e.trim().is_empty()) {
            let e = parse_entry(raw)?;
            if !out.contains(&e) {
                out.push(e);
            }
        }
        Ok(Self(out))
    }

    /// The normalized entries: `https://claude.ai`, `cursor://anysphere.cursor-mcp`.
    pub fn entries(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries as people write them: a bare host for https, `scheme://host` otherwise.
    pub fn shown(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|e| e.strip_prefix("https://").unwrap_or(e).to_string())
            .collect()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }

    /// Whether `redirect_uri` may be used: always when the list is empty, else when its scheme
    /// and host are those of an entry.
    pub fn allows(&self, redirect_uri: &str) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let Ok(u) = Url::parse(redirect_uri) else {
            return false;
        };
        let Some(host) = u.host_str() else {
            return false;
        };
        let here = format!("{}://{}", u.scheme(), host.to_ascii_lowercase());
        self.0.contains(&here)
    }
}

/// One allow-list entry: `host` (https) or `scheme://host`, no port, path or wildcard; http
/// only for loopback hosts, as at registration. Normalized to lowercase `scheme://host`.
pub fn parse_entry(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let bad = || {
        format!(
            "“{raw}” is not a redirect host (write it like app.example.com, or with its scheme like cursor://anysphere.cursor-mcp; no path or port)."
        )
    };
    let (scheme, host) = match raw.split_once("://") {
        Some((scheme, host)) => (scheme.to_ascii_lowercase(), host),
        None => ("https".to_string(), raw),
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || FORBIDDEN_SCHEMES.contains(&scheme.as_str()) {
        return Err(bad());
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let valid_host = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !valid_host {
        return Err(bad());
    }
    if scheme == "http" && !matches!(host.as_str(), "localhost" | "127.0.0.1") {
        return Err(format!(
            "“{raw}”: http is allowed only for loopback addresses (localhost, 127.0.0.1); use https."
        ));
    }
    Ok(format!("{scheme}://{host}"))
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
    fn the_consent_screen_shows_the_scheme_unless_https() {
        assert_eq!(
            display_origin("https://claude.ai/api/mcp/auth_callback"),
            "claude.ai"
        );
        assert_eq!(
            display_origin("https://app.example.com:8443/cb"),
            "app.example.com:8443"
        );
        assert_eq!(
            display_origin("http://127.0.0.1:33418/callback"),
            "http://127.0.0.1:33418"
        );
        assert_eq!(
            display_origin("cursor://anysphere.cursor-mcp/oauth/callback"),
            "cursor://anysphere.cursor-mcp"
        );
        assert_eq!(
            display_origin("com.example.app:/oauth2redirect"),
            "com.example.app:"
        );
    }

    #[test]
    fn allow_lists_compare_scheme_and_host() {
        let list = RedirectAllowList::parse(&[
            "Claude.AI".into(),
            "cursor://anysphere.cursor-mcp".into(),
            "http://localhost".into(),
        ])
        .unwrap();
        assert_eq!(
            list.entries(),
            [
                "https://claude.ai",
                "cursor://anysphere.cursor-mcp",
                "http://localhost"
            ]
        );
        assert!(list.allows("https://claude.ai/api/mcp/auth_callback"));
        assert!(list.allows("https://CLAUDE.ai:443/cb"));
        assert!(list.allows("cursor://anysphere.cursor-mcp/oauth/callback"));
        assert!(list.allows("http://localhost:51234/callback"));
        // Same host, another scheme: a native app posing as the web site.
        assert!(!list.allows("evil://claude.ai/cb"));
        assert!(!list.allows("http://claude.ai/cb"));
        assert!(!list.allows("https://anysphere.cursor-mcp/cb"));
        assert!(!list.allows("https://claude.ai.evil.example/cb"));
        assert!(!list.allows("com.example.app:/cb"));
        assert!(RedirectAllowList::default().allows("evil://anything/cb"));
        for bad in [
            "https://claude.ai/cb",
            "claude.ai:443",
            "*.claude.ai",
            "a..b",
            "javascript://x",
            "http://claude.ai",
            "://claude.ai",
        ] {
            assert!(parse_entry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_corrupt_stored_list_is_unreadable_not_empty() {
        assert_eq!(
            RedirectAllowList::from_json("[]"),
            Ok(RedirectAllowList::default())
        );
        assert_eq!(
            RedirectAllowList::from_json(r#"["claude.ai"]"#)
                .unwrap()
                .entries(),
            ["https://claude.ai"]
        );
        for corrupt in ["", "not json", "{}", r#"["https://x/y"]"#, "[1]"] {
            assert_eq!(
                RedirectAllowList::from_json(corrupt),
                Err(UnreadablePolicy),
                "{corrupt:?}"
            );
        }
    }

    #[test]
    fn application_types_restrict_redirect_uris() {
        let web = ApplicationType::parse(Some("web")).unwrap().unwrap();
        let native = ApplicationType::parse(Some("native")).unwrap().unwrap();
        assert!(ApplicationType::parse(Some("desktop")).is_err());
        assert_eq!(ApplicationType::parse(None), Ok(None));
        let url = |s: &str| validate(s).unwrap();
        assert!(web.allows(&url("https://app.example/cb")).is_ok());
        assert!(web.allows(&url("http://127.0.0.1:9/cb")).is_err());
        assert!(web.allows(&url("https://localhost/cb")).is_err());
        assert!(
            web.allows(&url("cursor://anysphere.cursor-mcp/cb"))
                .is_err()
        );
        for ok in [
            "http://127.0.0.1:9/cb",
            "cursor://anysphere.cursor-mcp/cb",
            "https://app.example/cb",
        ] {
            assert!(native.allows(&url(ok)).is_ok(), "{ok}");
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
