use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::consent::{DecideConsent, load_consent};
use crate::components::forms::{CsrfField, FormError, action_error};
use crate::components::layout::ErrorPanel;
use crate::components::time::When;
use crate::model::ConsentView;

/// The consent screen: who is asking, where the answer goes, as whom, in which organization,
/// for what. A plain form: Authorize and Deny both end in a redirect to the app.
#[component]
pub fn ConsentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, load_consent);
    // Errors of a previous submission come back in the URL (no-JS form post).
    let decide = ServerAction::<DecideConsent>::new();
    let error = action_error(decide.value());
    view! {
        <Title text="Authorize app" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(v) => view! { <ConsentForm v error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConsentForm(v: ConsentView, error: Signal<Option<crate::error::AppError>>) -> impl IntoView {
    let any_allowed = v.orgs.iter().any(|o| o.blocked.is_none());
    let blocked_messages: Vec<String> = v.orgs.iter().filter_map(|o| o.blocked.clone()).collect();
    let single = v.orgs.len() == 1;
    view! {
        <section class="panel narrow consent" data-testid="consent">
            {match v.vouched_by.clone() {
                Some(host) => view! {
                    <h1>{format!("{host} wants to access your Gatehouse account")}</h1>
                    <p data-testid="vouched-by">
                        "The app's description comes from " <strong class="mono">{host.clone()}</strong>
                        ", which calls it “" <span data-testid="claimed-name">{v.client_name.clone()}</span> "”. "
                        "Only the domain is confirmed: continue if you expect an app from " {host} "."
                    </p>
                }.into_any(),
                None => view! {
                    <h1>{format!("{} wants to access your Gatehouse account", v.client_name)}</h1>
                }.into_any(),
            }}
            {if v.verified {
                view! { <p><span class="badge">"Verified app"</span></p> }.into_any()
            } else if v.vouched_by.is_some() {
                ().into_any()
            } else {
                view! {
                    <p class="notice warning" data-testid="unverified">
                        <strong>"Unverified app. "</strong>
                        {if v.dynamic { "It registered itself, so Gatehouse can't confirm who made it." } else { "Gatehouse hasn't verified who made it." }}
                        " Only continue if you started this connection yourself and trust the app."
                    </p>
                }.into_any()
            }}
            <dl class="facts">
                <dt>"Signed in as"</dt><dd data-testid="consent-user">{v.user_email.clone()}</dd>
                <dt>"Sends you back to"</dt><dd class="mono" data-testid="redirect-host">{v.redirect_host.clone()}</dd>
                <dt>"App ID"</dt><dd class="mono small">{v.client_id.clone()}</dd>
                <dt>"MCP endpoint"</dt><dd class="mono small">{v.resource.clone()}</dd>
            </dl>
            {v.localhost_redirect.then(|| view! {
                <p class="notice small">"This app receives the approval on your own computer (localhost). Approve only if you just started this from an app on this computer."</p>
            })}
            <form method="post" action=DecideConsent::url()>
                <CsrfField />
                <input type="hidden" name="request_id" value=v.request_id.to_string() />
                <FormError error />
                <fieldset class="orgs">
                    <legend>"Organization"</legend>
                    {if v.orgs.is_empty() {
                        view! { <p class="empty">"You're not a member of any organization yet, so there is nothing to connect. Ask an admin to invite you."</p> }.into_any()
                    } else {
                        v.orgs.iter().map(|o| {
                            let checked = v.preselected.as_deref() == Some(o.slug.as_str()) || single;
                            let disabled = o.blocked.is_some();
                            let id = format!("org-{}", o.slug);
                            view! {
                                <div class="org-choice">
                                    <input type="radio" name="org" id=id.clone() value=o.slug.clone() checked=checked && !disabled disabled=disabled />
                                    <label for=id class="inline-label">
                                        {o.name.clone()} " " <span class="badge">{o.role.label()}</span>
                                        {o.blocked.clone().map(|b| view! { <span class="field-error">{b}</span> })}
                                    </label>
                                </div>
                            }
                        }).collect_view().into_any()
                    }}
                </fieldset>
                <h2>"It will be able to"</h2>
                <ul class="scopes" data-testid="scopes">
                    {v.scopes.iter().map(|(scope, text)| view! { <li><strong>{text.clone()}</strong> <span class="muted mono small">{format!(" ({scope})")}</span></li> }).collect_view()}
                </ul>
                <p class="muted small">"It acts with your role in the organization as it is at each request: if your role changes, so does what it can do."</p>
                {(!any_allowed && !blocked_messages.is_empty()).then(|| view! {
                    <div class="notice warning" role="alert" data-testid="policy-blocked">
                        {blocked_messages.iter().map(|m| view! { <p>{m.clone()}</p> }).collect_view()}
                    </div>
                })}
                <div class="actions">
                    <button type="submit" name="decision" value="approve" disabled=!any_allowed>"Authorize"</button>
                    <button type="submit" name="decision" value="deny" class="secondary">"Deny"</button>
                </div>
                <p class="muted small">"This request expires " <When at=v.expires_at /> "."</p>
            </form>
        </section>
    }
}
