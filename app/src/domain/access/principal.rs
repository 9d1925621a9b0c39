//! What the database says about a token and the grant behind it, as the access decision
//! reads it. A [`Principal`] that [`super::decide`] allowed is the caller every tool and API
//! handler works with: the user, the org, the member's role as it is now, the granted scopes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::denial::Denial;
use crate::domain::entities::oauth_client;
use crate::domain::entities::organization;
use crate::domain::entities::token::TokenKind;
use crate::domain::oauth::scope::ScopeSet;
use crate::model::{ClientKind, ConnectionStatus, OrgTokenKind, Role};
use crate::policy::Capability;

/// The token row's own state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFacts {
    pub id: Uuid,
    pub kind: TokenKind,
    /// A standard PAT's name.
    pub name: Option<String>,
    pub scopes: ScopeSet,
    /// The MCP resource (audience) an OAuth token was issued for.
    pub resource: Option<String>,
    /// The OAuth client's row id (OAuth tokens).
    pub client_row: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub disabled: bool,
    /// A refresh token already exchanged for a new pair.
    pub rotated: bool,
}

/// The account behind a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub disabled: bool,
    /// Two-factor sign-in is on (some orgs require it).
    pub two_factor: bool,
}

/// The client an MCP OAuth grant was given to, as much of it as the decision and the tools use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFacts {
    pub row_id: Uuid,
    pub client_id: String,
    pub name: String,
    pub kind: ClientKind,
    /// A metadata-document client: the host of its `client_id` URL, which vouches for it.
    pub host: Option<String>,
}

impl ClientFacts {
    pub fn of(c: &oauth_client::Model) -> Self {
        Self {
            row_id: c.id,
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            kind: c.kind,
            host: (c.kind == ClientKind::Metadata)
                .then(|| {
                    url::Url::parse(&c.client_id)
                        .ok()?
                        .host_str()
                        .map(str::to_lowercase)
                })
                .flatten(),
        }
    }
}

/// The connection (MCP OAuth PAT) behind an OAuth token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantFacts {
    pub connection_id: Uuid,
    pub status: ConnectionStatus,
    pub client: ClientFacts,
    /// An admin of the org blocked the client there.
    pub blocked: bool,
}

/// Who holds a grant, as the database says now: the account, the org, the member's role and,
/// for OAuth tokens, the connection. Shared by every token of the grant (cached by its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user: UserFacts,
    pub org: organization::Model,
    pub role: Role,
    pub grant: Option<GrantFacts>,
}

/// A token with its holder. After [`super::decide`] allowed it for a purpose, the caller.
#[derive(Debug)]
pub struct Principal {
    pub token: TokenFacts,
    pub holder: Arc<Holder>,
    /// Whether this cached lookup already recorded the token's use: one atomic flag per
    /// cached lookup instead of a cache lookup on every request.
    touched: AtomicBool,
}

impl PartialEq for Principal {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token && self.holder == other.holder
    }
}

impl Eq for Principal {}

impl Principal {
    pub fn new(token: TokenFacts, holder: Arc<Holder>) -> Self {
        Self {
            token,
            holder,
            touched: AtomicBool::new(false),
        }
    }

    pub fn token_id(&self) -> Uuid {
        self.token.id
    }

    pub fn user_id(&self) -> Uuid {
        self.holder.user.id
    }

    pub fn email(&self) -> &str {
        &self.holder.user.email
    }

    pub fn name(&self) -> Option<&str> {
        self.holder.user.name.as_deref()
    }

    pub fn org(&self) -> &organization::Model {
        &self.holder.org
    }

    pub fn role(&self) -> Role {
        self.holder.role
    }

    pub fn scopes(&self) -> &ScopeSet {
        &self.token.scopes
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.token.expires_at
    }

    /// The connection and client of an MCP OAuth token.
    pub fn grant(&self) -> Option<&GrantFacts> {
        self.holder.grant.as_ref()
    }

    /// A standard PAT or an MCP OAuth PAT, as admins list them.
    pub fn kind(&self) -> OrgTokenKind {
        match self.token.kind {
            TokenKind::Pat => OrgTokenKind::Pat,
            TokenKind::Access | TokenKind::Refresh => OrgTokenKind::McpOauthPat,
        }
    }

    /// Role and scope for one operation: the role first, so a viewer learns about their role
    /// rather than about a permission they could never use.
    pub fn require(&self, capability: Capability, scope: &str) -> Result<(), Denial> {
        if !self.role().can(capability) {
            return Err(Denial::RoleTooLow {
                role: self.role(),
                capability,
            });
        }
        if !self.token.scopes.contains(scope) {
            return Err(Denial::ScopeTooNarrow {
                granted: self.token.scopes.to_string(),
                needed: scope.to_string(),
            });
        }
        Ok(())
    }

    /// Role and scope for a tool of an upstream MCP server, which an admin opened to
    /// `min_role` and up with `scope`: hidden from `tools/list` and refused at `tools/call`
    /// otherwise. The role first, as in [`Self::require`].
    pub fn require_tool(&self, tool: &str, min_role: Role, scope: &str) -> Result<(), Denial> {
        if self.role() < min_role {
            return Err(Denial::ToolRoleTooLow {
                tool: tool.to_string(),
                role: self.role(),
                needed: min_role,
            });
        }
        if !self.token.scopes.contains(scope) {
            return Err(Denial::ScopeTooNarrow {
                granted: self.token.scopes.to_string(),
                needed: scope.to_string(),
            });
        }
        Ok(())
    }

    /// True the first time this cached lookup is used (its use should be recorded).
    pub(crate) fn first_use(&self) -> bool {
        !self.touched.swap(true, Ordering::Relaxed)
    }
}
