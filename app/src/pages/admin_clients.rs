//! `/admin/oauth-clients`: every OAuth client used in or owned by the org (admin-created,
//! user-created, dynamically registered, metadata document), searchable; details; revoke for
//! this org; create and delete the org's own. Admins only; everything works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::admin_clients::{
    BlockOrgClient, CreateOrgClient, DeleteOrgClient, SetOrgClientTrust, UnblockOrgClient,
    load_admin_client, load_admin_clients, load_new_client_form,
};
use crate::components::forms::{
    CopyBox, CsrfField, FieldError, FormError, action_error, row_outcome,
};
use crate::components::layout::ErrorPanel;
use crate::components::pager::Pager;
use crate::components::time::When;
use crate::error::AppError;
use crate::model::{
    AdminClients, ClientConnection, ClientKind, ConnectionStatus, CreatedOrgClient, NewClientForm,
    OrgClient, OrgClientDetail,
};

/// The outcome of the last of several actions, success or failure.
fn last_result(
    results: Vec<(usize, Option<Result<String, AppError>>)>,
) -> Option<Result<String, AppError>> {
    results
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| (n, v)))
        .max_by_key(|(n, _)| *n)
        .map(|(_, v)| v)
}

fn owner_text(c: &OrgClient) -> String {
    match (&c.owner_email, c.source) {
        (Some(e), _) => e.clone(),
        (None, ClientKind::Admin) => "This organization".into(),
        (None, ClientKind::Dynamic) => "Self-registered".into(),
        (None, ClientKind::Metadata) => "Its metadata document".into(),
        (None, ClientKind::User) => "—".into(),
    }
}

