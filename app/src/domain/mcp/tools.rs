//! The MCP tools: what each needs (least role, scope) and what it does. The server's MCP
//! handler only decodes arguments and calls these; a refusal is an error in plain words that
//! the handler returns as a tool error.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::access::Principal;
use crate::domain::audit_log::{self, AuditFilter};
use crate::domain::oauth::scope::{MCP_READ, MCP_WRITE, ScopeSet};
use crate::domain::org_policy::{self, PolicyChange};
use crate::domain::{RequestMeta, Services, connections, members, org_admin, users};
use crate::error::{AppError, AppResult};
use crate::policy::Capability;

/// A tool's requirements, declared once: the handler's descriptions and the HTTP layer's
/// scope challenge read them from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolRule {
    pub name: &'static str,
    pub capability: Capability,
    pub scope: &'static str,
}

pub const RULES: [ToolRule; 10] = [
    rule("whoami", Capability::UseSelfTools, MCP_READ),
    rule("list_my_connections", Capability::UseSelfTools, MCP_READ),
    rule("revoke_my_connection", Capability::UseSelfTools, MCP_WRITE),
    rule("list_members", Capability::ListMembers, MCP_READ),
    rule("query_activity", Capability::QueryOwnActivity, MCP_READ),
    rule("list_oauth_clients", Capability::AdministerOrg, MCP_READ),
    rule("list_tokens", Capability::AdministerOrg, MCP_READ),
    rule("revoke_token", Capability::AdministerOrg, MCP_WRITE),
    rule("get_org_policy", Capability::AdministerOrg, MCP_READ),
    rule("set_org_policy", Capability::AdministerOrg, MCP_WRITE),
];

const fn rule(name: &'static str, capability: Capability, scope: &'static str) -> ToolRule {
    ToolRule {
        name,
        capability,
        scope,
    }
}

pub fn rule_for(tool: &str) -> Option<&'static ToolRule> {
    RULES.iter().find(|r| r.name == tool)
}

/// "needs role X or higher and scope Y", for tool descriptions.
pub fn requirement(tool: &str) -> String {
    let Some(r) = rule_for(tool) else {
        return String::new();
    };
    let least = crate::model::Role::ALL
        .into_iter()
        .find(|role| role.can(r.capability))
        .map(|role| role.as_str())
        .unwrap_or("admin");
    format!("Needs role {least} or higher and scope {}.", r.scope)
}

/// The scopes to ask the user for when this token's grant lacks what `tool` needs: everything
/// already granted plus the missing scope (so clients that replace scopes keep the old ones).
/// `None` when the grant suffices or the tool is unknown.
pub fn missing_scope(p: &Principal, tool: &str) -> Option<ScopeSet> {
    let r = rule_for(tool)?;
    if p.scopes().contains(r.scope) {
        return None;
    }
    Some(ScopeSet::parse_known(&format!(
        "{} {}",
        p.scopes(),
        r.scope
    )))
}

/// Role and scope check for `tool` (the access decision's), as a refusal in plain words.
fn allow(p: &Principal, tool: &str) -> AppResult<()> {
    let r = rule_for(tool).ok_or_else(|| AppError::not_found(format!("No tool named {tool}.")))?;
    p.require(r.capability, r.scope)
        .map_err(|d| AppError::forbidden(d.to_string()))
}

pub async fn whoami(_s: &Services, p: &Principal) -> AppResult<Value> {
    allow(p, "whoami")?;
    let credential = match p.grant() {
        Some(g) => json!({
            "kind": p.kind(),
            "connection_id": g.connection_id,
            "client_id": g.client.client_id,
            "client_name": g.client.name,
            "resource": p.token.resource,
        }),
        None => json!({ "kind": p.kind(), "name": p.token.name }),
    };
    let org = p.org();
    Ok(json!({
        "user": { "id": p.user_id(), "email": p.email(), "name": p.name() },
        "organization": { "id": org.id, "slug": org.slug, "name": org.name },
        "role": p.role().as_str(),
        "scopes": p.scopes().iter().collect::<Vec<_>>(),
        "credential": credential,
        "token_expires_at": p.expires_at(),
    }))
}

pub async fn list_my_connections(s: &Services, p: &Principal) -> AppResult<Value> {
    allow(p, "list_my_connections")?;
    let list = connections::list(&s.db, p.org().id, Some(p.user_id())).await?;
    Ok(json!({ "connections": list }))
}

