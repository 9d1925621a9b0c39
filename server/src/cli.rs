//! The `gatehouse` command line: serve, migrate, and the account and org helpers.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use app::domain::entities::user;
use app::domain::users::PasswordChange;
use app::domain::validate::{Email, Password, Slug, display_name, org_name};
use app::domain::{RequestMeta, Services, members, orgs, secrets, users};
use app::model::Role;
use clap::{Parser, Subcommand};
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::state::AppState;
use crate::{router, telemetry};
use migration::db;

#[derive(Parser, Debug)]
#[command(
    name = "gatehouse",
    version,
    about = "OAuth 2.1 authorization server, MCP resource server and admin console"
)]
pub struct Cli {
    /// A TOML file with settings (environment variables override it).
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an account (its address counts as verified: the operator vouches for it).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Create an organization; the owner becomes its admin.
    CreateOrg {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// Email of an existing account.
        #[arg(long)]
        owner: String,
    },
    /// Add an existing account to an organization.
    AddMember {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// viewer, restricted_querier, querier or admin
        #[arg(long)]
        role: String,
    },
    /// Turn an account off: it can't sign in, its sessions end, its tokens stop working.
    DisableUser {
        #[arg(long)]
        email: String,
    },
    /// Turn a disabled account on again.
    EnableUser {
        #[arg(long)]
        email: String,
    },
    /// Set up (or replace) an organization's single sign-on through its OpenID Connect
    /// provider. The client secret is read from the environment variable
    /// GATEHOUSE_SSO_CLIENT_SECRET, never from the command line (kept when unset on a change).
    SetSso {
        #[arg(long)]
        org: String,
        /// The provider's issuer URL, e.g. https://acme.okta.com
        #[arg(long)]
        issuer: String,
        /// The client ID the provider gave Gatehouse.
        #[arg(long)]
        client_id: String,
        /// Email domains whose people sign in there, comma-separated.
        #[arg(long)]
        domains: String,
        /// The role of a first-time member: viewer, restricted_querier or querier.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Members with an address in these domains can't sign in with a password.
        #[arg(long)]
        require: bool,
        /// Saved but switched off.
        #[arg(long)]
        disabled: bool,
    },
    /// Remove an organization's single sign-on.
    RemoveSso {
        #[arg(long)]
        org: String,
    },
    /// Start a rotation of Gatehouse's signing key: the new key is published now and signs
    /// after an hour's overlap; the old one stays published an hour after that.
    RotateSigningKey,
    /// Create the demo organization `acme` with one user per role and print their sign-ins.
    Demo,
    /// List the newest mail in the outbox: sent, waiting or failed, with the link of mail not
    /// yet sent (with no SMTP server configured, this is how links reach people).
    Outbox {
        /// How many mails, newest first.
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
    /// Print a new random instance key (for GATEHOUSE_SECRET_KEY).
    GenerateSecretKey,
    /// Sign in to an MCP server with OAuth (discovery, registration, PKCE in the browser) and
    /// keep the tokens in your config directory.
    Login {
        /// The MCP server URL, e.g. https://gatehouse.example.com/mcp or …/o/acme/mcp
        mcp_url: String,
        /// Print the sign-in address instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
    },
    /// Measure refresh-grant, introspection and MCP tools/call throughput and the bearer check's cost on a fresh database (prints figures).
    Bench {
        /// Use PostgreSQL (GATEHOUSE_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test).
        #[arg(long)]
        postgres: bool,
        /// Seconds per phase.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// Print a valid access token for a server you logged in to (refreshing it when needed).
    Token {
        /// The MCP server URL given to `login` (optional when you logged in to one only).
        mcp_url: Option<String>,
    },
}

/// A failed command: the message is printed and the exit code is non-zero.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(msg)) => {
            eprintln!("gatehouse: {msg}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> Result<(), CliError> {
    // The client commands talk to a server over HTTP; they need no configuration or database.
    match &cli.command {
        Command::Login {
            mcp_url,
            no_browser,
        } => {
            let no_browser = *no_browser;
            let creds = crate::login::login(mcp_url, |url| {
                !no_browser && crate::login::open_in_browser(url)
            })
            .await?;
            println!(
                "Signed in to {} (scopes: {}). `gatehouse token` prints an access token.",
                creds.resource, creds.scope
            );
            return Ok(());
        }
        Command::Token { mcp_url } => {
            println!("{}", crate::login::token(mcp_url.as_deref()).await?);
            return Ok(());
        }
        Command::GenerateSecretKey => {
            println!("{}", app::domain::sealing::InstanceKey::generate().1);
            return Ok(());
        }
        Command::Bench {
            postgres,
            seconds,
            concurrency,
        } => {
            let args = crate::bench::BenchArgs {
                postgres: *postgres,
                seconds: *seconds,
                concurrency: *concurrency,
            };
            return crate::bench::run(args).await;
        }
        _ => {}
    }
    let config = Config::load(cli.config.as_deref())?;
    telemetry::init(&config);
    let db = db::connect(&config.database_url).await.map_err(|e| {
        CliError(format!(
            "can't open the database (GATEHOUSE_DATABASE_URL): {e}"
        ))
    })?;
    db::migrate(&db)
        .await
        .map_err(|e| CliError(format!("database migration failed: {e}")))?;
    let key = crate::instance_key::load(&config, &db).await?;
    let services = Services::new(db.clone(), config.domain_settings(), key);
    let meta = RequestMeta {
        ip: None,
        user_agent: Some("gatehouse-cli".into()),
    };
    match cli.command {
        Command::Serve => serve(config, services).await,
        Command::Migrate => {
            println!("Database is up to date.");
            Ok(())
        }
        Command::CreateUser {
            email,
            password,
            name,
        } => {
            let email = Email::parse(&email).map_err(|e| CliError(format!("--email: {e}")))?;
            let password = Password::parse(&password, Some(&email))
                .map_err(|e| CliError(format!("--password: {e}")))?;
            let name = display_name(name.as_deref().unwrap_or(""))
                .map_err(|e| CliError(format!("--name: {e}")))?;
            let u = users::create_user(&services, &email, &password, name, true, &meta)
                .await
                .map_err(|e| CliError(format!("--email: {e}")))?;
            println!("Created user {} ({}).", u.email, u.id);
            Ok(())
        }
        Command::CreateOrg { slug, name, owner } => {
            let slug = Slug::parse(&slug).map_err(|e| CliError(format!("--slug: {e}")))?;
            let name = org_name(&name).map_err(|e| CliError(format!("--name: {e}")))?;
            let owner = find_user(&db, &owner).await?;
            let org = orgs::create_org(&db, owner.id, &slug, name, &meta)
                .await
                .map_err(|e| CliError(format!("--slug: {e}")))?;
            println!(
                "Created organization {} ({}) with admin {}.",
                org.slug, org.name, owner.email
            );
            Ok(())
        }
        Command::AddMember { org, email, role } => {
            let role = Role::parse(&role).ok_or_else(|| {
                CliError(format!("--role: unknown role {role:?}; use viewer, restricted_querier, querier or admin"))
            })?;
            let org = orgs::find_by_slug(&db, &org)
                .await?
                .ok_or_else(|| CliError(format!("--org: no organization {org:?}")))?;
            let user = find_user(&db, &email).await?;
            members::add_user(&db, user.id, &org, &user, role, &meta)
                .await
                .map_err(|e| CliError(format!("--email: {e}")))?;
            println!("Added {} to {} as {role}.", user.email, org.slug);
            Ok(())
        }
        Command::SetSso {
            org,
            issuer,
            client_id,
            domains,
            role,
            require,
            disabled,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                CliError(format!(
                    "--role: unknown role {role:?}; use viewer, restricted_querier or querier"
                ))
            })?;
            let org = orgs::find_by_slug(&db, &org)
                .await?
                .ok_or_else(|| CliError(format!("--org: no organization {org:?}")))?;
            let change = app::domain::sso::connection::ConnectionChange {
                issuer,
                client_id,
                client_secret: std::env::var("GATEHOUSE_SSO_CLIENT_SECRET").ok(),
                domains: domains.split(',').map(|d| d.trim().to_string()).collect(),
                default_role: role,
                require_sso: require,
                enabled: !disabled,
                assertions: None,
            };
            let saved = app::domain::sso::connection::save(&services, None, org.id, &change, &meta)
                .await
                .map_err(|e| match e.field() {
                    Some("client_secret") => CliError(format!("GATEHOUSE_SSO_CLIENT_SECRET: {e}")),
                    Some("default_role") => CliError(format!("--role: {e}")),
                    Some(f) => CliError(format!("--{}: {e}", f.replace('_', "-"))),
                    None => CliError(e.to_string()),
                })?;
            println!(
                "Single sign-on for {} through {} (domains {}); redirect URI to register with the provider: {}",
                org.slug,
                saved.issuer,
                saved.domains.join(", "),
                app::domain::sso::flow::callback_url(&services)
            );
            Ok(())
        }
        Command::RemoveSso { org } => {
            let org = orgs::find_by_slug(&db, &org)
                .await?
                .ok_or_else(|| CliError(format!("--org: no organization {org:?}")))?;
            app::domain::sso::connection::remove(&services, None, org.id, &meta)
                .await
                .map_err(|e| CliError(e.to_string()))?;
            println!("Single sign-on for {} removed.", org.slug);
            Ok(())
        }
        Command::DisableUser { email } => set_disabled(&services, &db, &email, true, &meta).await,
        Command::EnableUser { email } => set_disabled(&services, &db, &email, false, &meta).await,
        Command::RotateSigningKey => {
            let r = app::domain::signing_keys::rotate(&services, &meta)
                .await
                .map_err(|e| CliError(e.to_string()))?;
            println!(
                "New signing key {} is published at {}/.well-known/jwks.json and signs from {}.",
                r.kid,
                config.public_url,
                r.signs_from.to_rfc3339()
            );
            Ok(())
        }
        Command::Demo => demo(&services, &config, &meta).await,
        Command::Outbox { limit } => outbox(&services, limit).await,
        Command::Login { .. }
        | Command::Token { .. }
        | Command::Bench { .. }
        | Command::GenerateSecretKey => {
            unreachable!("handled above")
        }
    }
}

