//! `/settings/tokens`: the signed-in member's standard personal access tokens in the org they
//! are working in. Creating shows the secret once; everything works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::pats::{CreatePat, RevokePat, load_pat_settings, load_pats};
use crate::components::forms::{
    CopyBox, CsrfField, FieldError, FormError, action_error, row_outcome,
};
use crate::components::layout::ErrorPanel;
use crate::components::pager::Pager;
use crate::components::time::{Day, When};
use crate::model::{PatList, PatSettings, PatView, TokenStatus};

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreatePat>::new();
    let revoke = ServerAction::<RevokePat>::new();
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
    };
    let settings = Resource::new(|| (), |_| load_pat_settings());
    let list = Resource::new(
        move || (create.version().get(), revoke.version().get(), page()),
        |(_, _, page)| load_pats(page),
    );
    view! {
        <Title text="Personal tokens" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(s) => view! {
                        <h1>"Personal access tokens"</h1>
                        <Explanation s=s.clone() />
                        <CreatePanel s create />
                        <TokenList list revoke />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Explanation(s: PatSettings) -> impl IntoView {
    view! {
        <section class="panel" data-testid="pat-explanation">
            <p>
                "A personal access token lets a script, a CI job or an MCP client act as you in "
                <strong>{s.org.name.clone()}</strong>
                " without signing in through a browser. Send it as a bearer token to the organization's MCP endpoint:"
            </p>
            <p class="mono small">"Authorization: Bearer gate_pat_…"<br />{s.mcp_url.clone()}</p>
            <p class="muted small">
                "A token works only in this organization, with your role as it is at each request and the permissions you give it. "
                "It stops working when it expires, when you revoke it, when an admin disables it, or when you leave the organization. "
                "MCP clients that can open a browser don't need one: give them the URL and they sign you in with OAuth."
            </p>
        </section>
    }
}

#[component]
fn CreatePanel(s: PatSettings, create: ServerAction<CreatePat>) -> impl IntoView {
    let error = action_error(create.value());
    let form = NodeRef::<leptos::html::Form>::new();
    // With JavaScript the page stays: clear the form once the token exists.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_)))
            && let Some(f) = form.get()
        {
            f.reset();
        }
    });
    let created = move || {
        create.value().get().and_then(|r| r.ok()).map(|c| {
            view! {
                <div class="notice secret" role="status" data-testid="new-token">
                    <p><strong>{format!("Created the token “{}”.", c.token.name)}</strong></p>
                    <CopyBox value=c.secret label="Your new token" />
                    <p class="small">"Copy it now and keep it somewhere safe: it won't be shown again."</p>
                </div>
            }
        })
    };
    let Some(refusal) = s.refusal.clone() else {
        let org_name = s.org.name.clone();
        let max = s.max_expiry_days;
        // A form refused without JavaScript comes back as it was typed.
        let draft = s.draft.clone();
        let typed_name = draft.as_ref().map(|d| d.name.clone());
        let ticked = draft
            .as_ref()
            .map_or_else(|| vec!["mcp:read".to_string()], |d| d.scopes.clone());
        let chosen_days = draft
            .as_ref()
            .map(|d| d.expires_in_days.clone())
            .filter(|d| s.expiry_choices.iter().any(|c| c.to_string() == *d))
            .unwrap_or_else(|| s.default_expiry_days.to_string());
        return view! {
            <section class="panel">
                <h2>"Create a token"</h2>
                {created}
                <ActionForm action=create node_ref=form>
                    <CsrfField />
                    <FormError error fields=&["name", "scopes", "expires_in_days"] />
                    <label for="pat-name">"Name"</label>
                    <input id="pat-name" name="name" type="text" required maxlength="100"
                        placeholder="CI deploy" aria-describedby="pat-name-hint" value=typed_name />
                    <p class="hint" id="pat-name-hint">"What will use it, so you can recognise it later."</p>
                    <FieldError error field="name" />
                    <fieldset class="choices">
                        <legend>"Permissions"</legend>
                        {s.scopes.iter().map(|(scope, description)| {
                            let id = format!("pat-scope-{}", scope.replace(':', "-"));
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
                    <label for="pat-expiry">"Expires in"</label>
                    <select id="pat-expiry" name="expires_in_days" aria-describedby="pat-expiry-hint">
                        {s.expiry_choices.iter().map(|d| view! {
                            <option value=d.to_string() selected=d.to_string() == chosen_days>
                                {if *d == 1 { "1 day".to_string() } else { format!("{d} days") }}
                            </option>
                        }).collect_view()}
                    </select>
                    <p class="hint" id="pat-expiry-hint">
                        {format!("{org_name} lets personal tokens live at most {max} days.")}
                    </p>
                    <FieldError error field="expires_in_days" />
                    <button type="submit" disabled=move || create.pending().get()>"Create token"</button>
                </ActionForm>
            </section>
        }
        .into_any();
    };
    view! {
        <section class="panel">
            <h2>"Create a token"</h2>
            <p class="notice warning" role="note" data-testid="pat-refusal">{refusal}</p>
        </section>
    }
    .into_any()
}

#[component]
fn TokenList(
    list: Resource<Result<PatList, crate::error::AppError>>,
    revoke: ServerAction<RevokePat>,
) -> impl IntoView {
    let revoke_result = move || revoke.value().get().map(row_outcome);
    view! {
        <section class="panel">
            <h2>"Your tokens"</h2>
            {revoke_result}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(l) if l.tokens.is_empty() => view! {
                            <p class="empty" data-testid="pats-empty">"You have no personal tokens in this organization yet."</p>
                        }.into_any(),
                        Ok(l) => view! {
                            <table class="table" data-testid="pats">
                                <thead><tr>
                                    <th>"Name"</th><th>"Token"</th><th>"Permissions"</th><th>"Created"</th>
                                    <th>"Last used"</th><th>"Expires"</th><th>"Status"</th>
                                    <th><span class="visually-hidden">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {l.tokens.into_iter().map(|t| view! { <TokenRow t revoke /> }).collect_view()}
                                </tbody>
                            </table>
                            <Pager page=l.page pages=l.pages total=l.total noun="tokens" newest_first=true />
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TokenRow(t: PatView, revoke: ServerAction<RevokePat>) -> impl IntoView {
    let id = t.id.to_string();
    let name = t.name.clone();
    let revoke_id = id.clone();
    let revoke_name = name.clone();
    let status_class = match t.status {
        TokenStatus::Active => "badge",
        _ => "badge subtle",
    };
    view! {
        <tr data-token-id=id.clone() data-name=name.clone() data-status=t.status.as_str()>
            <td><strong>{name.clone()}</strong></td>
            <td class="mono small nowrap">{t.hint.clone()}</td>
            <td>{t.scopes.iter().map(|s| view! { <span class="badge subtle mono">{s.clone()}</span> " " }).collect_view()}</td>
            <td><When at=t.created_at /></td>
            <td>{match t.last_used_at {
                Some(at) => view! { <When at /> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            }}</td>
            <td class="nowrap">{match t.expires_at {
                Some(at) => view! { <Day at /> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            }}</td>
            <td><span class=status_class data-testid="pat-status">{t.status.label()}</span></td>
            <td>
                {(t.status != TokenStatus::Revoked).then(|| view! {
                    <details class="confirm">
                        <summary class="danger-link">"Revoke…"</summary>
                        <ActionForm action=revoke>
                            <CsrfField />
                            <input type="hidden" name="token_id" value=revoke_id.clone() />
                            <p>{format!("Revoke “{revoke_name}”? Anything using it stops working at once. This can't be undone.")}</p>
                            <button type="submit" class="danger small">"Revoke token"</button>
                        </ActionForm>
                    </details>
                })}
            </td>
        </tr>
    }
}
