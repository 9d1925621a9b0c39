//! The org admin's settings page (`/admin/settings`): the org policy, read and changed.

// One argument per form field (a plain HTML form posts them flat), here and in the generated
// client stub, which an attribute on the function doesn't reach.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::OrgSettingsView;
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::access::Denial,
    domain::{org_policy, orgs},
    model::OrgPolicyForm,
    policy::Capability,
};

/// The form's draft: what the admin typed when it was refused (without JavaScript).
#[cfg(feature = "ssr")]
const DRAFT: &str = "org_policy";

#[server(prefix = "/fn", endpoint = "org_settings", input = GetUrl)]
pub async fn load_org_settings() -> Result<OrgSettingsView, AppError> {
    ctx::run(async {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        let policy = org_policy::of(&oc.org);
        // A refused plain form post left what was typed: show it once, with the error.
        let draft =
            ctx::take_draft::<OrgPolicyForm>(&oc.caller.session, DRAFT, Some(oc.org.id)).await;
        let name = oc.org.name.clone();
        Ok(OrgSettingsView {
            form: draft.unwrap_or_else(|| org_policy::form_of(&policy)),
            saved: org_policy::form_of(&policy),
            allowed_redirect_hosts: org_policy::redirect_hosts(&oc.org),
            access_token_ttl: org_policy::describe_secs(policy.access_token_ttl_secs),
            refresh_token_ttl: org_policy::describe_secs(policy.refresh_token_ttl_secs),
            pat_max_ttl: org_policy::describe_secs(i64::from(policy.pat_max_ttl_days) * 86_400),
            mcp_off_message: Denial::McpDisabled {
                org_name: name.clone(),
            }
            .to_string(),
            personal_tokens_off_message: Denial::PersonalTokensDisabled {
                org_name: name.clone(),
            }
            .to_string(),
            mcp_oauth_pats_off_message: Denial::McpOAuthPatsDisabled {
                org_name: name.clone(),
            }
            .to_string(),
            dynamic_registration_off_message: Denial::DynamicClientsDisabled {
                org_name: name.clone(),
            }
            .to_string(),
            metadata_clients_off_message: Denial::MetadataClientsDisabled { org_name: name }
                .to_string(),
            mcp_url: format!(
                "{}/o/{}/mcp",
                oc.caller.s.settings.public_url.trim_end_matches('/'),
                oc.org.slug
            ),
            access_token_minutes: org_policy::ACCESS_TTL_MINUTES,
            refresh_token_days: org_policy::REFRESH_TTL_DAYS,
            pat_days: org_policy::PAT_TTL_DAYS,
            max_redirect_hosts: org_policy::MAX_REDIRECT_HOSTS,
            org: orgs::view(&oc.org, oc.role),
        })
    })
    .await
}

/// Saves the whole policy form. Switches are checkboxes: one left out of the post is off.
#[server(prefix = "/fn", endpoint = "update_org_settings")]
pub async fn update_org_settings(
    #[server(default)] csrf: String,
    #[server(default)] mcp_enabled: String,
    #[server(default)] personal_tokens_enabled: String,
    #[server(default)] mcp_oauth_pats_enabled: String,
    #[server(default)] dynamic_registration_enabled: String,
    #[server(default)] allowed_redirect_hosts: String,
    #[server(default)] access_token_ttl_minutes: String,
    #[server(default)] refresh_token_ttl_days: String,
    #[server(default)] pat_max_ttl_days: String,
    #[server(default)] two_factor_policy: String,
    #[server(default)] metadata_clients_enabled: String,
    #[server(default)] allowed_client_domains: String,
    #[server(default)] blocked_client_domains: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let on = |v: &str| matches!(v.trim(), "on" | "true" | "1" | "yes");
        let form = OrgPolicyForm {
            mcp_enabled: on(&mcp_enabled),
            personal_tokens_enabled: on(&personal_tokens_enabled),
            mcp_oauth_pats_enabled: on(&mcp_oauth_pats_enabled),
            dynamic_registration_enabled: on(&dynamic_registration_enabled),
            allowed_redirect_hosts,
            access_token_ttl_minutes,
            refresh_token_ttl_days,
            pat_max_ttl_days,
            two_factor_policy,
            metadata_clients_enabled: on(&metadata_clients_enabled),
            allowed_client_domains,
            blocked_client_domains,
        };
        let before = org_policy::of(&oc.org);
        let result = match org_policy::change_from_form(&form, &before) {
            Ok(change) => {
                org_policy::update(
                    &oc.caller.s,
                    oc.caller.user.id,
                    oc.org.id,
                    &change,
                    &ctx::meta(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        let after = match result {
            Ok(after) => after,
            Err(e) => {
                // Keep what was typed for the page the browser is sent back to.
                let draft = OrgPolicyForm {
                    allowed_redirect_hosts: ctx::draft_text(&form.allowed_redirect_hosts),
                    access_token_ttl_minutes: ctx::draft_text(&form.access_token_ttl_minutes),
                    refresh_token_ttl_days: ctx::draft_text(&form.refresh_token_ttl_days),
                    pat_max_ttl_days: ctx::draft_text(&form.pat_max_ttl_days),
                    two_factor_policy: ctx::draft_text(&form.two_factor_policy),
                    allowed_client_domains: ctx::draft_text(&form.allowed_client_domains),
                    blocked_client_domains: ctx::draft_text(&form.blocked_client_domains),
                    ..form
                };
                ctx::keep_draft(&oc.caller.session, DRAFT, Some(oc.org.id), &draft).await;
                return Err(e);
            }
        };
        let text = if after == before {
            "Nothing to save: the settings are as they were.".to_string()
        } else {
            format!(
                "Saved the settings of {}. They apply from the next request.",
                oc.org.name
            )
        };
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}
