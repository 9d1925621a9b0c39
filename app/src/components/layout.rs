//! The frame of every page: header with navigation that follows the role, org switcher,
//! sign-out, and the flash message.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_location;

use crate::api::orgs::SwitchOrg;
use crate::api::session::{Logout, load_session};
use crate::components::forms::{CopyBox, CsrfField};
use crate::error::AppError;
use crate::model::SessionInfo;
use crate::policy::Capability;

pub type SessionResource = Resource<Result<SessionInfo, AppError>>;

/// Loads the session (who is signed in, their orgs, the CSRF proof) again after every
/// navigation, so the frame follows sign-in, sign-out and org switches.
pub fn provide_session() {
    let location = use_location();
    let session: SessionResource =
        Resource::new(move || location.pathname.get(), |_| load_session());
    provide_context(session);
}

pub fn use_session() -> SessionResource {
    expect_context::<SessionResource>()
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let session = use_session();
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a href="/" class="brand">
                <img class="brand-mark" src="/favicon.svg" alt="" width="22" height="22" />
                "Gatehouse"
            </a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    session.await.ok().map(|info| view! { <Nav info /> })
                })}
            </Transition>
        </header>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                session.await.ok().and_then(|info| info.flash).map(|flash| {
                    // A one-time value is a link (invitations) or a token secret (`gate_…`).
                    let secret = flash.copy.as_deref().is_some_and(|v| v.starts_with("gate_"));
                    let label = if secret { "Your new token" } else { "Link" };
                    view! {
                        <div class="flash" class:secret=secret role="status" data-testid="flash">
                            <p>{flash.text}</p>
                            {flash.copy.map(|value| view! { <CopyBox value label=label /> })}
                        </div>
                    }
                })
            })}
        </Transition>
        <main id="main" class="container">{children()}</main>
        <footer class="footer">"Gatehouse · OAuth 2.1 for MCP"</footer>
    }
}

#[component]
fn Nav(info: SessionInfo) -> impl IntoView {
    let Some(user) = info.user.clone() else {
        return view! {
            <nav class="nav" aria-label="Main">
                <a href="/login">"Sign in"</a>
                {info.signup_enabled.then(|| view! { <a href="/signup" class="button">"Sign up"</a> })}
            </nav>
        }
        .into_any();
    };
    let is_admin = info
        .current_org
        .as_ref()
        .is_some_and(|o| o.role.can(Capability::AdministerOrg));
    view! {
        <nav class="nav" aria-label="Main">
            {info.current_org.as_ref().map(|o| view! { <a href=format!("/o/{}", o.slug)>"Overview"</a> })}
            {info.current_org.is_some().then(|| view! { <a href="/settings/tokens">"Personal tokens"</a> })}
            {is_admin.then(|| view! { <a href="/admin/members">"Members"</a> })}
            <OrgSwitcher info=info.clone() />
            <a href="/account" class="user" title=user.email.clone()>{user.display_name().to_string()}</a>
            <LogoutButton />
        </nav>
    }
    .into_any()
}

#[component]
fn OrgSwitcher(info: SessionInfo) -> impl IntoView {
    let location = use_location();
    let current = info
        .current_org
        .as_ref()
        .map(|o| o.slug.clone())
        .unwrap_or_default();
    if info.orgs.is_empty() {
        return view! { <a href="/orgs/new">"New organization"</a> }.into_any();
    }
    let options = info
        .orgs
        .iter()
        .map(|o| {
            let selected = o.slug == current;
            view! { <option value=o.slug.clone() selected=selected>{o.name.clone()}</option> }
        })
        .collect_view();
    view! {
        // A plain form: switching reloads the whole page, since everything on it depends on the org.
        <form method="post" action=SwitchOrg::url() class="org-switcher">
            <CsrfField />
            <input type="hidden" name="next" value=move || location.pathname.get() />
            <label for="org-switch" class="visually-hidden">"Organization"</label>
            <select id="org-switch" name="org" data-testid="org-switcher">
                {options}
            </select>
            <button type="submit" class="secondary small">"Switch"</button>
            <a href="/orgs/new" class="small" title="Create an organization">"+ New"</a>
        </form>
    }
    .into_any()
}

#[component]
fn LogoutButton() -> impl IntoView {
    // A plain form: signing out drops all client state with a full page load.
    view! {
        <form method="post" action=Logout::url() class="inline">
            <CsrfField />
            <button type="submit" class="link">"Sign out"</button>
        </form>
    }
}

/// A whole-page error: not signed in, not allowed, not found.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let (title, hint) = match &error {
        AppError::Unauthenticated => ("Sign in required", Some(("/login", "Sign in"))),
        AppError::Forbidden(_) | AppError::Csrf => {
            ("You don't have access to this page", Some(("/", "Go home")))
        }
        AppError::NotFound(_) => ("Not found", Some(("/", "Go home"))),
        _ => ("Something went wrong", None),
    };
    view! {
        <section class="panel error-panel" role="alert" data-testid="error-panel">
            <h1>{title}</h1>
            <p>{error.to_string()}</p>
            {hint.map(|(href, text)| view! { <a href=href class="button secondary">{text}</a> })}
        </section>
    }
}
