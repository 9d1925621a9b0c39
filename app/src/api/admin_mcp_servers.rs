//! The org admin's MCP servers page (`/admin/mcp-servers`): the org's own MCP servers behind
//! Gatehouse, read and changed through the same domain functions as `/api/v1/org/mcp-servers`.

// One argument per form field (a plain HTML form posts them flat), here and in the generated
// client stub, which an attribute on the function doesn't reach.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::McpServersView;
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::gateway::{catalog, upstreams},
    domain::oauth::resource::McpResource,
    domain::orgs,
    model::{Role, UpstreamForm, UpstreamPanel},
    policy::Capability,
};

#[cfg(feature = "ssr")]
const DRAFT: &str = "org_mcp_server";

#[server(prefix = "/fn", endpoint = "org_mcp_servers", input = GetUrl)]
pub async fn load_mcp_servers() -> Result<McpServersView, AppError> {
    ctx::run(async {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        let s = &oc.caller.s;
        let mut servers = Vec::new();
        for u in upstreams::list(&s.db, oc.org.id).await? {
            servers.push(UpstreamPanel {
                tools: catalog::tools_of(s, oc.org.id, u.id).await?,
                server: upstreams::view(&u),
            });
        }
        let form = ctx::take_draft::<UpstreamForm>(&oc.caller.session, DRAFT, Some(oc.org.id))
            .await
            .unwrap_or_else(|| UpstreamForm {
                timeout_secs: (upstreams::DEFAULT_TIMEOUT_MS / 1000).to_string(),
                ..UpstreamForm::default()
            });
        let hosts_rule = match &s.settings.gateway.allowed_hosts {
            Some(list) => format!("This Gatehouse may reach {}.", list.entries().join(", ")),
            None => "This Gatehouse may reach any public address; the operator allows internal hosts with GATEHOUSE_UPSTREAM_ALLOWED_HOSTS.".into(),
        };
        Ok(McpServersView {
            servers,
            form,
            endpoint: McpResource::Org(oc.org.slug.clone()).url(&s.settings.public_url),
            jwks_url: format!("{}/.well-known/jwks.json", s.settings.public_url),
            hosts_rule,
            org: orgs::view(&oc.org, oc.role),
        })
    })
    .await
}

/// The timeout field in seconds.
#[cfg(feature = "ssr")]
fn timeout_ms(raw: &str) -> Result<i32, AppError> {
    raw.trim()
        .parse::<i32>()
        .ok()
        .and_then(|secs| secs.checked_mul(1000))
        .ok_or_else(|| {
            AppError::invalid(
                "timeout_ms",
                "Enter the timeout in whole seconds (1 to 120).",
            )
        })
}

#[cfg(feature = "ssr")]
fn change(
    name: String,
    url: String,
    auth_header_name: String,
    auth_header_value: String,
    timeout_secs: &str,
    enabled: bool,
) -> Result<upstreams::UpstreamChange, AppError> {
    let opt = |v: String| Some(v).filter(|v| !v.trim().is_empty());
    Ok(upstreams::UpstreamChange {
        name,
        url,
        auth_header_name: opt(auth_header_name),
        auth_header_value: opt(auth_header_value),
        timeout_ms: timeout_ms(timeout_secs)?,
        enabled,
    })
}

#[cfg(feature = "ssr")]
fn on(v: &str) -> bool {
    matches!(v.trim(), "on" | "true" | "1" | "yes")
}

