//! `gatehouse bench`: throughput of the OAuth and MCP hot paths on this machine, printed as figures.
//! A fresh database (SQLite file, or PostgreSQL with --postgres) is seeded with real
//! authorizations, the real router serves on a loopback port, and concurrent HTTP clients run
//! refresh grants (each rotating its own refresh token chain), introspections, MCP tool calls
//! and the bearer check on its own.

mod driver;
mod front_end;
mod upstream;
mod workloads;

use app::domain::oauth::authorize::{self, AuthorizeRequest, Begin};
use app::domain::oauth::clients::{self, ClientMetadata};
use app::domain::oauth::{consent, grants};
use app::domain::oauth_apps::{self, AppOwner, NewApp, Trust};
use app::domain::validate::{Email, Password, Slug};
use app::domain::{RequestMeta, Services, orgs, users};
use base64::Engine;
use sha2::Digest;

use crate::cli::CliError;
use crate::config::Config;
use crate::router::build_router;
use crate::state::AppState;
use driver::{alternate, drive};
use workloads::{
    Echo, Get, Introspect, PostWithBearer, Refresh, Whoami, bearer_headers, parse_url,
};

pub struct BenchArgs {
    pub postgres: bool,
    pub seconds: u64,
    pub concurrency: usize,
}

struct Seeded {
    user_id: uuid::Uuid,
    org_id: uuid::Uuid,
    public_client: String,
    rs_id: String,
    rs_secret: String,
    pairs: Vec<(String, String)>,
}

async fn seed(s: &Services, n: usize) -> Result<Seeded, CliError> {
    let meta = RequestMeta::default();
    let email = Email::parse("bench@example.com")?;
    let user = users::create_user(
        s,
        &email,
        &Password::parse("bench bench bench bench", None)?,
        None,
        true,
        &meta,
    )
    .await?;
    let org = orgs::create_org(
        &s.db,
        user.id,
        &Slug::parse("bench")?,
        "Bench".into(),
        &meta,
    )
    .await?;
    let reg = |auth: &str| ClientMetadata {
        redirect_uris: Some(vec!["http://127.0.0.1:9/cb".into()]),
        token_endpoint_auth_method: Some(auth.into()),
        ..Default::default()
    };
    let public = clients::register_dynamic(s, reg("none"), &meta)
        .await
        .map_err(|e| CliError(e.error_description))?;
    // A resource server of the org: the org's own confidential app, trusted to introspect.
    let rs = oauth_apps::create(
        s,
        user.id,
        AppOwner::Org { org_id: org.id },
        &NewApp {
            name: "Bench resource server".into(),
            redirect_uris: vec!["https://rs.bench.example/cb".into()],
            scopes: vec!["mcp:read".into()],
            confidential: true,
            trust: Trust {
                resource_server: true,
                pkce_optional: false,
            },
            ..Default::default()
        },
        &meta,
    )
    .await?;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let verifier = app::domain::secrets::random_urlsafe(32);
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        let req = AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some(public.client.client_id.clone()),
            redirect_uri: Some("http://127.0.0.1:9/cb".into()),
            code_challenge: Some(challenge),
            code_challenge_method: Some("S256".into()),
            signed_in: true,
            ..Default::default()
        };
        let Ok(Begin::Pending { request, .. }) = authorize::begin(s, req).await else {
            return Err(CliError("seeding: authorization request refused".into()));
        };
        let location = consent::approve(s, request.id, &user, "bench", &meta).await?;
        let code = url::Url::parse(&location)
            .ok()
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "code")
                    .map(|(_, v)| v.into_owned())
            })
            .ok_or_else(|| CliError("seeding: no code".into()))?;
        let grant = grants::CodeGrant {
            code,
            redirect_uri: Some("http://127.0.0.1:9/cb".into()),
            code_verifier: Some(verifier),
            resource: vec![],
        };
        let t = grants::exchange_code(s, &public.client, grant, &meta)
            .await
            .map_err(|e| CliError(e.error_description))?;
        pairs.push((t.access_token, t.refresh_token.unwrap_or_default()));
    }
    Ok(Seeded {
        user_id: user.id,
        org_id: org.id,
        public_client: public.client.client_id,
        rs_id: rs.client.client_id,
        rs_secret: rs.secret.unwrap_or_default(),
        pairs,
    })
}

