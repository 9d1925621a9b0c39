//! Gatehouse: the application crate. Pages and components render on the server (feature
//! `ssr`) and hydrate in the browser (feature `hydrate`); forms work without JavaScript.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod policy;

#[cfg(feature = "ssr")]
pub mod domain;
#[cfg(feature = "ssr")]
pub mod web;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, SsrMode, lazy_route, path};

use components::layout::{Layout, provide_session};
use pages::*;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // With hashed file names (cargo-leptos `hash-files`), both read the names of
                // this build's files from the hash file next to the executable.
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|t: String| if t.is_empty() { "Gatehouse".to_string() } else { format!("{t} · Gatehouse") } />
        <Router>
            {provide_session()}
            // Every route renders completely before it is sent (SsrMode::Async), so pages can
            // set their status code (401/403/404) and redirect to the login page on the server.
            <Layout>
                <Routes fallback=|| view! { <NotFoundPage /> <HydratedMark /> }>
                    <Route path=path!("/") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/login/two-factor") view={Lazy::<SecondFactorRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/reset-password/:token") view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/verify-email/:token") view={Lazy::<VerifyEmailRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/signup") view={Lazy::<SignupRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/orgs/new") view={Lazy::<NewOrgRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/o/:slug") view={Lazy::<OrgRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/members") view={Lazy::<MembersAdminRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/settings") view={Lazy::<AdminSettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/sso") view={Lazy::<AdminSsoRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/mcp-servers") view={Lazy::<AdminMcpServersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view={Lazy::<AdminAuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/oauth-clients") view={Lazy::<AdminClientsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/oauth-clients/new") view={Lazy::<NewAdminClientRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/oauth-clients/:id") view={Lazy::<AdminClientRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/tokens") view={Lazy::<AdminTokensRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/settings/tokens") view={Lazy::<TokensRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/settings/oauth-apps") view={Lazy::<OAuthAppsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/settings/oauth-apps/new") view={Lazy::<NewOAuthAppRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/settings/oauth-apps/:id") view={Lazy::<OAuthAppRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/settings/connected-apps") view={Lazy::<ConnectedAppsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/invite/:token") view={Lazy::<InviteRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/oauth/consent/:id") view={Lazy::<ConsentRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}

/// Marks the page as hydrated once the shown route's code has loaded and run: effects run only
/// in the browser, after the view around them hydrated (tests wait for the mark).
#[component]
fn HydratedMark() -> impl IntoView {
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// Every page is a lazily loaded route. Built with `cargo leptos build --split`, each page's
/// code is a wasm file of its own, fetched when the page is first shown (on the server it is
/// awaited while rendering, and the page links it for preloading): a first visit downloads
/// the runtime, the layout and one page, not the whole console.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident,)*) => {
        $(
            struct $route;

            #[lazy_route]
            impl LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                fn view(this: Self) -> AnyView {
                    let _ = this;
                    view! { <$page /> <HydratedMark /> }.into_any()
                }
            }
        )*
    };
}

lazy_pages! {
    HomeRoute => HomePage,
    LoginRoute => LoginPage,
    SecondFactorRoute => SecondFactorPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    ResetPasswordRoute => ResetPasswordPage,
    VerifyEmailRoute => VerifyEmailPage,
    SignupRoute => SignupPage,
    AccountRoute => AccountPage,
    NewOrgRoute => NewOrgPage,
    OrgRoute => OrgPage,
    MembersAdminRoute => MembersAdminPage,
    AdminSettingsRoute => AdminSettingsPage,
    AdminSsoRoute => AdminSsoPage,
    AdminMcpServersRoute => AdminMcpServersPage,
    AdminAuditRoute => AdminAuditPage,
    AdminClientsRoute => AdminClientsPage,
    NewAdminClientRoute => NewAdminClientPage,
    AdminClientRoute => AdminClientPage,
    AdminTokensRoute => AdminTokensPage,
    TokensRoute => TokensPage,
    OAuthAppsRoute => OAuthAppsPage,
    NewOAuthAppRoute => NewOAuthAppPage,
    OAuthAppRoute => OAuthAppPage,
    ConnectedAppsRoute => ConnectedAppsPage,
    InviteRoute => InvitePage,
    ConsentRoute => ConsentPage,
}
