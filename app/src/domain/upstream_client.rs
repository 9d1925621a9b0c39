//! How the domain reaches an upstream MCP server: the server implements [`UpstreamClient`] on
//! rmcp (the domain knows no MCP transport) and puts it in the services' [`UpstreamClientSlot`]
//! at start. A leaf of the domain, so that [`Services`](super::Services) can hold the slot.

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::entities::mcp_upstream;

/// A tool as an upstream listed it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedTool {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub input_schema: Value,
    pub output_schema: Option<Value>,
    pub annotations: Option<Value>,
}

/// Asks an upstream for its tools. `bearer` is the signed assertion to send,
/// `secret_header` the header its admin set (opened).
#[async_trait::async_trait]
pub trait UpstreamClient: Send + Sync {
    async fn list_tools(
        &self,
        upstream: &mcp_upstream::Model,
        secret_header: Option<(String, String)>,
        bearer: String,
    ) -> Result<Vec<ListedTool>, String>;
}

/// Where the server puts its [`UpstreamClient`] once at start; every clone of the services
/// sees it.
#[derive(Default, Clone)]
pub struct UpstreamClientSlot(Arc<OnceLock<Arc<dyn UpstreamClient>>>);

impl UpstreamClientSlot {
    pub fn set(&self, client: Arc<dyn UpstreamClient>) {
        let _ = self.0.set(client);
    }

    pub fn get(&self) -> Option<&Arc<dyn UpstreamClient>> {
        self.0.get()
    }
}
