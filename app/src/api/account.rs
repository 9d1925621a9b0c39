//! The signed-in user's own account.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::AccountView;
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::{orgs, users, validate},
};

#[server(prefix = "/fn", endpoint = "account", input = GetUrl)]
pub async fn account_info() -> Result<AccountView, AppError> {
    ctx::run(async {
        let c = ctx::require_user().await?;
        Ok(AccountView {
            orgs: orgs::orgs_of(&c.s.db, c.user.id).await?,
            created_at: c.user.created_at,
            last_login_at: c.user.last_login_at,
            user: users::view(&c.user),
        })
    })
    .await
}

#[server(prefix = "/fn", endpoint = "update_profile")]
pub async fn update_profile(
    #[server(default)] csrf: String,
    #[server(default)] name: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        let name = validate::display_name(&name)?;
        users::update_name(&c.s.db, c.user, name).await?;
        ctx::flash(&c.session, "Profile saved.", None).await?;
        Ok("Profile saved.".to_string())
    })
    .await
}

#[server(prefix = "/fn", endpoint = "change_password")]
pub async fn change_password(
    #[server(default)] csrf: String,
    #[server(default)] current_password: String,
    #[server(default)] new_password: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        let id = c.user.id;
        // Ends every session of the account, this one included; this one is signed in again
        // below on a new id.
        users::change_password(&c.s, c.user, &current_password, &new_password, &ctx::meta())
            .await?;
        // A new session id after a credential change.
        ctx::sign_in(&c.session, id).await?;
        ctx::flash(&c.session, "Password changed.", None).await?;
        Ok("Password changed.".to_string())
    })
    .await
}
