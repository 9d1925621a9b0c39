//! The admin's tokens page (`/admin/tokens`): every personal token of the org, standard PATs
//! and MCP OAuth PATs, filtered and paginated; disable, re-enable, revoke. Admins only.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::AdminTokens;
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::org_admin,
    model::{OrgToken, TokenFilter},
    policy::Capability,
};

#[cfg(feature = "ssr")]
fn describe(t: &OrgToken) -> String {
    match (&t.name, &t.client_name) {
        (Some(name), _) => format!("the token “{name}” of {}", t.owner_email),
        (None, Some(client)) => format!("{}'s connection of {client}", t.owner_email),
        _ => format!("the token of {}", t.owner_email),
    }
}

/// One page (from 1) of the org's tokens matching the filters, newest first.
#[server(prefix = "/fn", endpoint = "admin_tokens", input = GetUrl)]
pub async fn load_admin_tokens(
    #[server(default)] kind: String,
    #[server(default)] user: String,
    #[server(default)] status: String,
    #[server(default)] page: u64,
) -> Result<AdminTokens, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        let filter = TokenFilter {
            kind: Some(kind),
            user: Some(user),
            status: Some(status),
        };
        Ok(AdminTokens {
            list: org_admin::tokens_page(&oc.caller.s.db, oc.org.id, &filter, page).await?,
            org_name: oc.org.name,
        })
    })
    .await
}

/// Disables (`disabled` = "true") or re-enables a token of the org.
#[server(prefix = "/fn", endpoint = "set_org_token_disabled")]
pub async fn set_org_token_disabled(
    #[server(default)] csrf: String,
    #[server(default)] token_id: String,
    #[server(default)] disabled: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let id = ctx::parse_id(&token_id, "token")?;
        let disabled = disabled.trim() == "true";
        let t = org_admin::set_token_disabled(
            &oc.caller.s,
            oc.caller.user.id,
            oc.org.id,
            id,
            disabled,
            &ctx::meta(),
        )
        .await?;
        let what = describe(&t);
        let text = if disabled {
            format!("Disabled {what}. It is refused until you enable it again.")
        } else {
            format!("Enabled {what} again.")
        };
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "revoke_org_token")]
pub async fn revoke_org_token(
    #[server(default)] csrf: String,
    #[server(default)] token_id: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let id = ctx::parse_id(&token_id, "token")?;
        let t =
            org_admin::revoke_token(&oc.caller.s, oc.caller.user.id, oc.org.id, id, &ctx::meta())
                .await?;
        let text = format!(
            "Revoked {}. Anything using it stops working now.",
            describe(&t)
        );
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}
