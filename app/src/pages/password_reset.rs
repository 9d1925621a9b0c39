use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::password_reset::{ForgotPassword, ResetPassword, load_password_reset};
use crate::components::forms::{CsrfField, FieldError, FormError, action_error};
use crate::components::layout::ErrorPanel;

/// "Forgot your password?": asks for the address; the answer never says whether it has an
/// account.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let ask = ServerAction::<ForgotPassword>::new();
    let error = action_error(ask.value());
    view! {
        <Title text="Reset your password" />
        <section class="panel narrow">
            <h1>"Reset your password"</h1>
            <p>"Type the address you sign in with. We'll mail it a link to choose a new password."</p>
            {move || ask.value().get().and_then(|r| r.ok()).map(|m| view! { <p class="ok" role="status" data-testid="reset-sent">{m}</p> })}
            <ActionForm action=ask>
                <CsrfField />
                <FormError error fields=&["email"] />
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required autofocus />
                <FieldError error field="email" />
                <button type="submit" disabled=move || ask.pending().get()>"Send the link"</button>
            </ActionForm>
            <p class="muted">"Remembered it? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}

/// The page a reset link opens: a new password for the account the link was mailed to.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let data = Resource::new(token, load_password_reset);
    let reset = ServerAction::<ResetPassword>::new();
    let error = action_error(reset.value());
    view! {
        <Title text="Choose a new password" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! {
                        <ErrorPanel error=e />
                        <p class="muted"><a href="/forgot-password">"Ask for a new link"</a></p>
                    }.into_any(),
                    Ok(email) => view! {
                        <section class="panel narrow">
                            <h1>"Choose a new password"</h1>
                            <p>"For " <strong data-testid="reset-email">{email.clone()}</strong> ". Every session of the account ends when you save it."</p>
                            <ActionForm action=reset>
                                <CsrfField />
                                <input type="hidden" name="token" value=token() />
                                <input type="email" name="username" autocomplete="username" value=email hidden />
                                <FormError error fields=&["password"] />
                                <label for="password">"New password"</label>
                                <input id="password" name="password" type="password" autocomplete="new-password" required minlength="12"
                                    aria-describedby="password-hint" autofocus />
                                <p class="hint" id="password-hint">"At least 12 characters. A phrase of unrelated words works well."</p>
                                <FieldError error field="password" />
                                <button type="submit" disabled=move || reset.pending().get()>"Save the new password"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
