//! The org admin's audit log (`/admin/audit`): the org's events, newest first, filtered.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::AuditLogPage;
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::{audit_log, orgs},
    model::{AuditEventView, AuditFilterForm},
    policy::Capability,
};

/// A day (`YYYY-MM-DD`) as the UTC instant it starts.
#[cfg(feature = "ssr")]
fn day_start(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The filters as the domain takes them, or the problems with them as (field, message).
#[cfg(feature = "ssr")]
pub async fn parse_filter(
    db: &impl sea_orm::ConnectionTrait,
    f: &AuditFilterForm,
) -> Result<Result<audit_log::AuditFilter, Vec<(String, String)>>, AppError> {
    let mut errors = Vec::new();
    let mut filter = audit_log::AuditFilter::default();
    let mut unknown_actor = false;
    let actor = f.actor.trim();
    if !actor.is_empty() {
        match audit_log::actor_by_email(db, actor).await? {
            Some(id) => filter.actor_user_id = Some(id),
            // Nobody with that email: nothing matches (without saying whether they exist).
            None => unknown_actor = true,
        }
    }
    let action = f.action.trim().to_ascii_lowercase();
    if !action.is_empty() {
        if audit_log::is_action_prefix(&action) {
            filter.action = Some(action);
        } else {
            errors.push((
                "action".to_string(),
                "An action looks like oauth or pat.created: lowercase words and dots.".to_string(),
            ));
        }
    }
    for (field, raw) in [("from", &f.from), ("to", &f.to)] {
        if raw.trim().is_empty() {
            continue;
        }
        match day_start(raw) {
            None => errors.push((
                field.to_string(),
                "Enter a date like 2026-01-31.".to_string(),
            )),
            Some(t) if field == "from" => filter.since = Some(t),
            // The last day counts in full.
            Some(t) => filter.until = Some(t + chrono::Duration::days(1)),
        }
    }
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && since >= until
    {
        errors.push((
            "to".to_string(),
            "The last day can't be before the first.".to_string(),
        ));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    if unknown_actor {
        // A filter nobody can match: an impossible actor id.
        filter.actor_user_id = Some(uuid::Uuid::nil());
    }
    Ok(Ok(filter))
}

/// One page (from 1) of the current org's audit log, filtered.
#[server(prefix = "/fn", endpoint = "audit_log", input = GetUrl)]
pub async fn load_audit_log(
    #[server(default)] actor: String,
    #[server(default)] action: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] page: u64,
) -> Result<AuditLogPage, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        let db = &oc.caller.s.db;
        let form = AuditFilterForm {
            actor,
            action,
            from,
            to,
        };
        let org = orgs::view(&oc.org, oc.role);
        let filter = match parse_filter(db, &form).await? {
            Ok(f) => f,
            Err(filter_errors) => {
                return Ok(AuditLogPage {
                    org,
                    events: Vec::new(),
                    page: 1,
                    pages: 1,
                    total: 0,
                    filter_errors,
                });
            }
        };
        let p = audit_log::page(db, oc.org.id, &filter, page).await?;
        Ok(AuditLogPage {
            org,
            events: p
                .events
                .into_iter()
                .map(|e| AuditEventView {
                    id: e.id,
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    target_type: e.target_type,
                    target_id: e.target_id,
                    details: e
                        .details
                        .as_ref()
                        .map(audit_log::summarize)
                        .filter(|d| !d.is_empty()),
                    details_full: e.details.as_ref().map(|d| d.to_string()),
                    ip: e.ip,
                })
                .collect(),
            page: p.page,
            pages: p.pages,
            total: p.total,
            filter_errors: Vec::new(),
        })
    })
    .await
}
