//! Pagination links for a list split into pages (`?page=N`).
//!
//! The links are plain `<a href>`s, so they work without JavaScript; they keep every other query
//! parameter of the current page (a list's filters), replacing only `page`.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};
use leptos_router::params::ParamsMap;

/// The link to `page` of the list at `path`, keeping the other query parameters. Empty
/// parameters (an unused filter field) are left out; page 1 is the list without `page`.
pub fn page_href(path: &str, query: &ParamsMap, page: u64) -> String {
    let mut pairs: Vec<(String, String)> = query
        .latest_values()
        .filter(|(k, v)| k.as_ref() != "page" && !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if page > 1 {
        pairs.push(("page".into(), page.to_string()));
    }
    let qs = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&");
    if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    }
}

/// Percent-encodes all but the unreserved characters (RFC 3986), so `org.policy_changed` and
/// `ada@example.com` stay readable in the address bar.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// "← Previous · Page 2 of 5 (230 tokens) · Next →". Renders nothing when there is only one
/// page. `noun` is the plural of what the list holds ("tokens", "events"); a list sorted by time
/// can name its links after it with `newest_first` ("← Newer", "Older →").
#[component]
pub fn Pager(
    page: u64,
    pages: u64,
    total: u64,
    #[prop(into)] noun: String,
    /// The list is sorted newest first: the links say "Newer" and "Older".
    #[prop(optional)]
    newest_first: bool,
) -> impl IntoView {
    let query = use_query_map();
    let location = use_location();
    let (prev_label, next_label) = if newest_first {
        ("← Newer", "Older →")
    } else {
        ("← Previous", "Next →")
    };
    (pages > 1).then(move || {
        let href = move |n: u64| page_href(&location.pathname.read(), &query.read(), n);
        let prev = move || href(page - 1);
        let next = move || href(page + 1);
        view! {
            <nav class="actions pager" aria-label=format!("Pages of {noun}")>
                {(page > 1).then(|| view! { <a href=prev rel="prev" class="button secondary small">{prev_label}</a> })}
                <span class="muted small">{format!("Page {page} of {pages} ({total} {noun})")}</span>
                {(page < pages).then(|| view! { <a href=next rel="next" class="button secondary small">{next_label}</a> })}
            </nav>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_and_drop_empty_ones() {
        let q: ParamsMap = [
            ("actor", "ada@example.com"),
            ("action", "org.policy_changed"),
            ("from", ""),
            ("page", "2"),
            ("q", "a b&c"),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            page_href("/admin/audit", &q, 3),
            "/admin/audit?actor=ada@example.com&action=org.policy_changed&q=a%20b%26c&page=3"
        );
        assert_eq!(
            page_href("/admin/audit", &q, 1),
            "/admin/audit?actor=ada@example.com&action=org.policy_changed&q=a%20b%26c"
        );
        assert_eq!(
            page_href("/settings/tokens", &ParamsMap::new(), 1),
            "/settings/tokens"
        );
        assert_eq!(
            page_href("/settings/tokens", &ParamsMap::new(), 2),
            "/settings/tokens?page=2"
        );
    }
}
