//! `/api/v1/org/policy`: which ways into the org are open, where OAuth apps may redirect, and
//! token lifetimes. A PATCH changes only the fields it names; every change is audited and
//! takes effect on the next request.

use app::domain::org_policy::{self, Policy, PolicyChange};
use app::model::TwoFactorPolicy;
use app::policy::Capability;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Access, ApiCaller};
use super::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// The organization's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrgPolicy {
    /// MCP clients may use the org's MCP server.
    pub mcp_enabled: bool,
    /// Members may create standard personal access tokens, and use them (here and at the MCP
    /// endpoint).
    pub personal_tokens_enabled: bool,
    /// MCP clients may connect with OAuth (each connection is an MCP OAuth PAT).
    pub mcp_oauth_pats_enabled: bool,
    /// Dynamically registered (RFC 7591) clients may be used in this org.
    pub dynamic_registration_enabled: bool,
    /// Where OAuth apps may send members back in this org, as `scheme://host`
    /// (`https://claude.ai`, `cursor://anysphere.cursor-mcp`): a redirect URI must match an
    /// entry's scheme and host. Empty means any.
    pub allowed_redirect_hosts: Vec<String>,
    /// Lifetime of MCP OAuth access tokens, in seconds.
    #[schema(minimum = 60, maximum = 86400)]
    pub access_token_ttl_secs: i64,
    /// Lifetime of refresh tokens, in seconds.
    #[schema(minimum = 3600, maximum = 31536000)]
    pub refresh_token_ttl_secs: i64,
    /// The longest lifetime a member may choose for a standard PAT, in days.
    #[schema(minimum = 1, maximum = 3650)]
    pub pat_max_ttl_days: i32,
    /// Who must use two-factor sign-in to work in the org: `off`, `admins` or `everyone`.
    /// A member it applies to who has it off can use nothing of the org (pages, consent,
    /// tokens) until they turn it on.
    #[schema(value_type = String, example = "admins")]
    pub two_factor_policy: TwoFactorPolicy,
    /// Apps identified by a client ID metadata document (an https URL as `client_id`) may
    /// connect.
    pub metadata_clients_enabled: bool,
    /// Metadata-document apps only from these domains (a domain covers its subdomains);
    /// empty allows any.
    pub allowed_client_domains: Vec<String>,
    /// Metadata-document apps from these domains can't connect.
    pub blocked_client_domains: Vec<String>,
}

impl From<Policy> for OrgPolicy {
    fn from(p: Policy) -> Self {
        Self {
            mcp_enabled: p.mcp_enabled,
            personal_tokens_enabled: p.personal_tokens_enabled,
            mcp_oauth_pats_enabled: p.mcp_oauth_pats_enabled,
            dynamic_registration_enabled: p.dynamic_registration_enabled,
            allowed_redirect_hosts: p.allowed_redirect_hosts,
            access_token_ttl_secs: p.access_token_ttl_secs,
            refresh_token_ttl_secs: p.refresh_token_ttl_secs,
            pat_max_ttl_days: p.pat_max_ttl_days,
            two_factor_policy: p.two_factor_policy,
            metadata_clients_enabled: p.metadata_clients_enabled,
            allowed_client_domains: p.allowed_client_domains,
            blocked_client_domains: p.blocked_client_domains,
        }
    }
}

/// A partial change: fields left out (or `null`) keep their value; unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"personal_tokens_enabled": false, "pat_max_ttl_days": 90}))]
pub struct OrgPolicyPatch {
    pub mcp_enabled: Option<bool>,
    pub personal_tokens_enabled: Option<bool>,
    pub mcp_oauth_pats_enabled: Option<bool>,
    pub dynamic_registration_enabled: Option<bool>,
    /// `host` (meaning `https://host`) or `scheme://host` (`cursor://anysphere.cursor-mcp`,
    /// `http://localhost`): no port, path or wildcard; http only for loopback; at most 50.
    /// An empty list allows any redirect.
    pub allowed_redirect_hosts: Option<Vec<String>>,
    #[schema(minimum = 60, maximum = 86400)]
    pub access_token_ttl_secs: Option<i64>,
    #[schema(minimum = 3600, maximum = 31536000)]
    pub refresh_token_ttl_secs: Option<i64>,
    #[schema(minimum = 1, maximum = 3650)]
    pub pat_max_ttl_days: Option<i32>,
    /// `off`, `admins` or `everyone`. Turning it on needs two-factor sign-in on the caller's
    /// own account.
    #[schema(value_type = Option<String>, example = "admins")]
    pub two_factor_policy: Option<TwoFactorPolicy>,
    pub metadata_clients_enabled: Option<bool>,
    /// Host names such as `claude.ai`; at most 50.
    pub allowed_client_domains: Option<Vec<String>>,
    pub blocked_client_domains: Option<Vec<String>>,
}