/// `disable-user` / `enable-user`.
async fn set_disabled(
    services: &Services,
    db: &DatabaseConnection,
    email: &str,
    disable: bool,
    meta: &RequestMeta,
) -> Result<(), CliError> {
    let user = find_user(db, email).await?;
    let changed = users::set_disabled(services, &user, disable, meta)
        .await
        .map_err(|e| CliError(format!("--email: {e}")))?;
    let state = if disable { "disabled" } else { "enabled" };
    if changed {
        println!("{} is now {state}.", user.email);
    } else {
        println!("{} was already {state}; nothing changed.", user.email);
    }
    Ok(())
}

async fn find_user(db: &DatabaseConnection, email: &str) -> Result<user::Model, CliError> {
    users::find_by_email(db, email).await?.ok_or_else(|| {
        CliError(format!(
            "no account with email {email:?}; create it with `gatehouse create-user`"
        ))
    })
}

const DEMO_USERS: [(&str, &str, Role); 4] = [
    ("admin@acme.test", "Ada Admin", Role::Admin),
    ("querier@acme.test", "Quinn Querier", Role::Querier),
    (
        "restricted@acme.test",
        "Rey Restricted",
        Role::RestrictedQuerier,
    ),
    ("viewer@acme.test", "Vic Viewer", Role::Viewer),
];

