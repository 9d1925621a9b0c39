//! The router's state: Leptos options, the domain services, the configuration.

use std::sync::Arc;

use app::domain::Services;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub config: Arc<Config>,
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
            .build();
        Self {
            leptos_options,
            services,
            config: Arc::new(config),
        }
    }
}
