//! `gatehouse bench`: throughput of the OAuth and MCP hot paths on this machine, printed as figures.
//! A fresh database (SQLite file, or PostgreSQL with --postgres) is seeded with real
//! authorizations, the real router serves on a loopback port, and concurrent HTTP clients run
//! refresh grants (each rotating its own refresh token chain), introspections, MCP tool calls
//! and the bearer check on its own.

use std::time::{Duration, Instant};

use app::domain::oauth::authorize::{self, AuthorizeRequest, Begin};
use app::domain::oauth::clients::{self, ClientMetadata};
use app::domain::oauth::{consent, grants};
use app::domain::validate::{Email, Password, Slug};
use app::domain::{RequestMeta, Services, orgs, users};
use base64::Engine;
use sha2::Digest;

use crate::cli::CliError;
use crate::config::Config;
use crate::router::build_router;
use crate::state::AppState;

pub struct BenchArgs {
    pub postgres: bool,
    pub seconds: u64,
    pub concurrency: usize,
}

struct Seeded {
    public_client: String,
    rs_id: String,
    rs_secret: String,
    pairs: Vec<(String, String)>,
}

async fn seed(s: &Services, n: usize) -> Result<Seeded, CliError> {
    let meta = RequestMeta::default();
    let email = Email::parse("bench@example.com")?;
    let user = users::create_user(
        &s.db,
        &email,
        &Password::parse("bench bench bench bench", None)?,
        None,
        &meta,
    )
    .await?;
    orgs::create_org(
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
    let rs = clients::register_dynamic(s, reg("client_secret_post"), &meta)
        .await
        .map_err(|e| CliError(e.error_description))?;
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
            redirect_uri: None,
            code_verifier: Some(verifier),
            resource: vec![],
        };
        let t = grants::exchange_code(s, &public.client, grant, &meta)
            .await
            .map_err(|e| CliError(e.error_description))?;
        pairs.push((t.access_token, t.refresh_token.unwrap_or_default()));
    }
    Ok(Seeded {
        public_client: public.client.client_id,
        rs_id: rs.client.client_id,
        rs_secret: rs.secret.unwrap_or_default(),
        pairs,
    })
}

struct Figures {
    ok: u64,
    failed: u64,
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, what: &str) {
        let mut l = self.latencies.clone();
        l.sort();
        let pct = |p: f64| {
            l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        println!(
            "  {what:<28} {:>9.0} /s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} ok, {} failed)",
            self.ok as f64 / self.elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1000.0,
            pct(0.99).as_secs_f64() * 1000.0,
            self.ok,
            self.failed
        );
    }
}

