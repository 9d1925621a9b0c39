//! The token endpoint (authorization_code, refresh_token and RFC 7523 jwt-bearer grants), revocation (RFC 7009) and
//! introspection (RFC 7662). Every failure is the RFC's JSON error with `Cache-Control: no-store`.

use app::domain::RequestMeta;
use app::domain::access::Principal;
use app::domain::oauth::OAuthError;
use app::domain::oauth::assertion::{self, AssertionGrant};
use app::domain::oauth::client_auth;
use app::domain::oauth::grants::{self, CodeGrant, GrantType, RefreshGrant};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, header};
use serde_json::{Value, json};

use super::params::{Params, client_credentials};
use super::reply;
use crate::state::AppState;

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

pub async fn token(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match token_inner(&state, &meta, &headers, &body).await {
        Ok(r) => no_store(Json(r).into_response()),
        Err(e) => reply(e),
    }
}

async fn token_inner(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<grants::TokenResponse, OAuthError> {
    let p = Params::from_body(headers, body)?;
    let grant_type = GrantType::parse(&p.required("grant_type")?)?;
    let creds = client_credentials(headers, &p)?;
    let client = client_auth::authenticate(&state.services, &creds, meta).await?;
    grant_type.check_registered(&client)?;
    match grant_type {
        GrantType::AuthorizationCode => {
            let grant = CodeGrant {
                code: p.required("code")?,
                redirect_uri: p.one("redirect_uri")?,
                code_verifier: p.one("code_verifier")?,
                resource: p.all("resource"),
            };
            grants::exchange_code(&state.services, &client, grant, meta).await
        }
        GrantType::RefreshToken => {
            let grant = RefreshGrant {
                refresh_token: p.required("refresh_token")?,
                resource: p.all("resource"),
                scope: p.one("scope")?,
            };
            grants::refresh(&state.services, &client, grant, meta).await
        }
        GrantType::JwtBearer => {
            let grant = AssertionGrant {
                assertion: p.required("assertion")?,
                scope: p.one("scope")?,
                resource: p.all("resource"),
            };
            assertion::grant(&state.services, &client, grant, meta).await
        }
    }
}

/// The `token` parameter and the authenticated caller of /revoke and /introspect.
async fn token_and_client(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Params, String, app::domain::entities::oauth_client::Model), OAuthError> {
    let p = Params::from_body(headers, body)?;
    let token = p.required("token")?;
    let creds = client_credentials(headers, &p)?;
    let client = client_auth::authenticate(&state.services, &creds, meta).await?;
    Ok((p, token, client))
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let (p, token, client) = token_and_client(&state, &meta, &headers, &body).await?;
        if let Some(hint) = p.one("token_type_hint")?
            && !matches!(hint.as_str(), "access_token" | "refresh_token")
        {
            return Err(OAuthError::new(
                "unsupported_token_type",
                format!("token_type_hint {hint:?} is not supported."),
            ));
        }
        grants::revoke(&state.services, &client, &token, &meta).await
    }
    .await;
    match result {
        Ok(()) => no_store(http::StatusCode::OK.into_response()),
        Err(e) => reply(e),
    }
}

pub async fn introspect(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let (_, token, client) = token_and_client(&state, &meta, &headers, &body).await?;
        grants::introspect(&state.services, &client, &token).await
    }
    .await;
    match result {
        Ok(found) => no_store(
            Json(introspection(found.as_deref(), &state.config.public_url)).into_response(),
        ),
        Err(e) => reply(e),
    }
}

/// The RFC 7662 answer: the token's state as the access decision found it, with the member's
/// role as it is now; an inactive token reveals nothing but `active: false`.
fn introspection(p: Option<&Principal>, issuer: &str) -> Value {
    let Some(p) = p else {
        return json!({ "active": false });
    };
    let org = p.org();
    let mut out = json!({
        "active": true,
        "scope": p.scopes().to_string(),
        "sub": p.user_id().to_string(),
        "username": p.email(),
        "iss": issuer,
        "iat": p.token.created_at.timestamp(),
        "jti": p.token_id().to_string(),
        "token_type": match p.token.kind {
            app::domain::entities::token::TokenKind::Refresh => "refresh_token",
            _ => "Bearer",
        },
        "org_id": org.id.to_string(),
        "org": org.slug,
        "role": p.role().as_str(),
    });
    let o = out.as_object_mut().expect("an object");
    if let Some(g) = p.grant() {
        o.insert("client_id".into(), json!(g.client.client_id));
    }
    if let Some(exp) = p.expires_at() {
        o.insert("exp".into(), json!(exp.timestamp()));
    }
    if let Some(aud) = &p.token.resource {
        o.insert("aud".into(), json!(aud));
    }
    out
}
