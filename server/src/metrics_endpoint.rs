//! Prometheus metrics on a listen address of their own (`GATEHOUSE_METRICS_BIND`), never on the
//! public one: request counts and latencies by route, and what the domain counts (grants,
//! refreshes, reuse detections, revocations, denials by reason, cache hits and misses,
//! rotation batch sizes), plus gauges read at scrape time (database pool, mail outbox).
//!
//! The `metrics` facade keeps its recorder process-wide by design; it is installed only by
//! `serve` when metrics are asked for, and every `metrics::` call elsewhere is a no-op
//! without it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DatabaseConnection;

/// Latency buckets in seconds: from a cached bearer check to a slow password hash.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

#[derive(Clone)]
struct Exporter {
    handle: PrometheusHandle,
    db: DatabaseConnection,
}

/// Installs the recorder and serves `/metrics` on `bind` until the process ends.
pub async fn serve(bind: SocketAddr, db: DatabaseConnection) -> Result<(), String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("gatehouse_rotation_batch_size".into()),
                BATCH_BUCKETS,
            )
        })
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| format!("can't install the metrics recorder: {e}"))?;
    describe();
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("can't listen on {bind} (GATEHOUSE_METRICS_BIND): {e}"))?;
    tracing::info!(%bind, "metrics at /metrics");
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(Exporter { handle, db });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics listener stopped");
        }
    });
    Ok(())
}

async fn render(State(e): State<Exporter>) -> Response {
    pool_gauges(&e.db);
    match app::domain::mail::outbox::depth(&e.db).await {
        Ok(n) => metrics::gauge!("gatehouse_mail_outbox_depth").set(n as f64),
        Err(_) => tracing::debug!("outbox depth unavailable for metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        e.handle.render(),
    )
        .into_response()
}

fn pool_gauges(db: &DatabaseConnection) {
    let (size, idle, max) = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        sea_orm::DatabaseBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        _ => return,
    };
    metrics::gauge!("gatehouse_db_pool_connections").set(f64::from(size));
    metrics::gauge!("gatehouse_db_pool_idle").set(idle as f64);
    metrics::gauge!("gatehouse_db_pool_in_use").set(f64::from(size) - idle as f64);
    metrics::gauge!("gatehouse_db_pool_max").set(f64::from(max));
}

/// Counts every request by route template (never the raw path: it can hold ids and slugs
/// without end), method and status, with its latency.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("gatehouse_http_requests_total", &labels).increment(1);
    metrics::histogram!("gatehouse_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    res
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "gatehouse_http_requests_total",
        "HTTP requests by route, method and status"
    );
    describe_histogram!(
        "gatehouse_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by route, method and status"
    );
    describe_counter!("gatehouse_grants_total", "Tokens issued, by grant type");
    describe_counter!(
        "gatehouse_refresh_reuse_total",
        "Refresh tokens presented again after rotation, by outcome (grace replay or family revoked)"
    );
    describe_counter!(
        "gatehouse_revocations_total",
        "Tokens revoked, by what caused it"
    );
    describe_counter!(
        "gatehouse_denials_total",
        "Access decisions refused, by reason"
    );
    describe_counter!(
        "gatehouse_access_cache_total",
        "Access cache look-ups, by cache and result (hit or miss)"
    );
    describe_histogram!(
        "gatehouse_rotation_batch_size",
        "Refresh rotations committed per transaction"
    );
    describe_gauge!("gatehouse_db_pool_connections", "Open database connections");
    describe_gauge!("gatehouse_db_pool_in_use", "Database connections in use");
    describe_gauge!("gatehouse_db_pool_idle", "Idle database connections");
    describe_gauge!("gatehouse_db_pool_max", "The database pool's limit");
    describe_gauge!("gatehouse_mail_outbox_depth", "Mail waiting to be sent");
    describe_counter!(
        "gatehouse_invalidations_sent_total",
        "Cache invalidation notices sent to the other processes"
    );
    describe_counter!(
        "gatehouse_invalidations_received_total",
        "Cache invalidation notices received from the other processes"
    );
    describe_counter!(
        "gatehouse_invalidations_unsent_total",
        "Cache invalidation notices that could not be sent"
    );
    describe_counter!(
        "gatehouse_invalidation_listener_reconnects_total",
        "Times the invalidation listener lost its connection"
    );
}
