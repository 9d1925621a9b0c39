//! The router's state: Leptos options, the domain services, the configuration.

use std::ops::Deref;
use std::sync::Arc;

use app::domain::Services;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::config::Config;
use crate::mcp::gateway::UpstreamHttp;

/// Shared by every request. One `Arc` so that the per-request clones axum makes (each
/// `State` extractor and `from_fn_with_state` layer) cost a reference count, not a copy of
/// the Leptos options' strings.
#[derive(Clone)]
pub struct AppState(Arc<StateInner>);

pub struct StateInner {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub config: Arc<Config>,
    /// The HTTP client towards the orgs' upstream MCP servers (the gateway).
    pub upstreams: UpstreamHttp,
}

impl Deref for AppState {
    type Target = StateInner;

    fn deref(&self) -> &StateInner {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(config: Config, services: Services) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name("gatehouse")
            .site_root(config.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(config.bind)
            .hash_file(crate::assets::HASH_FILE.into())
            .hash_files(crate::assets::hash_file_present())
            .build();
        // The extra CA was read and checked with the configuration.
        let upstreams = UpstreamHttp::new(config.metadata_fetch.extra_ca_pem.as_deref())
            .expect("the upstream HTTP client is built from settings already checked");
        services
            .upstream_client
            .set(std::sync::Arc::new(upstreams.clone()));
        Self(Arc::new(StateInner {
            leptos_options,
            services,
            config: Arc::new(config),
            upstreams,
        }))
    }
}
