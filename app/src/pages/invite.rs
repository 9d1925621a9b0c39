use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::invitations::{AcceptInvitation, load_invitation};
use crate::components::forms::{CsrfField, FormError, action_error};
use crate::components::layout::ErrorPanel;
use crate::model::InvitationState;

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let data = Resource::new(token, load_invitation);
    let accept = ServerAction::<AcceptInvitation>::new();
    let error = action_error(accept.value());
    view! {
        <Title text="Invitation" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(inv) => {
                        let token = token();
                        let org_name = inv.org_name.clone();
                        let enc = |s: &str| url_encode(s);
                        let body = match (inv.state, inv.signed_in_as.as_deref()) {
                            (InvitationState::Accepted, _) => view! { <p class="notice">"This invitation has already been used."</p> }.into_any(),
                            (InvitationState::Revoked, _) => view! { <p class="notice warning">"This invitation was withdrawn by an admin."</p> }.into_any(),
                            (InvitationState::Expired, _) => view! { <p class="notice warning">"This invitation has expired. Ask the admin for a new one."</p> }.into_any(),
                            (InvitationState::Pending, None) => view! {
                                <p>"Sign in or create an account with " <strong>{inv.email.clone()}</strong> " to accept."</p>
                                <p class="actions">
                                    <a class="button" href=format!("/signup?invite={}&email={}", enc(&token), enc(&inv.email))>"Create an account"</a>
                                    <a class="button secondary" href=format!("/login?next={}", enc(&format!("/invite/{token}")))>"Sign in"</a>
                                </p>
                                <p class="muted">
                                    "An account already uses this address, but you don't know its password? "
                                    <a href="/forgot-password">"Reset the password"</a>
                                    ": the link goes to this mailbox, and the account is yours from then on."
                                </p>
                            }.into_any(),
                            (InvitationState::Pending, Some(me)) if me != inv.email => view! {
                                <p class="notice warning">{format!("This invitation is for {}, but you are signed in as {me}. Sign out and sign in with the invited address.", inv.email)}</p>
                            }.into_any(),
                            (InvitationState::Pending, Some(_)) => view! {
                                <ActionForm action=accept>
                                    <CsrfField />
                                    <input type="hidden" name="token" value=token.clone() />
                                    <FormError error />
                                    <button type="submit">{format!("Join {org_name}")}</button>
                                </ActionForm>
                            }.into_any(),
                        };
                        view! {
                            <section class="panel narrow">
                                <h1>{format!("Join {}", inv.org_name)}</h1>
                                <p>
                                    {inv.invited_by.clone().map(|by| format!("{by} invited you")).unwrap_or_else(|| "You were invited".into())}
                                    " to join " <strong>{inv.org_name.clone()}</strong> " as " <span class="badge">{inv.role.label()}</span> "."
                                </p>
                                {body}
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
