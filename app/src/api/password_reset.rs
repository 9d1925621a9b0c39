//! "Forgot your password?" and the reset link's page. Neither needs a signed-in session.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{api::ctx, domain::password_reset};

/// Mails a reset link when the address has an account; the answer is the same either way.
#[server(prefix = "/fn", endpoint = "forgot_password")]
pub async fn forgot_password(
    #[server(default)] csrf: String,
    #[server(default)] email: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let session = ctx::session().await?;
        ctx::check_csrf(&session, &csrf).await?;
        let s = ctx::services()?;
        let answer = password_reset::request(&s, &email, &ctx::meta()).await?;
        ctx::flash(&session, answer.clone(), None).await?;
        Ok(answer)
    })
    .await
}

/// The address a reset link is for, or why it can't be used.
#[server(prefix = "/fn", endpoint = "password_reset", input = GetUrl)]
pub async fn load_password_reset(token: String) -> Result<String, AppError> {
    ctx::run(async move {
        let s = ctx::services()?;
        password_reset::link_email(&s.db, &token).await
    })
    .await
}

/// Sets the new password; every session of the account ends, and the person signs in again
/// (with their second factor, if they have one).
#[server(prefix = "/fn", endpoint = "reset_password")]
pub async fn reset_password(
    #[server(default)] csrf: String,
    #[server(default)] token: String,
    #[server(default)] password: String,
) -> Result<(), AppError> {
    ctx::run(async move {
        let session = ctx::session().await?;
        ctx::check_csrf(&session, &csrf).await?;
        let s = ctx::services()?;
        password_reset::reset(&s, &token, &password, &ctx::meta()).await?;
        // Whoever was signed in on this browser is signed out: the person signs in anew.
        ctx::sign_out(&session).await?;
        leptos_axum::redirect("/login?reset=1");
        Ok(())
    })
    .await
}
