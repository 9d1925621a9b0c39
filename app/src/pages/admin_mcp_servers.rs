//! `/admin/mcp-servers`: the org's own MCP servers behind Gatehouse, for admins. Each server's
//! tools with who may call them (a role and a scope per tool), listing again on demand, edit,
//! removal after a confirmation, and a form to add one. The secret header's value is typed,
//! never shown. It works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin_mcp_servers::{
    AddMcpServer, RefreshMcpServer, RemoveMcpServer, SetMcpTool, UpdateMcpServer, load_mcp_servers,
};
use crate::components::forms::{
    CopyBox, CsrfField, FieldError, FormError, action_error, aria_invalid,
};
use crate::components::layout::ErrorPanel;
use crate::components::time::When;
use crate::error::AppError;
use crate::model::{McpServersView, Role, UpstreamPanel, UpstreamToolView};

const FIELDS: &[&str] = &[
    "name",
    "url",
    "auth_header_name",
    "auth_header_value",
    "timeout_ms",
];

#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddMcpServer>,
    update: ServerAction<UpdateMcpServer>,
    refresh: ServerAction<RefreshMcpServer>,
    remove: ServerAction<RemoveMcpServer>,
    set_tool: ServerAction<SetMcpTool>,
    /// The answer of the form submitted last, whichever it was.
    last: RwSignal<Option<Result<String, AppError>>>,
}

