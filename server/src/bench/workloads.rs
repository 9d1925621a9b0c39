//! The requests the bench sends. Each is built from parts made once (a parsed URL, a static
//! body, a ready header), as a long-running client keeps them, so the figures measure the
//! server rather than the bench's own URL parsing and JSON building; every answer is still
//! read and checked.

use http::{HeaderValue, header};
use reqwest::{Client, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::driver::Work;

/// Parsed once, before any phase runs.
pub fn parse_url(s: &str) -> Url {
    Url::parse(s).expect("bench URL")
}

/// A worker's `Authorization: Bearer …` header.
pub fn bearer_headers(tokens: &[String]) -> Vec<HeaderValue> {
    tokens
        .iter()
        .map(|t| HeaderValue::try_from(format!("Bearer {t}")).expect("token header"))
        .collect()
}

/// A success status, with the whole body read (as a client would before its next request).
async fn answered(res: reqwest::Result<reqwest::Response>) -> bool {
    match res {
        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
        _ => false,
    }
}

/// A success status with a body that parses as `T`.
async fn parsed<T: DeserializeOwned>(res: reqwest::Result<reqwest::Response>) -> Option<T> {
    match res {
        Ok(r) if r.status().is_success() => r.json().await.ok(),
        _ => None,
    }
}

/// `GET` answered with a success status.
#[derive(Clone)]
pub struct Get(pub Url);

impl Work for Get {
    type State = ();
    async fn call(&self, c: &Client, _: ()) -> (bool, ()) {
        (answered(c.get(self.0.clone()).send().await).await, ())
    }
}

/// A refresh grant; each worker follows its own rotating refresh token chain.
#[derive(Clone)]
pub struct Refresh {
    pub url: Url,
    pub client_id: String,
}

impl Work for Refresh {
    type State = String;
    async fn call(&self, c: &Client, rt: String) -> (bool, String) {
        #[derive(Deserialize)]
        struct Tokens {
            refresh_token: String,
        }
        let res = c
            .post(self.url.clone())
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
                ("client_id", self.client_id.as_str()),
            ])
            .send()
            .await;
        match parsed::<Tokens>(res).await {
            Some(t) => (true, t.refresh_token),
            None => (false, rt),
        }
    }
}

/// A resource server introspecting a live access token.
#[derive(Clone)]
pub struct Introspect {
    pub url: Url,
    pub client_id: String,
    pub client_secret: String,
}

impl Work for Introspect {
    type State = String;
    async fn call(&self, c: &Client, at: String) -> (bool, String) {
        #[derive(Deserialize)]
        struct Answer {
            active: bool,
        }
        let res = c
            .post(self.url.clone())
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(&[("token", at.as_str())])
            .send()
            .await;
        let good = parsed::<Answer>(res).await.is_some_and(|a| a.active);
        (good, at)
    }
}

/// An authenticated `tools/call whoami`, with the headers the official SDK clients send.
#[derive(Clone)]
pub struct Whoami(pub Url);

impl Work for Whoami {
    type State = HeaderValue;
    async fn call(&self, c: &Client, auth: HeaderValue) -> (bool, HeaderValue) {
        const BODY: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;
        #[derive(Deserialize)]
        struct Answer {
            result: CallResult,
        }
        #[derive(Deserialize)]
        struct CallResult {
            #[serde(rename = "structuredContent")]
            structured: Me,
        }
        #[derive(Deserialize)]
        struct Me {
            user: User,
        }
        #[derive(Deserialize)]
        struct User {
            email: String,
        }
        let res = c
            .post(self.0.clone())
            .header(header::AUTHORIZATION, auth.clone())
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header(header::CONTENT_TYPE, "application/json")
            .header("mcp-protocol-version", "2025-06-18")
            .body(BODY)
            .send()
            .await;
        let good = parsed::<Answer>(res)
            .await
            .is_some_and(|a| a.result.structured.user.email.contains('@'));
        (good, auth)
    }
}

/// `POST {}` with a bearer header, answered with a success status.
#[derive(Clone)]
pub struct PostWithBearer(pub Url);

impl Work for PostWithBearer {
    type State = HeaderValue;
    async fn call(&self, c: &Client, auth: HeaderValue) -> (bool, HeaderValue) {
        let res = c
            .post(self.0.clone())
            .header(header::AUTHORIZATION, auth.clone())
            .body("{}")
            .send()
            .await;
        (answered(res).await, auth)
    }
}

/// `tools/call echo` with a small text, as the official SDK clients send it: to Gatehouse's
/// endpoint as the gateway tool `bench__echo` (with a bearer header), or straight to the
/// upstream as `echo` (without). The answer must carry the text back.
#[derive(Clone)]
pub struct Echo {
    pub url: Url,
    pub body: &'static [u8],
}

impl Echo {
    pub fn through_gateway(url: Url) -> Self {
        Self {
            url,
            body: br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"bench__echo","arguments":{"text":"hello"}}}"#,
        }
    }

    pub fn straight(url: Url) -> Self {
        Self {
            url,
            body: br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}"#,
        }
    }
}

impl Work for Echo {
    type State = Option<HeaderValue>;
    async fn call(&self, c: &Client, auth: Option<HeaderValue>) -> (bool, Option<HeaderValue>) {
        #[derive(Deserialize)]
        struct Answer {
            result: CallResult,
        }
        #[derive(Deserialize)]
        struct CallResult {
            content: Vec<Text>,
        }
        #[derive(Deserialize)]
        struct Text {
            text: String,
        }
        let mut req = c
            .post(self.url.clone())
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header(header::CONTENT_TYPE, "application/json")
            .header("mcp-protocol-version", "2025-06-18")
            .body(self.body);
        if let Some(auth) = &auth {
            req = req.header(header::AUTHORIZATION, auth.clone());
        }
        let good = parsed::<Answer>(req.send().await)
            .await
            .is_some_and(|a| a.result.content.first().is_some_and(|t| t.text == "hello"));
        (good, auth)
    }
}
