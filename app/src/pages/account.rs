use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{ChangePassword, UpdateProfile, account_info};
use crate::components::forms::{CsrfField, FieldError, FormError, action_error};
use crate::components::layout::ErrorPanel;
use crate::components::time::When;

#[component]
pub fn AccountPage() -> impl IntoView {
    let profile = ServerAction::<UpdateProfile>::new();
    let password = ServerAction::<ChangePassword>::new();
    let data = Resource::new(move || profile.version().get(), |_| account_info());
    let profile_error = action_error(profile.value());
    let password_error = action_error(password.value());
    view! {
        <Title text="Account" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(acct) => view! {
                        <h1>"Your account"</h1>
                        <section class="panel">
                            <h2>"Profile"</h2>
                            <dl class="facts">
                                <dt>"Email"</dt><dd data-testid="account-email">{acct.user.email.clone()}</dd>
                                <dt>"Member since"</dt><dd><When at=acct.created_at /></dd>
                                <dt>"Last sign-in"</dt>
                                <dd>{match acct.last_login_at { Some(t) => view! { <When at=t /> }.into_any(), None => "never".into_any() }}</dd>
                            </dl>
                            <ActionForm action=profile>
                                <CsrfField />
                                <FormError error=profile_error fields=&["name"] />
                                <label for="name">"Name"</label>
                                <input id="name" name="name" type="text" maxlength="100" value=acct.user.name.clone().unwrap_or_default() />
                                <FieldError error=profile_error field="name" />
                                <button type="submit">"Save profile"</button>
                                {move || profile.value().get().and_then(|r| r.ok()).map(|m| view! { <p class="ok" role="status">{m}</p> })}
                            </ActionForm>
                        </section>
                        <section class="panel">
                            <h2>"Organizations"</h2>
                            {if acct.orgs.is_empty() {
                                view! { <p class="empty">"You're not in any organization yet. " <a href="/orgs/new">"Create one"</a></p> }.into_any()
                            } else {
                                view! {
                                    <ul class="list">
                                        {acct.orgs.into_iter().map(|o| view! {
                                            <li><a href=format!("/o/{}", o.slug)>{o.name}</a> " " <span class="badge">{o.role.label()}</span></li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
        <section class="panel">
            <h2>"Change password"</h2>
            <ActionForm action=password>
                <CsrfField />
                <FormError error=password_error fields=&["current_password", "new_password"] />
                <label for="current_password">"Current password"</label>
                <input id="current_password" name="current_password" type="password" autocomplete="current-password" required />
                <FieldError error=password_error field="current_password" />
                <label for="new_password">"New password"</label>
                <input id="new_password" name="new_password" type="password" autocomplete="new-password" required minlength="12" />
                <FieldError error=password_error field="new_password" />
                <button type="submit">"Change password"</button>
                {move || password.value().get().and_then(|r| r.ok()).map(|m| view! { <p class="ok" role="status">{m}</p> })}
            </ActionForm>
        </section>
    }
}
