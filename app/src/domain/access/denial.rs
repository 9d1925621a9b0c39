//! Why the access decision says no, with the one wording every door shows (the product docs'
//! texts where they have one, seed 000). Each door only chooses its wire shape from
//! [`Denial::kind`]: `/mcp` a 401 challenge or a 403, the token endpoint `invalid_grant`,
//! introspection `active: false`, `/api/v1` its JSON error, pages a message.

use crate::model::Role;
use crate::policy::Capability;

/// What kind of refusal a denial is, which decides its status at each door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialKind {
    /// No credential was presented at all.
    Missing,
    /// The credential is not, or no longer, valid: signing in or connecting again helps.
    Credential,
    /// A valid credential that the org's policy or the caller's role doesn't let through.
    Policy,
    /// A valid credential granted too few scopes for this call.
    Scope,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    // ---- the credential itself ----
    NoCredential,
    NotAToken,
    UnknownToken,
    /// A refresh token where an access token belongs (MCP, introspection of use).
    RefreshTokenHere,
    /// An MCP OAuth access token at the REST API, which takes personal access tokens.
    OAuthTokenAtApi,
    /// Anything but a refresh token at the refresh grant.
    NotARefreshToken,
    TokenExpired,
    TokenRevoked,
    TokenDisabled,
    /// A refresh token that was already exchanged (the grant's replay or reuse path).
    TokenRotated,
    /// An MCP OAuth token presented at another MCP endpoint than the one it was issued for.
    WrongAudience {
        issued_for: String,
        here: String,
    },
    /// A standard PAT presented at another org's MCP endpoint.
    WrongOrg {
        org_slug: String,
        use_url: String,
    },
    /// A refresh token presented by another client than the one it was issued to.
    WrongClient,
    /// An introspection caller that is neither the token's client nor a resource server of
    /// the token's org.
    NotEntitled,

    // ---- the account ----
    AccountGone,
    AccountDisabled,
    /// A browser session signed in before the account's sessions were ended.
    SessionEnded,

    // ---- the organization and the membership ----
    OrgGone,
    NotMember {
        org_name: String,
    },
    NoOrganization,
    RoleTooLow {
        role: Role,
        capability: Capability,
    },
    ScopeTooNarrow {
        granted: String,
        needed: String,
    },
    /// A tool of an upstream MCP server that needs a higher role than the caller's.
    ToolRoleTooLow {
        tool: String,
        role: Role,
        needed: Role,
    },

    // ---- the grant (connection) behind an MCP OAuth token ----
    ConnectionGone,
    ConnectionRevoked,
    ConnectionDisabled,
    ClientGone,
    ClientBlocked {
        org_name: String,
        client_name: String,
    },

    // ---- org policy ----
    /// The org asks this member for two-factor sign-in, and the account doesn't have it on.
    TwoFactorRequired {
        org_name: String,
    },
    McpDisabled {
        org_name: String,
    },
    PersonalTokensDisabled {
        org_name: String,
    },
    McpOAuthPatsDisabled {
        org_name: String,
    },
    DynamicClientsDisabled {
        org_name: String,
    },
    /// Apps identified by a metadata document are switched off in the org.
    MetadataClientsDisabled {
        org_name: String,
    },
    /// A metadata-document app from a domain the org blocked.
    ClientDomainBlocked {
        org_name: String,
        domain: String,
    },
    /// A metadata-document app from a domain outside the org's allow list.
    ClientDomainNotAllowed {
        org_name: String,
        allowed: Vec<String>,
        domain: String,
    },
    /// The org's stored client domain lists can't be read: no metadata-document app may connect.
    ClientDomainsUnreadable {
        org_name: String,
    },
    RedirectNotAllowed {
        org_name: String,
        allowed: Vec<String>,
        redirect: String,
    },
    /// The org's stored redirect policy can't be read: refuse rather than allow any redirect.
    RedirectPolicyUnreadable {
        org_name: String,
    },
}

