//! Fetching a client's metadata document without becoming a way into the network Gatehouse
//! runs in: https only (TLS always verified, against the public roots plus any CA the operator
//! adds); the host's addresses filtered before connecting, by the resolver the HTTP client
//! connects with, so the address checked is the address connected to (no DNS rebinding), and
//! the peer address checked again on the response; no proxy from the environment; no
//! redirects; a short timeout; a small body; JSON only.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};

use super::address::allowed;

/// The largest document read (the draft recommends at most 5 KB; real ones are a few hundred
/// bytes).
pub const MAX_BYTES: usize = 5 * 1024;
const TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How the fetcher is set up (from the server's configuration).
#[derive(Clone, Default)]
pub struct FetchSettings {
    /// More trusted CAs, PEM (`GATEHOUSE_EXTRA_CA_FILE`): for private deployments and tests.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Unsafe: let documents be fetched from loopback addresses (tests, local development).
    pub allow_loopback: bool,
}

impl std::fmt::Debug for FetchSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchSettings")
            .field("extra_ca", &self.extra_ca_pem.is_some())
            .field("allow_loopback", &self.allow_loopback)
            .finish()
    }
}

/// A document as fetched: its bytes and what its caching headers allow.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Vec<u8>,
    /// `max-age` of `Cache-Control`, if any.
    pub max_age: Option<Duration>,
    /// `no-store` or `no-cache`: use it for this request, keep it as briefly as allowed.
    pub no_store: bool,
}

/// Why a document could not be fetched, in words for the person and the client's developer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not a public address, so Gatehouse won't fetch from it")]
    NotPublic(String),
    #[error("{0} resolves to no public address, so Gatehouse won't fetch from it")]
    NoPublicAddress(String),
    #[error("{0} could not be reached ({1})")]
    Unreachable(String, String),
    #[error("the server took longer than {} seconds to answer", TIMEOUT.as_secs())]
    Timeout,
    #[error("the server answered with a redirect; the document must be served at its own URL")]
    Redirect,
    #[error("the server answered HTTP {0}, not 200")]
    Status(u16),
    #[error("the document is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("the server sent {0:?}, not a JSON document (application/json)")]
    NotJson(String),
}

/// The resolver the HTTP client connects with: a host's public addresses only.
struct PublicOnly {
    allow_loopback: bool,
}

/// The error a refused host name carries out of the resolver (recognised in [`classify`]).
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves to no public address", self.0)
    }
}

impl std::error::Error for Refused {}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allowed(a.ip(), allow_loopback))
                .collect();
            if public.is_empty() {
                return Err(Box::new(Refused(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The one HTTP client documents are fetched with.
#[derive(Clone)]
pub struct DocumentFetcher {
    client: reqwest::Client,
    allow_loopback: bool,
}

impl DocumentFetcher {
    pub fn new(settings: &FetchSettings) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            // Requests are rare and to many hosts: a kept connection mostly risks being one
            // the server has already closed.
            .pool_max_idle_per_host(0)
            .dns_resolver(Arc::new(PublicOnly {
                allow_loopback: settings.allow_loopback,
            }))
            .user_agent(concat!(
                "Gatehouse/",
                env!("CARGO_PKG_VERSION"),
                " (OAuth client metadata)"
            ));
        if let Some(pem) = &settings.extra_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("not PEM certificates ({e})"))?;
            if certs.is_empty() {
                return Err("holds no PEM certificate".into());
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(Self {
            client: builder.build().map_err(|e| e.to_string())?,
            allow_loopback: settings.allow_loopback,
        })
    }

    /// GETs `url` (already checked to be an https URL with a host).
    pub async fn fetch(&self, url: &url::Url) -> Result<Fetched, FetchError> {
        let host = url.host_str().unwrap_or_default().to_string();
        let mut res = self
            .send(
                url,
                self.client
                    .get(url.clone())
                    .header(ACCEPT, "application/json"),
            )
            .await?;
        let status = res.status();
        if status.as_u16() != 200 {
            return Err(FetchError::Status(status.as_u16()));
        }
        let content_type = header(&res, CONTENT_TYPE);
        if !is_json(&content_type) {
            return Err(FetchError::NotJson(content_type));
        }
        if header(&res, CONTENT_LENGTH)
            .parse::<usize>()
            .is_ok_and(|n| n > MAX_BYTES)
        {
            return Err(FetchError::TooLarge);
        }
        let (max_age, no_store) = cache_control(&header(&res, CACHE_CONTROL));
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| classify(&host, &e))? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            body,
            max_age,
            no_store,
        })
    }
}

