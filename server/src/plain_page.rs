//! A small page rendered without the app (the authorization endpoint's refusals, single
//! sign-on failures): the site's stylesheet, a title, a message, never cached.

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;

/// `body_html` is trusted markup; put people's and providers' words through [`escape`].
pub fn render(status: StatusCode, title: &str, test_id: &str, body_html: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Gatehouse</title><link rel=\"stylesheet\" href=\"{css}\"></head><body>\
         <main class=\"container\"><section class=\"panel error-panel\" role=\"alert\" data-testid=\"{test_id}\">\
         {body_html}</section></main></body></html>",
        title = escape(title),
        css = crate::assets::stylesheet_href(),
    );
    let mut res = (status, Html(page)).into_response();
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    res
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
