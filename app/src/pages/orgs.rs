use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::orgs::{CreateOrg, SwitchOrg, load_org_overview};
use crate::components::forms::{CsrfField, FieldError, FormError, action_error};
use crate::components::layout::ErrorPanel;
use crate::components::time::When;
use crate::policy::Capability;

#[component]
pub fn NewOrgPage() -> impl IntoView {
    let create = ServerAction::<CreateOrg>::new();
    let error = action_error(create.value());
    view! {
        <Title text="New organization" />
        <section class="panel narrow">
            <h1>"Create an organization"</h1>
            <p class="muted">"You'll be its admin. You can invite others once it exists."</p>
            <ActionForm action=create>
                <CsrfField />
                <FormError error fields=&["name", "slug"] />
                <label for="name">"Name"</label>
                <input id="name" name="name" type="text" required maxlength="100" placeholder="Acme Inc." />
                <FieldError error field="name" />
                <label for="slug">"URL name " <span class="muted">"(optional)"</span></label>
                <input id="slug" name="slug" type="text" maxlength="40" pattern="[a-z0-9\\-]+" placeholder="acme"
                    aria-describedby="slug-hint" />
                <p class="hint" id="slug-hint">"Lowercase letters, digits and dashes. Left empty, it is made from the name."</p>
                <FieldError error field="slug" />
                <button type="submit" disabled=move || create.pending().get()>"Create organization"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn OrgPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let data = Resource::new(slug, load_org_overview);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <Title text="Organization" /> <ErrorPanel error=e /> }.into_any(),
                    Ok(o) => {
                        let admin = o.org.role.can(Capability::AdministerOrg);
                        let slug = o.org.slug.clone();
                        view! {
                            <Title text=o.org.name.clone() />
                            <h1 data-testid="org-name">{o.org.name.clone()}</h1>
                            <section class="panel">
                                <dl class="facts">
                                    <dt>"URL name"</dt><dd class="mono">{o.org.slug.clone()}</dd>
                                    <dt>"Your role"</dt><dd><span class="badge" data-testid="org-role">{o.org.role.label()}</span></dd>
                                    <dt>"Members"</dt><dd>{o.member_count}</dd>
                                    <dt>"Created"</dt><dd><When at=o.created_at /></dd>
                                </dl>
                                {if o.is_current {
                                    view! { <p class="muted" data-testid="is-current">"This is the organization you're working in."</p> }.into_any()
                                } else {
                                    view! {
                                        <form method="post" action=SwitchOrg::url()>
                                            <CsrfField />
                                            <input type="hidden" name="org" value=slug.clone() />
                                            <input type="hidden" name="next" value=format!("/o/{slug}") />
                                            <button type="submit">"Switch to this organization"</button>
                                        </form>
                                    }.into_any()
                                }}
                                {(admin && o.is_current).then(|| view! { <p class="actions"><a href="/admin/members" class="button secondary">"Manage members"</a></p> })}
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
