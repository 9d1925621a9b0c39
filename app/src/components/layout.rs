//! The frame of every page: header with navigation that follows the role, org switcher,
//! sign-out, and the flash message.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_location;

use crate::api::orgs::SwitchOrg;
use crate::api::session::{Logout, load_session};
use crate::components::forms::CopyBox;
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
            <div class="topbar-row">
                <a href="/" class="brand">
                    <img class="brand-mark" src="/favicon.svg" alt="" width="22" height="22" />
                    "Gatehouse"
                </a>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        session.await.ok().map(|info| view! { <AccountBar info /> })
                    })}
                </Transition>
            </div>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    session.await.ok().map(|info| view! { <Nav info /> })
                })}
            </Transition>
        </header>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                session.await.ok().and_then(|info| info.flash).map(|flash| {
                    // A one-time value is a token secret (`gate_…`), recovery codes (several
                    // lines) or a link.
                    let copy = flash.copy.as_deref().unwrap_or_default();
                    let secret = copy.starts_with("gate_") || copy.contains('\n');
                    let label = if copy.starts_with("gate_") {
                        "Your new token"
                    } else if copy.contains('\n') {
                        "Recovery codes"
                    } else {
                        "Link"
                    };
                    view! {
                        <div class="flash" class:secret=secret role="status" data-testid="flash">
                            <p>{flash.text}</p>
                            {flash.copy.map(|value| view! { <CopyBox value label=label /> })}
                        </div>
                    }
                })
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                session.await.ok().filter(|info| info.email_unverified).map(|_| view! {
                    <div class="banner warning" role="status" data-testid="verify-banner">
                        "Please verify your email address: follow the link we mailed you. "
                        <a href="/account#email">"Send it again"</a>
                    </div>
                })
            })}
        </Transition>
        <main id="main" class="container">{children()}</main>
        <footer class="footer">"Gatehouse · OAuth 2.1 for MCP"</footer>
    }
}

/// The right of the top bar: the org switcher and who is signed in, or the way in.
///
/// Its forms take the CSRF proof from `info` rather than `CsrfField`: a `Suspense` here would
/// take a hydration id at a different moment on the server (where the session loads late) than
/// in the browser (where it is already there), shifting the ids of the page's resources so that
/// hydration fails.
#[component]
fn AccountBar(info: SessionInfo) -> impl IntoView {
    let Some(user) = info.user.clone() else {
        return view! {
            <nav class="account-bar" aria-label="Account">
                <a href="/login">"Sign in"</a>
                {info.signup_enabled.then(|| view! { <a href="/signup" class="button small">"Sign up"</a> })}
            </nav>
        }
        .into_any();
    };
    view! {
        <div class="account-bar">
            <OrgSwitcher info=info.clone() />
            <a href="/account" class="user" title=user.email.clone()>{user.display_name().to_string()}</a>
            <LogoutButton csrf=info.csrf.clone() />
        </div>
    }
    .into_any()
}

/// The pages of the current org, as the member's role allows: everyone's, then the admin's.
/// The current page is marked with `aria-current="page"`.
#[component]
fn Nav(info: SessionInfo) -> impl IntoView {
    let (Some(_), Some(org)) = (info.user.as_ref(), info.current_org.as_ref()) else {
        return ().into_any();
    };
    // The frame is drawn again after every navigation (the session reloads), so the path as it
    // is now is enough.
    let path = use_location().pathname.get_untracked();
    let link = |href: String, text: &'static str| {
        let current = path == href || path.starts_with(&format!("{href}/"));
        view! { <li><a href=href aria-current=current.then_some("page")>{text}</a></li> }
    };
    let member_links = vec![
        link(format!("/o/{}", org.slug), "Overview"),
        link("/settings/tokens".into(), "Personal tokens"),
        link("/settings/oauth-apps".into(), "OAuth apps"),
        link("/settings/connected-apps".into(), "Connected apps"),
    ];
    let admin = org.role.can(Capability::AdministerOrg).then(|| {
        let links = vec![
            link("/admin/members".into(), "Members"),
            link("/admin/oauth-clients".into(), "OAuth clients"),
            link("/admin/tokens".into(), "Tokens"),
            link("/admin/settings".into(), "Settings"),
            link("/admin/sso".into(), "Single sign-on"),
            link("/admin/mcp-servers".into(), "MCP servers"),
            link("/admin/audit".into(), "Audit log"),
        ];
        view! {
            <div class="nav-group nav-admin" data-testid="nav-admin">
                <span class="nav-group-label" id="nav-admin-label">"Admin"</span>
                <ul aria-labelledby="nav-admin-label">{links}</ul>
            </div>
        }
    });
    view! {
        <nav class="mainnav" aria-label="Main" data-testid="nav">
            <div class="nav-group">
                <ul>{member_links}</ul>
            </div>
            {admin}
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
            <input type="hidden" name="csrf" value=info.csrf.clone() />
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
fn LogoutButton(csrf: String) -> impl IntoView {
    // A plain form: signing out drops all client state with a full page load.
    view! {
        <form method="post" action=Logout::url() class="inline">
            <input type="hidden" name="csrf" value=csrf />
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
        AppError::TwoFactorRequired(_) => (
            "Two-factor sign-in required",
            Some(("/account#two-factor", "Set up two-factor sign-in")),
        ),
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