#[component]
pub fn AdminMcpServersPage() -> impl IntoView {
    let a = Actions {
        add: ServerAction::new(),
        update: ServerAction::new(),
        refresh: ServerAction::new(),
        remove: ServerAction::new(),
        set_tool: ServerAction::new(),
        last: RwSignal::new(None),
    };
    // Each answer becomes the page's message; one that went through reloads the page's data
    // (a refused form stays as typed).
    let changed = RwSignal::new(0u32);
    let answered = move |value: Option<Result<String, AppError>>| {
        if let Some(v) = value {
            if v.is_ok() {
                changed.update(|n| *n += 1);
            }
            a.last.set(Some(v));
        }
    };
    Effect::new(move |_| answered(a.add.value().get()));
    Effect::new(move |_| answered(a.update.value().get()));
    Effect::new(move |_| answered(a.refresh.value().get()));
    Effect::new(move |_| answered(a.remove.value().get()));
    Effect::new(move |_| answered(a.set_tool.value().get()));
    let data = Resource::new(move || changed.get(), |_| load_mcp_servers());
    view! {
        <Title text="MCP servers" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(v) => view! { <McpServers v a /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The latest outcome of any of the page's forms.
fn outcome(a: Actions) -> impl IntoView {
    move || {
        a.last.get().map(|r| match r {
            Ok(msg) => view! { <p class="ok" role="status" data-testid="mcp-result">{msg}</p> }.into_any(),
            Err(e) if e.field().is_some() => view! {
                <p class="form-error" role="alert" data-testid="mcp-result">
                    "Nothing was saved: correct the field marked below."
                </p>
            }
            .into_any(),
            Err(e) => view! { <p class="form-error" role="alert" data-testid="mcp-result">{e.to_string()}</p> }
                .into_any(),
        })
    }
}

#[component]
fn McpServers(v: McpServersView, a: Actions) -> impl IntoView {
    let org_name = v.org.name.clone();
    let servers = v.servers.clone();
    let empty = servers.is_empty();
    view! {
        <h1>"MCP servers"</h1>
        <p class="muted lead-small">
            "Put your own MCP servers behind Gatehouse: their tools join Gatehouse's at "
            <strong>{org_name.clone()}</strong>
            "'s MCP endpoint, named after the server (crm__find_contact), for the members whose role and token allow each tool. "
            "Every call tells the server who is calling with a short-lived signed token, and is recorded in the "
            <a href="/admin/audit">"audit log"</a> "."
        </p>
        {outcome(a)}
        <section class="panel" aria-labelledby="mcp-how">
            <h2 id="mcp-how">"How your server checks who is calling"</h2>
            <p>
                "Gatehouse sends each call with Authorization: Bearer and a JWT it signs (EdDSA): issuer this Gatehouse, audience your server's URL, "
                "sub the member, and their email, org and role now. Verify it with any JOSE library against these keys; the client's own token never reaches your server."
            </p>
            <CopyBox value=v.jwks_url.clone() label="Gatehouse's public keys (JWKS)" />
            <CopyBox value=v.endpoint.clone() label="Where your members connect" />
            <p class="hint">{v.hosts_rule.clone()}</p>
        </section>
        {empty.then(|| view! {
            <section class="panel" data-testid="mcp-empty">
                <p class="muted">"No MCP servers yet. Add the first one below: its tools appear for your members as soon as it answers."</p>
            </section>
        })}
        {servers.into_iter().map(|p| view! { <ServerPanel p a /> }).collect_view()}
        <AddServer v a />
    }
}

#[component]
fn ServerPanel(p: UpstreamPanel, a: Actions) -> impl IntoView {
    let s = p.server.clone();
    let id = s.id.to_string();
    let name = s.name.clone();
    let heading_id = format!("mcp-{}", s.name);
    let present: Vec<UpstreamToolView> = p.tools.iter().filter(|t| t.present).cloned().collect();
    let gone: Vec<UpstreamToolView> = p.tools.iter().filter(|t| !t.present).cloned().collect();
    let no_tools = present.is_empty();
    let (refresh_id, remove_id, edit_id) = (id.clone(), id.clone(), id.clone());
    let timeout_secs = (s.timeout_ms / 1000).to_string();
    let confirm = format!(
        "Remove {name}? Its tools disappear for every member at once; the server itself is not touched."
    );
    let remove_label = format!("Remove {name}");
    let gone_names = gone
        .iter()
        .map(|t| t.exposed_as.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let (label_id, data_name) = (heading_id.clone(), name.clone());
    view! {
        <section class="panel" aria-labelledby=label_id data-testid="mcp-server" data-name=data_name>
            <h2 id=heading_id>
                {name.clone()} " "
                <span class="badge" class:subtle=!s.enabled>{if s.enabled { "On" } else { "Off" }}</span>
            </h2>
            <dl class="facts">
                <dt>"Endpoint"</dt><dd class="mono">{s.url.clone()}</dd>
                <dt>"Secret header"</dt><dd class="mono">{s.auth_header_name.clone().unwrap_or_else(|| "none".into())}</dd>
                <dt>"Timeout"</dt><dd>{format!("{} s", s.timeout_ms / 1000)}</dd>
                <dt>"Tools listed"</dt><dd>{match s.tools_refreshed_at {
                    Some(at) => view! { <When at /> }.into_any(),
                    None => view! { <span class="muted">"never"</span> }.into_any(),
                }}</dd>
            </dl>
            {s.last_error.clone().map(|e| view! {
                <p class="form-error" role="alert" data-testid="mcp-last-error">{format!("The last listing failed: {e}")}</p>
            })}
            <ActionForm action=a.refresh attr:class="inline">
                <CsrfField />
                <input type="hidden" name="id" value=refresh_id />
                <button type="submit" class="secondary small">"List its tools again"</button>
            </ActionForm>
            {if no_tools {
                view! { <p class="muted" data-testid="mcp-no-tools">"No tools listed yet."</p> }.into_any()
            } else {
                view! {
                    <table class="list">
                        <thead><tr><th scope="col">"Tool"</th><th scope="col">"Who may call it"</th></tr></thead>
                        <tbody>
                            {present.into_iter().map(|t| view! { <ToolRow id=id.clone() t a /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {(!gone.is_empty()).then(|| view! {
                <p class="hint">{format!("No longer listed by the server (hidden, their settings kept): {gone_names}")}</p>
            })}
            <details class="confirm">
                <summary>"Edit…"</summary>
                <ActionForm action=a.update attr:class="settings-form" attr:novalidate=true>
                    <CsrfField />
                    <input type="hidden" name="id" value=edit_id />
                    <ServerFields name=s.name.clone() url=s.url.clone()
                        header=s.auth_header_name.clone().unwrap_or_default() timeout=timeout_secs
                        error=action_error(a.update.value()) editing=true />
                    <div class="choice">
                        <input type="checkbox" id=format!("enabled-{}", s.name) name="enabled" value="on"
                            checked=s.enabled prop:checked=s.enabled />
                        <label for=format!("enabled-{}", s.name) class="inline-label">"Switched on"</label>
                    </div>
                    <button type="submit">"Save"</button>
                </ActionForm>
            </details>
            <details class="confirm">
                <summary class="danger-link">"Remove…"</summary>
                <ActionForm action=a.remove>
                    <CsrfField />
                    <input type="hidden" name="id" value=remove_id />
                    <p>{confirm}</p>
                    <button type="submit" class="danger small">{remove_label}</button>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn ToolRow(id: String, t: UpstreamToolView, a: Actions) -> impl IntoView {
    let reset_id = id.clone();
    let tool = t.name.clone();
    let reset_tool = t.name.clone();
    let role_id = format!("role-{}", t.exposed_as);
    let scope_id = format!("scope-{}", t.exposed_as);
    let role_label = format!("Least role for {}", t.exposed_as);
    let scope_label = format!("Scope for {}", t.exposed_as);
    let exposed = t.exposed_as.clone();
    view! {
        <tr data-tool=exposed>
            <td>
                <strong class="mono">{t.exposed_as.clone()}</strong>
                {t.destructive.then(|| view! { " " <span class="badge">"Destructive"</span> })}
                {t.description.clone().map(|d| view! { <div class="muted small">{d}</div> })}
            </td>
            <td>
                <ActionForm action=a.set_tool attr:class="inline">
                    <CsrfField />
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="tool" value=tool />
                    <label for=role_id.clone() class="visually-hidden">{role_label}</label>
                    <select id=role_id name="min_role">
                        {Role::ALL.into_iter().map(|r| {
                            let selected = r == t.min_role;
                            view! { <option value=r.as_str() selected=selected prop:selected=selected>{format!("{} and up", r.label())}</option> }
                        }).collect_view()}
                    </select>
                    <label for=scope_id.clone() class="visually-hidden">{scope_label}</label>
                    <select id=scope_id name="scope">
                        {["mcp:read", "mcp:write"].into_iter().map(|sc| {
                            let selected = sc == t.scope;
                            view! { <option value=sc selected=selected prop:selected=selected>{format!("with {sc}")}</option> }
                        }).collect_view()}
                    </select>
                    <button type="submit" class="small">"Save"</button>
                </ActionForm>
                {t.policy_set.then(|| view! {
                    <ActionForm action=a.set_tool attr:class="inline">
                        <CsrfField />
                        <input type="hidden" name="id" value=reset_id />
                        <input type="hidden" name="tool" value=reset_tool />
                        <input type="hidden" name="reset" value="on" />
                        <button type="submit" class="secondary small">"Use the default"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

/// The fields a server is saved with (adding or editing).
#[component]
fn ServerFields(
    name: String,
    url: String,
    header: String,
    timeout: String,
    error: Signal<Option<AppError>>,
    editing: bool,
) -> impl IntoView {
    // Ids apart per form: the add form and every server's edit form are on one page.
    let key = if editing {
        format!("-{name}")
    } else {
        String::new()
    };
    let id = move |f: &str| format!("{f}{key}");
    let secret_hint = if editing {
        "Leave it empty to keep the stored value; it is never shown. Without a header name, no header is sent."
    } else {
        "Sent with every call, stored encrypted and never shown again. Leave both empty for a server on your private network."
    };
    view! {
        <label for=id("name")>"Name"</label>
        <input type="text" id=id("name") name="name" value=name.clone() prop:value=name class="mono" autocomplete="off"
            aria-invalid=move || aria_invalid(error, "name") />
        <p class="hint">"Lower-case letters, digits and single underscores: it prefixes the server's tools (crm__find_contact)."</p>
        <FieldError error field="name" />
        <label for=id("url")>"Endpoint (Streamable HTTP)"</label>
        <input type="url" id=id("url") name="url" value=url.clone() prop:value=url class="mono" autocomplete="off"
            aria-invalid=move || aria_invalid(error, "url") />
        <FieldError error field="url" />
        <label for=id("auth_header_name")>"Secret header name"</label>
        <input type="text" id=id("auth_header_name") name="auth_header_name" value=header.clone() prop:value=header class="mono"
            autocomplete="off" placeholder="X-Api-Key" aria-invalid=move || aria_invalid(error, "auth_header_name") />
        <FieldError error field="auth_header_name" />
        <label for=id("auth_header_value")>"Secret header value"</label>
        <input type="password" id=id("auth_header_value") name="auth_header_value" autocomplete="new-password" class="mono"
            aria-invalid=move || aria_invalid(error, "auth_header_value") />
        <p class="hint">{secret_hint}</p>
        <FieldError error field="auth_header_value" />
        <label for=id("timeout_secs")>"Timeout (seconds)"</label>
        <input type="number" id=id("timeout_secs") name="timeout_secs" min="1" max="120" value=timeout.clone() prop:value=timeout
            aria-invalid=move || aria_invalid(error, "timeout_ms") />
        <FieldError error field="timeout_ms" />
    }
}

#[component]
fn AddServer(v: McpServersView, a: Actions) -> impl IntoView {
    let error = action_error(a.add.value());
    let f = v.form.clone();
    view! {
        <ActionForm action=a.add attr:class="settings-form" attr:novalidate=true>
            <CsrfField />
            <section class="panel" aria-labelledby="mcp-add">
                <h2 id="mcp-add">"Add an MCP server"</h2>
                <FormError error fields=FIELDS />
                <ServerFields name=f.name url=f.url header=f.auth_header_name timeout=f.timeout_secs error editing=false />
                <p class="hint">"Its tools are listed at once: read-only ones open to queriers with mcp:read, ones marked destructive to admins with mcp:write. Change that per tool afterwards."</p>
                <div class="form-footer">
                    <button type="submit" disabled=move || a.add.pending().get()>"Add MCP server"</button>
                </div>
            </section>
        </ActionForm>
    }
}
