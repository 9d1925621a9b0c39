use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::use_session;
use crate::policy::Capability;

#[component]
pub fn HomePage() -> impl IntoView {
    let session = use_session();
    view! {
        <Title text="" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let info = session.await.unwrap_or_default();
                match (info.user, info.current_org) {
                    (None, _) => view! {
                        <section class="hero">
                            <h1>"Connect AI clients to your organization, safely."</h1>
                            <p class="lead">
                                "Gatehouse is the OAuth 2.1 authorization server and MCP endpoint for your team: "
                                "Claude, ChatGPT, Cursor or your own scripts sign in through the browser and act "
                                "with exactly the rights each person has in the organization."
                            </p>
                            <p class="actions">
                                <a href="/login" class="button">"Sign in"</a>
                                {info.signup_enabled.then(|| view! { <a href="/signup" class="button secondary">"Create an account"</a> })}
                            </p>
                        </section>
                    }.into_any(),
                    (Some(user), None) => view! {
                        <section class="panel empty-state">
                            <h1>"Welcome, " {user.display_name().to_string()}</h1>
                            <p>"You're not in any organization yet. Create one, or ask an admin of an existing organization to invite you."</p>
                            <a href="/orgs/new" class="button">"Create an organization"</a>
                        </section>
                    }.into_any(),
                    (Some(user), Some(org)) => {
                        let admin = org.role.can(Capability::AdministerOrg);
                        view! {
                            <section class="panel">
                                <h1>"Welcome back, " {user.display_name().to_string()}</h1>
                                <p>
                                    "You're working in " <strong data-testid="current-org">{org.name.clone()}</strong>
                                    " as " <span class="badge">{org.role.label()}</span> "."
                                </p>
                                <p class="actions">
                                    <a href=format!("/o/{}", org.slug) class="button">"Organization overview"</a>
                                    {admin.then(|| view! { <a href="/admin/members" class="button secondary">"Manage members"</a> })}
                                </p>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
