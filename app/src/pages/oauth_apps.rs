//! `/settings/oauth-apps`: the signed-in member's own OAuth apps. The list, the form to register
//! one (`/new`), and each app's page (`/:id`) with its credentials, settings, secret rotation and
//! deletion. The client secret is shown once; everything works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::oauth_apps::{
    CreateOauthApp, DeleteOauthApp, RotateOauthAppSecret, UpdateOauthApp, load_oauth_app,
    load_oauth_app_settings, load_oauth_apps,
};
use crate::components::forms::{CopyBox, CsrfField, FieldError, FormError, action_error};
use crate::components::layout::ErrorPanel;
use crate::components::pager::Pager;
use crate::components::time::When;
use crate::model::{
    OAuthAppCredentials, OAuthAppDetail, OAuthAppDraft, OAuthAppList, OAuthAppStatus, OAuthAppView,
};

fn type_label(confidential: bool) -> &'static str {
    if confidential {
        "Confidential"
    } else {
        "Public"
    }
}

fn status_class(s: OAuthAppStatus) -> &'static str {
    match s {
        OAuthAppStatus::Active => "badge",
        _ => "badge subtle",
    }
}

#[component]
fn LastUsed(at: Option<chrono::DateTime<chrono::Utc>>) -> impl IntoView {
    match at {
        Some(at) => view! { <When at /> }.into_any(),
        None => view! { <span class="muted">"Never"</span> }.into_any(),
    }
}

// ---- the list ----

