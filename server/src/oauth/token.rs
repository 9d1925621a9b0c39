//! The token endpoint (authorization_code and refresh_token grants), revocation (RFC 7009) and
//! introspection (RFC 7662). Every failure is the RFC's JSON error with `Cache-Control: no-store`.

use app::domain::oauth::OAuthError;
use app::domain::oauth::clients;
use app::domain::oauth::grants::{self, CodeGrant, RefreshGrant};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, header};

use super::params::{Params, client_credentials};
use crate::state::AppState;
use app::domain::RequestMeta;
use axum::extract::Extension;

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
        Err(e) => e.into_response(),
    }
}

async fn token_inner(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<grants::TokenResponse, OAuthError> {
    let p = Params::from_body(headers, body)?;
    let grant_type = p.required("grant_type")?;
    if !matches!(grant_type.as_str(), "authorization_code" | "refresh_token") {
        return Err(OAuthError::unsupported_grant_type(format!(
            "grant_type {grant_type:?} is not supported; use authorization_code or refresh_token."
        )));
    }
    let creds = client_credentials(headers, &p)?;
    let client = clients::authenticate(&state.services.db, &creds).await?;
    if !clients::list(&client.grant_types).contains(&grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "This client did not register the {grant_type} grant."
        )));
    }
    match grant_type.as_str() {
        "authorization_code" => {
            let grant = CodeGrant {
                code: p.required("code")?,
                redirect_uri: p.one("redirect_uri")?,
                code_verifier: p.one("code_verifier")?,
                resource: p.all("resource"),
            };
            grants::exchange_code(&state.services, &client, grant, meta).await
        }
        _ => {
            let grant = RefreshGrant {
                refresh_token: p.required("refresh_token")?,
                resource: p.all("resource"),
                scope: p.one("scope")?,
            };
            grants::refresh(&state.services, &client, grant, meta).await
        }
    }
}

/// The `token` parameter and the authenticated caller of /revoke and /introspect.
async fn token_and_client(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Params, String, app::domain::entities::oauth_client::Model), OAuthError> {
    let p = Params::from_body(headers, body)?;
    let token = p.required("token")?;
    let client =
        clients::authenticate(&state.services.db, &client_credentials(headers, &p)?).await?;
    Ok((p, token, client))
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let (p, token, client) = token_and_client(&state, &headers, &body).await?;
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
        Err(e) => e.into_response(),
    }
}

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let (_, token, client) = token_and_client(&state, &headers, &body).await?;
        grants::introspect(&state.services, &client, &token).await
    }
    .await;
    match result {
        Ok(v) => no_store(Json(v).into_response()),
        Err(e) => e.into_response(),
    }
}
