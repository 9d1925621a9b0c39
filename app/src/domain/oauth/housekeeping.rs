//! Periodic clean-up: self-registered clients nobody ever authorized, stale authorization
//! requests and codes, and grace replays past their window.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::clients::reap_unused_dynamic;
use crate::domain::Services;
use crate::domain::entities::{authorization_code, authorization_request, token};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub clients: u64,
    pub requests: u64,
    pub codes: u64,
}

pub async fn sweep(s: &Services) -> Result<Swept, sea_orm::DbErr> {
    let clients = reap_unused_dynamic(s, s.settings.oauth.unused_client_ttl)
        .await
        .map_err(|e| sea_orm::DbErr::Custom(e.error_description))?;
    // Requests are kept an hour past expiry, so a late "this request expired" still has
    // something to say; anonymous traffic can't pile them up for longer.
    let hour_ago = Utc::now() - Duration::hours(1);
    let requests = authorization_request::Entity::delete_many()
        .filter(authorization_request::Column::ExpiresAt.lt(hour_ago))
        .exec(&s.db)
        .await?
        .rows_affected;
    let day_ago = Utc::now() - Duration::days(1);
    let codes = authorization_code::Entity::delete_many()
        .filter(authorization_code::Column::ExpiresAt.lt(day_ago))
        .exec(&s.db)
        .await?
        .rows_affected;
    forget_grace_replays(
        &s.db,
        Utc::now() - s.settings.oauth.refresh_grace,
        GRACE_CHUNK,
    )
    .await?;
    Ok(Swept {
        clients,
        requests,
        codes,
    })
}

/// Rows a chunk of the grace-replay sweep clears in one statement.
const GRACE_CHUNK: u64 = 500;

/// Drops the sealed answers kept for grace replays of tokens rotated before `cutoff`, `chunk`
/// rows at a time. One `UPDATE` over the whole table would scan every token while holding
/// SQLite's one write lock, stalling every rotation for as long; here the scan is a read (in
/// id order, each chunk going on where the last stopped, so the table is read once), and each
/// write is a short `UPDATE` of the ids found. Returns the number of rows cleared.
pub async fn forget_grace_replays(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
    chunk: u64,
) -> Result<u64, sea_orm::DbErr> {
    let expired = || {
        token::Entity::find()
            .filter(token::Column::GraceResponse.is_not_null())
            .filter(token::Column::RotatedAt.lt(cutoff))
    };
    let mut after: Option<Uuid> = None;
    let mut cleared = 0;
    loop {
        let mut found = expired()
            .select_only()
            .column(token::Column::Id)
            .order_by_asc(token::Column::Id)
            .limit(chunk);
        if let Some(last) = after {
            found = found.filter(token::Column::Id.gt(last));
        }
        let ids: Vec<Uuid> = found.into_tuple().all(db).await?;
        let Some(&last) = ids.last() else {
            return Ok(cleared);
        };
        let full = ids.len() as u64 == chunk;
        // The conditions again: a row may have changed between the read and the write.
        cleared += token::Entity::update_many()
            .col_expr(
                token::Column::GraceResponse,
                sea_orm::sea_query::Expr::value(Option::<String>::None),
            )
            .filter(token::Column::Id.is_in(ids))
            .filter(token::Column::GraceResponse.is_not_null())
            .filter(token::Column::RotatedAt.lt(cutoff))
            .exec(db)
            .await?
            .rows_affected;
        if !full {
            return Ok(cleared);
        }
        after = Some(last);
    }
}