/// Idempotent: existing demo accounts get fresh passwords, so the printed ones always work.
async fn demo(s: &Services, config: &Config, meta: &RequestMeta) -> Result<(), CliError> {
    let db = &s.db;
    let mut rows = Vec::new();
    for (email, name, _) in DEMO_USERS {
        let password = format!("demo-{}", secrets::random_urlsafe(12));
        let parsed_email = Email::parse(email)?;
        let parsed = Password::parse(&password, Some(&parsed_email))?;
        let user = match users::find_by_email(db, email).await? {
            // A fresh password, as a password change: audited, the old sessions end.
            Some(existing) => {
                users::mark_verified(db, &existing, "operator", meta).await?;
                users::set_password(s, existing, &parsed, PasswordChange::ResetByOperator, meta)
                    .await?
            }
            None => {
                users::create_user(
                    s,
                    &parsed_email,
                    &parsed,
                    Some(name.to_string()),
                    true,
                    meta,
                )
                .await?
            }
        };
        rows.push((user, password));
    }
    let org = match orgs::find_by_slug(db, "acme").await? {
        Some(org) => org,
        None => {
            orgs::create_org(
                db,
                rows[0].0.id,
                &Slug::parse("acme")?,
                "Acme Inc.".into(),
                meta,
            )
            .await?
        }
    };
    for ((user, _), (_, _, role)) in rows.iter().zip(DEMO_USERS) {
        if orgs::role_in(db, org.id, user.id).await?.is_none() {
            members::add_user(db, rows[0].0.id, &org, user, role, meta).await?;
        }
    }
    println!(
        "Demo organization: {} ({}) — {}/o/{}",
        org.name, org.slug, config.public_url, org.slug
    );
    println!("{:<24} {:<20} password", "email", "role");
    for ((user, password), (_, _, role)) in rows.iter().zip(DEMO_USERS) {
        println!("{:<24} {:<20} {password}", user.email, role.as_str());
    }
    Ok(())
}

