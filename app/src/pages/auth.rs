use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::session::{Login, Signup};
use crate::components::forms::{CsrfField, FieldError, FormError, action_error};
use crate::components::layout::use_session;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = action_error(login.value());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".to_string());
    let notice = move || {
        let q = query.read();
        if q.get("signed_out").is_some() {
            Some("You have signed out.")
        } else if q.get("next").is_some() {
            Some("Please sign in to continue.")
        } else {
            None
        }
    };
    let session = use_session();
    view! {
        <Title text="Sign in" />
        <section class="panel narrow">
            <h1>"Sign in to Gatehouse"</h1>
            {move || notice().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <ActionForm action=login>
                <CsrfField />
                <input type="hidden" name="next" value=next />
                <FormError error fields=&["email", "password"] />
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required autofocus />
                <FieldError error field="email" />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required />
                <FieldError error field="password" />
                <button type="submit" disabled=move || login.pending().get()>"Sign in"</button>
            </ActionForm>
            <Suspense>
                {move || Suspend::new(async move {
                    session.await.ok().filter(|s| s.signup_enabled).map(|_| view! {
                        <p class="muted">"New here? " <a href="/signup">"Create an account"</a></p>
                    })
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let signup = ServerAction::<Signup>::new();
    let error = action_error(signup.value());
    let query = use_query_map();
    let invite = move || query.read().get("invite").unwrap_or_default();
    let email = move || query.read().get("email").unwrap_or_default();
    let session = use_session();
    view! {
        <Title text="Sign up" />
        <section class="panel narrow">
            <h1>"Create your account"</h1>
            <Suspense>
                {move || Suspend::new(async move {
                    let open = session.await.map(|s| s.signup_enabled).unwrap_or(false);
                    (!open && invite().is_empty()).then(|| view! {
                        <p class="notice warning" role="status">
                            "Sign-up is turned off on this Gatehouse. Ask an organization admin for an invitation."
                        </p>
                    })
                })}
            </Suspense>
            <ActionForm action=signup>
                <CsrfField />
                <input type="hidden" name="invite" value=invite />
                <FormError error fields=&["name", "email", "password"] />
                <label for="name">"Name " <span class="muted">"(optional)"</span></label>
                <input id="name" name="name" type="text" autocomplete="name" maxlength="100" />
                <FieldError error field="name" />
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required value=email />
                <FieldError error field="email" />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="new-password" required minlength="12"
                    aria-describedby="password-hint" />
                <p class="hint" id="password-hint">"At least 12 characters. A phrase of unrelated words works well."</p>
                <FieldError error field="password" />
                <button type="submit" disabled=move || signup.pending().get()>"Create account"</button>
            </ActionForm>
            <p class="muted">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}
