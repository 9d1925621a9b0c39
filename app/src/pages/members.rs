use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::members::{
    AddMember, ChangeRole, RemoveMember, ResendInvitation, RevokeInvitation, load_members,
};
use crate::components::forms::{CsrfField, FieldError, FormError, action_error, row_outcome};
use crate::components::layout::ErrorPanel;
use crate::components::time::When;
use crate::model::{AddMemberOutcome, InvitationView, MemberView, Role, TwoFactorPolicy};

#[component]
pub fn MembersAdminPage() -> impl IntoView {
    let add = ServerAction::<AddMember>::new();
    let change = ServerAction::<ChangeRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let resend = ServerAction::<ResendInvitation>::new();
    let data = Resource::new(
        move || {
            (
                add.version().get(),
                change.version().get(),
                remove.version().get(),
                revoke.version().get(),
                resend.version().get(),
            )
        },
        |_| load_members(),
    );
    let add_error = action_error(add.value());
    // The outcome of the last row action (change, remove, revoke), success or failure.
    let row_result = move || {
        [
            change.value().get(),
            remove.value().get(),
            revoke.value().get(),
            resend.value().get(),
        ]
        .into_iter()
        .zip([
            change.version().get(),
            remove.version().get(),
            revoke.version().get(),
            resend.version().get(),
        ])
        .filter_map(|(v, n)| v.map(|v| (n, v)))
        .max_by_key(|(n, _)| *n)
        .map(|(_, v)| v)
    };
    view! {
        <Title text="Members" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(page) => {
                        let org_name = page.org.name.clone();
                        let last_admin = page.admin_count <= 1;
                        let policy = page.two_factor_policy;
                        let without: Vec<String> = page
                            .members
                            .iter()
                            .filter(|m| policy.applies_to(m.role) && !m.two_factor)
                            .map(|m| m.email.clone())
                            .collect();
                        view! {
                            <h1>"Members of " {page.org.name.clone()}</h1>
                            {move || row_result().map(row_outcome)}
                            <p class="muted" data-testid="two-factor-policy">
                                "Two-factor sign-in: " <strong>{policy.label()}</strong> ". "
                                <a href="/admin/settings#two-factor">"Change"</a>
                            </p>
                            {(policy != TwoFactorPolicy::Off && !without.is_empty()).then(|| view! {
                                <p class="notice warning" data-testid="two-factor-missing">
                                    {format!(
                                        "{} can't work in {} until they turn on two-factor sign-in: {}.",
                                        if without.len() == 1 { "One member".to_string() } else { format!("{} members", without.len()) },
                                        org_name,
                                        without.join(", ")
                                    )}
                                </p>
                            })}
                            <section class="panel">
                                <table class="table" data-testid="members">
                                    <thead><tr><th>"Member"</th><th>"Role"</th><th>"Two-factor"</th><th>"Joined"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {page.members.into_iter().map(|m| view! {
                                            <MemberRow m org_name=org_name.clone() last_admin change remove />
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                            {(!page.invitations.is_empty()).then(|| view! {
                                <section class="panel">
                                    <h2>"Pending invitations"</h2>
                                    <table class="table" data-testid="invitations">
                                        <thead><tr><th>"Email"</th><th>"Role"</th><th>"Invited by"</th><th>"Expires"</th><th></th></tr></thead>
                                        <tbody>
                                            {page.invitations.into_iter().map(|i| view! { <InvitationRow i revoke resend /> }).collect_view()}
                                        </tbody>
                                    </table>
                                </section>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
        <section class="panel">
            <h2>"Add a member"</h2>
            <p class="muted">"An account that has verified this address joins at once. Anyone else gets an invitation by mail, and joins by following its link."</p>
            <ActionForm action=add attr:class="row-form">
                <CsrfField />
                <FormError error=add_error fields=&["email", "role"] />
                <div class="field">
                    <label for="add-email">"Email"</label>
                    <input id="add-email" name="email" type="email" required />
                    <FieldError error=add_error field="email" />
                </div>
                <div class="field">
                    <label for="add-role">"Role"</label>
                    <RoleSelect id="add-role" selected=Role::Viewer />
                    <FieldError error=add_error field="role" />
                </div>
                <button type="submit" disabled=move || add.pending().get()>"Add member"</button>
            </ActionForm>
            {move || add.value().get().and_then(|r| r.ok()).map(|outcome| match outcome {
                AddMemberOutcome::Added { email, role } => view! {
                    <p class="ok" role="status">{format!("Added {email} as {}.", role.label().to_lowercase())}</p>
                }.into_any(),
                AddMemberOutcome::Invited { email, .. } => view! {
                    <p class="notice" role="status">{crate::api::members::invited_text(&email)}</p>
                }.into_any(),
            })}
        </section>
    }
}

#[component]
fn RoleSelect(
    #[prop(into)] id: String,
    selected: Role,
    #[prop(optional)] label: Option<String>,
) -> impl IntoView {
    view! {
        <select id=id name="role" aria-label=label>
            {Role::ALL.into_iter().map(|r| view! {
                <option value=r.as_str() selected=r == selected>{r.label()}</option>
            }).collect_view()}
        </select>
    }
}

#[component]
fn MemberRow(
    m: MemberView,
    org_name: String,
    last_admin: bool,
    change: ServerAction<ChangeRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let id = m.membership_id.to_string();
    let email = m.email.clone();
    let select_id = format!("role-{id}");
    let select_label = format!("Role of {email}");
    let remove_id = id.clone();
    let locked = last_admin && m.role == Role::Admin;
    let who = m
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| m.email.clone());
    view! {
        <tr data-email=email.clone()>
            <td>
                <strong>{who.clone()}</strong>
                {m.is_self.then(|| view! { " " <span class="badge subtle">"you"</span> })}
                {m.sso.then(|| view! {
                    " " <span class="badge" data-testid="sso-badge" title="Signs in through the organization's single sign-on">"SSO"</span>
                })}
                <br /><span class="muted small">{email.clone()}</span>
            </td>
            <td>
                <ActionForm action=change attr:class="inline">
                    <CsrfField />
                    <input type="hidden" name="membership_id" value=id.clone() />
                    <RoleSelect id=select_id selected=m.role label=select_label />
                    <button type="submit" class="secondary small">"Save"</button>
                </ActionForm>
            </td>
            <td>
                {if m.two_factor {
                    view! { <span class="badge ok">"On"</span> }.into_any()
                } else {
                    view! { <span class="badge subtle">"Off"</span> }.into_any()
                }}
            </td>
            <td><When at=m.joined_at /></td>
            <td>
                {if locked {
                    view! { <span class="muted small" title="An organization needs at least one admin">"Last admin"</span> }.into_any()
                } else {
                    view! {
                        <details class="confirm">
                            <summary class="danger-link">"Remove…"</summary>
                            <ActionForm action=remove>
                                <CsrfField />
                                <input type="hidden" name="membership_id" value=remove_id.clone() />
                                <p>{format!("Remove {who} from {org_name}? They lose access at once.")}</p>
                                <button type="submit" class="danger small">"Remove member"</button>
                            </ActionForm>
                        </details>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}

#[component]
fn InvitationRow(
    i: InvitationView,
    revoke: ServerAction<RevokeInvitation>,
    resend: ServerAction<ResendInvitation>,
) -> impl IntoView {
    view! {
        <tr>
            <td>{i.email.clone()}</td>
            <td><span class="badge">{i.role.label()}</span></td>
            <td>{i.invited_by.clone().unwrap_or_else(|| "—".into())}</td>
            <td><When at=i.expires_at /></td>
            <td>
                <ActionForm action=resend attr:class="inline">
                    <CsrfField />
                    <input type="hidden" name="invitation_id" value=i.id.to_string() />
                    <button type="submit" class="secondary small">"Send again"</button>
                </ActionForm>
                <details class="confirm">
                    <summary class="danger-link">"Withdraw…"</summary>
                    <ActionForm action=revoke>
                        <CsrfField />
                        <input type="hidden" name="invitation_id" value=i.id.to_string() />
                        <p>{format!("Withdraw the invitation for {}? The link stops working.", i.email)}</p>
                        <button type="submit" class="danger small">"Withdraw invitation"</button>
                    </ActionForm>
                </details>
            </td>
        </tr>
    }
}
