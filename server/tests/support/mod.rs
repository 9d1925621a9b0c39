//! Test helpers: a real router on a fresh database, and a browser-like client that keeps the
//! session cookie and reads CSRF proofs out of pages, like a person with or without JavaScript.

#![allow(dead_code)]

pub mod cluster;
pub mod flow;
pub mod https_docs;
pub mod mail;
pub mod oidc;
pub mod test_ca;

use std::collections::BTreeMap;

use app::domain::Services;
use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use sea_orm::DatabaseConnection;
use server::config::Config;
use server::router::{SESSION_COOKIE, build_router};
use server::state::AppState;
use tower::ServiceExt;

pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// The port a helper process (a provider, an upstream MCP server) says it listens on, in the
/// `READY <port>` line it prints first; the rest of its output is drained, or it would die
/// writing to a closed pipe.
pub fn ready_port(child: &mut std::process::Child, what: &str) -> u16 {
    use std::io::BufRead;
    let mut out = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    line.trim()
        .strip_prefix("READY ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{what} did not start: {line:?}"))
}

pub struct TestApp {
    pub router: Router,
    /// Its public URL (`ORIGIN` unless the test named another): where its pages are.
    pub origin: String,
    pub db: DatabaseConnection,
    /// The router's own services: a change made through them reaches its caches, as one made
    /// through a request would.
    pub services: Services,
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::with_db(migration::test_db::sqlite().await.expect("sqlite"), &[]).await
    }

    pub async fn with_env(env: &[(&str, &str)]) -> Self {
        Self::with_db(migration::test_db::sqlite().await.expect("sqlite"), env).await
    }

    pub async fn with_db(db: DatabaseConnection, env: &[(&str, &str)]) -> Self {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let config = Config::from_sources(&env, &BTreeMap::new()).expect("config");
        let services = Services::new(
            db.clone(),
            config.domain_settings(),
            app::domain::sealing::InstanceKey::generate().0,
        );
        let origin = config.public_url.clone();
        let router = build_router(AppState::new(config, services.clone()));
        Self {
            router,
            origin,
            db,
            services,
        }
    }

    /// A test app also served over TCP (for clients in other processes), its public URL that
    /// address: (the app, `http://127.0.0.1:<port>`). It serves until the test ends.
    pub async fn served(db: DatabaseConnection, env: &[(&str, &str)]) -> (Self, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = {
            let mut env = env.to_vec();
            env.push(("GATEHOUSE_PUBLIC_URL", &base));
            Self::with_db(db, &env).await
        };
        let router = app.router.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        (app, base)
    }

    /// A test app whose mail goes over SMTP to a real SMTP server process of its own, with
    /// this process's mail worker running.
    pub async fn with_mail(db: DatabaseConnection) -> (Self, mail::MailSink) {
        let sink = mail::MailSink::start();
        let url = sink.smtp_url();
        let app = Self::with_db(
            db,
            &[
                ("GATEHOUSE_SMTP_URL", url.as_str()),
                ("GATEHOUSE_MAIL_FROM", "Gatehouse <no-reply@gate.test>"),
            ],
        )
        .await;
        app::domain::mailer::spawn_worker(app.services.clone());
        (app, sink)
    }

    /// The path of the newest link mailed to `to`, read from the outbox (for tests about
    /// something else than mail delivery).
    pub async fn outbox_link(&self, to: &str) -> String {
        let link = app::domain::mail::outbox::list(&self.db, &self.services.key, 200)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.to == to && m.link.is_some())
            .and_then(|m| m.link)
            .unwrap_or_else(|| panic!("no mail with a link to {to} in the outbox"));
        link.strip_prefix(&self.origin).unwrap().to_string()
    }

    /// Signs `email` up in a browser of their own and follows the verification link mailed to
    /// them, as they would.
    pub async fn verified_browser(&self, email: &str) -> Browser {
        let mut b = self.browser();
        b.sign_up(email, PASSWORD).await;
        let link = self.outbox_link(email).await;
        let res = b.confirm_email(&link).await;
        assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
        b
    }

    pub fn browser(&self) -> Browser {
        Browser {
            router: self.router.clone(),
            origin: self.origin.clone(),
            cookie: None,
            csrf_cookie: None,
            js: false,
        }
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Response {
    /// Reads a whole router response (status, headers, body as text).
    pub async fn read(res: http::Response<Body>) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Response {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The hidden CSRF proof rendered into the page's forms.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF field in page:\n{}", self.body))
            + marker.len();
        self.body[start..].split('"').next().unwrap().to_string()
    }
}

/// A client that keeps the session cookie between requests.
pub struct Browser {
    router: Router,
    /// The app's public URL, which its forms come from.
    origin: String,
    /// The session cookie's value.
    pub cookie: Option<String>,
    /// The anonymous visitor's CSRF cookie's value (before a session exists).
    pub csrf_cookie: Option<String>,
    /// Behave like the hydrated app (server functions answer with data, not redirects).
    pub js: bool,
}

impl Browser {
    pub async fn send(&mut self, req: Request<Body>) -> Response {
        let res = self.router.clone().oneshot(req).await.expect("router");
        for v in res.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            if let Some(rest) = v.strip_prefix(&format!("{SESSION_COOKIE}=")) {
                let value = rest.split(';').next().unwrap().to_string();
                self.cookie = if value.is_empty() || v.contains("Max-Age=0") {
                    None
                } else {
                    Some(value)
                };
            }
            if let Some(rest) = v.strip_prefix(&format!("{}=", app::web::CSRF_COOKIE)) {
                self.csrf_cookie = Some(rest.split(';').next().unwrap().to_string());
            }
        }
        Response::read(res).await
    }

    pub fn with_cookie(&self, mut b: http::request::Builder) -> http::request::Builder {
        let mut jar = Vec::new();
        if let Some(c) = &self.cookie {
            jar.push(format!("{SESSION_COOKIE}={c}"));
        }
        if let Some(c) = &self.csrf_cookie {
            jar.push(format!("{}={c}", app::web::CSRF_COOKIE));
        }
        if !jar.is_empty() {
            b = b.header(header::COOKIE, jar.join("; "));
        }
        b
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let req = self
            .with_cookie(Request::get(path).header(header::ACCEPT, "text/html"))
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// Posts a form to a server function as the page at `from` would.
    pub async fn post_form(&mut self, path: &str, from: &str, fields: &[(&str, &str)]) -> Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let accept = if self.js {
            "application/json"
        } else {
            "text/html"
        };
        let req = self
            .with_cookie(
                Request::post(path)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, accept)
                    .header(header::ORIGIN, &self.origin)
                    .header(header::REFERER, format!("{}{from}", self.origin)),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Loads `page`, then submits a form from it with the page's CSRF proof added.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = self.get(page).await.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(action, page, &all).await
    }

    pub async fn sign_up(&mut self, email: &str, password: &str) -> Response {
        self.submit(
            "/signup",
            "/fn/signup",
            &[("name", ""), ("email", email), ("password", password)],
        )
        .await
    }

    /// Opens a confirmation link's page (`/verify-email/…`) and presses its button.
    pub async fn confirm_email(&mut self, path: &str) -> Response {
        let token = path.rsplit('/').next().unwrap().to_string();
        self.submit(path, "/fn/confirm_email", &[("token", &token)])
            .await
    }

    pub async fn log_in(&mut self, email: &str, password: &str) -> Response {
        self.submit(
            "/login",
            "/fn/login",
            &[("email", email), ("password", password), ("next", "/")],
        )
        .await
    }
}