/// `gatehouse outbox`.
async fn outbox(s: &Services, limit: u64) -> Result<(), CliError> {
    let entries = app::domain::mail::outbox::list(&s.db, &s.key, limit.clamp(1, 1000)).await?;
    match &s.settings.mail.smtp {
        Some(url) => println!("Mail is sent through {}.", url.shown()),
        None => println!(
            "No SMTP server is configured (GATEHOUSE_SMTP_URL): mail stays here; pass each link on yourself."
        ),
    }
    if entries.is_empty() {
        println!("The outbox is empty.");
        return Ok(());
    }
    for e in entries {
        println!(
            "{}  {:<8} {:<19} to {}  \"{}\"{}",
            e.created_at.format("%Y-%m-%d %H:%M:%S"),
            e.status,
            e.kind,
            e.to,
            e.subject,
            if e.attempts > 1 {
                format!("  ({} attempts)", e.attempts)
            } else {
                String::new()
            }
        );
        if let Some(err) = e.last_error {
            println!("    last error: {err}");
        }
        if let Some(link) = e.link {
            println!("    {link}");
        }
    }
    Ok(())
}

async fn serve(config: Config, services: Services) -> Result<(), CliError> {
    let addr = config.bind;
    if !std::path::Path::new(&config.site_root).join("pkg").exists() {
        tracing::warn!(site_root = %config.site_root, "no built site found: run `cargo leptos build` so pages get their styles and scripts");
    }
    app::domain::signing_keys::ensure(&services)
        .await
        .map_err(|e| CliError(format!("signing key: {e}")))?;
    spawn_housekeeping(services.clone());
    app::domain::mailer::spawn_worker(services.clone());
    match &config.mail.smtp {
        Some(url) => tracing::info!(smtp = %url.shown(), "mail goes through SMTP"),
        None => tracing::info!(
            "no SMTP server configured (GATEHOUSE_SMTP_URL): mail stays in the outbox and its links are logged; `gatehouse outbox` lists them"
        ),
    }
    if let Some(bind) = config.metrics_bind {
        crate::metrics_endpoint::serve(bind, services.db.clone())
            .await
            .map_err(CliError)?;
    }
    if services.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        crate::cluster::spawn(services.db.clone(), services.caches.clone());
    }
    let public_url = config.public_url.clone();
    // The state puts its upstream client in the services: the periodic refresh uses that one.
    let state = AppState::new(config, services.clone());
    spawn_upstream_refresh(services.clone());
    let app = router::build_router(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError(format!("can't listen on {addr} (GATEHOUSE_BIND): {e}")))?;
    tracing::info!(%addr, %public_url, "Gatehouse is listening");
    println!("Gatehouse is running at {public_url} (listening on {addr}). Press Ctrl+C to stop.");
    let (stopping, stopped) = tokio::sync::oneshot::channel();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stopping.send(());
    })
    .into_future();
    // Long-lived connections (an MCP client's event stream) would hold a graceful stop
    // forever: after the grace period the rest is cut.
    let deadline = async {
        if stopped.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server => served?,
        () = deadline => tracing::warn!(
            grace_secs = SHUTDOWN_GRACE.as_secs(),
            "connections still open after the grace period; closing them"
        ),
    }
    // Every answered refresh is committed already; this stores what was queued behind it.
    if let Some(writer) = services.rotations() {
        writer.drain().await;
    }
    // Calls' audit rows queued before their answers left.
    if let Some(writer) = services.audits() {
        writer.drain().await;
    }
    tracing::info!("Gatehouse stopped");
    Ok(())
}

