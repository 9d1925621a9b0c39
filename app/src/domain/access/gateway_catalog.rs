//! An org's gateway catalog as the access caches keep it: its upstreams (on and off, by name)
//! with the tools each listed last time (their least roles and scopes feed the access
//! decision). Part of `access`, below everything, so that its caches can hold it;
//! `gateway::catalog` reads and fills it.

use std::sync::Arc;

use crate::domain::entities::{mcp_upstream, mcp_upstream_tool};

/// What every client request to the gateway reads: kept in the access caches (dropped by any
/// change to an upstream or a tool's policy, on every node, and after a few seconds in any
/// case). Rows are shared, so a call that routes through it copies no row.
#[derive(Debug, Default)]
pub struct OrgCatalog {
    pub upstreams: Vec<Entry>,
}

type Entry = (Arc<mcp_upstream::Model>, Vec<Arc<mcp_upstream_tool::Model>>);

impl OrgCatalog {
    /// The upstream named `name`, on or off, with its tools.
    pub fn upstream(&self, name: &str) -> Option<&Entry> {
        self.upstreams.iter().find(|(u, _)| u.name == name)
    }

    /// The upstreams that are on, by name, with their tools.
    pub fn enabled(&self) -> impl Iterator<Item = &Entry> {
        self.upstreams.iter().filter(|(u, _)| u.enabled)
    }
}
