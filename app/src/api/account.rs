//! The signed-in user's own account.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::AccountView;
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::{orgs, two_factor, users, validate, verification},
};

#[server(prefix = "/fn", endpoint = "account", input = GetUrl)]
pub async fn account_info() -> Result<AccountView, AppError> {
    ctx::run(async {
        let c = ctx::require_user().await?;
        Ok(AccountView {
            orgs: orgs::orgs_of(&c.s.db, c.user.id).await?,
            created_at: c.user.created_at,
            last_login_at: c.user.last_login_at,
            email_verified: c.user.email_verified(),
            pending_email: verification::pending_change(&c.s.db, c.user.id).await?,
            two_factor: two_factor::view(&c.s, &c.user).await?,
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

/// Starts two-factor set-up: the account page then shows the QR code and the key.
#[server(prefix = "/fn", endpoint = "start_two_factor")]
pub async fn start_two_factor(#[server(default)] csrf: String) -> Result<(), AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        two_factor::start_enrolment(&c.s, &c.user).await
    })
    .await
}

#[server(prefix = "/fn", endpoint = "cancel_two_factor")]
pub async fn cancel_two_factor(#[server(default)] csrf: String) -> Result<(), AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        two_factor::cancel_enrolment(&c.s, &c.user).await
    })
    .await
}

/// Confirms set-up with a code; the answer (or, without JavaScript, the next page) shows the
/// recovery codes once.
#[server(prefix = "/fn", endpoint = "confirm_two_factor")]
pub async fn confirm_two_factor(
    #[server(default)] csrf: String,
    #[server(default)] code: String,
) -> Result<Vec<String>, AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        let codes = two_factor::confirm_enrolment(&c.s, &c.user, &code, &ctx::meta()).await?;
        ctx::flash(
            &c.session,
            "Two-factor sign-in is on. Save these recovery codes somewhere safe: each works once if you lose your phone, and they are shown only now.",
            Some(codes.join("\n")),
        )
        .await?;
        Ok(codes)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "disable_two_factor")]
pub async fn disable_two_factor(
    #[server(default)] csrf: String,
    #[server(default)] password: String,
    #[server(default)] code: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        two_factor::disable(&c.s, &c.user, &password, &code, &ctx::meta()).await?;
        let text = "Two-factor sign-in is off.".to_string();
        ctx::flash(&c.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes(
    #[server(default)] csrf: String,
    #[server(default)] code: String,
) -> Result<Vec<String>, AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        let codes =
            two_factor::regenerate_recovery_codes(&c.s, &c.user, &code, &ctx::meta()).await?;
        ctx::flash(
            &c.session,
            "New recovery codes: the old ones no longer work. Save these somewhere safe; they are shown only now.",
            Some(codes.join("\n")),
        )
        .await?;
        Ok(codes)
    })
    .await
}