/// The text of the element with `data-testid="{id}"` (up to its first child tag).
pub fn testid_text(html: &str, id: &str) -> String {
    let marker = format!("data-testid=\"{id}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} in page:\n{html}"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    rest[start..].split('<').next().unwrap().to_string()
}

/// A no-JS form post that went through (no error carried back).
pub fn assert_ok(res: &Response) {
    assert!(
        redirected_error(res).is_none(),
        "refused: {:?}",
        redirected_error(res)
    );
}

/// The error a refused no-JS form post carried back.
pub fn refused(res: &Response) -> app::error::AppError {
    redirected_error(res).unwrap_or_else(|| panic!("not refused: {:?}", res.location()))
}

/// The error a no-JS form post carried back in its redirect (`?__err=` in `Location`).
pub fn redirected_error(res: &Response) -> Option<app::error::AppError> {
    use base64::Engine;
    let loc = res.location()?;
    let url = url::Url::parse(loc).ok()?;
    let err = url
        .query_pairs()
        .find(|(k, _)| k == "__err")?
        .1
        .into_owned();
    let bytes = base64::engine::general_purpose::URL_SAFE.decode(err).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// The `whoami` tool called at the MCP endpoint `path` with a bearer token.
    pub async fn whoami(&self, path: &str, token: &str) -> Response {
        self.call(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json, text/event-stream")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(
                    serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "whoami", "arguments": {} } })
                        .to_string(),
                ))
                .unwrap(),
        )
        .await
    }

    /// A GET of `path` straight into the router (no cookies): discovery documents and the like.
    pub async fn get(&self, path: &str) -> Response {
        self.call(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// Sends a request straight into the router (no cookies): for machine endpoints.
    pub async fn call(&self, req: Request<Body>) -> Response {
        Response::read(self.router.clone().oneshot(req).await.expect("router")).await
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> Response {
        self.call(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.call(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// An HTTP client for the `oauth2` crate that talks to this router in-process.
    pub fn oauth_http(
        &self,
    ) -> impl Fn(
        oauth2::HttpRequest,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, std::io::Error>> + Send>,
    > + Clone {
        let router = self.router.clone();
        move |req: oauth2::HttpRequest| {
            let router = router.clone();
            Box::pin(async move {
                let res = router
                    .oneshot(req.map(Body::from))
                    .await
                    .map_err(std::io::Error::other)?;
                let (parts, body) = res.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map_err(std::io::Error::other)?
                    .to_bytes();
                Ok(http::Response::from_parts(parts, bytes.to_vec()))
            })
        }
    }
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The value of `name` in the query of the `Location` header.
    pub fn location_param(&self, name: &str) -> Option<String> {
        let loc = self.location()?;
        let url = url::Url::parse(loc)
            .or_else(|_| url::Url::parse(&format!("{ORIGIN}{loc}")))
            .ok()?;
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

impl Browser {
    /// GET without asking for HTML (an OAuth redirect target or an API).
    pub async fn get_raw(&mut self, path_and_query: &str) -> Response {
        let req = self
            .with_cookie(Request::get(path_and_query))
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }
}

/// A fresh, migrated database of the same kind as `db` (a test that needs one per case).
pub async fn fresh_like(db: &DatabaseConnection) -> DatabaseConnection {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => migration::test_db::postgres()
            .await
            .expect("postgres test database")
            .expect("a PostgreSQL server, as for `db`"),
        _ => migration::test_db::sqlite()
            .await
            .expect("sqlite test database"),
    }
}

/// An organization by its slug.
pub async fn org(app: &TestApp, slug: &str) -> app::domain::entities::organization::Model {
    app::domain::orgs::find_by_slug(&app.db, slug)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no org {slug}"))
}

/// An account's id by its email.
pub async fn user_id(app: &TestApp, email: &str) -> uuid::Uuid {
    app::domain::users::find_by_email(&app.db, email)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no account {email}"))
        .id
}

/// An `Authorization: Basic` value for client credentials (RFC 6749 §2.3.1).
pub fn basic_auth(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// A request's facts for domain calls a test makes directly (as an admin's page would).
pub fn meta() -> app::domain::RequestMeta {
    app::domain::RequestMeta {
        ip: Some("203.0.113.9".into()),
        user_agent: Some("tests".into()),
    }
}

pub async fn audit_count(db: &DatabaseConnection, action: &str) -> usize {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    app::domain::entities::audit_event::Entity::find()
        .filter(app::domain::entities::audit_event::Column::Action.eq(action))
        .all(db)
        .await
        .unwrap()
        .len()
}
