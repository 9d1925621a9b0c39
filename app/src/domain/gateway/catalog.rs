//! What clients see of the upstreams' tools, and who may call which. The tools an upstream
//! listed are stored (a client's `tools/list` then needs no upstream round trip, and an admin
//! sees and decides on each tool before anyone calls it); each has a least role and a scope,
//! from its annotations until an admin sets them: a tool marked destructive needs an admin and
//! `mcp:write`, any other a querier and `mcp:read`.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::upstreams::{self, SEPARATOR};
use crate::domain::access::Principal;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::entities::{mcp_upstream, mcp_upstream_tool};
use crate::domain::oauth::scope::{MCP_READ, MCP_WRITE};
use crate::domain::write_txn::BeginWrite;
use crate::domain::{RequestMeta, Services};
use crate::error::{AppError, AppResult};
use crate::model::{Role, UpstreamToolView};

/// The most tools kept of one upstream's listing.
pub const MAX_TOOLS: usize = 500;
/// The longest error kept from a failed listing.
const MAX_ERROR: usize = 500;

pub use crate::domain::upstream_client::ListedTool;

/// Marked destructive: `destructiveHint: true` on a tool not marked read-only.
pub fn destructive(annotations: Option<&Value>) -> bool {
    annotations
        .is_some_and(|a| a["destructiveHint"] == json!(true) && a["readOnlyHint"] != json!(true))
}

/// The least role and scope a tool gets until an admin decides.
pub fn default_policy(annotations: Option<&Value>) -> (Role, &'static str) {
    if destructive(annotations) {
        (Role::Admin, MCP_WRITE)
    } else {
        (Role::Querier, MCP_READ)
    }
}

