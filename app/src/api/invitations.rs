//! Opening and accepting an invitation link.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::InvitationInfo;
#[cfg(feature = "ssr")]
use crate::{api::ctx, domain::invitations};

#[server(prefix = "/fn", endpoint = "invitation", input = GetUrl)]
pub async fn load_invitation(token: String) -> Result<InvitationInfo, AppError> {
    ctx::run(async move {
        let s = ctx::services()?;
        let session = ctx::session().await?;
        let viewer = crate::web::session::signed_in(&s, &session).await?;
        invitations::info(&s.db, &token, viewer.as_ref()).await
    })
    .await
}

#[server(prefix = "/fn", endpoint = "accept_invitation")]
pub async fn accept_invitation(
    #[server(default)] csrf: String,
    #[server(default)] token: String,
) -> Result<(), AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        let org = invitations::accept(&c.s.db, &token, &c.user, &ctx::meta()).await?;
        ctx::set_current_org(&c.session, org.id).await?;
        ctx::flash(&c.session, format!("You joined {}.", org.name), None).await?;
        leptos_axum::redirect(&format!("/o/{}", org.slug));
        Ok(())
    })
    .await
}
