//! What an org admin sees across the org: the OAuth clients used in or owned by it (with
//! "revoke for this org"), and every personal token — standard PATs and MCP OAuth PATs
//! (connections) — with disable, re-enable and revoke.

mod clients;
mod tokens;

pub use clients::{
    block_client, client_detail, clients, clients_page, find_client, set_client_trust,
    unblock_client,
};
pub use tokens::{revoke_token, set_token_disabled, token, tokens, tokens_page};

pub use crate::model::{
    ClientConnection, ClientFilter, ClientPage, OrgClient, OrgClientDetail, OrgToken, TokenFilter,
    TokenPage,
};

/// Rows on one page of an admin list.
pub const PAGE_SIZE: u64 = 50;

/// `Some(trimmed)` unless empty.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A case-insensitive "contains" on a column, with `%`, `_` and `\` in the needle taken
/// literally (the same on SQLite and PostgreSQL).
fn contains_ci(
    col: impl sea_orm::sea_query::IntoColumnRef,
    needle: &str,
) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

fn pages_for(total: u64) -> u64 {
    total.div_ceil(PAGE_SIZE).max(1)
}
