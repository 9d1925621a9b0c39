//! Creating organizations, switching between them, and an org's overview.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::OrgOverview;
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::{orgs, validate},
};

#[server(prefix = "/fn", endpoint = "create_org")]
pub async fn create_org(
    #[server(default)] csrf: String,
    #[server(default)] name: String,
    #[server(default)] slug: String,
) -> Result<(), AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        let name = validate::org_name(&name)?;
        let slug_src = if slug.trim().is_empty() {
            validate::Slug::suggest(&name)
        } else {
            slug
        };
        let slug = validate::Slug::parse(&slug_src)?;
        let org = orgs::create_org(&c.s.db, c.user.id, &slug, name, &ctx::meta()).await?;
        ctx::set_current_org(&c.session, org.id).await?;
        ctx::flash(
            &c.session,
            format!("Created {}. You are its admin.", org.name),
            None,
        )
        .await?;
        leptos_axum::redirect(&format!("/o/{}", org.slug));
        Ok(())
    })
    .await
}

#[server(prefix = "/fn", endpoint = "switch_org")]
pub async fn switch_org(
    #[server(default)] csrf: String,
    #[server(default)] org: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        ctx::check_csrf(&c.session, &csrf).await?;
        let (org, _) = orgs::member_org(&c.s.db, c.user.id, &org).await?;
        ctx::set_current_org(&c.session, org.id).await?;
        ctx::flash(&c.session, format!("Switched to {}.", org.name), None).await?;
        // Stay on the page the switch was made from, unless it was another org's page.
        let next = ctx::safe_next(&next);
        let target = if next.starts_with("/o/") || next == "/" {
            format!("/o/{}", org.slug)
        } else {
            next
        };
        leptos_axum::redirect(&target);
        Ok(())
    })
    .await
}

#[server(prefix = "/fn", endpoint = "org_overview", input = GetUrl)]
pub async fn load_org_overview(slug: String) -> Result<OrgOverview, AppError> {
    ctx::run(async move {
        let c = ctx::require_user().await?;
        let current = ctx::current_org(&c).await?.map(|(o, _)| o.id);
        orgs::overview(&c.s.db, &c.user, &slug, current).await
    })
    .await
}