impl Denial {
    pub fn kind(&self) -> DenialKind {
        use Denial::*;
        match self {
            NoCredential => DenialKind::Missing,
            NotAToken
            | UnknownToken
            | RefreshTokenHere
            | OAuthTokenAtApi
            | NotARefreshToken
            | TokenExpired
            | TokenRevoked
            | TokenDisabled
            | TokenRotated
            | WrongAudience { .. }
            | WrongOrg { .. }
            | WrongClient
            | NotEntitled
            | AccountGone
            | AccountDisabled
            | SessionEnded
            | OrgGone
            | NotMember { .. }
            | ConnectionGone
            | ConnectionRevoked
            | ConnectionDisabled
            | ClientGone => DenialKind::Credential,
            ScopeTooNarrow { .. } => DenialKind::Scope,
            NoOrganization
            | RoleTooLow { .. }
            | ToolRoleTooLow { .. }
            | ClientBlocked { .. }
            | TwoFactorRequired { .. }
            | McpDisabled { .. }
            | PersonalTokensDisabled { .. }
            | McpOAuthPatsDisabled { .. }
            | DynamicClientsDisabled { .. }
            | MetadataClientsDisabled { .. }
            | ClientDomainBlocked { .. }
            | ClientDomainNotAllowed { .. }
            | ClientDomainsUnreadable { .. }
            | RedirectNotAllowed { .. }
            | RedirectPolicyUnreadable { .. } => DenialKind::Policy,
        }
    }

