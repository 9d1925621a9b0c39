//! Members and invitations (`/admin/members`, `/invite/…`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{OrgView, Role};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub membership_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    pub is_self: bool,
    /// The account has two-factor sign-in on.
    pub two_factor: bool,
    /// The account is linked to the org's single sign-on provider.
    pub sso: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersPage {
    pub org: OrgView,
    pub members: Vec<MemberView>,
    pub invitations: Vec<InvitationView>,
    pub admin_count: u64,
    /// Who must use two-factor sign-in here.
    pub two_factor_policy: super::TwoFactorPolicy,
}

/// Adding someone by email either adds an existing account or creates an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddMemberOutcome {
    Added {
        email: String,
        role: Role,
    },
    /// The address has no verified account: an invitation was mailed to it.
    Invited {
        email: String,
        role: Role,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationState {
    Pending,
    Accepted,
    Expired,
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationInfo {
    pub org_name: String,
    pub org_slug: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub state: InvitationState,
    pub expires_at: DateTime<Utc>,
    /// The signed-in user's email, if any, so the page can say whether it matches.
    pub signed_in_as: Option<String>,
    pub already_member: bool,
}
