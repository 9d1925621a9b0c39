//! `/admin/sso`: the org's single sign-on (OpenID Connect), for admins. One form; the client
//! secret is write-only (typed once, never shown again); removing asks first. It works without
//! JavaScript, and a refused form comes back with what was typed and the message by the field.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin_sso::{RemoveSso, SaveSso, load_sso_settings};
use crate::components::forms::{
    CopyBox, CsrfField, FieldError, FormError, action_error, aria_invalid,
};
use crate::components::layout::ErrorPanel;
use crate::components::time::When;
use crate::error::AppError;
use crate::model::{Role, SsoSettingsView};

const FIELDS: &[&str] = &[
    "issuer",
    "client_id",
    "client_secret",
    "domains",
    "default_role",
    "assertion_clients",
    "assertion_ttl_mins",
];

#[component]
pub fn AdminSsoPage() -> impl IntoView {
    let save = ServerAction::<SaveSso>::new();
    let remove = ServerAction::<RemoveSso>::new();
    // Reload after a change that went through only: a refused form stays as typed.
    let changed = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) || matches!(remove.value().get(), Some(Ok(_)))
        {
            changed.update(|n| *n += 1);
        }
    });
    let data = Resource::new(move || changed.get(), |_| load_sso_settings());
    view! {
        <Title text="Single sign-on" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(v) => view! { <SsoSettings v save remove /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SsoSettings(
    v: SsoSettingsView,
    save: ServerAction<SaveSso>,
    remove: ServerAction<RemoveSso>,
) -> impl IntoView {
    let error = action_error(save.value());
    // With JavaScript the page stays: the secret leaves the field once it is saved.
    let secret = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_)))
            && let Some(input) = secret.get()
        {
            input.set_value("");
        }
    });
    let result = move || {
        let saved = save.value().get().map(|r| match r {
            Ok(msg) => {
                view! { <p class="ok" role="status" data-testid="sso-result">{msg}</p> }.into_any()
            }
            Err(e) if e.field().is_some() => view! {
                <p class="form-error" role="alert" data-testid="sso-result">
                    "Nothing was saved: correct the field marked below."
                </p>
            }
            .into_any(),
            Err(_) => ().into_any(),
        });
        let removed = remove.value().get().map(|r| match r {
            Ok(msg) => view! { <p class="ok" role="status" data-testid="sso-result">{msg}</p> }
                .into_any(),
            Err(e) => view! { <p class="form-error" role="alert" data-testid="sso-result">{e.to_string()}</p> }
                .into_any(),
        });
        (saved, removed)
    };
    let f = v.form.clone();
    let org_name = v.org.name.clone();
    let status = match &v.saved {
        None => view! {
            <p class="muted" data-testid="sso-status">
                "Not set up: members sign in with their Gatehouse password."
            </p>
        }
        .into_any(),
        Some(s) => {
            let state = if !s.enabled {
                "Switched off: members sign in with their password."
            } else if s.require_sso {
                "On and required: members with these addresses must sign in through the provider."
            } else {
                "On: members with these addresses may sign in through the provider."
            };
            view! {
                <p data-testid="sso-status">
                    <span class="badge" class:subtle=!s.enabled>{if s.enabled { "On" } else { "Off" }}</span>
                    " " {state}
                </p>
                <dl class="facts">
                    <dt>"Provider"</dt><dd class="mono">{s.issuer.clone()}</dd>
                    <dt>"Email domains"</dt><dd class="mono" data-testid="sso-domains">{s.domains.join(", ")}</dd>
                    <dt>"First-time members get"</dt><dd>{s.default_role.label()}</dd>
                    <dt>"Identity assertions"</dt>
                    <dd data-testid="sso-assertions">{
                        if !s.assertions.enabled {
                            "Off: the provider can't grant MCP access.".to_string()
                        } else if s.assertions.clients.is_empty() {
                            "On, for any client.".to_string()
                        } else {
                            format!("On, for {}.", s.assertions.clients.join(", "))
                        }
                    }</dd>
                    <dt>"Last changed"</dt><dd><When at=s.updated_at /></dd>
                </dl>
                <CopyBox value=v.sign_in_url.clone() label="Sign-in link for your members" />
            }
            .into_any()
        }
    };
    let configured = v.saved.is_some();
    let secret_hint = if configured {
        "Stored encrypted and never shown again. Leave it empty to keep the stored secret."
    } else {
        "The secret the provider gave Gatehouse. Stored encrypted; it is never shown again."
    };
    view! {
        <h1>"Single sign-on"</h1>
        <p class="muted lead-small">
            "Members of " <strong>{org_name.clone()}</strong>
            " sign in through your company's identity provider (Okta, Entra ID, Google Workspace, Keycloak, or any OpenID Connect provider). "
            "A person who signs in there for the first time joins with the role you choose. Changes apply from the next sign-in and are recorded in the "
            <a href="/admin/audit">"audit log"</a> "."
        </p>
        {result}
        <section class="panel" aria-labelledby="sso-now">
            <h2 id="sso-now">"Status"</h2>
            {status}
        </section>
        <section class="panel" aria-labelledby="sso-register">
            <h2 id="sso-register">"At your provider"</h2>
            <p>"Create an OpenID Connect web application (authorization code flow, a client secret) with this redirect URI, and allow the scopes openid, email and profile:"</p>
            <CopyBox value=v.redirect_uri.clone() label="Redirect URI" />
        </section>
        <ActionForm action=save attr:class="settings-form" attr:novalidate=true>
            <CsrfField />
            <FormError error fields=FIELDS />
            <section class="panel" aria-labelledby="sso-connection">
                <h2 id="sso-connection">"Connection"</h2>
                <TextField id="issuer" label="Issuer URL" value=f.issuer.clone() error kind="url"
                    hint="The provider's issuer, such as https://login.example.com/realms/acme; its discovery document is at /.well-known/openid-configuration under it." />
                <TextField id="client_id" label="Client ID" value=f.client_id.clone() error kind="text"
                    hint="The client ID the provider gave Gatehouse." />
                <label for="client_secret">"Client secret"</label>
                <input type="password" id="client_secret" name="client_secret" autocomplete="new-password" node_ref=secret
                    class="mono" aria-describedby="client_secret-hint client_secret-error"
                    aria-invalid=move || aria_invalid(error, "client_secret") />
                <p class="hint" id="client_secret-hint">{secret_hint}</p>
                <FieldError error field="client_secret" />
            </section>
            <section class="panel" aria-labelledby="sso-who">
                <h2 id="sso-who">"Who signs in here"</h2>
                <label for="domains">"Email domains"</label>
                <textarea id="domains" name="domains" rows="3" spellcheck="false" autocomplete="off" class="mono"
                    prop:value=f.domains.clone() aria-invalid=move || aria_invalid(error, "domains")
                    aria-describedby="domains-hint domains-error">
                    {f.domains.clone()}
                </textarea>
                <p class="hint" id="domains-hint">
                    {format!(
                        "One per line. People with these addresses are sent to the provider from the sign-in page. \
                         You can name the domain of your own verified address ({}) and its subdomains; \
                         a domain belongs to one organization.",
                        v.own_domain
                    )}
                </p>
                <FieldError error field="domains" />
                <label for="default_role">"Role of a first-time member"</label>
                <select id="default_role" name="default_role" aria-describedby="default_role-hint default_role-error"
                    aria-invalid=move || aria_invalid(error, "default_role")>
                    {Role::ALL.into_iter().filter(|r| *r != Role::Admin).map(|r| {
                        let selected = f.default_role == r.as_str();
                        view! { <option value=r.as_str() selected=selected prop:selected=selected>{r.label()}</option> }
                    }).collect_view()}
                </select>
                <p class="hint" id="default_role-hint">
                    "What someone the provider lets in gets the first time; promote people on the "
                    <a href="/admin/members">"members page"</a> ". Existing members keep their role."
                </p>
                <FieldError error field="default_role" />
                <Toggle id="require_sso" label="Require single sign-on" checked=f.require_sso>
                    "Members with an address of these domains can't sign in with a password any more; the sign-in page tells them where to go. Members with other addresses are not affected."
                </Toggle>
                <Toggle id="enabled" label="Switched on" checked=f.enabled>
                    "Off keeps the settings but signs nobody in through the provider."
                </Toggle>
            </section>
            <section class="panel" aria-labelledby="sso-assertions">
                <h2 id="sso-assertions">"MCP access granted by the provider"</h2>
                <p class="muted">
                    "With enterprise-managed authorization (identity assertions, ID-JAG), an MCP client your people are signed in to asks the provider, not each person, for access: "
                    "the provider decides who may use which client, and Gatehouse issues a token for the member's role without a consent screen. "
                    "Set the provider up to issue assertions with this audience and resource:"
                </p>
                <CopyBox value=v.assertion_audience.clone() label="Audience (aud): this server's issuer" />
                <CopyBox value=v.assertion_resource.clone() label="Resource: your organization's MCP endpoint" />
                <Toggle id="assertion_grants" label="Let this identity provider grant MCP access" checked=f.assertion_grants>
                    "Only members linked to the provider (they signed in through it once) get access, with their role here. Switching this off ends every connection the provider granted."
                </Toggle>
                <label for="assertion_clients">"Clients allowed"</label>
                <textarea id="assertion_clients" name="assertion_clients" rows="3" spellcheck="false" autocomplete="off" class="mono"
                    prop:value=f.assertion_clients.clone() aria-invalid=move || aria_invalid(error, "assertion_clients")
                    aria-describedby="assertion_clients-hint assertion_clients-error">
                    {f.assertion_clients.clone()}
                </textarea>
                <p class="hint" id="assertion_clients-hint">
                    "One client ID per line (see OAuth clients); leave it empty to allow any client that authenticates with a secret. "
                    "The provider names the client in each assertion, and it must match the client presenting it."
                </p>
                <FieldError error field="assertion_clients" />
                <label for="assertion_ttl_mins">"Longest access-token lifetime (minutes)"</label>
                <input type="number" id="assertion_ttl_mins" name="assertion_ttl_mins" min="1" max="1440"
                    value=f.assertion_ttl_mins.clone() prop:value=f.assertion_ttl_mins.clone()
                    aria-describedby="assertion_ttl_mins-hint assertion_ttl_mins-error"
                    aria-invalid=move || aria_invalid(error, "assertion_ttl_mins") />
                <p class="hint" id="assertion_ttl_mins-hint">
                    "Never longer than the organization's own access-token lifetime. When it ends, the client asks the provider for a fresh assertion."
                </p>
                <FieldError error field="assertion_ttl_mins" />
                <Toggle id="assertion_refresh" label="Also issue refresh tokens" checked=f.assertion_refresh>
                    "Off (recommended): access ends when the token does unless the provider grants it again, so offboarding in the provider takes effect within the lifetime above."
                </Toggle>
                <Toggle id="assertion_create_members" label="Add people the provider vouches for as members" checked=f.assertion_create_members>
                    "A person not yet linked joins with the first-time role when the assertion carries their address in one of the domains above; an account that belongs elsewhere is never taken over."
                </Toggle>
            </section>
            <div class="form-footer">
                <button type="submit" disabled=move || save.pending().get()>"Save single sign-on"</button>
            </div>
        </ActionForm>
        {configured.then(|| view! {
            <section class="panel danger-zone" aria-labelledby="sso-remove">
                <h2 id="sso-remove">"Remove single sign-on"</h2>
                <details class="confirm">
                    <summary class="danger-link">"Remove…"</summary>
                    <ActionForm action=remove>
                        <CsrfField />
                        <p>{format!(
                            "Remove the single sign-on of {org_name}? Members sign in with a Gatehouse password again; \
                             people who only ever signed in through the provider set one with “Forgot your password?”. \
                             Their accounts and roles stay."
                        )}</p>
                        <button type="submit" class="danger small">"Remove single sign-on"</button>
                    </ActionForm>
                </details>
            </section>
        })}
    }
}

#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    value: String,
    error: Signal<Option<AppError>>,
    kind: &'static str,
    hint: &'static str,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <label for=id>{label}</label>
        <input type=kind id=id name=id value=value.clone() prop:value=value autocomplete="off"
            spellcheck="false" class="mono" aria-describedby=format!("{hint_id} {id}-error")
            aria-invalid=move || aria_invalid(error, id) />
        <p class="hint" id=hint_id>{hint}</p>
        <FieldError error field=id />
    }
}

/// A checkbox with its label and the sentence that says what it does.
#[component]
fn Toggle(
    id: &'static str,
    label: &'static str,
    checked: bool,
    children: Children,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="choice">
            <input type="checkbox" id=id name=id value="on" checked=checked prop:checked=checked
                aria-describedby=hint_id.clone() />
            <label for=id class="inline-label">{label}</label>
        </div>
        <p class="hint" id=hint_id>{children()}</p>
    }
}
