//! Proving an address: the confirmation link's page, sending the link again, and changing the
//! account's address.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::EmailLinkInfo;
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::{email_links, entities::email_link::LinkPurpose, validate, verification},
};

/// What a confirmation link is for, or why it can't be used. Showing it changes nothing: the
/// button does (a mail scanner opening the link must not use it up).
#[server(prefix = "/fn", endpoint = "email_link", input = GetUrl)]
pub async fn load_email_link(token: String) -> Result<EmailLinkInfo, AppError> {
    ctx::run(async move {
        let s = ctx::services()?;
        let purposes = [LinkPurpose::Verify, LinkPurpose::ChangeEmail];
        let link = email_links::peek(&s.db, &token, &purposes)
            .await?
            .ok_or_else(|| email_links::unusable(LinkPurpose::Verify))?;
        Ok(EmailLinkInfo {
            email: link.email,
            change: link.purpose == LinkPurpose::ChangeEmail,
        })
    })
    .await
}

#[server(prefix = "/fn", endpoint = "confirm_email")]
pub async fn confirm_email(
    #[server(default)] csrf: String,
    #[server(default)] token: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let session = ctx::session().await?;
        ctx::check_csrf(&session, &csrf).await?;
        let s = ctx::services()?;
        let done = verification::confirm(&s, &token, &ctx::meta()).await?;
        let text = match done {
            verification::Confirmed::Verified { email } => {
                format!("Thanks: {email} is verified.")
            }
            verification::Confirmed::Changed { email } => {
                format!("Your account now uses {email}.")
            }
        };
        ctx::flash(&session, text.clone(), None).await?;
        let signed_in = crate::web::session::signed_in(&s, &session)
            .await?
            .is_some();
        leptos_axum::redirect(if signed_in { "/account" } else { "/login" });
        Ok(text)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "resend_verification")]
pub async fn resend_verification(#[server(default)] csrf: String) -> Result<String, AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        verification::resend(&c.s, &c.user).await?;
        let text = format!(
            "We sent a new link to {}. It works for 24 hours.",
            c.user.email
        );
        ctx::flash(&c.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "change_email")]
pub async fn change_email(
    #[server(default)] csrf: String,
    #[server(default)] email: String,
    #[server(default)] password: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        let email = validate::Email::parse(&email)
            .map_err(|e| AppError::invalid("email", e.to_string()))?;
        verification::request_change(&c.s, &c.user, &email, &password, &ctx::meta()).await?;
        let text = format!(
            "We sent a link to {}. Your address changes when you follow it (within 24 hours).",
            email.as_str()
        );
        ctx::flash(&c.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}
