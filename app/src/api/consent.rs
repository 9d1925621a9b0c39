//! The OAuth consent screen's data and decision.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::ConsentView;
#[cfg(feature = "ssr")]
use crate::{api::ctx, domain::oauth::consent};

#[server(prefix = "/fn", endpoint = "consent", input = GetUrl)]
pub async fn load_consent(request_id: String) -> Result<ConsentView, AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        let id = ctx::parse_id(&request_id, "authorization request")?;
        consent::view(&c.s, id, &c.user).await
    })
    .await
}

/// Authorize or Deny. Both end in a redirect to the app (a plain form post, so the browser
/// follows it whether or not JavaScript runs).
#[server(prefix = "/fn", endpoint = "decide_consent")]
pub async fn decide_consent(
    #[server(default)] csrf: String,
    #[server(default)] request_id: String,
    #[server(default)] org: String,
    #[server(default)] decision: String,
) -> Result<(), AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        let id = ctx::parse_id(&request_id, "authorization request")?;
        let location = match decision.as_str() {
            "approve" => {
                if org.trim().is_empty() {
                    return Err(AppError::invalid(
                        "org",
                        "Choose the organization this app may use.",
                    ));
                }
                consent::approve(&c.s, id, &c.user, &org, &ctx::meta()).await?
            }
            "deny" => consent::deny(&c.s, id, &c.user, &ctx::meta()).await?,
            _ => return Err(AppError::invalid("decision", "Choose Authorize or Deny.")),
        };
        leptos_axum::redirect(&location);
        Ok(())
    })
    .await
}
