use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::account::{
    CancelTwoFactor, ChangePassword, ConfirmTwoFactor, DisableTwoFactor, RegenerateRecoveryCodes,
    StartTwoFactor, UpdateProfile, account_info,
};
use crate::api::email::{ChangeEmail, ResendVerification};
use crate::components::forms::{CopyBox, CsrfField, FieldError, FormError, action_error};
use crate::components::layout::ErrorPanel;
use crate::components::time::When;
use crate::model::{AccountView, TwoFactorView};

#[component]
pub fn AccountPage() -> impl IntoView {
    let profile = ServerAction::<UpdateProfile>::new();
    let password = ServerAction::<ChangePassword>::new();
    let resend = ServerAction::<ResendVerification>::new();
    let change_email = ServerAction::<ChangeEmail>::new();
    let start = ServerAction::<StartTwoFactor>::new();
    let cancel = ServerAction::<CancelTwoFactor>::new();
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let disable = ServerAction::<DisableTwoFactor>::new();
    let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
    let data = Resource::new(
        move || {
            (
                profile.version().get(),
                change_email.version().get(),
                start.version().get(),
                cancel.version().get(),
                confirm.version().get(),
                disable.version().get(),
                regenerate.version().get(),
            )
        },
        |_| account_info(),
    );
    let profile_error = action_error(profile.value());
    let password_error = action_error(password.value());
    let actions = TwoFactorActions {
        start,
        cancel,
        confirm,
        disable,
        regenerate,
    };
    view! {
        <Title text="Account" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(acct) => {
                        let two_factor = acct.two_factor.clone();
                        let orgs = acct.orgs.clone();
                        let email = acct.clone();
                        view! {
                        <h1>"Your account"</h1>
                        <section class="panel">
                            <h2>"Profile"</h2>
                            <dl class="facts">
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
                        <EmailSection acct=email resend change=change_email />
                        <TwoFactorSection view=two_factor actions />
                        <section class="panel">
                            <h2>"Organizations"</h2>
                            {if orgs.is_empty() {
                                view! { <p class="empty">"You're not in any organization yet. " <a href="/orgs/new">"Create one"</a></p> }.into_any()
                            } else {
                                view! {
                                    <ul class="list">
                                        {orgs.into_iter().map(|o| view! {
                                            <li><a href=format!("/o/{}", o.slug)>{o.name}</a> " " <span class="badge">{o.role.label()}</span></li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                    }.into_any()
                    }
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

/// The address: whether it is verified, sending the link again, and changing it.
#[component]
fn EmailSection(
    acct: AccountView,
    resend: ServerAction<ResendVerification>,
    change: ServerAction<ChangeEmail>,
) -> impl IntoView {
    let resend_error = action_error(resend.value());
    let change_error = action_error(change.value());
    view! {
        <section class="panel" id="email">
            <h2>"Email address"</h2>
            <p>
                <strong data-testid="account-email">{acct.user.email.clone()}</strong> " "
                {if acct.email_verified {
                    view! { <span class="badge ok" data-testid="email-status">"Verified"</span> }.into_any()
                } else {
                    view! { <span class="badge warn" data-testid="email-status">"Not verified"</span> }.into_any()
                }}
            </p>
            {(!acct.email_verified).then(|| view! {
                <p class="notice warning">
                    "Follow the link we mailed to this address. Until then, organizations can't add this account by its address; they send you an invitation instead."
                </p>
                <ActionForm action=resend>
                    <CsrfField />
                    <FormError error=resend_error />
                    <button type="submit" class="secondary" disabled=move || resend.pending().get()>"Send the link again"</button>
                    {move || resend.value().get().and_then(|r| r.ok()).map(|m| view! { <p class="ok" role="status">{m}</p> })}
                </ActionForm>
            })}
            {acct.pending_email.clone().map(|new| view! {
                <p class="notice" data-testid="pending-email">{format!("Waiting for you to follow the link we sent to {new}. Your address changes then.")}</p>
            })}
            <details>
                <summary>"Change your address"</summary>
                <ActionForm action=change>
                    <CsrfField />
                    <FormError error=change_error fields=&["email", "password"] />
                    <label for="new-email">"New address"</label>
                    <input id="new-email" name="email" type="email" autocomplete="email" required />
                    <FieldError error=change_error field="email" />
                    <label for="email-password">"Your password"</label>
                    <input id="email-password" name="password" type="password" autocomplete="current-password" required />
                    <FieldError error=change_error field="password" />
                    <p class="hint">"We mail a link to the new address; nothing changes until it is followed. Your current address is told when it happens."</p>
                    <button type="submit" disabled=move || change.pending().get()>"Send a confirmation link"</button>
                    {move || change.value().get().and_then(|r| r.ok()).map(|m| view! { <p class="ok" role="status">{m}</p> })}
                </ActionForm>
            </details>
        </section>
    }
}

#[derive(Clone, Copy)]
struct TwoFactorActions {
    start: ServerAction<StartTwoFactor>,
    cancel: ServerAction<CancelTwoFactor>,
    confirm: ServerAction<ConfirmTwoFactor>,
    disable: ServerAction<DisableTwoFactor>,
    regenerate: ServerAction<RegenerateRecoveryCodes>,
}

/// Two-factor sign-in: set it up (QR code, key, a code to confirm), recovery codes, turn it off.
#[component]
fn TwoFactorSection(view: TwoFactorView, actions: TwoFactorActions) -> impl IntoView {
    let TwoFactorActions {
        start,
        cancel,
        confirm,
        disable,
        regenerate,
    } = actions;
    let query = use_query_map();
    let sent_here = move || query.read().get("two_factor").as_deref() == Some("required");
    let start_error = action_error(start.value());
    let confirm_error = action_error(confirm.value());
    let disable_error = action_error(disable.value());
    let regenerate_error = action_error(regenerate.value());
    let new_codes = move || {
        confirm
            .value()
            .get()
            .and_then(|r| r.ok())
            .or_else(|| regenerate.value().get().and_then(|r| r.ok()))
    };
    let required = (!view.required_by.is_empty()).then(|| view.required_by.join(", "));
    let enabled = view.enabled_at.is_some();
    let required_off = required.clone();
    let body = match (view.enabled_at, view.enrolment.clone()) {
        (Some(at), _) => view! {
            <p><span class="badge ok" data-testid="two-factor-status">"On"</span> " since " <When at=at /> "."</p>
            <p class="muted" data-testid="recovery-left">{format!("{} recovery codes left.", view.recovery_codes_left)}</p>
            <details>
                <summary>"Make new recovery codes"</summary>
                <ActionForm action=regenerate>
                    <CsrfField />
                    <FormError error=regenerate_error fields=&["code"] />
                    <label for="regen-code">"A current code from your app"</label>
                    <input id="regen-code" name="code" type="text" autocomplete="one-time-code" required maxlength="24" spellcheck="false" />
                    <FieldError error=regenerate_error field="code" />
                    <p class="hint">"The old recovery codes stop working."</p>
                    <button type="submit" class="secondary">"Make new codes"</button>
                </ActionForm>
            </details>
            <details>
                <summary>"Turn two-factor sign-in off"</summary>
                <ActionForm action=disable>
                    <CsrfField />
                    <FormError error=disable_error fields=&["password", "code"] />
                    <label for="off-password">"Your password"</label>
                    <input id="off-password" name="password" type="password" autocomplete="current-password" required />
                    <FieldError error=disable_error field="password" />
                    <label for="off-code">"A current code, or a recovery code"</label>
                    <input id="off-code" name="code" type="text" autocomplete="one-time-code" required maxlength="24" spellcheck="false" />
                    <FieldError error=disable_error field="code" />
                    {required_off.map(|orgs| view! {
                        <p class="notice warning">{format!("{orgs} require two-factor sign-in: without it you can't work there.")}</p>
                    })}
                    <button type="submit" class="danger">"Turn off"</button>
                </ActionForm>
            </details>
        }
        .into_any(),
        (None, Some(enrolment)) => view! {
            <ol class="steps">
                <li>
                    <p>"Scan this code with an authenticator app (1Password, Google Authenticator, Authy, a passkey manager…):"</p>
                    <div class="qr" data-testid="totp-qr" inner_html=enrolment.qr_svg></div>
                    <p class="hint">"Can't scan it? Type this key into the app (time-based, 6 digits):"</p>
                    <p><code class="mono key" data-testid="totp-secret">{enrolment.secret}</code></p>
                </li>
                <li>
                    <ActionForm action=confirm>
                        <CsrfField />
                        <FormError error=confirm_error fields=&["code"] />
                        <label for="confirm-code">"The 6-digit code the app shows"</label>
                        <input id="confirm-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
                            required maxlength="7" pattern="[0-9 ]{6,7}" spellcheck="false" />
                        <FieldError error=confirm_error field="code" />
                        <button type="submit" disabled=move || confirm.pending().get()>"Turn on"</button>
                    </ActionForm>
                </li>
            </ol>
            <ActionForm action=cancel>
                <CsrfField />
                <button type="submit" class="link">"Cancel the set-up"</button>
            </ActionForm>
        }
        .into_any(),
        (None, None) => view! {
            <p><span class="badge" data-testid="two-factor-status">"Off"</span> " Signing in takes your password only."</p>
            <ActionForm action=start>
                <CsrfField />
                <FormError error=start_error />
                <button type="submit" disabled=move || start.pending().get()>"Set up two-factor sign-in"</button>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <section class="panel" id="two-factor">
            <h2>"Two-factor sign-in"</h2>
            {(sent_here() && !enabled).then(|| view! {
                <p class="notice warning" role="status" data-testid="two-factor-required">
                    {format!(
                        "{} requires two-factor sign-in. Set it up here to continue.",
                        required.clone().unwrap_or_else(|| "Your organization".into())
                    )}
                </p>
            })}
            {(!sent_here() && !enabled).then(|| required.clone().map(|orgs| view! {
                <p class="notice warning">{format!("{orgs} require two-factor sign-in.")}</p>
            }))}
            <p class="muted">"After your password, Gatehouse asks for a code from an app on your phone, so a stolen password alone can't get in."</p>
            {move || new_codes().map(|codes| view! {
                <div class="notice" role="status" data-testid="recovery-codes">
                    <p>"Save these recovery codes somewhere safe: each works once if you lose your phone, and they are shown only now."</p>
                    <CopyBox value=codes.join("\n") label="Recovery codes" />
                </div>
            })}
            {body}
        </section>
    }
}