    /// A short stable name, for audit details and logs (never shown instead of the text).
    pub fn code(&self) -> &'static str {
        use Denial::*;
        match self {
            NoCredential => "no_credential",
            NotAToken => "not_a_token",
            UnknownToken => "unknown_token",
            RefreshTokenHere => "refresh_token_here",
            OAuthTokenAtApi => "oauth_token_at_api",
            NotARefreshToken => "not_a_refresh_token",
            TokenExpired => "token_expired",
            TokenRevoked => "token_revoked",
            TokenDisabled => "token_disabled",
            TokenRotated => "token_rotated",
            WrongAudience { .. } => "wrong_audience",
            WrongOrg { .. } => "wrong_org",
            WrongClient => "wrong_client",
            NotEntitled => "not_entitled",
            AccountGone => "account_gone",
            AccountDisabled => "account_disabled",
            SessionEnded => "session_ended",
            OrgGone => "org_gone",
            NotMember { .. } => "not_member",
            ToolRoleTooLow { .. } => "tool_role_too_low",
            NoOrganization => "no_organization",
            RoleTooLow { .. } => "role_too_low",
            ScopeTooNarrow { .. } => "scope_too_narrow",
            ConnectionGone => "connection_gone",
            ConnectionRevoked => "connection_revoked",
            ConnectionDisabled => "connection_disabled",
            ClientGone => "client_gone",
            ClientBlocked { .. } => "client_blocked",
            TwoFactorRequired { .. } => "two_factor_required",
            McpDisabled { .. } => "mcp_disabled",
            PersonalTokensDisabled { .. } => "personal_tokens_disabled",
            McpOAuthPatsDisabled { .. } => "mcp_oauth_pats_disabled",
            DynamicClientsDisabled { .. } => "dynamic_clients_disabled",
            MetadataClientsDisabled { .. } => "metadata_clients_disabled",
            ClientDomainBlocked { .. } => "client_domain_blocked",
            ClientDomainNotAllowed { .. } => "client_domain_not_allowed",
            ClientDomainsUnreadable { .. } => "client_domains_unreadable",
            RedirectNotAllowed { .. } => "redirect_not_allowed",
            RedirectPolicyUnreadable { .. } => "redirect_policy_unreadable",
        }
    }
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use Denial::*;
        match self {
            NoCredential => f.write_str("Sign in: this needs an access token (Authorization: Bearer …)."),
            NotAToken => f.write_str("This is not a Gatehouse access token."),
            UnknownToken => f.write_str("This token is not known here."),
            RefreshTokenHere => f.write_str("This is a refresh token; send the access token instead."),
            OAuthTokenAtApi => f.write_str(
                "This API takes a personal access token (gate_pat_…); MCP OAuth access tokens work only at the MCP endpoint. Create a token at /settings/tokens.",
            ),
            NotARefreshToken => f.write_str("This is not a refresh token."),
            TokenExpired => f.write_str("This token has expired."),
            TokenRevoked => f.write_str("This token was revoked."),
            TokenDisabled => f.write_str("An admin disabled this token."),
            TokenRotated => f.write_str("This refresh token was already used."),
            WrongAudience { issued_for, here } => {
                write!(f, "This token was issued for {issued_for}, not {here}.")
            }
            WrongOrg { org_slug, use_url } => {
                write!(f, "This token belongs to the organization {org_slug}; use {use_url}.")
            }
            WrongClient => f.write_str("This token was issued to another client."),
            NotEntitled => f.write_str("This client may not inspect this token."),
            AccountGone => f.write_str("This account no longer exists."),
            AccountDisabled => f.write_str(
                "This account is disabled. Ask the administrator of this Gatehouse to enable it again.",
            ),
            SessionEnded => f.write_str("This session has ended. Sign in again."),
            OrgGone => f.write_str("This organization no longer exists."),
            NotMember { org_name } => write!(f, "You are no longer a member of {org_name}."),
            NoOrganization => f.write_str(
                "You're not a member of any organization yet. Create one, or ask an admin to invite you.",
            ),
            RoleTooLow { role, capability } => f.write_str(&role.refusal(*capability)),
            ToolRoleTooLow { tool, role, needed } => write!(
                f,
                "{tool} needs the {} role or higher, and you are a {} in this organization. Ask an admin.",
                needed.label().to_lowercase(),
                role.label().to_lowercase()
            ),
            ScopeTooNarrow { granted, needed } => write!(
                f,
                "This needs the {needed} permission, and this credential was granted {granted} only. Approve {needed} (connect again, or create a token with it) to continue."
            ),
            ConnectionGone => f.write_str("This connection no longer exists. Connect again."),
            ConnectionRevoked => f.write_str("This connection was revoked. Connect again."),
            ConnectionDisabled => f.write_str("An admin disabled this connection."),
            ClientGone => f.write_str("The app behind this token was deleted."),
            ClientBlocked {
                org_name,
                client_name,
            } => write!(
                f,
                "An admin of {org_name} has blocked {client_name}. Ask them to allow it again."
            ),
            TwoFactorRequired { org_name } => write!(
                f,
                "Two-factor sign-in required: {org_name} asks its members to use two-factor sign-in. Turn it on at /account to continue."
            ),
            McpDisabled { org_name } => write!(
                f,
                "MCP server access disabled: {org_name} has disabled MCP server access. Ask an admin to enable it in Settings > MCP server."
            ),
            PersonalTokensDisabled { org_name } => write!(
                f,
                "Personal Access Tokens aren't enabled: {org_name} doesn't allow personal access tokens. Ask an admin to enable them in Settings > API access > Personal tokens."
            ),
            McpOAuthPatsDisabled { org_name } => write!(
                f,
                "MCP OAuth PATs aren't enabled: {org_name} doesn't allow MCP clients to connect with OAuth. Ask an admin to enable them in Settings > API access > MCP OAuth PATs."
            ),
            DynamicClientsDisabled { org_name } => write!(
                f,
                "{org_name} doesn't allow self-registered apps. Ask an admin to allow dynamic registration in Settings, or to register this app for the organization."
            ),
            MetadataClientsDisabled { org_name } => write!(
                f,
                "{org_name} doesn't allow apps that identify themselves with a metadata document. Ask an admin to allow them in Settings, or to register this app for the organization."
            ),
            ClientDomainBlocked { org_name, domain } => write!(
                f,
                "An admin of {org_name} has blocked apps from {domain}."
            ),
            ClientDomainNotAllowed {
                org_name,
                allowed,
                domain,
            } => write!(
                f,
                "{org_name} only allows apps from {}. This app is from {domain}.",
                allowed.join(", ")
            ),
            ClientDomainsUnreadable { org_name } => write!(
                f,
                "{org_name}'s list of allowed or blocked app domains can't be read, so no app with a metadata document may connect. Ask an admin to save it again in Settings."
            ),
            RedirectNotAllowed {
                org_name,
                allowed,
                redirect,
            } => write!(
                f,
                "{org_name} only allows apps that return to {}. This app returns to {redirect}.",
                allowed.join(", ")
            ),
            RedirectPolicyUnreadable { org_name } => write!(
                f,
                "{org_name}'s list of allowed redirect hosts can't be read, so no app may connect. Ask an admin to save it again in Settings."
            ),
        }
    }
}

impl std::error::Error for Denial {}

impl From<Denial> for crate::error::AppError {
    /// A page or form refusal: credential problems of a signed-in person are "sign in again";
    /// everything else keeps its words.
    fn from(d: Denial) -> Self {
        use crate::error::AppError;
        match d.kind() {
            DenialKind::Missing => AppError::Unauthenticated,
            DenialKind::Credential
                if matches!(
                    d,
                    Denial::AccountGone | Denial::AccountDisabled | Denial::SessionEnded
                ) =>
            {
                AppError::Unauthenticated
            }
            _ if matches!(d, Denial::TwoFactorRequired { .. }) => {
                AppError::TwoFactorRequired(d.to_string())
            }
            _ => AppError::Forbidden(d.to_string()),
        }
    }
}
