//! The MCP resources Gatehouse protects (RFC 8707 resource indicators / RFC 9728 resources):
//! `{public}/mcp` for any of the user's orgs, and `{public}/o/{slug}/mcp` for one org.

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpResource {
    /// `/mcp`: the org is chosen on the consent screen.
    Instance,
    /// `/o/{slug}/mcp`: bound to one org; its tokens are refused at any other org's endpoint.
    Org(String),
}

impl McpResource {
    pub fn path(&self) -> String {
        match self {
            McpResource::Instance => "/mcp".to_string(),
            McpResource::Org(slug) => format!("/o/{slug}/mcp"),
        }
    }

    /// The canonical resource URI: exactly what clients are given and tokens are bound to.
    pub fn url(&self, public_url: &str) -> String {
        format!("{public_url}{}", self.path())
    }

    /// Whether `uri` is this resource's canonical URI; the same as `self.url(public_url) == uri`
    /// without building the string (it runs on every MCP request).
    pub fn is_url(&self, public_url: &str, uri: &str) -> bool {
        let Some(rest) = uri.strip_prefix(public_url) else {
            return false;
        };
        match self {
            McpResource::Instance => rest == "/mcp",
            McpResource::Org(slug) => rest
                .strip_prefix("/o/")
                .and_then(|r| r.strip_suffix("/mcp"))
                .is_some_and(|s| s == slug),
        }
    }

    pub fn org_slug(&self) -> Option<&str> {
        match self {
            McpResource::Org(slug) => Some(slug),
            McpResource::Instance => None,
        }
    }

    /// Parses a client-sent resource indicator. Tolerant where clients differ harmlessly
    /// (scheme and host case, default port, a trailing slash), strict otherwise: another
    /// origin, a query, a fragment or an unknown path is `None` (→ `invalid_target`).
    pub fn parse(raw: &str, public_url: &str) -> Option<Self> {
        let url = Url::parse(raw.trim()).ok()?;
        let public = Url::parse(public_url).ok()?;
        if url.origin() != public.origin()
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
        {
            return None;
        }
        let path = url.path().trim_end_matches('/');
        if path == "/mcp" {
            return Some(McpResource::Instance);
        }
        let slug = path.strip_prefix("/o/")?.strip_suffix("/mcp")?;
        let valid = !slug.is_empty()
            && slug.len() <= 40
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        valid.then(|| McpResource::Org(slug.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "https://gate.example.com";

    #[test]
    fn is_url_agrees_with_url() {
        let acme = McpResource::Org("acme".into());
        for uri in [
            "https://gate.example.com/mcp",
            "https://gate.example.com/o/acme/mcp",
            "https://gate.example.com/o/acme2/mcp",
            "https://gate.example.com/o/acm/mcp",
            "https://gate.example.com/o//mcp",
            "https://gate.example.com/o/acme/mcp/",
            "https://gate.example.co/o/acme/mcp",
            "http://gate.example.com/mcp",
            "",
        ] {
            assert_eq!(acme.is_url(P, uri), acme.url(P) == uri, "{uri}");
            let instance = McpResource::Instance;
            assert_eq!(instance.is_url(P, uri), instance.url(P) == uri, "{uri}");
        }
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(McpResource::Instance.url(P), "https://gate.example.com/mcp");
        assert_eq!(
            McpResource::Org("acme".into()).url(P),
            "https://gate.example.com/o/acme/mcp"
        );
    }

    #[test]
    fn tolerant_where_harmless() {
        assert_eq!(
            McpResource::parse("https://GATE.example.com/mcp", P),
            Some(McpResource::Instance)
        );
        assert_eq!(
            McpResource::parse("https://gate.example.com:443/mcp/", P),
            Some(McpResource::Instance)
        );
        assert_eq!(
            McpResource::parse("https://gate.example.com/o/acme/mcp", P),
            Some(McpResource::Org("acme".into()))
        );
    }

    #[test]
    fn strict_otherwise() {
        for bad in [
            "https://other.example.com/mcp",
            "http://gate.example.com/mcp",
            "https://gate.example.com/",
            "https://gate.example.com",
            "https://gate.example.com/mcp?x=1",
            "https://gate.example.com/mcp#f",
            "https://gate.example.com/o//mcp",
            "https://gate.example.com/o/AC ME/mcp",
            "https://gate.example.com/api",
            "not a url",
        ] {
            assert_eq!(McpResource::parse(bad, P), None, "{bad}");
        }
    }
}
