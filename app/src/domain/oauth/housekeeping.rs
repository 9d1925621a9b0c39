//! Periodic clean-up: self-registered clients nobody ever authorized, stale authorization
//! requests and codes, and grace replays past their window.

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

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
    token::Entity::update_many()
        .col_expr(
            token::Column::GraceResponse,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .filter(token::Column::GraceResponse.is_not_null())
        .filter(token::Column::RotatedAt.lt(Utc::now() - s.settings.oauth.refresh_grace))
        .exec(&s.db)
        .await?;
    Ok(Swept {
        clients,
        requests,
        codes,
    })
}