/// Stores a successful listing of `u`'s tools: new ones with the default policy, known ones
/// updated (an admin's policy kept, a defaulted one following new annotations), missing ones
/// hidden. How many are present.
pub async fn record_listing(
    s: &Services,
    u: &mcp_upstream::Model,
    mut tools: Vec<ListedTool>,
) -> AppResult<usize> {
    tools.retain(|t| !t.name.is_empty() && t.name.len() <= 128);
    tools.truncate(MAX_TOOLS);
    let now = Utc::now();
    let txn = s.db.begin_write().await?;
    let known: Vec<mcp_upstream_tool::Model> = mcp_upstream_tool::Entity::find()
        .filter(mcp_upstream_tool::Column::UpstreamId.eq(u.id))
        .all(&txn)
        .await?;
    for t in &tools {
        let (role, scope) = default_policy(t.annotations.as_ref());
        let text = |v: &Option<Value>| v.as_ref().map(Value::to_string);
        match known.iter().find(|k| k.name == t.name) {
            Some(k) => {
                let mut row: mcp_upstream_tool::ActiveModel = k.clone().into();
                row.title = Set(t.title.clone());
                row.description = Set(t.description.clone());
                row.input_schema = Set(t.input_schema.to_string());
                row.output_schema = Set(text(&t.output_schema));
                row.annotations = Set(text(&t.annotations));
                if !k.policy_set {
                    row.min_role = Set(role);
                    row.scope = Set(scope.into());
                }
                row.present = Set(true);
                row.seen_at = Set(now);
                row.update(&txn).await?;
            }
            None => {
                mcp_upstream_tool::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    upstream_id: Set(u.id),
                    name: Set(t.name.clone()),
                    title: Set(t.title.clone()),
                    description: Set(t.description.clone()),
                    input_schema: Set(t.input_schema.to_string()),
                    output_schema: Set(text(&t.output_schema)),
                    annotations: Set(text(&t.annotations)),
                    min_role: Set(role),
                    scope: Set(scope.into()),
                    policy_set: Set(false),
                    present: Set(true),
                    seen_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    let listed: Vec<String> = tools.iter().map(|t| t.name.clone()).collect();
    mcp_upstream_tool::Entity::update_many()
        .col_expr(mcp_upstream_tool::Column::Present, Expr::value(false))
        .filter(mcp_upstream_tool::Column::UpstreamId.eq(u.id))
        .filter(mcp_upstream_tool::Column::Name.is_not_in(listed))
        .exec(&txn)
        .await?;
    mcp_upstream::Entity::update_many()
        .col_expr(mcp_upstream::Column::ToolsRefreshedAt, Expr::value(now))
        .col_expr(
            mcp_upstream::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(mcp_upstream::Column::Id.eq(u.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    upstreams::catalog_changed(s);
    Ok(tools.len())
}

/// Lists `u`'s tools now (through the server's MCP client, within `u`'s timeout) and stores
/// the listing, or why it failed. How many tools it has, or the reason in words.
pub async fn refresh(s: &Services, u: &mcp_upstream::Model) -> AppResult<Result<usize, String>> {
    let Some(client) = s.upstream_client.get().cloned() else {
        return Ok(Err("this Gatehouse process can't reach MCP servers".into()));
    };
    let bearer = super::caller::catalog_assertion(s, u).await?;
    let secret = upstreams::secret_header(s, u)?;
    let timeout = upstreams::timeout(u);
    let listed = tokio::time::timeout(timeout, client.list_tools(u, secret, bearer)).await;
    let why = match listed {
        Ok(Ok(tools)) => return Ok(Ok(record_listing(s, u, tools).await?)),
        Ok(Err(e)) => format!("{} could not be listed: {e}", u.name),
        Err(_) => format!(
            "{} did not answer within {} seconds",
            u.name,
            timeout.as_secs()
        ),
    };
    tracing::info!(upstream = %u.id, error = %why, "listing an upstream's tools failed");
    record_failure(s, u, &why).await?;
    Ok(Err(why))
}

/// Notes why listing `u`'s tools failed (what was listed before stays usable).
pub async fn record_failure(s: &Services, u: &mcp_upstream::Model, why: &str) -> AppResult<()> {
    let why: String = why.chars().take(MAX_ERROR).collect();
    mcp_upstream::Entity::update_many()
        .col_expr(mcp_upstream::Column::LastError, Expr::value(Some(why)))
        .filter(mcp_upstream::Column::Id.eq(u.id))
        .exec(&s.db)
        .await?;
    Ok(())
}

/// The name clients see: `{upstream}__{tool}`.
pub fn exposed_name(upstream: &str, tool: &str) -> String {
    format!("{upstream}{SEPARATOR}{tool}")
}

/// A tool a caller may use, with its upstream (rows shared with the catalog).
#[derive(Debug, Clone)]
pub struct Exposed {
    pub upstream: Arc<mcp_upstream::Model>,
    pub tool: Arc<mcp_upstream_tool::Model>,
}

impl Exposed {
    pub fn name(&self) -> String {
        exposed_name(&self.upstream.name, &self.tool.name)
    }
}

pub use crate::domain::access::gateway_catalog::OrgCatalog;

/// `org_id`'s catalog, from the cache or the database.
pub async fn org_catalog(s: &Services, org_id: Uuid) -> AppResult<Arc<OrgCatalog>> {
    if let Some(kept) = s.caches.catalog(&org_id) {
        return Ok(kept);
    }
    // Read before the database: a change committed meanwhile leaves this entry stale.
    let tag = s.caches.generation();
    let ups = mcp_upstream::Entity::find()
        .filter(mcp_upstream::Column::OrgId.eq(org_id))
        .order_by_asc(mcp_upstream::Column::Name)
        .all(&s.db)
        .await?;
    let mut tools = if ups.is_empty() {
        Vec::new()
    } else {
        mcp_upstream_tool::Entity::find()
            .filter(mcp_upstream_tool::Column::UpstreamId.is_in(ups.iter().map(|u| u.id)))
            .filter(mcp_upstream_tool::Column::Present.eq(true))
            .order_by_asc(mcp_upstream_tool::Column::Name)
            .all(&s.db)
            .await?
    };
    let catalog = Arc::new(OrgCatalog {
        upstreams: ups
            .into_iter()
            .map(|u| {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    tools.drain(..).partition(|t| t.upstream_id == u.id);
                tools = rest;
                (Arc::new(u), mine.into_iter().map(Arc::new).collect())
            })
            .collect(),
    });
    s.caches.put_catalog(org_id, tag, catalog.clone());
    Ok(catalog)
}

/// The upstream tools `p` may see in their org: on upstreams that are on, listed last time,
/// and open to their role and scope.
pub async fn visible(s: &Services, p: &Principal) -> AppResult<Vec<Exposed>> {
    let catalog = org_catalog(s, p.org().id).await?;
    Ok(catalog
        .enabled()
        .flat_map(|(u, tools)| {
            tools
                .iter()
                .filter(|t| {
                    p.require_tool(&exposed_name(&u.name, &t.name), t.min_role, &t.scope)
                        .is_ok()
                })
                .map(|t| Exposed {
                    upstream: Arc::clone(u),
                    tool: Arc::clone(t),
                })
        })
        .collect())
}

/// The server and tool (or prompt) names in `{upstream}__{name}`, both non-empty.
fn split_name(name: &str) -> Option<(&str, &str)> {
    name.split_once(SEPARATOR)
        .filter(|(u, t)| !u.is_empty() && !t.is_empty())
}

/// Whether `name` is an upstream tool's name at all (`{upstream}__{tool}`).
pub fn is_upstream_name(name: &str) -> bool {
    split_name(name).is_some()
}

/// The upstream tool `name` for `p`, through the access decision: `Ok(Err(words))` when there
/// is none such or `p` may not call it (the words for the tool error).
pub async fn route(s: &Services, p: &Principal, name: &str) -> AppResult<Result<Exposed, String>> {
    let unknown = || Ok(Err(format!("There is no tool {name} here.")));
    let Some((up, tool)) = split_name(name) else {
        return unknown();
    };
    let catalog = org_catalog(s, p.org().id).await?;
    let Some((upstream, tools)) = catalog.upstream(up) else {
        return unknown();
    };
    let Some(t) = tools.iter().find(|t| t.name == tool) else {
        return Ok(Err(format!(
            "There is no tool {name} here. If {} added it recently, an admin refreshes its tool list on the MCP servers page.",
            upstream.name
        )));
    };
    if !upstream.enabled {
        return Ok(Err(format!(
            "The MCP server {} is switched off in {}. Ask an admin.",
            upstream.name,
            p.org().name
        )));
    }
    if let Err(d) = p.require_tool(name, t.min_role, &t.scope) {
        return Ok(Err(d.to_string()));
    }
    Ok(Ok(Exposed {
        upstream: Arc::clone(upstream),
        tool: Arc::clone(t),
    }))
}

/// The least role and scope for an upstream's prompts and resources: they are read-only
/// content, so what a read-only tool needs by default.
pub const CONTENT_ROLE: Role = Role::Querier;
pub const CONTENT_SCOPE: &str = MCP_READ;

/// The scheme of the resource URIs clients see: `gatehouse://{upstream}/{the upstream's URI}`,
/// a valid URI whatever the upstream's is, read back by cutting the prefix (never parsed, so
/// the upstream gets its URI byte for byte).
pub const RESOURCE_SCHEME: &str = "gatehouse";

/// The URI clients see for the upstream's resource (or URI template) `uri`.
pub fn exposed_uri(upstream: &str, uri: &str) -> String {
    format!("{RESOURCE_SCHEME}://{upstream}/{uri}")
}

/// The upstream and its own URI behind an exposed resource URI, both non-empty.
pub fn split_uri(uri: &str) -> Option<(&str, &str)> {
    uri.strip_prefix(RESOURCE_SCHEME)?
        .strip_prefix("://")?
        .split_once('/')
        .filter(|(u, rest)| !u.is_empty() && !rest.is_empty())
}

/// The upstreams whose prompts or resources (`what`) `p` may see: on, in their org, and `p`
/// allowed content.
pub async fn content_sources(
    s: &Services,
    p: &Principal,
    what: &str,
) -> AppResult<Vec<Arc<mcp_upstream::Model>>> {
    if p.require_tool(what, CONTENT_ROLE, CONTENT_SCOPE).is_err() {
        return Ok(Vec::new());
    }
    let catalog = org_catalog(s, p.org().id).await?;
    Ok(catalog.enabled().map(|(u, _)| Arc::clone(u)).collect())
}

/// The upstream that is on in `p`'s org and named `name`, if `p` may have its content
/// (`kind` and `exposed` name what was asked for, in the words of a refusal).
async fn content_route(
    s: &Services,
    p: &Principal,
    name: &str,
    kind: &str,
    exposed: &str,
) -> AppResult<Result<Arc<mcp_upstream::Model>, String>> {
    let unknown = || Ok(Err(format!("There is no {kind} {exposed} here.")));
    let catalog = org_catalog(s, p.org().id).await?;
    let Some(upstream) = catalog
        .enabled()
        .map(|(u, _)| u)
        .find(|u| u.name == name)
        .map(Arc::clone)
    else {
        return unknown();
    };
    let what = format!("The {kind} {exposed}");
    if let Err(d) = p.require_tool(&what, CONTENT_ROLE, CONTENT_SCOPE) {
        return Ok(Err(d.to_string()));
    }
    Ok(Ok(upstream))
}

/// The upstream and prompt name behind `name` (`{upstream}__{prompt}`) for `p`, through the
/// access decision: `Ok(Err(words))` when there is none such or `p` may not have it.
pub async fn prompt_route(
    s: &Services,
    p: &Principal,
    name: &str,
) -> AppResult<Result<(Arc<mcp_upstream::Model>, String), String>> {
    let Some((up, prompt)) = split_name(name) else {
        return Ok(Err(format!("There is no prompt {name} here.")));
    };
    Ok(content_route(s, p, up, "prompt", name)
        .await?
        .map(|u| (u, prompt.to_string())))
}

/// The upstream and its own URI behind the exposed resource `uri` for `p`, through the access
/// decision: `Ok(Err(words))` when there is none such or `p` may not read it.
pub async fn resource_route(
    s: &Services,
    p: &Principal,
    uri: &str,
) -> AppResult<Result<(Arc<mcp_upstream::Model>, String), String>> {
    let Some((up, own)) = split_uri(uri) else {
        return Ok(Err(format!("There is no resource {uri} here.")));
    };
    Ok(content_route(s, p, up, "resource", uri)
        .await?
        .map(|u| (u, own.to_string())))
}

/// The tools of one of `org_id`'s upstreams with who may call them (for its admins).
pub async fn tools_of(
    s: &Services,
    org_id: Uuid,
    upstream_id: Uuid,
) -> AppResult<Vec<UpstreamToolView>> {
    let u = upstreams::find(&s.db, org_id, upstream_id).await?;
    Ok(mcp_upstream_tool::Entity::find()
        .filter(mcp_upstream_tool::Column::UpstreamId.eq(u.id))
        .order_by_desc(mcp_upstream_tool::Column::Present)
        .order_by_asc(mcp_upstream_tool::Column::Name)
        .all(&s.db)
        .await?
        .into_iter()
        .map(|t| tool_view(&u.name, t))
        .collect())
}

fn annotations_of(t: &mcp_upstream_tool::Model) -> Option<Value> {
    t.annotations
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
}

fn tool_view(upstream: &str, t: mcp_upstream_tool::Model) -> UpstreamToolView {
    UpstreamToolView {
        exposed_as: exposed_name(upstream, &t.name),
        destructive: destructive(annotations_of(&t).as_ref()),
        name: t.name,
        description: t.description,
        min_role: t.min_role,
        scope: t.scope,
        policy_set: t.policy_set,
        present: t.present,
    }
}

/// Sets who may call one tool of one of `org_id`'s upstreams; `None` goes back to the
/// default from its annotations. Audited; applies to the next request.
#[allow(clippy::too_many_arguments)]
pub async fn set_tool_policy(
    s: &Services,
    actor: Uuid,
    org_id: Uuid,
    upstream_id: Uuid,
    tool: &str,
    policy: Option<(Role, String)>,
    meta: &RequestMeta,
) -> AppResult<UpstreamToolView> {
    if let Some((_, scope)) = &policy
        && scope != MCP_READ
        && scope != MCP_WRITE
    {
        return Err(AppError::invalid(
            "scope",
            format!("Use {MCP_READ} or {MCP_WRITE}."),
        ));
    }
    let txn = s.db.begin_write().await?;
    let u = upstreams::find(&txn, org_id, upstream_id).await?;
    let t = mcp_upstream_tool::Entity::find()
        .filter(mcp_upstream_tool::Column::UpstreamId.eq(u.id))
        .filter(mcp_upstream_tool::Column::Name.eq(tool))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("{} has no tool {tool}.", u.name)))?;
    let (role, scope, set) = match &policy {
        Some((role, scope)) => (*role, scope.clone(), true),
        None => {
            let (r, sc) = default_policy(annotations_of(&t).as_ref());
            (r, sc.to_string(), false)
        }
    };
    let before = (t.min_role, t.scope.clone());
    let mut row: mcp_upstream_tool::ActiveModel = t.into();
    row.min_role = Set(role);
    row.scope = Set(scope.clone());
    row.policy_set = Set(set);
    let t = row.update(&txn).await?;
    audit::record(
        &txn,
        AuditEntry::new("org.mcp_server.tool_policy_changed")
            .org(org_id)
            .actor(actor)
            .target("mcp_server", u.id)
            .details(json!({
                "tool": exposed_name(&u.name, &t.name),
                "before": { "min_role": before.0, "scope": before.1 },
                "after": { "min_role": role, "scope": scope, "default": !set },
            })),
        meta,
    )
    .await?;
    txn.commit().await?;
    upstreams::catalog_changed(s);
    Ok(tool_view(&u.name, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destructive_tools_default_to_admins_with_write() {
        assert_eq!(default_policy(None), (Role::Querier, MCP_READ));
        assert_eq!(
            default_policy(Some(&json!({ "destructiveHint": true }))),
            (Role::Admin, MCP_WRITE)
        );
        assert_eq!(
            default_policy(Some(
                &json!({ "destructiveHint": true, "readOnlyHint": true })
            )),
            (Role::Querier, MCP_READ)
        );
        assert_eq!(
            default_policy(Some(&json!({ "readOnlyHint": false }))),
            (Role::Querier, MCP_READ)
        );
    }

    #[test]
    fn upstream_names_split_at_the_separator() {
        assert!(is_upstream_name("crm__find_contact"));
        assert!(!is_upstream_name("whoami"));
        assert!(!is_upstream_name("__x"));
        assert!(!is_upstream_name("crm__"));
        assert_eq!(exposed_name("crm", "find"), "crm__find");
    }
}