pub async fn revoke_my_connection(
    s: &Services,
    p: &Principal,
    connection_id: &str,
    meta: &RequestMeta,
) -> AppResult<Value> {
    allow(p, "revoke_my_connection")?;
    let id = parse_id("connection_id", connection_id)?;
    let c = connections::revoke(s, p.user_id(), p.org().id, Some(p.user_id()), id, meta).await?;
    Ok(json!({ "revoked": c }))
}

pub async fn list_members(s: &Services, p: &Principal) -> AppResult<Value> {
    allow(p, "list_members")?;
    let list: Vec<Value> = members::list(&s.db, p.org().id, p.user_id())
        .await?
        .into_iter()
        .map(|m| {
            json!({
                "email": m.email,
                "name": m.name,
                "role": m.role.as_str(),
                "joined_at": m.joined_at,
            })
        })
        .collect();
    Ok(json!({ "members": list }))
}

/// Arguments of `query_activity`, as the handler decoded them.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<u64>,
}

pub async fn query_activity(s: &Services, p: &Principal, q: &ActivityQuery) -> AppResult<Value> {
    allow(p, "query_activity")?;
    let whole_org = p.role().can(Capability::QueryOrgData);
    let actor_email = q.actor.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let actor_user_id = match actor_email {
        None if whole_org => None,
        None => Some(p.user_id()),
        Some(email) if email.eq_ignore_ascii_case(p.email()) => Some(p.user_id()),
        Some(_) if !whole_org => {
            return Err(AppError::forbidden(format!(
                "Your role {} can see only your own activity; ask an admin of the organization for access to others'.",
                p.role().as_str()
            )));
        }
        Some(email) => match users::find_by_email(&s.db, &email.to_lowercase()).await? {
            Some(u) => Some(u.id),
            None => {
                return Err(AppError::invalid(
                    "actor",
                    format!("No user with the email {email}."),
                ));
            }
        },
    };
    let action = q.action.as_deref().map(str::trim).filter(|a| !a.is_empty());
    if let Some(a) = action
        && !a
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
    {
        return Err(AppError::invalid(
            "action",
            "An action looks like oauth.token.revoked (lowercase words and dots).",
        ));
    }
    let filter = AuditFilter {
        actor_user_id,
        action: action.map(str::to_string),
        since: parse_time("since", q.since.as_deref())?,
        until: parse_time("until", q.until.as_deref())?,
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let events = audit_log::query(&s.db, p.org().id, &filter, 0, limit).await?;
    Ok(json!({
        "scope": if actor_user_id == Some(p.user_id()) && !whole_org { "your own activity" } else { "organization" },
        "count": events.len(),
        "events": events,
    }))
}

pub async fn list_oauth_clients(s: &Services, p: &Principal) -> AppResult<Value> {
    allow(p, "list_oauth_clients")?;
    Ok(json!({ "clients": org_admin::clients(&s.db, p.org().id).await? }))
}

pub async fn list_tokens(s: &Services, p: &Principal) -> AppResult<Value> {
    allow(p, "list_tokens")?;
    Ok(json!({ "tokens": org_admin::tokens(&s.db, p.org().id).await? }))
}

pub async fn revoke_token(
    s: &Services,
    p: &Principal,
    id: &str,
    meta: &RequestMeta,
) -> AppResult<Value> {
    allow(p, "revoke_token")?;
    let id = parse_id("id", id)?;
    let t = org_admin::revoke_token(s, p.user_id(), p.org().id, id, meta).await?;
    Ok(json!({ "revoked": t }))
}

pub async fn get_org_policy(_s: &Services, p: &Principal) -> AppResult<Value> {
    allow(p, "get_org_policy")?;
    Ok(json!({ "organization": p.org().slug, "policy": org_policy::of(p.org()) }))
}

pub async fn set_org_policy(
    s: &Services,
    p: &Principal,
    change: &PolicyChange,
    meta: &RequestMeta,
) -> AppResult<Value> {
    allow(p, "set_org_policy")?;
    if *change == PolicyChange::default() {
        return Err(AppError::invalid(
            "policy",
            "Name at least one setting to change, e.g. {\"mcp_enabled\": false}.",
        ));
    }
    let policy = org_policy::update(s, p.user_id(), p.org().id, change, meta).await?;
    Ok(json!({ "organization": p.org().slug, "policy": policy }))
}

fn parse_id(field: &str, raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        AppError::invalid(
            field,
            format!("{field} must be an id like 0192f3c4-…, as listed by the list tools."),
        )
    })
}

fn parse_time(field: &str, raw: Option<&str>) -> AppResult<Option<DateTime<Utc>>> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => DateTime::parse_from_rfc3339(r)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                AppError::invalid(
                    field,
                    format!("{field} must be a time like 2026-11-24T09:00:00Z."),
                )
            }),
    }
}
