use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::email::{ConfirmEmail, load_email_link};
use crate::components::forms::{CsrfField, FormError, action_error};
use crate::components::layout::ErrorPanel;

/// The page a confirmation link opens. Opening it changes nothing (mail scanners open links);
/// the button confirms.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let data = Resource::new(token, load_email_link);
    let confirm = ServerAction::<ConfirmEmail>::new();
    let error = action_error(confirm.value());
    view! {
        <Title text="Confirm your email address" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(link) => {
                        let (title, text, button) = if link.change {
                            ("Use your new address", format!("Confirm that {} is yours: your Gatehouse account will use it from now on.", link.email), "Use this address")
                        } else {
                            ("Confirm your email address", format!("Confirm that {} is yours.", link.email), "Confirm my address")
                        };
                        view! {
                            <section class="panel narrow">
                                <h1>{title}</h1>
                                <p data-testid="link-email">{text}</p>
                                <ActionForm action=confirm>
                                    <CsrfField />
                                    <input type="hidden" name="token" value=token() />
                                    <FormError error />
                                    <button type="submit" disabled=move || confirm.pending().get()>{button}</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