/// Runs `work` on `n` workers for `secs`; each worker keeps its own state between calls.
async fn drive<S, F, Fut>(n: usize, secs: u64, states: Vec<S>, work: F) -> Figures
where
    S: Send + 'static,
    F: Fn(reqwest::Client, S) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (bool, S)> + Send,
{
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(n)
        .build()
        .expect("http client");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for state in states.into_iter().take(n) {
        let (client, work) = (client.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut lat, mut state) = (0u64, 0u64, Vec::new(), state);
            while Instant::now() < deadline {
                let t = Instant::now();
                let (good, next) = work(client.clone(), state).await;
                state = next;
                lat.push(t.elapsed());
                if good { ok += 1 } else { failed += 1 }
            }
            (ok, failed, lat)
        }));
    }
    let mut f = Figures {
        ok: 0,
        failed: 0,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        let (ok, failed, lat) = t.await.expect("worker");
        f.ok += ok;
        f.failed += failed;
        f.latencies.extend(lat);
    }
    f.elapsed = start.elapsed();
    f
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
    ]
    .into_iter()
    .collect();
    let config = Config::from_sources(&env, &Default::default())?;
    let services = Services::new(db.clone(), config.domain_settings());
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

    let url = format!("{base}/healthz");
    let health = drive(
        n,
        args.seconds.min(3),
        vec![(); n],
        move |c: reqwest::Client, _| {
            let url = url.clone();
            async move {
                (
                    c.get(&url)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success()),
                    (),
                )
            }
        },
    )
    .await;
    health.print("/healthz (baseline)");

    let url = format!("{base}/oauth/token");
    let cid = seeded.public_client.clone();
    let refresh_states: Vec<String> = seeded.pairs.iter().map(|(_, rt)| rt.clone()).collect();
    let refresh = drive(
        n,
        args.seconds,
        refresh_states,
        move |c: reqwest::Client, rt: String| {
            let (url, cid) = (url.clone(), cid.clone());
            async move {
                let res = c
                    .post(&url)
                    .form(&[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", rt.as_str()),
                        ("client_id", cid.as_str()),
                    ])
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                        Ok(v) => (
                            true,
                            v["refresh_token"].as_str().unwrap_or_default().to_string(),
                        ),
                        Err(_) => (false, rt),
                    },
                    _ => (false, rt),
                }
            }
        },
    )
    .await;
    refresh.print("refresh grants");

    let url = format!("{base}/oauth/introspect");
    let (rs_id, rs_secret) = (seeded.rs_id.clone(), seeded.rs_secret.clone());
    let tokens = seed_access_tokens(&db, n).await?;
    let introspect = drive(
        n,
        args.seconds,
        tokens,
        move |c: reqwest::Client, at: String| {
            let (url, id, secret) = (url.clone(), rs_id.clone(), rs_secret.clone());
            async move {
                let res = c
                    .post(&url)
                    .form(&[
                        ("token", at.as_str()),
                        ("client_id", id.as_str()),
                        ("client_secret", secret.as_str()),
                    ])
                    .send()
                    .await;
                let good = match res {
                    Ok(r) if r.status().is_success() => r
                        .json::<serde_json::Value>()
                        .await
                        .is_ok_and(|v| v["active"] == true),
                    _ => false,
                };
                (good, at)
            }
        },
    )
    .await;
    introspect.print("introspections");

    // The MCP endpoint: an authenticated tools/call next to the same server's /healthz, then
    // the bearer check alone (a trivial handler behind it, next to the same handler without).
    let tokens = seed_access_tokens(&db, n).await?;
    let health = get_phase(n, args.seconds, format!("{base}/healthz")).await;
    health.print("/healthz");
    let url = format!("{base}/mcp");
    let calls = drive(
        n,
        args.seconds,
        tokens.clone(),
        move |c: reqwest::Client, at: String| {
            let url = url.clone();
            async move {
                let res = c
                    .post(&url)
                    .bearer_auth(&at)
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", "2025-06-18")
                    .json(&serde_json::json!({
                        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                        "params": { "name": "whoami", "arguments": {} }
                    }))
                    .send()
                    .await;
                let good = match res {
                    Ok(r) if r.status().is_success() => {
                        r.json::<serde_json::Value>().await.is_ok_and(|v| {
                            v["result"]["structuredContent"]["user"]["email"].is_string()
                        })
                    }
                    _ => false,
                };
                (good, at)
            }
        },
    )
    .await;
    calls.print("MCP tools/call whoami");

    let (open, guarded) = bearer_routers(&bench_state).await?;
    let plain = post_phase(n, args.seconds, format!("{open}/mcp"), tokens.clone()).await;
    plain.print("trivial route, no auth");
    let checked = post_phase(n, args.seconds, format!("{guarded}/mcp"), tokens).await;
    checked.print("trivial route + bearer");

    println!(
        "  tools/call is {:.0}% of /healthz; the bearer check costs {:.1}%",
        100.0 * calls.rate() / health.rate(),
        100.0 * (1.0 - checked.rate() / plain.rate())
    );
    println!(
        "Targets on 2 cores: ≥ 2,000 refresh grants/s, ≥ 20,000 introspections/s, tools/call ≥ 50% of /healthz, bearer check ≤ 15%."
    );
    Ok(())
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

async fn get_phase(n: usize, secs: u64, url: String) -> Figures {
    drive(n, secs, vec![(); n], move |c: reqwest::Client, _| {
        let url = url.clone();
        async move {
            let ok = c
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            (ok, ())
        }
    })
    .await
}

async fn post_phase(n: usize, secs: u64, url: String, tokens: Vec<String>) -> Figures {
    drive(n, secs, tokens, move |c: reqwest::Client, at: String| {
        let url = url.clone();
        async move {
            let ok = c
                .post(&url)
                .bearer_auth(&at)
                .body("{}")
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            (ok, at)
        }
    })
    .await
}

/// Live access tokens for the introspection phase (issued directly, one per worker).
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
