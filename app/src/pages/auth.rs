use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::session::{Login, Signup, VerifySecondFactor, load_second_factor};
use crate::components::forms::{CsrfField, FieldError, FormError, action_error};
use crate::components::layout::{ErrorPanel, use_session};
use crate::error::AppError;

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
        } else if q.get("reset").is_some() {
            Some(
                "Your password was changed and every session of the account ended. Sign in with the new password.",
            )
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
                <p class="hint"><a href="/forgot-password">"Forgot your password?"</a></p>
                <button type="submit" disabled=move || login.pending().get()>"Sign in"</button>
            </ActionForm>
            // A plain GET form: it leads to the org's provider with or without JavaScript.
            <form method="get" action="/login/sso" class="sso-form" data-testid="sso-form">
                <input type="hidden" name="next" value=next />
                <label for="sso-email">"Or sign in with your organization's single sign-on"</label>
                <input id="sso-email" name="email" type="email" autocomplete="email" placeholder="you@company.com" required />
                <button type="submit" class="secondary">"Continue with SSO"</button>
            </form>
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

/// The second step of signing in, for accounts with two-factor sign-in on.
#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let verify = ServerAction::<VerifySecondFactor>::new();
    let error = action_error(verify.value());
    let prompt = Resource::new(|| (), |_| load_second_factor());
    view! {
        <Title text="Two-factor sign-in" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match prompt.await {
                    Err(AppError::Unauthenticated) => view! {
                        <section class="panel narrow">
                            <h1>"Sign in again"</h1>
                            <p>"No sign-in is waiting for a code (they last five minutes). Start again with your email and password."</p>
                            <a class="button" href="/login">"Sign in"</a>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(p) => view! {
                        <section class="panel narrow">
                            <h1>"Two-factor sign-in"</h1>
                            <p>"Signing in as " <strong>{p.email}</strong> ". Open your authenticator app and type the 6-digit code it shows for Gatehouse."</p>
                            <ActionForm action=verify>
                                <CsrfField />
                                <FormError error fields=&["code"] />
                                <label for="code">"Code"</label>
                                <input id="code" name="code" type="text" inputmode="text" autocomplete="one-time-code"
                                    required autofocus maxlength="24" spellcheck="false" aria-describedby="code-hint" />
                                <p class="hint" id="code-hint">"Lost your phone? Type one of your recovery codes (xxxx-xxxx-xxxx-xxxx) instead; each works once."</p>
                                <FieldError error field="code" />
                                <button type="submit" disabled=move || verify.pending().get()>"Verify"</button>
                            </ActionForm>
                            <p class="muted"><a href="/login">"Use another account"</a></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
