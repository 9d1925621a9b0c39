//! `/settings/connected-apps`: every app connected to the signed-in user's account through
//! OAuth (connections, i.e. MCP OAuth PATs), grouped by organization, and disconnecting one.
//! Works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::connected_apps::{RevokeConnectedApp, load_connected_apps};
use crate::components::forms::{CsrfField, row_outcome};
use crate::components::layout::ErrorPanel;
use crate::components::pager::Pager;
use crate::components::time::When;
use crate::model::{ClientKind, ConnectedAppList, ConnectedAppView, ConnectionStatus};

/// Where the app's registration came from, in words.
fn source_label(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::Admin => "Registered by an admin",
        ClientKind::User => "Registered by a member",
        ClientKind::Dynamic => "Registered itself (dynamic registration)",
        ClientKind::Metadata => "Identified by its metadata document",
    }
}

#[component]
pub fn ConnectedAppsPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeConnectedApp>::new();
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
    };
    let list = Resource::new(
        move || (revoke.version().get(), page()),
        |(_, page)| load_connected_apps(page),
    );
    let revoke_result = move || revoke.value().get().map(row_outcome);
    view! {
        <Title text="Connected apps" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(l) => view! {
                        <h1>"Connected apps"</h1>
                        <p class="muted">
                            "Apps you have allowed to use your account through OAuth, such as Claude, ChatGPT, Cursor or VS Code connecting to the MCP server. Each connection works in one organization, with the permissions you granted and your role there as it is at each request. Disconnecting an app ends its connection and every token it holds at once; it has to ask you again to reconnect."
                        </p>
                        {revoke_result}
                        <Connections l revoke />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Connections(l: ConnectedAppList, revoke: ServerAction<RevokeConnectedApp>) -> impl IntoView {
    if l.connections.is_empty() {
        return view! {
            <section class="panel">
                <div class="empty-state" data-testid="connected-apps-empty">
                    <p class="empty">"No apps are connected to your account."</p>
                    <p class="muted small">
                        "Give an MCP client your organization's MCP URL; it opens this site for you to sign in and approve it, and then shows up here. "
                        "To build your own integration, "
                        <a href="/settings/oauth-apps">"register an OAuth app"</a>"."
                    </p>
                </div>
            </section>
        }
        .into_any();
    }
    // Rows come ordered by org: one panel per org.
    let mut groups: Vec<(String, String, Vec<ConnectedAppView>)> = Vec::new();
    for c in l.connections {
        match groups.last_mut() {
            Some((_, slug, rows)) if *slug == c.org_slug => rows.push(c),
            _ => groups.push((c.org_name.clone(), c.org_slug.clone(), vec![c])),
        }
    }
    view! {
        {groups.into_iter().map(|(org_name, slug, rows)| view! {
            <section class="panel" data-testid="org-connections" data-org=slug.clone()>
                <h2>{org_name}</h2>
                <table class="table">
                    <thead><tr>
                        <th>"App"</th><th>"Permissions"</th><th>"Connected"</th><th>"Last used"</th>
                        <th>"Status"</th><th><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|c| view! { <ConnectionRow c revoke /> }).collect_view()}
                    </tbody>
                </table>
            </section>
        }).collect_view()}
        <Pager page=l.page pages=l.pages total=l.total noun="connections" />
    }
    .into_any()
}

#[component]
fn ConnectionRow(c: ConnectedAppView, revoke: ServerAction<RevokeConnectedApp>) -> impl IntoView {
    let id = c.id.to_string();
    let name = c.client_name.clone();
    let revoke_id = id.clone();
    let revoke_name = name.clone();
    let status_class = match c.status {
        ConnectionStatus::Active => "badge",
        _ => "badge subtle",
    };
    let status_label = c.status.label();
    view! {
        <tr data-connection-id=id.clone() data-name=name.clone() data-client-id=c.client_id.clone()>
            <td>
                <strong>{name.clone()}</strong>
                {c.verified.then(|| view! { " " <span class="badge">"Verified"</span> })}
                <div class="muted small">{source_label(c.client_kind)}</div>
                {c.via_assertion.then(|| view! {
                    <div class="muted small" data-testid="via-assertion">"Access granted by your organization's identity provider"</div>
                })}
                <div class="mono small muted">{c.client_id.clone()}</div>
            </td>
            <td>{c.scopes.iter().map(|s| view! { <span class="badge subtle mono">{s.clone()}</span> " " }).collect_view()}</td>
            <td><When at=c.created_at /></td>
            <td>{match c.last_used_at {
                Some(at) => view! { <When at /> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            }}</td>
            <td><span class=status_class data-testid="connection-status">{status_label}</span></td>
            <td>
                <details class="confirm">
                    <summary class="danger-link">"Disconnect…"</summary>
                    <ActionForm action=revoke>
                        <CsrfField />
                        <input type="hidden" name="connection_id" value=revoke_id.clone() />
                        <p>{format!("Disconnect {revoke_name}? It loses access to your account in this organization at once, and every token it holds stops working.")}</p>
                        <button type="submit" class="danger small">"Disconnect"</button>
                    </ActionForm>
                </details>
            </td>
        </tr>
    }
}