/// How long a stopping process waits for open requests and connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Every ten minutes: expired sessions, unused self-registered clients, stale OAuth requests,
/// mailed links nobody can follow any more, old outbox entries.
/// Lists every upstream MCP server's tools again every ten minutes, so tools they add or drop
/// show without an admin asking (a failure is kept for the admin to see).
fn spawn_upstream_refresh(services: Services) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let all = match app::domain::gateway::upstreams::all_enabled(&services.db).await {
                Ok(all) => all,
                Err(e) => {
                    tracing::warn!(error = %e, "upstream refresh: the list can't be read");
                    continue;
                }
            };
            for u in all {
                if let Err(e) = app::domain::gateway::catalog::refresh(&services, &u).await {
                    tracing::warn!(error = %e, upstream = %u.id, "upstream refresh failed");
                }
            }
        }
    });
}

fn spawn_housekeeping(services: Services) {
    use tower_sessions::session_store::ExpiredDeletion;
    let store = crate::session_store::SeaOrmStore::new(services.db.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "expired-session sweep failed");
            }
            match app::domain::oauth::housekeeping::sweep(&services).await {
                Ok(swept) if swept.clients + swept.requests + swept.codes > 0 => {
                    tracing::info!(
                        clients = swept.clients,
                        requests = swept.requests,
                        codes = swept.codes,
                        "housekeeping"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "OAuth housekeeping failed"),
            }
            if let Err(e) = services.throttle.sweep().await {
                tracing::warn!(error = %e, "throttle sweep failed");
            }
            if let Err(e) = app::domain::sso::flow::sweep(&services.db).await {
                tracing::warn!(error = %e, "SSO sign-in sweep failed");
            }
            if let Err(e) = app::domain::oauth::assertion::sweep(&services.db).await {
                tracing::warn!(error = %e, "used-assertion sweep failed");
            }
            if let Err(e) = app::domain::signing_keys::sweep(&services.db).await {
                tracing::warn!(error = %e, "retired signing-key sweep failed");
            }
            let links = app::domain::email_links::sweep(&services.db).await;
            let mails = app::domain::mail::outbox::sweep(&services.db).await;
            match (links, mails) {
                (Ok(links), Ok(mails)) if links + mails > 0 => {
                    tracing::info!(links, mails, "housekeeping: old mail links and mail")
                }
                (Ok(_), Ok(_)) => {}
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "account housekeeping failed")
                }
            }
        }
    });
}

/// Resolves on Ctrl+C or SIGTERM; in-flight requests then finish before the process exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
