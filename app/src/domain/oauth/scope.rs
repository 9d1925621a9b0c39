//! OAuth scopes of the MCP resource, and what they mean in plain words.

use std::collections::BTreeSet;

use crate::error::{AppError, AppResult};

pub const MCP_READ: &str = "mcp:read";
pub const MCP_WRITE: &str = "mcp:write";

/// Every scope Gatehouse knows, with the sentence shown on the consent screen.
pub const SCOPES: [(&str, &str); 2] = [
    (
        MCP_READ,
        "See your identity and your connected apps, and read the organization's data your role allows",
    ),
    (
        MCP_WRITE,
        "Make changes your role allows, such as revoking connections or changing settings",
    ),
];

pub fn describe(scope: &str) -> &'static str {
    SCOPES
        .iter()
        .find(|(s, _)| *s == scope)
        .map(|(_, d)| *d)
        .unwrap_or("Unknown permission")
}

/// Every scope with its plain-words description, as forms offer them.
pub fn choices() -> Vec<(String, String)> {
    SCOPES
        .iter()
        .map(|(s, d)| (s.to_string(), d.to_string()))
        .collect()
}

/// The permissions ticked in a form (field `scopes`): each must be known and at least one
/// chosen; `none_chosen` opens the message when none is ("Choose at least one permission…").
pub fn parse_chosen(raw: &[String], none_chosen: &str) -> AppResult<ScopeSet> {
    let known = SCOPES.map(|(s, _)| s).join(", ");
    let words: Vec<&str> = raw.iter().flat_map(|s| s.split_whitespace()).collect();
    if let Some(bad) = words.iter().find(|w| !SCOPES.iter().any(|(s, _)| s == *w)) {
        return Err(AppError::invalid(
            "scopes",
            format!("“{bad}” is not a permission Gatehouse knows. Choose from: {known}."),
        ));
    }
    let set = ScopeSet::parse_known(&words.join(" "));
    if set.is_empty() {
        return Err(AppError::invalid(
            "scopes",
            format!("{none_chosen} ({known})."),
        ));
    }
    Ok(set)
}

/// A set of known scopes, written space-separated and sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeSet(BTreeSet<&'static str>);

impl ScopeSet {
    pub fn all() -> Self {
        Self(SCOPES.iter().map(|(s, _)| *s).collect())
    }

    /// Known scopes in `raw`; unknown ones (`openid`, `offline_access`, …) are dropped (RFC
    /// 6749 §3.3 lets the server narrow). `mcp` and `*`, which connectors send for "full
    /// access" (seeds 003 and 004), stand for every scope.
    pub fn parse_known(raw: &str) -> Self {
        Self(
            raw.split_ascii_whitespace()
                .flat_map(|w| {
                    let all = matches!(w, "mcp" | "*");
                    SCOPES
                        .iter()
                        .map(|(s, _)| *s)
                        .filter(move |s| all || *s == w)
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn intersect(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.intersection(&other.0).copied().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.iter().copied().collect::<Vec<_>>().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_scopes_only() {
        let s = ScopeSet::parse_known("mcp:write  openid mcp:read offline_access");
        assert_eq!(s.to_string(), "mcp:read mcp:write");
        assert!(ScopeSet::parse_known("openid").is_empty());
        assert_eq!(ScopeSet::parse_known("mcp"), ScopeSet::all());
        assert_eq!(
            ScopeSet::parse_known("openid * offline_access"),
            ScopeSet::all()
        );
        assert!(ScopeSet::parse_known("mcp:readx mcps").is_empty());
        assert!(ScopeSet::parse_known("mcp:read").is_subset(&ScopeSet::all()));
        assert!(!ScopeSet::all().is_subset(&ScopeSet::parse_known("mcp:read")));
    }
}
