//! `gatehouse login <mcp-url>` and `gatehouse token`: an OAuth client for scripts, like seed
//! 002's `oauth:setup` / `oauth:refresh`. It discovers the server from the MCP URL, registers
//! itself, runs PKCE with a loopback redirect (RFC 8252), and keeps the tokens in the user's
//! config directory (mode 0600). Built on the `oauth2` crate.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl,
    RefreshToken, Scope, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::cli::CliError;

/// What `gatehouse login` stores per MCP URL.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Credentials {
    pub mcp_url: String,
    pub resource: String,
    pub issuer: String,
    pub token_endpoint: String,
    pub client_id: String,
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    pub scope: String,
}

fn http() -> Result<reqwest::Client, CliError> {
    // No redirects: an OAuth client must not follow them (SSRF, leaked codes).
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("gatehouse-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| CliError(format!("can't create an HTTP client: {e}")))
}

/// Where credentials live: `$GATEHOUSE_CREDENTIALS`, else `$XDG_CONFIG_HOME/gatehouse/…`,
/// else `~/.config/gatehouse/credentials.json`.
pub fn store_path() -> Result<PathBuf, CliError> {
    if let Ok(p) = std::env::var("GATEHOUSE_CREDENTIALS") {
        return Ok(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .ok_or_else(|| {
            CliError("can't find a config directory: set HOME or GATEHOUSE_CREDENTIALS".into())
        })?;
    Ok(base.join("gatehouse").join("credentials.json"))
}

fn load_all(path: &PathBuf) -> Result<BTreeMap<String, Credentials>, CliError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| CliError(format!("{} is not readable: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(CliError(format!("can't read {}: {e}", path.display()))),
    }
}

/// Writes the file with mode 0600 (directory 0700) through a temporary file and a rename, so a
/// crash never leaves half a file and the secrets are never readable by others.
fn save_all(path: &PathBuf, all: &BTreeMap<String, Credentials>) -> Result<(), CliError> {
    let dir = path
        .parent()
        .ok_or_else(|| CliError(format!("{} has no directory", path.display())))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError(format!("can't create {}: {e}", dir.display())))?;
    let tmp = path.with_extension("json.tmp");
    let body = serde_json::to_vec_pretty(all).map_err(|e| CliError(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| CliError(format!("can't write {}: {e}", tmp.display())))?;
        f.write_all(&body).map_err(|e| CliError(e.to_string()))?;
    }
    #[cfg(not(unix))]
    std::fs::write(&tmp, &body).map_err(|e| CliError(e.to_string()))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| CliError(format!("can't write {}: {e}", path.display())))
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Option<Value>, CliError> {
    let res = http
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| CliError(format!("{url}: {e}")))?;
    if !res.status().is_success() {
        return Ok(None);
    }
    res.json()
        .await
        .map(Some)
        .map_err(|e| CliError(format!("{url}: not JSON ({e})")))
}

/// RFC 9728 discovery: the `resource_metadata` of the MCP endpoint's 401, else the
/// path-inserted well-known URL, else the root one.
async fn discover_resource(http: &reqwest::Client, mcp_url: &str) -> Result<Value, CliError> {
    let url =
        url::Url::parse(mcp_url).map_err(|_| CliError(format!("{mcp_url:?} is not a URL")))?;
    let mut candidates = Vec::new();
    if let Ok(res) = http
        .post(mcp_url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        && let Some(h) = res
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
        && let Some(start) = h.find("resource_metadata=\"")
    {
        let rest = &h[start + "resource_metadata=\"".len()..];
        candidates.push(rest.split('"').next().unwrap_or_default().to_string());
    }
    let origin = url.origin().ascii_serialization();
    candidates.push(format!(
        "{origin}/.well-known/oauth-protected-resource{}",
        url.path().trim_end_matches('/')
    ));
    candidates.push(format!("{origin}/.well-known/oauth-protected-resource"));
    for c in candidates {
        if let Some(doc) = get_json(http, &c).await?
            && doc
                .get("authorization_servers")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        {
            return Ok(doc);
        }
    }
    Err(CliError(format!(
        "{mcp_url} publishes no OAuth protected resource metadata; is it an MCP server URL?"
    )))
}

fn field(doc: &Value, name: &str) -> Result<String, CliError> {
    doc.get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| CliError(format!("the server's metadata has no {name}")))
}

/// Runs the whole login. `open_browser` gets the authorization URL (returns false if it could
/// not open a browser, in which case the URL is printed for the user to open).
pub async fn login(
    mcp_url: &str,
    open_browser: impl FnOnce(&str) -> bool,
) -> Result<Credentials, CliError> {
    let http = http()?;
    let prm = discover_resource(&http, mcp_url).await?;
    let resource = field(&prm, "resource")?;
    let issuer = prm["authorization_servers"][0]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    let asm = get_json(
        &http,
        &format!("{issuer}/.well-known/oauth-authorization-server"),
    )
    .await?
    .ok_or_else(|| {
        CliError(format!(
            "{issuer} publishes no authorization server metadata"
        ))
    })?;
    if asm["issuer"].as_str() != Some(issuer.as_str()) {
        return Err(CliError(format!(
            "the authorization server's issuer {} is not {issuer}; refusing to continue",
            asm["issuer"]
        )));
    }
    let authorize_url = field(&asm, "authorization_endpoint")?;
    let token_url = field(&asm, "token_endpoint")?;
    let registration = field(&asm, "registration_endpoint")?;
    let scopes: Vec<String> = prm["scopes_supported"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError(format!("can't listen on loopback: {e}")))?;
    let redirect = format!(
        "http://127.0.0.1:{}/callback",
        listener
            .local_addr()
            .map_err(|e| CliError(e.to_string()))?
            .port()
    );
    let reg: Value = http
        .post(&registration)
        .json(&json!({
            "client_name": "Gatehouse CLI",
            "redirect_uris": [redirect],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "application_type": "native",
            "scope": scopes.join(" "),
        }))
        .send()
        .await
        .map_err(|e| CliError(format!("registration failed: {e}")))?
        .json()
        .await
        .map_err(|e| CliError(format!("registration failed: {e}")))?;
    let client_id = reg["client_id"]
        .as_str()
        .ok_or_else(|| CliError(format!("registration was refused: {reg}")))?
        .to_string();

    let client = BasicClient::new(ClientId::new(client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::new(authorize_url).map_err(|e| CliError(e.to_string()))?)
        .set_token_uri(TokenUrl::new(token_url.clone()).map_err(|e| CliError(e.to_string()))?)
        .set_redirect_uri(RedirectUrl::new(redirect).map_err(|e| CliError(e.to_string()))?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .add_extra_param("resource", &resource);
    for s in &scopes {
        request = request.add_scope(Scope::new(s.clone()));
    }
    let (url, state) = request.url();
    if !open_browser(url.as_str()) {
        eprintln!("Open this address in your browser to sign in and approve:\n\n  {url}\n");
    }
    let params = tokio::time::timeout(Duration::from_secs(600), wait_for_callback(&listener))
        .await
        .map_err(|_| CliError("no answer from the browser within 10 minutes".into()))??;
    if let Some(err) = params.get("error") {
        let why = params.get("error_description").cloned().unwrap_or_default();
        return Err(CliError(
            format!("authorization failed: {err} {why}")
                .trim()
                .to_string(),
        ));
    }
    if params.get("state") != Some(state.secret()) {
        return Err(CliError(
            "the answer's state does not match this login; refusing it".into(),
        ));
    }
    if params.get("iss").is_some_and(|iss| iss != &issuer) {
        return Err(CliError(
            "the answer comes from another issuer; refusing it".into(),
        ));
    }
    let code = params
        .get("code")
        .ok_or_else(|| CliError("the answer has no code".into()))?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .add_extra_param("resource", &resource)
        .request_async(&http)
        .await
        .map_err(|e| CliError(format!("the code exchange failed: {e}")))?;
    let creds = Credentials {
        mcp_url: mcp_url.to_string(),
        resource,
        issuer,
        token_endpoint: token_url,
        client_id,
        access_token: tokens.access_token().secret().clone(),
        refresh_token: tokens.refresh_token().map(|r| r.secret().clone()),
        expires_at: chrono::Utc::now().timestamp()
            + tokens
                .expires_in()
                .map(|d| d.as_secs() as i64)
                .unwrap_or(3600),
        scope: tokens
            .scopes()
            .map(|s| {
                s.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default(),
    };
    let path = store_path()?;
    let mut all = load_all(&path)?;
    all.insert(mcp_url.to_string(), creds.clone());
    save_all(&path, &all)?;
    Ok(creds)
}

/// Answers the browser's visit to the loopback redirect URI and returns its query parameters.
async fn wait_for_callback(listener: &TcpListener) -> Result<BTreeMap<String, String>, CliError> {
    loop {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|e| CliError(e.to_string()))?;
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        while len < buf.len() {
            let n = stream
                .read(&mut buf[len..])
                .await
                .map_err(|e| CliError(e.to_string()))?;
            len += n;
            if n == 0 || buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let head = String::from_utf8_lossy(&buf[..len]).to_string();
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let Some(query) = target
            .strip_prefix("/callback?")
            .or_else(|| target.strip_prefix("/callback").map(|_| ""))
        else {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            continue;
        };
        let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let page = if params.contains_key("code") {
            "Gatehouse: you are signed in. You can close this tab and return to the terminal."
        } else {
            "Gatehouse: the authorization did not complete. Return to the terminal for details."
        };
        let body =
            format!("<!DOCTYPE html><meta charset=utf-8><title>Gatehouse</title><p>{page}</p>");
        let res = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(res.as_bytes()).await;
        return Ok(params);
    }
}

/// A valid access token for `mcp_url` (or the only stored server), refreshed when it has less
/// than a minute left. The rotated refresh token is saved before the access token is returned.
pub async fn token(mcp_url: Option<&str>) -> Result<String, CliError> {
    let path = store_path()?;
    let mut all = load_all(&path)?;
    let key = match mcp_url {
        Some(u) => u.to_string(),
        None => match all.keys().collect::<Vec<_>>().as_slice() {
            [only] => (*only).clone(),
            [] => {
                return Err(CliError(
                    "not signed in anywhere: run `gatehouse login <mcp-url>` first".into(),
                ));
            }
            _ => {
                return Err(CliError(
                    "signed in to several servers: say which, `gatehouse token <mcp-url>`".into(),
                ));
            }
        },
    };
    let creds = all.get(&key).cloned().ok_or_else(|| {
        CliError(format!(
            "not signed in to {key}: run `gatehouse login {key}`"
        ))
    })?;
    if creds.expires_at - chrono::Utc::now().timestamp() > 60 {
        return Ok(creds.access_token);
    }
    let refresh = creds.refresh_token.clone().ok_or_else(|| {
        CliError(format!(
            "the token for {key} expired: run `gatehouse login {key}` again"
        ))
    })?;
    let client = BasicClient::new(ClientId::new(creds.client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(
            TokenUrl::new(creds.token_endpoint.clone()).map_err(|e| CliError(e.to_string()))?,
        );
    let tokens = client
        .exchange_refresh_token(&RefreshToken::new(refresh))
        .add_extra_param("resource", &creds.resource)
        .request_async(&http()?)
        .await
        .map_err(|e| {
            CliError(format!(
                "refreshing the token for {key} failed ({e}): run `gatehouse login {key}` again"
            ))
        })?;
    let updated = Credentials {
        access_token: tokens.access_token().secret().clone(),
        refresh_token: tokens
            .refresh_token()
            .map(|r| r.secret().clone())
            .or(creds.refresh_token.clone()),
        expires_at: chrono::Utc::now().timestamp()
            + tokens
                .expires_in()
                .map(|d| d.as_secs() as i64)
                .unwrap_or(3600),
        ..creds
    };
    all.insert(key, updated.clone());
    save_all(&path, &all)?;
    Ok(updated.access_token)
}

/// Opens `url` in the desktop browser if there is one.
pub fn open_in_browser(url: &str) -> bool {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}
