//! The apps connected to the signed-in user's account (`/settings/connected-apps`): every
//! connection (MCP OAuth PAT) in every org, and revoking one.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::ConnectedAppList;
#[cfg(feature = "ssr")]
use crate::{api::ctx, domain::connections};

/// One page (from 1) of the caller's live connections, by org.
#[server(prefix = "/fn", endpoint = "connected_apps", input = GetUrl)]
pub async fn load_connected_apps(
    #[server(default)] page: u64,
) -> Result<ConnectedAppList, AppError> {
    ctx::run(async move {
        let caller = ctx::require_user().await?;
        connections::list_for_user(&caller.s.db, caller.user.id, page).await
    })
    .await
}

/// Ends one of the caller's connections and every token issued for it.
#[server(prefix = "/fn", endpoint = "revoke_connected_app")]
pub async fn revoke_connected_app(
    #[server(default)] csrf: String,
    #[server(default)] connection_id: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let caller = ctx::require_user().await?;
        ctx::check_csrf(&caller.session, &csrf).await?;
        let id = ctx::parse_id(&connection_id, "connection")?;
        let c = connections::revoke_own(&caller.s, caller.user.id, id, &ctx::meta()).await?;
        let text = format!(
            "Disconnected {}. It can no longer use your account until you connect it again.",
            c.client_name
        );
        ctx::flash(&caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}
