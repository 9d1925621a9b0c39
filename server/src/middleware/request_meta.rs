//! Records who is calling (client address, user agent) for audit events and throttling, and
//! prepares a page load's session state: the flash message waiting in it, and an anonymous
//! visitor's CSRF proof (a cookie of its own, so a page view stores nothing on the server).

use std::net::{IpAddr, SocketAddr};

use app::domain::RequestMeta;
use app::model::Flash;
use app::web::session::{self as web_session, PreSessionCsrf};
use app::web::{CSRF_COOKIE, PoppedFlash, SESSION_FLASH};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, header};
use tower_sessions::Session;

use crate::config::Config;
use crate::state::AppState;

/// Every route: who is calling, for audit events and throttling.
pub async fn record(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let meta = RequestMeta {
        ip: client_address(&state.config, peer, req.headers()).map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    req.extensions_mut().insert(meta);
    next.run(req).await
}

/// The client's address. Behind proxies of ours, `X-Forwarded-For` is read from the right:
/// each proxy appends the address it was called from, so the rightmost entry that is not one
/// of our proxies is the client, whatever the client itself put further left. A peer that is
/// not our proxy is the client, whatever headers it sends.
fn client_address(config: &Config, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let trusted = |ip: &IpAddr| config.trusted_proxies.iter().any(|n| n.contains(ip));
    let peer_is_proxy = peer.is_some_and(|p| config.trust_forwarded_for || trusted(&p));
    if !peer_is_proxy {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // Not an address: whatever is left of it can't be vouched for.
            break;
        };
        client = Some(ip);
        if !trusted(&ip) {
            break;
        }
    }
    client
}

/// Browser routes (inside the session layer): flash message and CSRF proof for page loads,
/// and no caching of HTML.
pub async fn page_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Only a full page load shows (and so consumes) the flash message.
    let page_load = req.method() == Method::GET
        && !req.uri().path().starts_with("/fn/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    let session = req.extensions().get::<Session>().cloned();
    let signed_in = match &session {
        Some(s) => matches!(web_session::user_id(s).await, Ok(Some(_))),
        None => false,
    };
    let mut new_cookie = None;
    if let Some(session) = &session {
        if page_load && let Ok(Some(flash)) = session.remove::<Flash>(SESSION_FLASH).await {
            req.extensions_mut().insert(PoppedFlash(flash));
        }
        if signed_in && page_load {
            // The page's forms need the session's proof; create it before rendering starts
            // so the session cookie goes out with this response.
            let _ = web_session::csrf_token(session, None).await;
        }
    }
    if !signed_in {
        // An anonymous visitor's forms carry a proof from a cookie of their own: no session
        // row for a page view.
        let pre = cookie(req.headers(), CSRF_COOKIE)
            .and_then(PreSessionCsrf::parse)
            .unwrap_or_else(|| {
                let minted = PreSessionCsrf::mint();
                new_cookie = Some(minted.0.clone());
                minted
            });
        req.extensions_mut().insert(pre);
    }
    let mut res = next.run(req).await;
    if let Some(value) = new_cookie {
        let secure = if state.config.cookie_secure {
            "; Secure"
        } else {
            ""
        };
        let set = format!("{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{secure}");
        if let Ok(v) = HeaderValue::from_str(&set) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    // Pages can show one-time values (invitation links); never keep them in a cache.
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    res
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let env: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources(&env, &BTreeMap::new()).unwrap()
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let c = config(&[]);
        assert_eq!(
            client_address(&c, ip("198.51.100.9"), &xff("203.0.113.1")),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn forwarded_for_is_read_from_the_right() {
        // One proxy of ours in front: its peer's address is the last entry.
        let c = config(&[("GATEHOUSE_TRUST_FORWARDED_FOR", "on")]);
        // The client tried to choose its own address by sending the header itself.
        assert_eq!(
            client_address(&c, ip("10.0.0.2"), &xff("1.2.3.4, 198.51.100.9")),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_address(&c, ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        // Two proxies: the load balancer's address is skipped as well.
        let c = config(&[
            ("GATEHOUSE_TRUST_FORWARDED_FOR", "on"),
            ("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8"),
        ]);
        assert_eq!(
            client_address(&c, ip("10.0.0.2"), &xff("1.2.3.4, 198.51.100.9, 10.1.1.1")),
            ip("198.51.100.9")
        );
        // A peer in the trusted list is trusted even without the switch.
        let c = config(&[("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.2")]);
        assert_eq!(
            client_address(&c, ip("10.0.0.2"), &xff("198.51.100.9")),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_address(&c, ip("10.9.9.9"), &xff("198.51.100.9")),
            ip("10.9.9.9")
        );
        // Garbage is never taken as an address.
        let c = config(&[("GATEHOUSE_TRUST_FORWARDED_FOR", "on")]);
        assert_eq!(
            client_address(&c, ip("10.0.0.2"), &xff("198.51.100.9, not-an-ip")),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; gatehouse_csrf=abc; b=2"),
        );
        assert_eq!(cookie(&h, CSRF_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
