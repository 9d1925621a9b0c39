//! `/admin/settings`: the org policy, for admins. One form, saved at once; it works without
//! JavaScript, and a refused form comes back with what was typed and the message by the field.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin_settings::{UpdateOrgSettings, load_org_settings};
use crate::components::forms::{CsrfField, FieldError, FormError, action_error, aria_invalid};
use crate::components::layout::ErrorPanel;
use crate::error::AppError;
use crate::model::{OrgSettingsView, TwoFactorPolicy};

const FIELDS: &[&str] = &[
    "allowed_redirect_hosts",
    "access_token_ttl_minutes",
    "refresh_token_ttl_days",
    "pat_max_ttl_days",
    "two_factor_policy",
    "allowed_client_domains",
    "blocked_client_domains",
];

#[component]
pub fn AdminSettingsPage() -> impl IntoView {
    let update = ServerAction::<UpdateOrgSettings>::new();
    // Reload the settings after a successful save only: a refused form stays as typed.
    let saved = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(update.value().get(), Some(Ok(_))) {
            saved.update(|n| *n += 1);
        }
    });
    let data = Resource::new(move || saved.get(), |_| load_org_settings());
    view! {
        <Title text="Organization settings" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(v) => view! { <SettingsForm v update /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SettingsForm(v: OrgSettingsView, update: ServerAction<UpdateOrgSettings>) -> impl IntoView {
    let error = action_error(update.value());
    let result = move || {
        update.value().get().map(|r| match r {
            Ok(msg) => {
                view! { <p class="ok" role="status" data-testid="settings-result">{msg}</p> }
                    .into_any()
            }
            Err(e) if e.field().is_some() => view! {
                <p class="form-error" role="alert" data-testid="settings-result">
                    "Nothing was saved: correct the field marked below."
                </p>
            }
            .into_any(),
            Err(_) => ().into_any(),
        })
    };
    let f = v.form.clone();
    let on = v.saved.clone();
    let hosts_now = if v.allowed_redirect_hosts.is_empty() {
        "any host".to_string()
    } else {
        v.allowed_redirect_hosts.join(", ")
    };
    let (amin, amax) = v.access_token_minutes;
    let (rmin, rmax) = v.refresh_token_days;
    let (pmin, pmax) = v.pat_days;
    view! {
        <h1>"Settings of " {v.org.name.clone()}</h1>
        <p class="muted lead-small">
            "Which ways into " <strong>{v.org.name.clone()}</strong>
            " are open, where OAuth apps may send people back, and how long tokens live. "
            "Changes apply from the next request and are recorded in the "
            <a href="/admin/audit">"audit log"</a> "."
        </p>
        {result}
        <ActionForm action=update attr:class="settings-form" attr:novalidate=true>
            <CsrfField />
            <FormError error fields=FIELDS />
            <section class="panel" aria-labelledby="settings-mcp">
                <h2 id="settings-mcp">"MCP server"</h2>
                <Switch id="mcp_enabled" label="MCP server access" checked=f.mcp_enabled saved=on.mcp_enabled
                    on_text="MCP clients, with OAuth or a personal token, can use the organization's MCP endpoint:"
                    code=v.mcp_url.clone()
                    off_text=v.mcp_off_message.clone() />
            </section>
            <section class="panel" aria-labelledby="settings-api">
                <h2 id="settings-api">"API access"</h2>
                <Switch id="personal_tokens_enabled" label="Personal tokens" checked=f.personal_tokens_enabled saved=on.personal_tokens_enabled
                    on_text="Members (restricted querier and up) can create standard personal access tokens (API keys) for scripts and MCP clients without OAuth, and those tokens work. Switched off, existing tokens stop working until it is on again."
                    off_text=v.personal_tokens_off_message.clone() />
                <Switch id="mcp_oauth_pats_enabled" label="MCP OAuth PATs" checked=f.mcp_oauth_pats_enabled saved=on.mcp_oauth_pats_enabled
                    on_text="Any member, viewers included, can connect an MCP client by signing in with OAuth: Gatehouse creates an MCP OAuth PAT for that client, with the member's own permissions. Switched off, connected clients stop working until it is on again."
                    off_text=v.mcp_oauth_pats_off_message.clone() />
            </section>
            <section class="panel" aria-labelledby="settings-apps">
                <h2 id="settings-apps">"OAuth apps"</h2>
                <Switch id="dynamic_registration_enabled" label="Dynamic client registration" checked=f.dynamic_registration_enabled saved=on.dynamic_registration_enabled
                    on_text="MCP clients such as Claude, ChatGPT or Cursor may register themselves (RFC 7591) and connect to this organization once a member consents."
                    off_text=v.dynamic_registration_off_message.clone() />
                <Switch id="metadata_clients_enabled" label="Apps with a metadata document" checked=f.metadata_clients_enabled saved=on.metadata_clients_enabled
                    on_text="MCP clients that identify themselves with a client ID metadata document (an https URL as client ID, the way Claude and current MCP SDKs connect) may connect once a member consents. The consent screen names them by the domain that serves the document."
                    off_text=v.metadata_clients_off_message.clone() />
                <DomainsField id="allowed_client_domains" label="Allowed app domains" value=f.allowed_client_domains.clone() error
                    hint="One per line, such as claude.ai (a domain covers its subdomains). Apps with a metadata document may connect only from these; leave it empty to allow any domain." />
                <DomainsField id="blocked_client_domains" label="Blocked app domains" value=f.blocked_client_domains.clone() error
                    hint="One per line. Apps with a metadata document from these domains can't connect, and their existing connections stop working." />
                <label for="allowed_redirect_hosts">"Allowed redirect hosts"</label>
                // The text for the server's render, the property for the browser's redraw after
                // a save (a field someone typed in no longer follows its text or attribute).
                <textarea id="allowed_redirect_hosts" name="allowed_redirect_hosts" rows="4"
                    spellcheck="false" autocomplete="off" class="mono"
                    prop:value=f.allowed_redirect_hosts.clone()
                    aria-invalid=move || aria_invalid(error, "allowed_redirect_hosts")
                    aria-describedby="allowed_redirect_hosts-hint allowed_redirect_hosts-error">
                    {f.allowed_redirect_hosts.clone()}
                </textarea>
                <p class="hint" id="allowed_redirect_hosts-hint">
                    {format!(
                        "One per line, at most {}: a host like claude.ai means https://claude.ai; give the scheme for \
                         anything else, like cursor://anysphere.cursor-mcp or http://localhost (no path or port). \
                         OAuth apps may send members back only to these; leave it empty to allow any. Now: ",
                        v.max_redirect_hosts
                    )}
                    <span data-testid="hosts-now">{hosts_now}</span> "."
                </p>
                <FieldError error field="allowed_redirect_hosts" />
            </section>
            <section class="panel" aria-labelledby="settings-lifetimes">
                <h2 id="settings-lifetimes">"Token lifetimes"</h2>
                <div class="fields-grid">
                    <NumberField id="access_token_ttl_minutes" label="Access token lifetime" unit="minutes"
                        value=f.access_token_ttl_minutes.clone() min=amin max=amax error
                        hint=format!("How long an OAuth access token works before the client refreshes it. Now: {}.", v.access_token_ttl) />
                    <NumberField id="refresh_token_ttl_days" label="Refresh token lifetime" unit="days"
                        value=f.refresh_token_ttl_days.clone() min=rmin max=rmax error
                        hint=format!("How long a connected client may stay signed in without being used. Now: {}.", v.refresh_token_ttl) />
                    <NumberField id="pat_max_ttl_days" label="Longest personal token lifetime" unit="days"
                        value=f.pat_max_ttl_days.clone() min=pmin max=pmax error
                        hint=format!("The longest expiry members may choose for a personal token. Existing tokens keep theirs. Now: {}.", v.pat_max_ttl) />
                </div>
            </section>
            <section class="panel" aria-labelledby="settings-two-factor" id="two-factor">
                <h2 id="settings-two-factor">"Two-factor sign-in"</h2>
                <fieldset class="choices" aria-describedby="two_factor_policy-hint two_factor_policy-error">
                    <legend>"Who must use two-factor sign-in to work in this organization"</legend>
                    {TwoFactorPolicy::ALL.into_iter().map(|p| {
                        let id = format!("two_factor_policy-{}", p.as_str());
                        let checked = f.two_factor_policy == p.as_str();
                        view! {
                            <div class="choice">
                                <input type="radio" id=id.clone() name="two_factor_policy" value=p.as_str() checked=checked prop:checked=checked />
                                <label for=id class="inline-label">{p.label()}</label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <p class="hint" id="two_factor_policy-hint">
                    "A member it applies to who hasn't turned on two-factor sign-in is sent to set it up before any page of this organization,                      and their tokens and connections here stop working until they do. The members page shows who has it. Now: "
                    <span data-testid="two-factor-now">{TwoFactorPolicy::parse(&on.two_factor_policy).unwrap_or_default().label()}</span> "."
                </p>
                <FieldError error field="two_factor_policy" />
            </section>
            <div class="form-footer">
                <button type="submit" disabled=move || update.pending().get()>"Save settings"</button>
            </div>
        </ActionForm>
    }
}

/// A switch (a checkbox) with what it does when on and what members are told when it is off.
#[component]
fn Switch(
    id: &'static str,
    label: &'static str,
    /// As in the form (a refused form keeps what was typed).
    checked: bool,
    /// As saved.
    saved: bool,
    on_text: &'static str,
    #[prop(optional, into)] code: Option<String>,
    off_text: String,
) -> impl IntoView {
    let hint = format!("{id}-hint");
    view! {
        <div class="switch" data-testid=format!("switch-{id}")>
            <div class="switch-control">
                <input type="checkbox" id=id name=id value="on" checked=checked prop:checked=checked
                    aria-describedby=hint.clone() />
                <label for=id class="inline-label switch-label">{label}</label>
                <span class="badge" class:subtle=!saved data-testid="state" title="As saved">{if saved { "On" } else { "Off" }}</span>
            </div>
            <div class="hint" id=hint>
                <p>"On: " {on_text} {code.map(|c| view! { " " <span class="mono">{c}</span> })}</p>
                <p>"Off: members are told “" <span data-testid="off-message">{off_text}</span> "”"</p>
            </div>
        </div>
    }
}

#[component]
fn NumberField(
    id: &'static str,
    label: &'static str,
    unit: &'static str,
    value: String,
    min: i64,
    max: i64,
    error: Signal<Option<AppError>>,
    hint: String,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id>{label} <span class="muted">{format!(" ({unit})")}</span></label>
            <input type="number" id=id name=id value=value.clone() prop:value=value min=min.to_string() max=max.to_string()
                step="1" inputmode="numeric" required aria-describedby=format!("{hint_id} {id}-error")
                aria-invalid=move || aria_invalid(error, id) />
            <p class="hint" id=hint_id>{hint} {format!(" Between {min} and {max} {unit}.")}</p>
            <FieldError error field=id />
        </div>
    }
}

/// A list of domains, one per line.
#[component]
fn DomainsField(
    id: &'static str,
    label: &'static str,
    value: String,
    error: Signal<Option<AppError>>,
    hint: &'static str,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let text = value.clone();
    view! {
        <label for=id>{label}</label>
        <textarea id=id name=id rows="3" spellcheck="false" autocomplete="off" class="mono"
            prop:value=text aria-invalid=move || aria_invalid(error, id)
            aria-describedby=format!("{hint_id} {id}-error")>
            {value}
        </textarea>
        <p class="hint" id=hint_id>{hint}</p>
        <FieldError error field=id />
    }
}
