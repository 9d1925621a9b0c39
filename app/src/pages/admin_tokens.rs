//! `/admin/tokens`: every personal token of the org — standard PATs and MCP OAuth PATs — with
//! owner, client, permissions, dates and status; filter by kind, user and status; disable,
//! re-enable, revoke. Admins only; everything works without JavaScript.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::admin_tokens::{RevokeOrgToken, SetOrgTokenDisabled, load_admin_tokens};
use crate::components::forms::{CsrfField, FieldError, row_outcome};
use crate::components::layout::ErrorPanel;
use crate::components::pager::Pager;
use crate::components::time::When;
use crate::error::AppError;
use crate::model::{AdminTokens, OrgToken, OrgTokenKind, TokenStatus};

#[component]
pub fn AdminTokensPage() -> impl IntoView {
    let toggle = ServerAction::<SetOrgTokenDisabled>::new();
    let revoke = ServerAction::<RevokeOrgToken>::new();
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).unwrap_or_default();
    let data = Resource::new(
        move || {
            (
                toggle.version().get(),
                revoke.version().get(),
                param("kind"),
                param("user"),
                param("status"),
                param("page").parse::<u64>().unwrap_or(1),
            )
        },
        |(_, _, kind, user, status, page)| load_admin_tokens(kind, user, status, page),
    );
    // The outcome of the last row action, success or failure.
    let row_result = move || {
        let t = toggle.value().get().map(|v| (toggle.version().get(), v));
        let r = revoke.value().get().map(|v| (revoke.version().get(), v));
        [t, r]
            .into_iter()
            .flatten()
            .max_by_key(|(n, _)| *n)
            .map(|(_, v)| v)
    };
    view! {
        <Title text="Tokens" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) if e.field().is_none() => view! { <ErrorPanel error=e /> }.into_any(),
                    result => {
                        let (org_name, error) = match &result {
                            Ok(d) => (Some(d.org_name.clone()), None),
                            Err(e) => (None, Some(e.clone())),
                        };
                        view! {
                            <h1>"Personal tokens"{org_name.map(|n| format!(" in {n}"))}</h1>
                            <p class="muted">
                                "Every personal access token of this organization: standard PATs that members created, and MCP OAuth PATs, "
                                "made when a member connects an MCP client (Claude, ChatGPT, Cursor…) through OAuth. "
                                "A disabled token is refused until you enable it again; a revoked one is gone for good."
                            </p>
                            <Filters error />
                            {move || row_result().map(row_outcome)}
                            {result.ok().map(|d| view! { <TokenTable d toggle revoke /> })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The GET form: plain links and a plain form, so filters survive reloads and work without
/// JavaScript; the pager keeps them.
#[component]
fn Filters(error: Option<AppError>) -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read_untracked().get(k).unwrap_or_default();
    let (kind, user, status) = (get("kind"), get("user"), get("status"));
    let error = Signal::derive(move || error.clone());
    view! {
        <section class="panel">
            <form method="get" action="/admin/tokens" class="row-form filters" data-testid="token-filters">
                <div class="field">
                    <label for="f-kind">"Kind"</label>
                    <select id="f-kind" name="kind">
                        <option value="" selected=kind.is_empty()>"All kinds"</option>
                        {OrgTokenKind::ALL.iter().map(|k| view! {
                            <option value=k.as_str() selected=kind == k.as_str()>{k.label()}</option>
                        }).collect_view()}
                    </select>
                    <FieldError error field="kind" />
                </div>
                <div class="field">
                    <label for="f-user">"User"</label>
                    <input id="f-user" name="user" type="search" value=user.clone()
                        placeholder="Email or user ID" />
                </div>
                <div class="field">
                    <label for="f-status">"Status"</label>
                    <select id="f-status" name="status">
                        <option value="" selected=status.is_empty()>"Any status"</option>
                        {TokenStatus::ALL.iter().map(|s| view! {
                            <option value=s.as_str() selected=status == s.as_str()>{status_label(*s)}</option>
                        }).collect_view()}
                    </select>
                    <FieldError error field="status" />
                </div>
                <div class="actions filter-buttons">
                    <button type="submit" class="secondary">"Filter"</button>
                    {(!kind.is_empty() || !user.is_empty() || !status.is_empty()).then(|| view! {
                        <a href="/admin/tokens" class="button secondary">"Clear"</a>
                    })}
                </div>
            </form>
        </section>
    }
}

#[component]
fn TokenTable(
    d: AdminTokens,
    toggle: ServerAction<SetOrgTokenDisabled>,
    revoke: ServerAction<RevokeOrgToken>,
) -> impl IntoView {
    let l = d.list;
    if l.tokens.is_empty() {
        let query = use_query_map();
        let filtered = ["kind", "user", "status"]
            .iter()
            .any(|k| query.read_untracked().get(k).is_some_and(|v| !v.is_empty()));
        return view! {
            <section class="panel">
                <p class="empty" data-testid="tokens-empty">
                    {if filtered {
                        "No token matches these filters."
                    } else {
                        "Nobody in this organization has a personal token yet. Standard PATs appear here when members create them in Settings › Personal tokens; MCP OAuth PATs when they connect an MCP client."
                    }}
                </p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="panel">
            <div class="table-scroll">
                <table class="table" data-testid="org-tokens">
                    <thead><tr>
                        <th>"Owner"</th><th>"Token"</th><th>"Permissions"</th><th>"Created"</th>
                        <th>"Last used"</th><th>"Expires"</th><th>"Status"</th>
                        <th><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {l.tokens.into_iter().map(|t| view! { <TokenRow t toggle revoke /> }).collect_view()}
                    </tbody>
                </table>
            </div>
            <Pager page=l.page pages=l.pages total=l.total noun="tokens" />
        </section>
    }
    .into_any()
}

/// A date (UTC), with the exact time on hover.
#[component]
fn Day(at: DateTime<Utc>) -> impl IntoView {
    let exact = at.format("%Y-%m-%d %H:%M UTC").to_string();
    view! { <time datetime=at.to_rfc3339() title=exact>{at.format("%Y-%m-%d").to_string()}</time> }
}

/// The admin's short word (the member's own list says who disabled it).
fn status_label(status: TokenStatus) -> &'static str {
    match status {
        TokenStatus::Disabled => "Disabled",
        other => other.label(),
    }
}

#[component]
fn TokenRow(
    t: OrgToken,
    toggle: ServerAction<SetOrgTokenDisabled>,
    revoke: ServerAction<RevokeOrgToken>,
) -> impl IntoView {
    let id = t.id.to_string();
    let toggle_id = id.clone();
    let revoke_id = id.clone();
    let mcp = t.kind == OrgTokenKind::McpOauthPat;
    let label = match (&t.name, &t.client_name) {
        (Some(n), _) => n.clone(),
        (None, Some(c)) => c.clone(),
        _ => "—".into(),
    };
    let what = if mcp {
        format!("{}'s connection of {label}", t.owner_email)
    } else {
        format!("“{label}” of {}", t.owner_email)
    };
    let status = t.status;
    let badge = match status {
        TokenStatus::Active => "badge",
        TokenStatus::Disabled => "badge warn",
        _ => "badge subtle",
    };
    let revoked = status == TokenStatus::Revoked;
    let disabled = status == TokenStatus::Disabled;
    view! {
        <tr data-token-id=id.clone() data-kind=t.kind.as_str() data-status=status.as_str()
            data-owner=t.owner_email.clone() data-name=label.clone()>
            <td>
                <a class="owner" href=format!("/admin/tokens?user={}", urlencode(&t.owner_email))
                    title="All tokens of this member">{t.owner_email.clone()}</a>
            </td>
            <td>
                {if mcp {
                    let href = t.client_id.clone().map(|c| format!("/admin/oauth-clients?q={}", urlencode(&c)));
                    view! {
                        <span class="badge subtle">"MCP OAuth PAT"</span><br />
                        {match href {
                            Some(href) => view! { <a href=href>{label.clone()}</a> }.into_any(),
                            None => view! { <span>{label.clone()}</span> }.into_any(),
                        }}
                    }.into_any()
                } else {
                    view! {
                        <span class="badge subtle">"Standard PAT"</span><br />
                        <strong>{label.clone()}</strong><br />
                        <span class="mono small muted">{t.hint.clone().unwrap_or_default()}</span>
                    }.into_any()
                }}
            </td>
            <td>{t.scope.split_whitespace().map(|s| view! { <span class="badge subtle mono">{s.to_string()}</span> " " }).collect_view()}</td>
            <td><When at=t.created_at /></td>
            <td>{match t.last_used_at {
                Some(at) => view! { <When at /> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            }}</td>
            <td class="nowrap">{match t.expires_at {
                Some(at) => view! { <Day at /> }.into_any(),
                None if mcp => view! { <span class="muted" title="Its access tokens last an hour and are refreshed until the connection is revoked">"While connected"</span> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            }}</td>
            <td><span class=badge data-testid="token-status">{status_label(status)}</span></td>
            <td class="row-actions">
                {(!revoked).then(|| view! {
                    <ActionForm action=toggle attr:class="inline">
                        <CsrfField />
                        <input type="hidden" name="token_id" value=toggle_id.clone() />
                        <input type="hidden" name="disabled" value=if disabled { "false" } else { "true" } />
                        <button type="submit" class="secondary small">{if disabled { "Enable" } else { "Disable" }}</button>
                    </ActionForm>
                    <details class="confirm">
                        <summary class="danger-link">"Revoke…"</summary>
                        <ActionForm action=revoke>
                            <CsrfField />
                            <input type="hidden" name="token_id" value=revoke_id.clone() />
                            <p>{format!("Revoke {what}? Anything using it stops working at once. This can't be undone.")}</p>
                            <button type="submit" class="danger small">"Revoke token"</button>
                        </ActionForm>
                    </details>
                })}
            </td>
        </tr>
    }
}

/// Percent-encodes a path segment (metadata-document client ids are URLs).
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
