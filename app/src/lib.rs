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
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

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
    // Effects run only in the browser: this marks the page as hydrated (tests wait for it).
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/gatehouse.css" />
        <Title formatter=|t: String| if t.is_empty() { "Gatehouse".to_string() } else { format!("{t} · Gatehouse") } />
        <Router>
            {provide_session()}
            // Every route renders completely before it is sent (SsrMode::Async), so pages can
            // set their status code (401/403/404) and redirect to the login page on the server.
            <Layout>
                <Routes fallback=|| view! { <NotFoundPage /> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/login/two-factor") view=SecondFactorPage ssr=SsrMode::Async />
                    <Route path=path!("/forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/reset-password/:token") view=ResetPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/verify-email/:token") view=VerifyEmailPage ssr=SsrMode::Async />
                    <Route path=path!("/signup") view=SignupPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/orgs/new") view=NewOrgPage ssr=SsrMode::Async />
                    <Route path=path!("/o/:slug") view=OrgPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/members") view=MembersAdminPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/settings") view=AdminSettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/sso") view=AdminSsoPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/mcp-servers") view=AdminMcpServersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=AdminAuditPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/oauth-clients") view=AdminClientsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/oauth-clients/new") view=NewAdminClientPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/oauth-clients/:id") view=AdminClientPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/tokens") view=AdminTokensPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/tokens") view=TokensPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/oauth-apps") view=OAuthAppsPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/oauth-apps/new") view=NewOAuthAppPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/oauth-apps/:id") view=OAuthAppPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/connected-apps") view=ConnectedAppsPage ssr=SsrMode::Async />
                    <Route path=path!("/invite/:token") view=InvitePage ssr=SsrMode::Async />
                    <Route path=path!("/oauth/consent/:id") view=ConsentPage ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}