impl From<OrgPolicyPatch> for PolicyChange {
    fn from(p: OrgPolicyPatch) -> Self {
        Self {
            mcp_enabled: p.mcp_enabled,
            personal_tokens_enabled: p.personal_tokens_enabled,
            mcp_oauth_pats_enabled: p.mcp_oauth_pats_enabled,
            dynamic_registration_enabled: p.dynamic_registration_enabled,
            allowed_redirect_hosts: p.allowed_redirect_hosts,
            access_token_ttl_secs: p.access_token_ttl_secs,
            refresh_token_ttl_secs: p.refresh_token_ttl_secs,
            pat_max_ttl_days: p.pat_max_ttl_days,
            two_factor_policy: p.two_factor_policy,
            metadata_clients_enabled: p.metadata_clients_enabled,
            allowed_client_domains: p.allowed_client_domains,
            blocked_client_domains: p.blocked_client_domains,
        }
    }
}

/// Get the org's policy
#[utoipa::path(
    get,
    path = "/api/v1/org/policy",
    operation_id = "get_org_policy",
    tag = "organization",
    responses(
        (status = 200, description = "The policy", body = OrgPolicy),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin of the organization", body = ErrorBody),
    ),
    security(("pat" = []), ("session" = []))
)]
pub async fn get(caller: ApiCaller) -> ApiResult<Json<OrgPolicy>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Read)?;
    Ok(Json(org_policy::of(org).into()))
}

/// Change the org's policy
///
/// Changes the fields named in the body and returns the whole policy as it now is. A value out
/// of bounds is refused with 422 naming the field, and nothing is changed.
#[utoipa::path(
    patch,
    path = "/api/v1/org/policy",
    operation_id = "update_org_policy",
    tag = "organization",
    request_body(content = OrgPolicyPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The policy as it now is", body = OrgPolicy),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "Not an admin, a token without `mcp:write`, or a session call without its CSRF token", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A value out of bounds, an unknown field, or no field at all (`field` names it)", body = ErrorBody),
    ),
    security(("pat" = ["mcp:write"]), ("session" = [], "csrf" = []))
)]
pub async fn patch(
    caller: ApiCaller,
    State(state): State<AppState>,
    body: Result<Json<OrgPolicyPatch>, JsonRejection>,
) -> ApiResult<Json<OrgPolicy>> {
    let (org, _) = caller.require(Capability::AdministerOrg, Access::Write)?;
    let Json(patch) = body?;
    if patch == OrgPolicyPatch::default() {
        return Err(ApiError::validation(
            "policy",
            "Name at least one setting to change, e.g. {\"mcp_enabled\": false}.",
        ));
    }
    let policy = org_policy::update(
        &state.services,
        caller.user_id,
        org.id,
        &patch.into(),
        &caller.meta,
    )
    .await?;
    Ok(Json(policy.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    /// The bounds in the API description are the domain's.
    #[test]
    fn documented_bounds_are_the_domain_bounds() {
        let schema = serde_json::to_value(OrgPolicyPatch::schema()).unwrap();
        let props = &schema["properties"];
        let bounds = |f: &str| (props[f]["minimum"].as_i64(), props[f]["maximum"].as_i64());
        let r = org_policy::ACCESS_TTL_SECS;
        assert_eq!(
            bounds("access_token_ttl_secs"),
            (Some(*r.start()), Some(*r.end()))
        );
        let r = org_policy::REFRESH_TTL_SECS;
        assert_eq!(
            bounds("refresh_token_ttl_secs"),
            (Some(*r.start()), Some(*r.end()))
        );
        let r = org_policy::PAT_MAX_TTL_DAYS;
        assert_eq!(
            bounds("pat_max_ttl_days"),
            (Some(i64::from(*r.start())), Some(i64::from(*r.end())))
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<OrgPolicyPatch>(r#"{"mcp_enable": true}"#).is_err());
        let p: OrgPolicyPatch = serde_json::from_str(r#"{"mcp_enabled": null}"#).unwrap();
        assert_eq!(p, OrgPolicyPatch::default());
    }
}
