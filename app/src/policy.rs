//! Who may do what. Every role check in Gatehouse goes through `Role::can`, on the server to
//! enforce and in the UI to decide what to show, so the rules exist exactly once.

use crate::model::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Sign in, consent and receive an MCP OAuth PAT (when the org allows it).
    UseMcpOAuth,
    /// MCP tools about oneself: identity, own connections.
    UseSelfTools,
    /// Query one's own activity in the org (the "limited" querying of restricted queriers).
    QueryOwnActivity,
    /// Query the organization's data.
    QueryOrgData,
    /// See who else is in the organization.
    ListMembers,
    /// Create a standard personal access token (when the org allows it).
    CreatePersonalToken,
    /// Register OAuth apps of one's own.
    RegisterOAuthApps,
    /// Admin pages, org policy, members, other people's clients and tokens.
    AdministerOrg,
}

impl Role {
    pub fn can(self, capability: Capability) -> bool {
        use Capability::*;
        match capability {
            UseMcpOAuth | UseSelfTools | RegisterOAuthApps => true,
            QueryOwnActivity | ListMembers | CreatePersonalToken => self >= Role::RestrictedQuerier,
            QueryOrgData => self >= Role::Querier,
            AdministerOrg => self == Role::Admin,
        }
    }

    /// The plain-words refusal shown when this role lacks `capability`.
    pub fn refusal(self, capability: Capability) -> String {
        use Capability::*;
        let what = match capability {
            UseMcpOAuth => "connect MCP clients",
            UseSelfTools => "use these tools",
            QueryOwnActivity | QueryOrgData => "query organization data",
            ListMembers => "list the organization's members",
            CreatePersonalToken => "create personal access tokens",
            RegisterOAuthApps => "register OAuth apps",
            AdministerOrg => "manage this organization",
        };
        format!(
            "Your role {} can't {what}; ask an admin of the organization for access.",
            self.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Capability::*;
    use super::*;

    #[test]
    fn matrix_matches_design() {
        let rows = [
            (UseMcpOAuth, [true, true, true, true]),
            (UseSelfTools, [true, true, true, true]),
            (QueryOwnActivity, [false, true, true, true]),
            (QueryOrgData, [false, false, true, true]),
            (ListMembers, [false, true, true, true]),
            (CreatePersonalToken, [false, true, true, true]),
            (RegisterOAuthApps, [true, true, true, true]),
            (AdministerOrg, [false, false, false, true]),
        ];
        for (cap, expected) in rows {
            for (role, want) in Role::ALL.iter().zip(expected) {
                assert_eq!(role.can(cap), want, "{role:?} / {cap:?}");
            }
        }
    }

    #[test]
    fn refusal_names_role_and_remedy() {
        let msg = Role::Viewer.refusal(QueryOrgData);
        assert_eq!(
            msg,
            "Your role viewer can't query organization data; ask an admin of the organization for access."
        );
    }
}
