//! The admin's members page: list, add or invite, change role, remove, revoke invitations.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::{AddMemberOutcome, MembersPage};
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::{invitations, members, orgs, validate},
    model::Role,
    policy::Capability,
};

#[cfg(feature = "ssr")]
fn parse_role(raw: &str) -> Result<Role, AppError> {
    Role::parse(raw).ok_or_else(|| {
        AppError::invalid(
            "role",
            "Choose a role: viewer, restricted querier, querier or admin.",
        )
    })
}

#[server(prefix = "/fn", endpoint = "members", input = GetUrl)]
pub async fn load_members() -> Result<MembersPage, AppError> {
    ctx::run(async {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        let db = &oc.caller.s.db;
        Ok(MembersPage {
            members: members::list(db, oc.org.id, oc.caller.user.id).await?,
            invitations: invitations::list_pending(db, oc.org.id).await?,
            admin_count: members::admin_count(db, oc.org.id).await?,
            two_factor_policy: oc.org.two_factor_policy,
            org: orgs::view(&oc.org, oc.role),
        })
    })
    .await
}

#[server(prefix = "/fn", endpoint = "add_member")]
pub async fn add_member(
    #[server(default)] csrf: String,
    #[server(default)] email: String,
    #[server(default)] role: String,
) -> Result<AddMemberOutcome, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let email = validate::Email::parse(&email)?;
        let role = parse_role(&role)?;
        let outcome = invitations::add_by_email(
            &oc.caller.s,
            oc.caller.user.id,
            &oc.org,
            &email,
            role,
            &ctx::meta(),
        )
        .await?;
        match &outcome {
            AddMemberOutcome::Added { email, role } => {
                ctx::flash(
                    &oc.caller.session,
                    format!("Added {email} as {}.", role.label().to_lowercase()),
                    None,
                )
                .await?
            }
            AddMemberOutcome::Invited { email, .. } => {
                ctx::flash(&oc.caller.session, invited_text(email), None).await?
            }
        }
        Ok(outcome)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "change_role")]
pub async fn change_role(
    #[server(default)] csrf: String,
    #[server(default)] membership_id: String,
    #[server(default)] role: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let id = ctx::parse_id(&membership_id, "member")?;
        let role = parse_role(&role)?;
        let m = members::change_role(
            &oc.caller.s,
            oc.caller.user.id,
            &oc.org,
            id,
            role,
            &ctx::meta(),
        )
        .await?;
        let text = format!("{} is now {}.", m.email, role.label().to_lowercase());
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "remove_member")]
pub async fn remove_member(
    #[server(default)] csrf: String,
    #[server(default)] membership_id: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let id = ctx::parse_id(&membership_id, "member")?;
        let email =
            members::remove(&oc.caller.s, oc.caller.user.id, &oc.org, id, &ctx::meta()).await?;
        let text = format!("Removed {email} from {}.", oc.org.name);
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(
    #[server(default)] csrf: String,
    #[server(default)] invitation_id: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let id = ctx::parse_id(&invitation_id, "invitation")?;
        let email = invitations::revoke(
            &oc.caller.s.db,
            oc.caller.user.id,
            &oc.org,
            id,
            &ctx::meta(),
        )
        .await?;
        let text = format!("Withdrew the invitation for {email}.");
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "resend_invitation")]
pub async fn resend_invitation(
    #[server(default)] csrf: String,
    #[server(default)] invitation_id: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let id = ctx::parse_id(&invitation_id, "invitation")?;
        let email =
            invitations::resend(&oc.caller.s, oc.caller.user.id, &oc.org, id, &ctx::meta())
                .await?;
        let text = format!(
            "Sent the invitation to {email} again, with a new link valid for 7 days. The earlier link no longer works."
        );
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

/// What the admin is told when an address was invited rather than added.
pub fn invited_text(email: &str) -> String {
    format!(
        "{email} has no verified Gatehouse account, so we mailed them an invitation (valid for 7 days). They join when they follow its link."
    )
}