impl DocumentFetcher {
    /// Sends `request` under the same rules (public addresses only, https, no redirects, no
    /// proxy, the timeout) and reads at most `max_bytes` of the answer, whatever its status:
    /// the HTTP client Gatehouse talks to an organization's identity provider with (discovery,
    /// keys, token exchange), whose URLs an org admin chooses.
    pub async fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
        max_bytes: usize,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        let url = url::Url::parse(&request.uri().to_string())
            .map_err(|_| FetchError::Unreachable(request.uri().to_string(), "bad URL".into()))?;
        let host = url.host_str().unwrap_or_default().to_string();
        let (parts, body) = request.into_parts();
        let built = self
            .client
            .request(parts.method, url.clone())
            .headers(parts.headers)
            .body(body);
        let mut res = self.send(&url, built).await?;
        let mut answer = http::Response::builder().status(res.status());
        for (name, value) in res.headers() {
            answer = answer.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| classify(&host, &e))? {
            if body.len() + chunk.len() > max_bytes {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        answer
            .body(body)
            .map_err(|e| FetchError::Unreachable(host, e.to_string()))
    }
}

impl DocumentFetcher {
    /// Sends a request for `url`, refusing a non-public address in the URL (those never go
    /// through the resolver), a non-public peer (defence in depth) and a redirect.
    async fn send(
        &self,
        url: &url::Url,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, FetchError> {
        let host = url.host_str().unwrap_or_default();
        if let Some(ip) = literal_ip(url)
            && !allowed(ip, self.allow_loopback)
        {
            return Err(FetchError::NotPublic(ip.to_string()));
        }
        let res = request.send().await.map_err(|e| classify(host, &e))?;
        if let Some(peer) = res.remote_addr()
            && !allowed(peer.ip(), self.allow_loopback)
        {
            return Err(FetchError::NotPublic(peer.ip().to_string()));
        }
        if res.status().is_redirection() {
            return Err(FetchError::Redirect);
        }
        Ok(res)
    }
}

fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// `application/json`, or a `+json` type, whatever its parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// `max-age`, and whether the answer may not be kept (`no-store`, `no-cache`).
fn cache_control(value: &str) -> (Option<Duration>, bool) {
    let mut max_age = None;
    let mut no_store = false;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            no_store = true;
        } else if let Some(n) = directive.strip_prefix("max-age=") {
            max_age = n
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    (max_age, no_store)
}

/// A transport error in the words of [`FetchError`]: a refused address, a timeout, or what
/// the connection said.
fn classify(host: &str, e: &reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<Refused>() {
            return FetchError::NoPublicAddress(refused.0.clone());
        }
        source = s.source();
    }
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    // The innermost cause says most (a certificate problem, a refused connection).
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    FetchError::Unreachable(host.to_string(), cause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_types_and_cache_directives_are_read() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/oauth-client+json"));
        assert!(!is_json("text/html"));
        assert!(!is_json(""));
        assert_eq!(
            cache_control("public, max-age=600"),
            (Some(Duration::from_secs(600)), false)
        );
        assert_eq!(cache_control("no-store"), (None, true));
        assert_eq!(
            cache_control("max-age=\"60\", no-cache"),
            (Some(Duration::from_secs(60)), true)
        );
        assert_eq!(cache_control(""), (None, false));
    }
}