#[component]
pub fn AdminClientsPage() -> impl IntoView {
    let block = ServerAction::<BlockOrgClient>::new();
    let unblock = ServerAction::<UnblockOrgClient>::new();
    let delete = ServerAction::<DeleteOrgClient>::new();
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).unwrap_or_default();
    let data = Resource::new(
        move || {
            (
                (
                    block.version().get(),
                    unblock.version().get(),
                    delete.version().get(),
                ),
                param("q"),
                param("source"),
                param("blocked"),
                param("page").parse::<u64>().unwrap_or(1),
            )
        },
        |(_, q, source, blocked, page)| load_admin_clients(q, source, blocked, page),
    );
    let row_result = move || {
        last_result(vec![
            (block.version().get(), block.value().get()),
            (unblock.version().get(), unblock.value().get()),
            (delete.version().get(), delete.value().get()),
        ])
    };
    view! {
        <Title text="OAuth clients" />
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
                            <div class="page-head">
                                <h1>"OAuth clients"{org_name.map(|n| format!(" in {n}"))}</h1>
                                <a href="/admin/oauth-clients/new" class="button" data-testid="new-client">"Create a client"</a>
                            </div>
                            <p class="muted">
                                "Every application that can act for members of this organization: clients its admins created, clients members registered, "
                                "and MCP clients that registered themselves (dynamic registration or a metadata document) and were connected here. "
                                "Revoking a client for this organization ends its connections here and refuses it until you allow it again; other organizations are not affected."
                            </p>
                            <ClientFilters error />
                            {move || row_result().map(row_outcome)}
                            {result.ok().map(|d| view! { <ClientTable d block unblock delete /> })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ClientFilters(error: Option<AppError>) -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read_untracked().get(k).unwrap_or_default();
    let (q, source, blocked) = (get("q"), get("source"), get("blocked"));
    let error = Signal::derive(move || error.clone());
    view! {
        <section class="panel">
            <form method="get" action="/admin/oauth-clients" class="row-form filters" data-testid="client-filters">
                <div class="field">
                    <label for="f-q">"Search"</label>
                    <input id="f-q" name="q" type="search" value=q.clone()
                        placeholder="Name, client ID or owner's email" />
                </div>
                <div class="field">
                    <label for="f-source">"Source"</label>
                    <select id="f-source" name="source">
                        <option value="" selected=source.is_empty()>"All sources"</option>
                        {ClientKind::ALL.iter().map(|k| view! {
                            <option value=k.as_str() selected=source == k.as_str()>{k.label()}</option>
                        }).collect_view()}
                    </select>
                    <FieldError error field="source" />
                </div>
                <div class="field">
                    <label for="f-blocked">"Access"</label>
                    <select id="f-blocked" name="blocked">
                        <option value="" selected=blocked.is_empty()>"Allowed and revoked"</option>
                        <option value="no" selected=blocked == "no">"Allowed here"</option>
                        <option value="yes" selected=blocked == "yes">"Revoked for this organization"</option>
                    </select>
                    <FieldError error field="blocked" />
                </div>
                <div class="actions filter-buttons">
                    <button type="submit" class="secondary">"Search"</button>
                    {(!q.is_empty() || !source.is_empty() || !blocked.is_empty()).then(|| view! {
                        <a href="/admin/oauth-clients" class="button secondary">"Clear"</a>
                    })}
                </div>
            </form>
        </section>
    }
}

#[component]
fn ClientTable(
    d: AdminClients,
    block: ServerAction<BlockOrgClient>,
    unblock: ServerAction<UnblockOrgClient>,
    delete: ServerAction<DeleteOrgClient>,
) -> impl IntoView {
    let l = d.list;
    let org_name = d.org_name;
    if l.clients.is_empty() {
        let query = use_query_map();
        let filtered = ["q", "source", "blocked"]
            .iter()
            .any(|k| query.read_untracked().get(k).is_some_and(|v| !v.is_empty()));
        return view! {
            <section class="panel">
                {if filtered {
                    view! { <p class="empty" data-testid="clients-empty">"No client matches this search."</p> }.into_any()
                } else {
                    view! {
                        <div class="empty-state" data-testid="clients-empty">
                            <p class="empty">"No OAuth client is used in this organization yet."</p>
                            <p class="muted small">"Clients appear here when an admin creates one, when a member registers an app, or when a member connects an MCP client."</p>
                            <a href="/admin/oauth-clients/new" class="button secondary">"Create a client"</a>
                        </div>
                    }.into_any()
                }}
            </section>
        }
        .into_any();
    }
    view! {
        <section class="panel">
            <div class="table-scroll">
                <table class="table" data-testid="org-clients">
                    <thead><tr>
                        <th>"Client"</th><th>"Source"</th><th>"Owner"</th><th>"Redirect URIs"</th>
                        <th>"Granted scopes"</th><th>"Active connections"</th><th>"Last used"</th>
                        <th><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {l.clients.into_iter().map(|c| view! {
                            <ClientRow c org_name=org_name.clone() block unblock delete />
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <Pager page=l.page pages=l.pages total=l.total noun="clients" />
        </section>
    }
    .into_any()
}

#[component]
fn ClientRow(
    c: OrgClient,
    org_name: String,
    block: ServerAction<BlockOrgClient>,
    unblock: ServerAction<UnblockOrgClient>,
    delete: ServerAction<DeleteOrgClient>,
) -> impl IntoView {
    let id = c.id.to_string();
    let href = format!("/admin/oauth-clients/{id}");
    let owner = owner_text(&c);
    let blocked = c.blocked_in_org;
    let actions = c.clone();
    view! {
        <tr data-client-id=c.client_id.clone() data-name=c.name.clone() data-source=c.source.as_str()
            data-blocked=blocked.to_string()>
            <td>
                <a href=href><strong>{c.name.clone()}</strong></a>
                {c.blocked_in_org.then(|| view! { " " <span class="badge danger" data-testid="blocked-badge">"Revoked here"</span> })}
                {c.resource_server.then(|| view! { " " <span class="badge" data-testid="resource-server-badge">"Resource server"</span> })}
                <br /><span class="mono small muted">{c.client_id.clone()}</span>
            </td>
            <td>
                <span class="badge subtle">{c.source.label()}</span>
                {c.metadata_fetched_at.map(|at| view! {
                    <br /><span class="small muted" data-testid="metadata-fetched">"fetched " <When at=at /></span>
                })}
            </td>
            <td class="small">{owner}</td>
            <td class="small uris">
                {c.redirect_uris.iter().map(|u| view! { <span class="mono">{u.clone()}</span><br /> }).collect_view()}
            </td>
            <td>
                {if c.granted_scopes.is_empty() {
                    view! { <span class="muted">"—"</span> }.into_any()
                } else {
                    c.granted_scopes.iter().map(|s| view! { <span class="badge subtle mono">{s.clone()}</span> " " }).collect_view().into_any()
                }}
            </td>
            <td data-testid="active-connections">{c.active_connections}</td>
            <td>{match c.last_used_at {
                Some(at) => view! { <When at /> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            }}</td>
            <td class="row-actions">
                <ClientActions c=actions org_name block unblock delete />
            </td>
        </tr>
    }
}

/// Revoke for this org (or allow again) and, for the org's own clients, delete.
#[component]
fn ClientActions(
    c: OrgClient,
    org_name: String,
    block: ServerAction<BlockOrgClient>,
    unblock: ServerAction<UnblockOrgClient>,
    delete: ServerAction<DeleteOrgClient>,
) -> impl IntoView {
    let id = c.id.to_string();
    let delete_id = id.clone();
    let name = c.name.clone();
    view! {
        {if c.blocked_in_org {
            view! {
                <ActionForm action=unblock attr:class="inline">
                    <CsrfField />
                    <input type="hidden" name="client" value=id.clone() />
                    <button type="submit" class="secondary small">"Allow again"</button>
                </ActionForm>
            }.into_any()
        } else {
            view! {
                <details class="confirm">
                    <summary class="danger-link">"Revoke for this organization…"</summary>
                    <ActionForm action=block>
                        <CsrfField />
                        <input type="hidden" name="client" value=id.clone() />
                        <p>{format!(
                            "Revoke “{name}” for {org_name}? Its {} active connection(s) here end at once and members can't connect it again until you allow it. Other organizations are not affected.",
                            c.active_connections
                        )}</p>
                        <button type="submit" class="danger small">"Revoke for this organization"</button>
                    </ActionForm>
                </details>
            }.into_any()
        }}
        {c.owned_by_org.then(|| view! {
            <details class="confirm">
                <summary class="danger-link">"Delete…"</summary>
                <ActionForm action=delete>
                    <CsrfField />
                    <input type="hidden" name="client" value=delete_id.clone() />
                    <p>{format!("Delete “{}”? Every connection and token it has stops working, and its client ID and secret can never be used again. This can't be undone.", c.name)}</p>
                    <button type="submit" class="danger small">"Delete client"</button>
                </ActionForm>
            </details>
        })}
    }
}

/// `/admin/oauth-clients/:id`: everything about one client, and this org's connections to it.
#[component]
pub fn AdminClientPage() -> impl IntoView {
    let block = ServerAction::<BlockOrgClient>::new();
    let unblock = ServerAction::<UnblockOrgClient>::new();
    let delete = ServerAction::<DeleteOrgClient>::new();
    let trust = ServerAction::<SetOrgClientTrust>::new();
    let params = use_params_map();
    let data = Resource::new(
        move || {
            (
                block.version().get(),
                unblock.version().get(),
                trust.version().get(),
                params.read().get("id").unwrap_or_default(),
            )
        },
        |(_, _, _, id)| load_admin_client(id),
    );
    let row_result = move || {
        last_result(vec![
            (block.version().get(), block.value().get()),
            (unblock.version().get(), unblock.value().get()),
            (delete.version().get(), delete.value().get()),
            (trust.version().get(), trust.value().get()),
        ])
    };
    view! {
        <Title text="OAuth client" />
        <p class="small"><a href="/admin/oauth-clients">"← All OAuth clients"</a></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(d) => view! {
                        <Show
                            when=move || !matches!(delete.value().get(), Some(Ok(_)))
                            fallback=move || view! {
                                // Deleted (with JavaScript; without, the list shows the message).
                                <section class="panel" data-testid="client-deleted">
                                    <p class="ok" role="status">{delete.value().get().and_then(|r| r.ok())}</p>
                                    <a href="/admin/oauth-clients" class="button secondary">"All OAuth clients"</a>
                                </section>
                            }
                        >
                            {move || row_result().map(row_outcome)}
                            <ClientDetail d=d.clone() block unblock delete trust />
                        </Show>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ClientDetail(
    d: OrgClientDetail,
    block: ServerAction<BlockOrgClient>,
    unblock: ServerAction<UnblockOrgClient>,
    delete: ServerAction<DeleteOrgClient>,
    trust: ServerAction<SetOrgClientTrust>,
) -> impl IntoView {
    let c = d.client.clone();
    let public = d.auth_method == "none";
    let trust_panel = (c.owned_by_org && !public).then(|| {
        view! { <TrustPanel id=c.id.to_string() resource_server=c.resource_server pkce_optional=d.pkce_optional trust /> }
    });
    view! {
        <Title text=c.name.clone() />
        <div class="page-head">
            <h1 data-testid="client-name">{c.name.clone()}</h1>
            {c.blocked_in_org.then(|| view! { <span class="badge danger" data-testid="blocked-badge">"Revoked for this organization"</span> })}
        </div>
        {d.description.clone().map(|t| view! { <p class="lead">{t}</p> })}
        <section class="panel">
            <dl class="facts" data-testid="client-facts">
                <dt>"Client ID"</dt><dd class="mono">{c.client_id.clone()}</dd>
                <dt>"Source"</dt><dd>{c.source.label()}{d.verified.then(|| view! { " " <span class="badge">"Verified"</span> })}</dd>
                <dt>"Owner"</dt><dd>{owner_text(&c)}</dd>
                {(c.source == ClientKind::Metadata).then(|| view! {
                    <dt>"Metadata document"</dt>
                    <dd data-testid="metadata-document">
                        <span class="mono">{c.client_id.clone()}</span>
                        {c.metadata_fetched_at.map(|at| view! { <br /><span class="small muted">"last fetched " <When at=at /></span> })}
                    </dd>
                })}
                <dt>"Type"</dt><dd>{if public {
                    "Public (no client secret; PKCE only)".to_string()
                } else {
                    format!("Confidential ({}){}", d.auth_method, d.secret_last_four.as_ref().map(|l| format!(", secret ending in {l}")).unwrap_or_default())
                }}</dd>
                <dt>"Redirect URIs"</dt>
                <dd>{if c.redirect_uris.is_empty() {
                    view! { <span class="muted">"None"</span> }.into_any()
                } else {
                    view! { <ul class="list plain">{c.redirect_uris.iter().map(|u| view! { <li class="mono">{u.clone()}</li> }).collect_view()}</ul> }.into_any()
                }}</dd>
                <dt>"May ask for"</dt>
                <dd>{d.allowed_scopes.iter().map(|s| view! { <span class="badge subtle mono">{s.clone()}</span> " " }).collect_view()}</dd>
                <dt>"Granted here"</dt>
                <dd data-testid="granted-scopes">{if c.granted_scopes.is_empty() {
                    view! { <span class="muted">"Nothing yet"</span> }.into_any()
                } else {
                    c.granted_scopes.iter().map(|s| view! { <span class="badge mono">{s.clone()}</span> " " }).collect_view().into_any()
                }}</dd>
                <dt>"Grant types"</dt><dd class="mono small">{d.grant_types.join(", ")}</dd>
                {d.client_uri.clone().map(|u| view! { <dt>"Website"</dt><dd class="mono small">{u}</dd> })}
                <dt>"Registered"</dt><dd><When at=c.created_at /></dd>
                <dt>"Last used here"</dt><dd>{match c.last_used_at {
                    Some(at) => view! { <When at /> }.into_any(),
                    None => view! { <span class="muted">"Never"</span> }.into_any(),
                }}</dd>
                <dt>"Active connections"</dt><dd data-testid="active-connections">{c.active_connections}</dd>
            </dl>
            <div class="actions">
                <ClientActions c=c.clone() org_name="this organization".to_string() block unblock delete />
            </div>
        </section>
        {trust_panel}
        <section class="panel">
            <h2>"Connections in this organization"</h2>
            {if d.connections.is_empty() {
                view! { <p class="empty" data-testid="connections-empty">"No member has connected this client here."</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="client-connections">
                        <thead><tr><th>"Member"</th><th>"Scopes"</th><th>"Connected"</th><th>"Last used"</th><th>"Status"</th></tr></thead>
                        <tbody>
                            {d.connections.into_iter().map(|k| view! { <ConnectionRow k /> }).collect_view()}
                        </tbody>
                    </table>
                    <p class="muted small">"Disable, enable or revoke a single connection on the "<a href="/admin/tokens?kind=mcp_oauth_pat">"Tokens"</a>" page."</p>
                }.into_any()
            }}
        </section>
    }
}

/// What the org lets its own confidential client do beyond any client.
#[component]
fn TrustPanel(
    id: String,
    resource_server: bool,
    pkce_optional: bool,
    trust: ServerAction<SetOrgClientTrust>,
) -> impl IntoView {
    let error = action_error(trust.value());
    view! {
        <section class="panel" data-testid="client-trust">
            <h2>"Permissions"</h2>
            <p class="muted small">"Only this organization's own confidential apps can have these. Every change is recorded in the audit log."</p>
            <ActionForm action=trust>
                <CsrfField />
                <input type="hidden" name="client" value=id />
                <div class="choice">
                    <input type="checkbox" id="trust-resource-server" name="resource_server" value="on" checked=resource_server />
                    <label for="trust-resource-server" class="inline-label">
                        "Resource server"
                        <span class="muted">" — may ask "<span class="mono">"/oauth/introspect"</span>" about this organization's tokens, as they are now (role, policy, revocations)"</span>
                    </label>
                </div>
                <div class="choice">
                    <input type="checkbox" id="trust-pkce-optional" name="pkce_optional" value="on" checked=pkce_optional />
                    <label for="trust-pkce-optional" class="inline-label">
                        "May leave out PKCE"
                        <span class="muted">" — only for a connector that can't send it; its client secret still protects the code exchange"</span>
                    </label>
                </div>
                <FormError error />
                <button type="submit" class="secondary small">"Save permissions"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ConnectionRow(k: ClientConnection) -> impl IntoView {
    let badge = if k.status == ConnectionStatus::Active {
        "badge"
    } else {
        "badge subtle"
    };
    let label = match k.status {
        ConnectionStatus::Active => "Active",
        ConnectionStatus::Disabled => "Disabled",
        ConnectionStatus::Revoked => "Revoked",
    };
    view! {
        <tr data-status=k.status.as_str()>
            <td>{k.user_email.clone()}</td>
            <td>{k.scope.split_whitespace().map(|s| view! { <span class="badge subtle mono">{s.to_string()}</span> " " }).collect_view()}</td>
            <td><When at=k.created_at /></td>
            <td>{match k.last_used_at {
                Some(at) => view! { <When at /> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            }}</td>
            <td><span class=badge>{label}</span></td>
        </tr>
    }
}

/// `/admin/oauth-clients/new`: an OAuth client owned by the org; its secret is shown once.
#[component]
pub fn NewAdminClientPage() -> impl IntoView {
    let create = ServerAction::<CreateOrgClient>::new();
    let data = Resource::new(|| (), |_| load_new_client_form());
    view! {
        <Title text="New OAuth client" />
        <p class="small"><a href="/admin/oauth-clients">"← All OAuth clients"</a></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(f) => view! { <NewClientPanel f create /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Created(c: CreatedOrgClient) -> impl IntoView {
    let href = format!("/admin/oauth-clients/{}", c.id);
    view! {
        <div class="notice secret" role="status" data-testid="created-client">
            <p><strong>{format!("Created the OAuth client “{}”.", c.name)}</strong></p>
            <CopyBox value=c.client_id.clone() label="Client ID" />
            {match c.secret {
                Some(secret) => view! {
                    <CopyBox value=secret label="Client secret" />
                    <p class="small"><strong>"Copy the secret now and keep it somewhere safe: it won't be shown again."</strong>" If it is lost, delete the client and create a new one."</p>
                }.into_any(),
                None => view! {
                    <p class="small">"This is a public client: it has no secret and must use PKCE."</p>
                }.into_any(),
            }}
            <p class="small"><a href=href>"See the client's details"</a></p>
        </div>
    }
}

#[component]
fn NewClientPanel(f: NewClientForm, create: ServerAction<CreateOrgClient>) -> impl IntoView {
    let error = action_error(create.value());
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_)))
            && let Some(f) = form.get()
        {
            f.reset();
        }
    });
    let created_before = f.created.clone();
    let created = move || {
        create
            .value()
            .get()
            .and_then(|r| r.ok())
            .or_else(|| created_before.clone())
            .map(|c| view! { <Created c /> })
    };
    let hosts = f.redirect_hosts.clone();
    // A form refused without JavaScript comes back as it was typed.
    let draft = f.draft.clone();
    let public = draft.as_ref().is_some_and(|d| d.is_public());
    let ticked = draft
        .as_ref()
        .map_or_else(|| vec!["mcp:read".to_string()], |d| d.scopes.clone());
    let typed = f.draft.clone().unwrap_or_default();
    view! {
        <h1>"New OAuth client for " {f.org_name.clone()}</h1>
        {created}
        <section class="panel">
            <p class="muted">
                "An OAuth client owned by the organization, for an integration its admins run: members authorize it, and it acts for them with their role. "
                "Admins of this organization can see, revoke and delete it."
            </p>
            <ActionForm action=create node_ref=form>
                <CsrfField />
                <FormError error fields=&["name", "description", "redirect_uris", "scopes", "client_type"] />
                <label for="client-name">"Name"</label>
                <input id="client-name" name="name" type="text" required maxlength="100"
                    placeholder="Reporting bot" aria-describedby="client-name-hint" value=typed.name.clone() />
                <p class="hint" id="client-name-hint">"Members see it when they authorize the client."</p>
                <FieldError error field="name" />
                <label for="client-redirects">"Redirect URIs"</label>
                <textarea id="client-redirects" name="redirect_uris" rows="3" required
                    placeholder="https://app.example.com/oauth/callback" aria-describedby="client-redirects-hint">{typed.redirect_uris.clone()}</textarea>
                <p class="hint" id="client-redirects-hint">
                    "One per line: where the authorization code is sent. HTTPS, or http://127.0.0.1 / localhost for native apps."
                    {(!hosts.is_empty()).then(|| format!(" This organization allows only: {}.", hosts.join(", ")))}
                </p>
                <FieldError error field="redirect_uris" />
                <label for="client-description">"Description " <span class="muted">"(optional)"</span></label>
                <textarea id="client-description" name="description" rows="2" maxlength="1000">{typed.description.clone()}</textarea>
                <FieldError error field="description" />
                <fieldset class="choices">
                    <legend>"Scopes it may ask for"</legend>
                    {f.scopes.iter().map(|(scope, description)| {
                        let id = format!("client-scope-{}", scope.replace(':', "-"));
                        view! {
                            <div class="choice">
                                <input type="checkbox" id=id.clone() name="scopes[]" value=scope.clone()
                                    checked=ticked.contains(scope) />
                                <label for=id class="inline-label">
                                    <span class="mono">{scope.clone()}</span>
                                    <span class="muted">" — " {description.clone()}</span>
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <FieldError error field="scopes" />
                <fieldset class="choices">
                    <legend>"Client type"</legend>
                    <div class="choice">
                        <input type="radio" id="client-confidential" name="client_type" value="confidential" checked=!public />
                        <label for="client-confidential" class="inline-label">
                            "Confidential"<span class="muted">" — a server that can keep a client secret"</span>
                        </label>
                    </div>
                    <div class="choice">
                        <input type="radio" id="client-public" name="client_type" value="public" checked=public />
                        <label for="client-public" class="inline-label">
                            "Public"<span class="muted">" — a native, desktop or browser app (no secret; PKCE)"</span>
                        </label>
                    </div>
                </fieldset>
                <FieldError error field="client_type" />
                <button type="submit" disabled=move || create.pending().get()>"Create client"</button>
            </ActionForm>
        </section>
    }
}
