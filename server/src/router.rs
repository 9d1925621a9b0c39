//! The HTTP router: probes, the Leptos pages and server functions, and the middleware stack.

use std::time::Duration;

use app::{App, shell};
use axum::Router;
use axum::routing::get;
use http::{HeaderName, Request, header};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::middleware::{csrf, request_meta, security_headers, unavailable};
use crate::session_store::SeaOrmStore;
use crate::state::AppState;
use crate::{api, health, mcp, oauth, sso};

pub const SESSION_COOKIE: &str = "gatehouse_session";
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The app's page routes, found once by rendering the app in route-listing mode.
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn build_router(state: AppState) -> Router {
    let routes = page_routes();
    let services = state.services.clone();
    let context = move || {
        provide_context(services.clone());
        security_headers::NonceSlot::fill_from_render_context();
    };
    let options = state.leptos_options.clone();

    let sessions = SessionManagerLayer::new(SeaOrmStore::new(state.services.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        // Lax, not Strict: a user coming back from another site (an OAuth client's redirect,
        // an invitation link in a mail) must arrive signed in.
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookie_secure)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::days(14),
        ));

    let pages = Router::new()
        .route(
            "/oauth/authorize",
            get(oauth::authorize::authorize).post(oauth::authorize::authorize),
        )
        .route("/login/sso", get(sso::by_email))
        .route("/login/sso/callback", get(sso::callback))
        .route("/login/sso/{slug}", get(sso::start))
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(
            ServiceBuilder::new()
                .layer(sessions.clone())
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    request_meta::page_session,
                ))
                .layer(axum::middleware::from_fn(security_headers::page_csp))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    csrf::same_origin,
                )),
        );

    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(oauth::api_routes())
        .merge(mcp::routes(&state))
        .merge(api::routes(&state, sessions))
        .merge(crate::assets::routes(
            &state.leptos_options.site_root,
            &state.leptos_options.site_pkg_dir,
            crate::assets::PkgCaching::new(state.leptos_options.hash_files),
        ))
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_meta::record,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            unavailable::retry_later,
        ))
        // Inside the routes, where the matched route template is known.
        .layer(axum::middleware::from_fn(crate::metrics_endpoint::track))
        .with_state(state);
    for layer in security_headers::layers() {
        router = router.layer(layer);
    }
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE, header::SET_COOKIE]))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                // The path only: query strings can carry codes and tokens.
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
            // A 5xx is already logged where it arose; during a database outage every request
            // would add an ERROR line.
            .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30))),
    )
}