/// Adds a server and lists its tools at once.
#[server(prefix = "/fn", endpoint = "add_org_mcp_server")]
pub async fn add_mcp_server(
    #[server(default)] csrf: String,
    #[server(default)] name: String,
    #[server(default)] url: String,
    #[server(default)] auth_header_name: String,
    #[server(default)] auth_header_value: String,
    #[server(default)] timeout_secs: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let s = &oc.caller.s;
        let form = UpstreamForm {
            name: ctx::draft_text(&name),
            url: ctx::draft_text(&url),
            auth_header_name: ctx::draft_text(&auth_header_name),
            timeout_secs: ctx::draft_text(&timeout_secs),
        };
        let made = match change(name, url, auth_header_name, auth_header_value, &timeout_secs, true) {
            Ok(c) => upstreams::create(s, oc.caller.user.id, oc.org.id, &c, &ctx::meta()).await,
            Err(e) => Err(e),
        };
        let made = match made {
            Ok(m) => m,
            Err(e) => {
                ctx::keep_draft(&oc.caller.session, DRAFT, Some(oc.org.id), &form).await;
                return Err(e);
            }
        };
        let text = match catalog::refresh(s, &made).await? {
            Ok(n) => format!("Added {}: {n} tools listed. Members see them as {}__… at once, as their roles allow.", made.name, made.name),
            Err(why) => format!("Added {}, but its tools could not be listed yet: {why}. Check it and refresh.", made.name),
        };
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

/// Changes a server; an empty secret keeps the stored one.
#[server(prefix = "/fn", endpoint = "update_org_mcp_server")]
pub async fn update_mcp_server(
    #[server(default)] csrf: String,
    #[server(default)] id: String,
    #[server(default)] name: String,
    #[server(default)] url: String,
    #[server(default)] auth_header_name: String,
    #[server(default)] auth_header_value: String,
    #[server(default)] timeout_secs: String,
    #[server(default)] enabled: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let id = ctx::parse_id(&id, "MCP server")?;
        let c = change(
            name,
            url,
            auth_header_name,
            auth_header_value,
            &timeout_secs,
            on(&enabled),
        )?;
        let u = upstreams::update(
            &oc.caller.s,
            oc.caller.user.id,
            oc.org.id,
            id,
            &c,
            &ctx::meta(),
        )
        .await?;
        let text = format!("Saved {}.", u.name);
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

/// The admin behind a form about one of their org's servers (CSRF checked), and the server.
#[cfg(feature = "ssr")]
async fn admin_and_server(
    csrf: &str,
    id: &str,
) -> Result<(ctx::OrgCaller, crate::domain::entities::mcp_upstream::Model), AppError> {
    let oc = ctx::require_org(Capability::AdministerOrg).await?;
    ctx::check_csrf(&oc.caller.session, csrf).await?;
    let id = ctx::parse_id(id, "MCP server")?;
    let u = upstreams::find(&oc.caller.s.db, oc.org.id, id).await?;
    Ok((oc, u))
}

#[server(prefix = "/fn", endpoint = "refresh_org_mcp_server")]
pub async fn refresh_mcp_server(
    #[server(default)] csrf: String,
    #[server(default)] id: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let (oc, u) = admin_and_server(&csrf, &id).await?;
        let text = match catalog::refresh(&oc.caller.s, &u).await? {
            Ok(n) => format!("Listed the tools of {}: {n}.", u.name),
            Err(why) => {
                return Err(AppError::Conflict(format!(
                    "{why}. The tools listed before stay as they were."
                )));
            }
        };
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "remove_org_mcp_server")]
pub async fn remove_mcp_server(
    #[server(default)] csrf: String,
    #[server(default)] id: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let (oc, u) = admin_and_server(&csrf, &id).await?;
        upstreams::delete(
            &oc.caller.s,
            oc.caller.user.id,
            oc.org.id,
            u.id,
            &ctx::meta(),
        )
        .await?;
        let text = format!(
            "Removed {}: its tools are gone from {} at once.",
            u.name, oc.org.name
        );
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

/// Sets who may call one tool; `reset` goes back to what its annotations say.
#[server(prefix = "/fn", endpoint = "set_org_mcp_tool")]
pub async fn set_mcp_tool(
    #[server(default)] csrf: String,
    #[server(default)] id: String,
    #[server(default)] tool: String,
    #[server(default)] min_role: String,
    #[server(default)] scope: String,
    #[server(default)] reset: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let id = ctx::parse_id(&id, "MCP server")?;
        let policy = if on(&reset) {
            None
        } else {
            let role = Role::parse(&min_role)
                .ok_or_else(|| AppError::invalid("min_role", "Choose a role."))?;
            Some((role, scope.trim().to_string()))
        };
        let t = catalog::set_tool_policy(
            &oc.caller.s,
            oc.caller.user.id,
            oc.org.id,
            id,
            &tool,
            policy,
            &ctx::meta(),
        )
        .await?;
        let text = format!(
            "{} is now for {}s and up with {}.",
            t.exposed_as,
            t.min_role.label().to_lowercase(),
            t.scope
        );
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}
