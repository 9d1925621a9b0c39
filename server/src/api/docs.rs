//! The interactive API docs at `/api/v1/docs/`: Swagger UI, served by Gatehouse itself (its
//! files come from the `utoipa-swagger-ui` crate, built in; no CDN). The page and its one
//! script of our own are static files, so it runs under a CSP without inline scripts.

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, StatusCode, header};

use super::error::ApiError;

/// The docs page's CSP: like the site's, without WebAssembly, and nothing but its own files.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; \
     form-action 'none'";

const INDEX: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse REST API</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="swagger-ui.css">
<link rel="stylesheet" href="gatehouse-docs.css">
</head>
<body>
<noscript>
<p class="gh-noscript">This page needs JavaScript. The API description is at
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</noscript>
<div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script>
<script src="gatehouse-docs.js"></script>
</body>
</html>
"#;

/// Starts Swagger UI on our description. With the browser session, "Try it out" sends the
/// session's CSRF token on calls that change something (fetched from /api/v1/me).
const INIT: &str = r##""use strict";
(function () {
  var csrf = null;
  fetch("/api/v1/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (me) { if (me && me.csrf_token) csrf = me.csrf_token; })
    .catch(function () {});
  window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
      url: "/api/v1/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      requestInterceptor: function (req) {
        var method = (req.method || "GET").toUpperCase();
        var hasToken = req.headers && (req.headers.Authorization || req.headers.authorization);
        if (csrf && !hasToken && method !== "GET" && method !== "HEAD") {
          req.headers["X-CSRF-Token"] = csrf;
        }
        return req;
      }
    });
  });
})();
"##;

const STYLE: &str = ".gh-noscript{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}\n\
body{margin:0}\n";

/// Swagger UI's own files that the page uses.
const ASSETS: [&str; 2] = ["swagger-ui.css", "swagger-ui-bundle.js"];

pub async fn redirect() -> Redirect {
    Redirect::permanent("/api/v1/docs/")
}

pub async fn index() -> Response {
    file(
        "text/html; charset=utf-8",
        INDEX.as_bytes().to_vec(),
        "no-cache",
    )
}

pub async fn asset(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "gatehouse-docs.js" => file(
            "text/javascript; charset=utf-8",
            INIT.as_bytes().to_vec(),
            "no-cache",
        ),
        "gatehouse-docs.css" => file(
            "text/css; charset=utf-8",
            STYLE.as_bytes().to_vec(),
            "no-cache",
        ),
        n if ASSETS.contains(&n) => match swagger_file(n) {
            Some((bytes, content_type)) => file(&content_type, bytes, "public, max-age=86400"),
            None => not_found(),
        },
        _ => not_found(),
    }
}

fn swagger_file(name: &str) -> Option<(Vec<u8>, String)> {
    // Swagger UI's initializer is the only file the config goes into; we serve our own.
    static CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> =
        LazyLock::new(|| Arc::new(utoipa_swagger_ui::Config::new(["/api/v1/openapi.json"])));
    match utoipa_swagger_ui::serve(name, CONFIG.clone()) {
        Ok(Some(f)) => Some((f.bytes.into_owned(), f.content_type)),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, file = name, "could not read a built-in Swagger UI file");
            None
        }
    }
}

fn file(content_type: &str, bytes: Vec<u8>, cache: &'static str) -> Response {
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

fn not_found() -> Response {
    ApiError::not_found("There is no such file in the API docs.").into_response()
}
