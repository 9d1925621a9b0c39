//! An org's lists of client domains: metadata-document apps (whose `client_id` is an https
//! URL) are allowed only from the domains of the allow list (when it has any) and never from
//! those of the block list. A domain covers itself and its subdomains: `example.com` covers
//! `apps.example.com`.

use serde::{Deserialize, Serialize};

/// The most entries one list may hold.
pub const MAX_DOMAINS: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainList(Vec<String>);

/// A stored list that can't be read (refuse rather than allow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

impl DomainList {
    /// A list as stored (a JSON array of normalised domains).
    pub fn from_json(stored: &str) -> Result<Self, Unreadable> {
        let entries: Vec<String> = serde_json::from_str(stored).map_err(|_| Unreadable)?;
        Self::parse(&entries).map_err(|_| Unreadable)
    }

    /// A list as an admin writes it; the first bad entry is named.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut out: Vec<String> = Vec::new();
        for raw in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let d = parse_entry(raw)?;
            if !out.contains(&d) {
                out.push(d);
            }
        }
        if out.len() > MAX_DOMAINS {
            return Err(format!("at most {MAX_DOMAINS} domains"));
        }
        Ok(Self(out))
    }

    pub fn entries(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }

    /// Whether `host` is one of the domains or below one.
    pub fn covers(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.0
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
    }
}

/// One domain: a host name (`claude.ai`, `apps.example.com`, or an intranet name), lowercased;
/// `*.example.com` is read as `example.com`. No scheme, port, path or address.
fn parse_entry(raw: &str) -> Result<String, String> {
    let d = raw
        .strip_prefix("*.")
        .unwrap_or(raw)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let bad = || {
        format!(
            "“{raw}” is not a domain: write a host name such as claude.ai (it covers its subdomains)"
        )
    };
    if d.contains("://") || d.contains('/') || d.contains(':') || d.contains('*') {
        return Err(bad());
    }
    match url::Host::parse(&d) {
        Ok(url::Host::Domain(h)) if h == d => Ok(d),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_cover_their_subdomains_only() {
        let l =
            DomainList::parse(&["Claude.ai".into(), "*.example.com".into(), " ".into()]).unwrap();
        assert_eq!(l.entries(), ["claude.ai", "example.com"]);
        assert!(l.covers("claude.ai"));
        assert!(l.covers("apps.example.com"));
        assert!(l.covers("CLAUDE.AI."));
        assert!(!l.covers("notclaude.ai"));
        assert!(!l.covers("claude.ai.evil.example"));
        for bad in [
            "https://claude.ai",
            "claude.ai/x",
            "claude.ai:443",
            "10.0.0.1",
            "[::1]",
            "a*b.com",
        ] {
            assert!(DomainList::parse(&[bad.into()]).is_err(), "{bad}");
        }
        assert_eq!(DomainList::from_json(&l.to_json()), Ok(l));
        assert_eq!(DomainList::from_json("nonsense"), Err(Unreadable));
    }
}