pub async fn run(args: BenchArgs) -> Result<(), CliError> {
    let db = if args.postgres {
        if std::env::var(migration::test_db::POSTGRES_ENV).is_err() {
            // SAFETY: set before any other thread reads the environment.
            unsafe {
                std::env::set_var(
                    migration::test_db::POSTGRES_ENV,
                    "postgres://postgres@127.0.0.1:5432/test",
                )
            };
        }
        migration::test_db::postgres()
            .await?
            .ok_or_else(|| CliError("no PostgreSQL".into()))?
    } else {
        migration::test_db::sqlite().await?
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let env = [
        ("GATEHOUSE_PUBLIC_URL".to_string(), base.clone()),
        ("GATEHOUSE_REFRESH_GRACE_SECS".to_string(), "0".to_string()),
        // The gateway phase's upstream listens on loopback.
        (
            "GATEHOUSE_UPSTREAM_ALLOWED_HOSTS".to_string(),
            "127.0.0.1".to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let config = Config::from_sources(&env, &Default::default())?;
    let services = Services::new(
        db.clone(),
        config.domain_settings(),
        app::domain::sealing::InstanceKey::generate().0,
    );
    if args.postgres {
        // As `serve` runs it: invalidations go out through NOTIFY.
        crate::cluster::spawn(services.db.clone(), services.caches.clone());
    }
    let n = args.concurrency.max(1);
    print!("Seeding {n} authorizations… ");
    let seeded = seed(&services, n).await?;
    println!("done.");
    let bench_state = AppState::new(config, services);
    let app = build_router(bench_state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });

    let url = |path: &str| parse_url(&format!("{base}{path}"));
    let backend = if args.postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "Gatehouse benchmark on {backend}: {n} concurrent clients, {} s per phase, {} CPU cores",
        args.seconds,
        std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(1)
    );

    if let Err(e) = front_end::first_visit(&base, "/login", &bench_state.config.site_root).await {
        println!("console first visit: not measured ({})", e.0);
    }

    let health = drive(args.seconds.min(3), vec![(); n], Get(url("/healthz"))).await;
    health.print("/healthz (baseline)");

    let refresh_states = seeded.pairs.iter().map(|(_, rt)| rt.clone()).collect();
    let refresh = Refresh {
        url: url("/oauth/token"),
        client_id: seeded.public_client.clone(),
    };
    let writer_before = bench_state.services.rotations().map(|w| w.timings());
    let refreshes = drive(args.seconds, refresh_states, refresh).await;
    refreshes.print("refresh grants");
    if let (Some(before), Some(w)) = (writer_before, bench_state.services.rotations()) {
        print_rotation_waits(&refreshes, w.timings().since(before));
    }

    let introspect = Introspect {
        url: url("/oauth/introspect"),
        client_id: seeded.rs_id.clone(),
        client_secret: seeded.rs_secret.clone(),
    };
    let tokens = seed_access_tokens(&db, n).await?;
    drive(args.seconds, tokens.clone(), introspect)
        .await
        .print("introspections");

    // The MCP endpoint: an authenticated tools/call next to the same server's /healthz, then
    // the bearer check alone (a trivial handler behind it, next to the same handler without).
    // Each pair runs interleaved so that both figures see the same machine.
    let bearers = bearer_headers(&tokens);
    let (health, calls) = alternate(
        args.seconds,
        (vec![(); n], Get(url("/healthz"))),
        (bearers.clone(), Whoami(url("/mcp"))),
    )
    .await;
    health.print("/healthz");
    calls.print("MCP tools/call whoami");

    let (open, guarded) = bearer_routers(&bench_state).await?;
    let (plain, checked) = alternate(
        args.seconds,
        (
            bearers.clone(),
            PostWithBearer(parse_url(&format!("{open}/mcp"))),
        ),
        (
            bearers.clone(),
            PostWithBearer(parse_url(&format!("{guarded}/mcp"))),
        ),
    )
    .await;
    plain.print("trivial route, no auth");
    checked.print("trivial route + bearer");

    println!(
        "  tools/call is {:.0}% of /healthz; the bearer check costs {:.1}%",
        100.0 * calls.rate() / health.rate(),
        100.0 * (1.0 - checked.rate() / plain.rate())
    );
    // The gateway: tools/call through Gatehouse to a trivial upstream, next to the same call
    // made straight to it, interleaved; with one client (the latency the hop adds) and with
    // all of them (what it costs a loaded machine).
    let echo = upstream::start().await?;
    add_upstream(&bench_state.services, &seeded, &echo).await?;
    for clients in [1, n] {
        let (straight, through) = alternate(
            args.seconds,
            (vec![None; clients], Echo::straight(parse_url(&echo))),
            (
                bearers.iter().take(clients).cloned().map(Some).collect(),
                Echo::through_gateway(url("/mcp")),
            ),
        )
        .await;
        straight.print(&format!("echo straight, {clients} client(s)"));
        through.print(&format!("echo via gateway, {clients} client(s)"));
        let (a, b) = (straight.percentile(0.5), through.percentile(0.5));
        println!(
            "  with {clients} client(s) the gateway adds {:.0}% and {:.2} ms at p50",
            100.0 * (b.as_secs_f64() / a.as_secs_f64() - 1.0),
            (b.as_secs_f64() - a.as_secs_f64()) * 1000.0
        );
    }

    println!(
        "Goals on 2 cores: ≥ 5,000 refresh grants/s with p99 ≤ 20 ms, ≥ 30,000 introspections/s, tools/call ≥ 65% of /healthz, bearer check ≤ 8%, the gateway adds ≤ 20% and ≤ 1 ms at p50."
    );
    Ok(())
}

/// Where a refresh grant's time went: waiting for its batch, in its batch's transaction, and
/// everything else (HTTP, lookups, hashing, sealing: the request before and after the writer).
fn print_rotation_waits(
    calls: &driver::Figures,
    w: app::domain::oauth::rotation_writer::WriterTimings,
) {
    if w.jobs == 0 {
        return;
    }
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let queued = w.queued / u32::try_from(w.jobs).unwrap_or(u32::MAX);
    // Every job of a batch waits for the whole transaction.
    let committing = w.committing / u32::try_from(w.batches).unwrap_or(u32::MAX).max(1);
    let mean = calls.mean();
    println!(
        "    mean {:.2} ms = {:.2} ms waiting for a batch + {:.2} ms in its transaction + {:.2} ms the rest; {:.1} rotations per batch",
        ms(mean),
        ms(queued),
        ms(committing),
        ms(mean.saturating_sub(queued + committing)),
        w.jobs as f64 / w.batches as f64
    );
    let per_batch = |d: std::time::Duration| ms(d) / w.batches.max(1) as f64;
    // SQLite's writer sends its BEGIN with the claim and its COMMIT with the inserts.
    if w.steps.begin.is_zero() && w.steps.commit.is_zero() {
        println!(
            "    a batch's transaction: BEGIN + claim {:.2} ms, inserts + COMMIT {:.2} ms",
            per_batch(w.steps.claim),
            per_batch(w.steps.inserts)
        );
        return;
    }
    println!(
        "    a batch's transaction: BEGIN {:.2} ms, claim {:.2} ms, inserts {:.2} ms, COMMIT {:.2} ms",
        per_batch(w.steps.begin),
        per_batch(w.steps.claim),
        per_batch(w.steps.inserts),
        per_batch(w.steps.commit)
    );
}

/// The trivial upstream at `url`, added to the bench org with its tool listed.
async fn add_upstream(s: &Services, seeded: &Seeded, url: &str) -> Result<(), CliError> {
    use app::domain::gateway::{catalog, upstreams};
    let change = upstreams::UpstreamChange {
        name: "bench".into(),
        url: url.into(),
        auth_header_name: None,
        auth_header_value: None,
        timeout_ms: 10_000,
        enabled: true,
    };
    let u = upstreams::create(
        s,
        seeded.user_id,
        seeded.org_id,
        &change,
        &RequestMeta::default(),
    )
    .await?;
    match catalog::refresh(s, &u).await? {
        Ok(_) => Ok(()),
        Err(why) => Err(CliError(format!(
            "the bench upstream can't be listed: {why}"
        ))),
    }
}

/// Two loopback servers with the same trivial `POST /mcp` handler: one open, one behind the
/// MCP endpoint's bearer check. Returns their base URLs.
async fn bearer_routers(state: &AppState) -> Result<(String, String), CliError> {
    use axum::routing::post;
    let trivial = || axum::Router::new().route("/mcp", post(|| async { "ok" }));
    let open = trivial();
    let guarded = trivial().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::mcp::auth::require_bearer,
    ));
    let mut bases = Vec::new();
    for router in [open, guarded] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        bases.push(format!("http://{}", listener.local_addr()?));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
    }
    Ok((bases[0].clone(), bases[1].clone()))
}

/// Live access tokens for the introspection and MCP phases (issued directly, one per worker).
async fn seed_access_tokens(
    db: &sea_orm::DatabaseConnection,
    n: usize,
) -> Result<Vec<String>, CliError> {
    use app::domain::entities::connection;
    use app::domain::oauth::token_format::SecretKind;
    use app::domain::oauth::tokens::{TokenSpec, issue};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let conns = connection::Entity::find()
        .filter(connection::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    let mut out = Vec::new();
    for c in conns.iter().cycle().take(n) {
        let spec = TokenSpec {
            user_id: c.user_id,
            org_id: c.org_id,
            client_id: Some(c.client_id),
            connection_id: Some(c.id),
            family_id: None,
            parent_id: None,
            scope: &c.scope,
            resource: Some(&c.resource),
            name: None,
        };
        out.push(
            issue(
                db,
                SecretKind::AccessToken,
                Some(chrono::Duration::hours(1)),
                &spec,
            )
            .await?
            .0,
        );
    }
    Ok(out)
}
