//! `/api/v1/members`: who is in the org, with their roles.

use app::domain::members;
use app::model::MemberView;
use app::policy::Capability;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{Access, ApiCaller};
use super::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// A member's role in one organization, from least to most privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Viewer,
    RestrictedQuerier,
    Querier,
    Admin,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub user_id: Uuid,
    pub membership_id: Uuid,
    pub email: String,
    pub name: Option<String>,
    #[schema(value_type = RoleName)]
    pub role: String,
    pub joined_at: DateTime<Utc>,
    /// This member is the caller.
    pub is_you: bool,
    /// The member's account has two-factor sign-in on.
    pub two_factor: bool,
}

impl From<MemberView> for Member {
    fn from(m: MemberView) -> Self {
        Self {
            user_id: m.user_id,
            membership_id: m.membership_id,
            email: m.email,
            name: m.name,
            role: m.role.as_str().to_string(),
            joined_at: m.joined_at,
            is_you: m.is_self,
            two_factor: m.two_factor,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberList {
    /// Admins first, then by email.
    pub members: Vec<Member>,
}

/// List the org's members
///
/// Every member with their role. Open to the roles that may list members (restricted querier
/// and up), as the MCP `list_members` tool is.
#[utoipa::path(
    get,
    path = "/api/v1/members",
    operation_id = "list_members",
    tag = "organization",
    responses(
        (status = 200, description = "The members", body = MemberList),
        (status = 401, description = "No or bad credentials", body = ErrorBody),
        (status = 403, description = "A role that may not list members", body = ErrorBody),
    ),
    security(("pat" = []), ("session" = []))
)]
pub async fn list(caller: ApiCaller, State(state): State<AppState>) -> ApiResult<Json<MemberList>> {
    let (org, _) = caller.require(Capability::ListMembers, Access::Read)?;
    let members = members::list(&state.services.db, org.id, caller.user_id).await?;
    Ok(Json(MemberList {
        members: members.into_iter().map(Member::from).collect(),
    }))
}