#[component]
pub fn OAuthAppsPage() -> impl IntoView {
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
    };
    let list = Resource::new(page, load_oauth_apps);
    view! {
        <Title text="OAuth apps" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(l) => view! {
                        <div class="page-head">
                            <h1>"OAuth apps"</h1>
                            <a href="/settings/oauth-apps/new" class="button">"New OAuth app"</a>
                        </div>
                        <p class="muted">
                            "Register an app to let it sign people in to Gatehouse with OAuth 2.1 and act on their behalf through the MCP server, with the permissions you allow and each person's own role. Apps that connect to your account are under "
                            <a href="/settings/connected-apps">"Connected apps"</a>
                            "."
                        </p>
                        <AppList l />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AppList(l: OAuthAppList) -> impl IntoView {
    let notice = l.notice.clone().map(|n| {
        view! { <p class="notice" role="status" data-testid="oauth-apps-notice">{n}</p> }
    });
    let body = if l.apps.is_empty() {
        view! {
            <div class="empty-state" data-testid="oauth-apps-empty">
                <p class="empty">"You haven't created any OAuth apps yet."</p>
                <a href="/settings/oauth-apps/new" class="button secondary">"Create an OAuth app"</a>
            </div>
        }
        .into_any()
    } else {
        view! {
            <table class="table" data-testid="oauth-apps">
                <thead><tr>
                    <th>"Name"</th><th>"Client ID"</th><th>"Type"</th><th>"Created"</th>
                    <th>"Last used"</th><th>"Status"</th>
                </tr></thead>
                <tbody>
                    {l.apps.into_iter().map(|a| view! { <AppRow a /> }).collect_view()}
                </tbody>
            </table>
            <Pager page=l.page pages=l.pages total=l.total noun="apps" />
        }
        .into_any()
    };
    view! {
        {notice}
        <section class="panel">{body}</section>
    }
}

#[component]
fn AppRow(a: OAuthAppView) -> impl IntoView {
    let href = format!("/settings/oauth-apps/{}", a.id);
    view! {
        <tr data-app-id=a.id.to_string() data-name=a.name.clone() data-client-id=a.client_id.clone()>
            <td>
                <a href=href><strong>{a.name.clone()}</strong></a>
                {a.org_name.clone().map(|o| view! { <div class="muted small">{o}</div> })}
            </td>
            <td class="mono small">{a.client_id.clone()}</td>
            <td><span class="badge subtle" data-testid="app-type">{type_label(a.confidential)}</span></td>
            <td><When at=a.created_at /></td>
            <td><LastUsed at=a.last_used_at /></td>
            <td><span class=status_class(a.status) data-testid="app-status">{a.status.label()}</span></td>
        </tr>
    }
}

// ---- registering an app ----

#[component]
fn ScopeChoices(
    choices: Vec<(String, String)>,
    checked: Vec<String>,
    prefix: &'static str,
) -> impl IntoView {
    view! {
        <fieldset class="choices">
            <legend>"Permissions the app may ask for"</legend>
            {choices.into_iter().map(|(scope, description)| {
                let id = format!("{prefix}-scope-{}", scope.replace(':', "-"));
                let on = checked.contains(&scope);
                view! {
                    <div class="choice">
                        <input type="checkbox" id=id.clone() name="scopes[]" value=scope.clone() checked=on />
                        <label for=id class="inline-label">
                            <span class="mono">{scope.clone()}</span>
                            <span class="muted">" — " {description}</span>
                        </label>
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
}

#[component]
pub fn NewOAuthAppPage() -> impl IntoView {
    let create = ServerAction::<CreateOauthApp>::new();
    let error = action_error(create.value());
    let settings = Resource::new(|| (), |_| load_oauth_app_settings());
    view! {
        <Title text="New OAuth app" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let s = match settings.await {
                    Err(e) => return view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(s) => s,
                };
                // A form refused without JavaScript comes back as it was typed.
                let draft = s.draft.clone().unwrap_or_else(|| OAuthAppDraft {
                    scopes: vec!["mcp:read".to_string()],
                    ..Default::default()
                });
                let public = draft.is_public();
                let hosts = (!s.allowed_redirect_hosts.is_empty()).then(|| {
                    format!(
                        " {} only allows redirect URIs on {}.",
                        s.org_name.clone().unwrap_or_default(),
                        s.allowed_redirect_hosts.join(", ")
                    )
                });
                view! {
                    <p class="small"><a href="/settings/oauth-apps">"← OAuth apps"</a></p>
                    <h1>"New OAuth app"</h1>
                    <section class="panel">
                        <ActionForm action=create>
                            <CsrfField />
                            <FormError error fields=&["name", "description", "redirect_uris", "scopes", "client_type"] />
                            <label for="app-name">"Name"</label>
                            <input id="app-name" name="name" type="text" required maxlength="100"
                                placeholder="Acme reporting" aria-describedby="app-name-hint" value=draft.name.clone() />
                            <p class="hint" id="app-name-hint">"Shown to people when the app asks for access."</p>
                            <FieldError error field="name" />

                            <label for="app-redirect-uris">"Redirect URIs"</label>
                            <textarea id="app-redirect-uris" name="redirect_uris" rows="3" required
                                class="app-textarea mono" placeholder="https://app.example.com/oauth/callback"
                                aria-describedby="app-redirect-hint">{draft.redirect_uris.clone()}</textarea>
                            <p class="hint" id="app-redirect-hint">
                                {format!(
                                    "The callback URLs where the authorization code is sent, one per line (at most {}). \
                                     https, or http only on 127.0.0.1, [::1] or localhost (any port); native apps may use their own scheme, such as cursor://. \
                                     No fragments or wildcards.",
                                    s.max_redirect_uris
                                )}
                                {hosts}
                            </p>
                            <FieldError error field="redirect_uris" />

                            <label for="app-description">"Description " <span class="muted">"(optional)"</span></label>
                            <textarea id="app-description" name="description" rows="2" maxlength="1000" class="app-textarea"
                                placeholder="What the app does">{draft.description.clone()}</textarea>
                            <FieldError error field="description" />

                            <ScopeChoices choices=s.scope_choices.clone() checked=draft.scopes.clone() prefix="new" />
                            <FieldError error field="scopes" />

                            <fieldset class="choices">
                                <legend>"App type"</legend>
                                <div class="choice">
                                    <input type="radio" id="app-type-confidential" name="client_type" value="confidential" checked=!public />
                                    <label for="app-type-confidential" class="inline-label">
                                        <strong>"Confidential"</strong>
                                        <span class="muted">" — runs on a server that can keep a client secret"</span>
                                    </label>
                                </div>
                                <div class="choice">
                                    <input type="radio" id="app-type-public" name="client_type" value="public" checked=public />
                                    <label for="app-type-public" class="inline-label">
                                        <strong>"Public"</strong>
                                        <span class="muted">" — a desktop, mobile, command-line or browser app: no secret, PKCE only"</span>
                                    </label>
                                </div>
                            </fieldset>
                            <FieldError error field="client_type" />
                            {s.org_name.clone().map(|o| view! {
                                <p class="hint">{format!("The app is registered in {o}; its admins can see it.")}</p>
                            })}
                            <div class="actions">
                                <button type="submit" disabled=move || create.pending().get()>"Create app"</button>
                                <a href="/settings/oauth-apps" class="button secondary">"Cancel"</a>
                            </div>
                        </ActionForm>
                    </section>
                }
                .into_any()
            })}
        </Suspense>
    }
}

// ---- one app ----

#[component]
pub fn OAuthAppPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let update = ServerAction::<UpdateOauthApp>::new();
    let rotate = ServerAction::<RotateOauthAppSecret>::new();
    let delete = ServerAction::<DeleteOauthApp>::new();
    // Reload after a saved change only: a refused form stays as typed.
    let saved = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(update.value().get(), Some(Ok(_))) {
            saved.update(|n| *n += 1);
        }
    });
    let detail = Resource::new(
        move || (id(), saved.get(), rotate.version().get()),
        |(id, _, _)| load_oauth_app(id),
    );
    view! {
        <Title text="OAuth app" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(d) => view! { <AppDetail d update rotate delete /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Credentials(c: OAuthAppCredentials, name: String) -> impl IntoView {
    let heading = if c.rotated {
        format!("Generated a new client secret for “{name}”. The old secret no longer works.")
    } else {
        format!("Created the OAuth app “{name}”.")
    };
    view! {
        <div class="notice secret" role="status" data-testid="app-credentials">
            <p><strong>{heading}</strong></p>
            <div data-testid="client-id-box"><CopyBox value=c.client_id.clone() label="Client ID" /></div>
            {match c.secret.clone() {
                Some(secret) => view! {
                    <div data-testid="client-secret-box"><CopyBox value=secret label="Client secret" /></div>
                    <p class="small"><strong>"Copy the client secret now and store it somewhere safe: it won't be shown again."</strong>
                        " If you lose it, rotate the secret to get a new one."</p>
                }.into_any(),
                None => view! {
                    <p class="small">"This is a public app: it has no client secret and must use PKCE (S256)."</p>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn AppDetail(
    d: OAuthAppDetail,
    update: ServerAction<UpdateOauthApp>,
    rotate: ServerAction<RotateOauthAppSecret>,
    delete: ServerAction<DeleteOauthApp>,
) -> impl IntoView {
    let a = d.app.clone();
    let name = a.name.clone();
    let creds = d
        .credentials
        .clone()
        .map(|c| view! { <Credentials c name=name.clone() /> });
    let rotated_now = {
        let name = name.clone();
        move || {
            rotate.value().get().and_then(|r| r.ok()).map(|c| {
                view! { <Credentials c name=name.clone() /> }
            })
        }
    };
    let notice = d.notice.clone();
    view! {
        <p class="small"><a href="/settings/oauth-apps">"← OAuth apps"</a></p>
        <h1 data-testid="app-name">{a.name.clone()}</h1>
        {creds}
        {rotated_now}
        <section class="panel" data-testid="app-overview">
            <h2>"Credentials"</h2>
            <dl class="facts">
                <dt>"Client ID"</dt><dd class="mono" data-testid="app-client-id">{a.client_id.clone()}</dd>
                <dt>"Type"</dt><dd data-testid="app-type">{type_label(a.confidential)}
                    <span class="muted small">{if a.confidential {
                        " — authenticates at the token endpoint with HTTP Basic (client_secret_basic): its client ID and secret in the Authorization header, never in the body"
                    } else {
                        " — no secret; PKCE (S256) protects every authorization"
                    }}</span></dd>
                {a.secret_hint.clone().map(|h| view! {
                    <dt>"Client secret"</dt>
                    <dd><span class="mono" data-testid="secret-hint">{h}</span>
                        {a.secret_rotated_at.map(|at| view! { <span class="muted small">" · rotated " <When at /></span> })}
                    </dd>
                })}
                <dt>"Status"</dt><dd><span class=status_class(a.status) data-testid="app-status">{a.status.label()}</span>
                    <span class="muted small">{format!(" · {} active connection{}", a.active_connections, if a.active_connections == 1 { "" } else { "s" })}</span></dd>
                {a.org_name.clone().map(|o| view! { <dt>"Organization"</dt><dd>{o}</dd> })}
                <dt>"Created"</dt><dd><When at=a.created_at /></dd>
                <dt>"Last used"</dt><dd><LastUsed at=a.last_used_at /></dd>
                <dt>"Authorization endpoint"</dt><dd class="mono small">{d.authorize_url.clone()}</dd>
                <dt>"Token endpoint"</dt><dd class="mono small">{d.token_url.clone()}</dd>
                <dt>"MCP server"</dt><dd class="mono small">{d.mcp_url.clone()}</dd>
            </dl>
        </section>
        <EditPanel d=d.clone() update notice />
        {a.confidential.then(|| view! { <RotatePanel a=a.clone() rotate /> })}
        <DeletePanel a=a.clone() delete />
    }
}

#[component]
fn EditPanel(
    d: OAuthAppDetail,
    update: ServerAction<UpdateOauthApp>,
    notice: Option<String>,
) -> impl IntoView {
    let notice =
        notice.map(|n| view! { <p class="ok" role="status" data-testid="app-notice">{n}</p> });
    let error = action_error(update.value());
    let a = d.app;
    // A form refused without JavaScript comes back as it was typed.
    let f = d.draft.clone().unwrap_or_else(|| OAuthAppDraft {
        name: a.name.clone(),
        redirect_uris: a.redirect_uris.join("\n"),
        description: a.description.clone().unwrap_or_default(),
        scopes: a.scopes.clone(),
        client_type: String::new(),
    });
    let saved = move || {
        update.value().get().and_then(|r| r.ok()).map(|msg| {
            view! { <p class="ok" role="status" data-testid="app-notice">{msg}</p> }
        })
    };
    view! {
        <section class="panel">
            <h2>"Settings"</h2>
            {notice}
            {saved}
            <ActionForm action=update>
                <CsrfField />
                <input type="hidden" name="app_id" value=a.id.to_string() />
                <FormError error fields=&["name", "description", "redirect_uris", "scopes"] />
                <label for="app-name">"Name"</label>
                <input id="app-name" name="name" type="text" required maxlength="100" value=f.name.clone() />
                <FieldError error field="name" />
                <label for="app-redirect-uris">"Redirect URIs"</label>
                <textarea id="app-redirect-uris" name="redirect_uris" rows="3" required class="app-textarea mono"
                    aria-describedby="app-redirect-hint">{f.redirect_uris.clone()}</textarea>
                <p class="hint" id="app-redirect-hint">"One per line. https, or http only on loopback addresses; no fragments or wildcards."</p>
                <FieldError error field="redirect_uris" />
                <label for="app-description">"Description " <span class="muted">"(optional)"</span></label>
                <textarea id="app-description" name="description" rows="2" maxlength="1000" class="app-textarea">{f.description.clone()}</textarea>
                <FieldError error field="description" />
                <ScopeChoices choices=d.scope_choices.clone() checked=f.scopes.clone() prefix="edit" />
                <FieldError error field="scopes" />
                <p class="hint">"Connections made before keep the permissions they were granted; new authorizations follow these settings."</p>
                <button type="submit" disabled=move || update.pending().get()>"Save changes"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn RotatePanel(a: OAuthAppView, rotate: ServerAction<RotateOauthAppSecret>) -> impl IntoView {
    let error = action_error(rotate.value());
    view! {
        <section class="panel">
            <h2>"Client secret"</h2>
            <p class="muted">"Rotate the secret if it may have leaked. The current secret stops working immediately; update your app with the new one."</p>
            <FormError error />
            <details class="confirm">
                <summary class="danger-link">"Rotate secret…"</summary>
                <ActionForm action=rotate>
                    <CsrfField />
                    <input type="hidden" name="app_id" value=a.id.to_string() />
                    <p>{format!("Generate a new secret for “{}”? The current secret stops working at once.", a.name)}</p>
                    <button type="submit" class="danger small" disabled=move || rotate.pending().get()>"Rotate secret"</button>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn DeletePanel(a: OAuthAppView, delete: ServerAction<DeleteOauthApp>) -> impl IntoView {
    let error = action_error(delete.value());
    let what = match a.active_connections {
        0 => "It has no active connections.".to_string(),
        1 => "Its 1 active connection and all its tokens are revoked.".to_string(),
        n => format!("Its {n} active connections and all their tokens are revoked."),
    };
    view! {
        <section class="panel">
            <h2>"Delete this app"</h2>
            <FormError error />
            <details class="confirm">
                <summary class="danger-link">"Delete app…"</summary>
                <ActionForm action=delete>
                    <CsrfField />
                    <input type="hidden" name="app_id" value=a.id.to_string() />
                    <p>{format!("Delete “{}”? {what} Apps using its client ID stop working at once. This can't be undone.", a.name)}</p>
                    <button type="submit" class="danger small" disabled=move || delete.pending().get()>"Delete app"</button>
                </ActionForm>
            </details>
        </section>
    }
}
