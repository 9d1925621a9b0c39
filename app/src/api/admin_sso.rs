//! The org admin's single sign-on page (`/admin/sso`): the OpenID Connect connection, read,
//! saved and removed through the same domain functions as `/api/v1/org/sso`.

// One argument per form field (a plain HTML form posts them flat), here and in the generated
// client stub, which an attribute on the function doesn't reach.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::SsoSettingsView;
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::oauth::resource::McpResource,
    domain::orgs,
    domain::sso::{
        connection::{self, Connection, ConnectionChange},
        flow,
    },
    model::{AssertionPolicy, Role, SsoForm},
    policy::Capability,
};

/// The form's draft: what the admin typed when it was refused (without JavaScript; never the
/// secret).
#[cfg(feature = "ssr")]
const DRAFT: &str = "org_sso";

#[cfg(feature = "ssr")]
fn form_of(c: Option<&Connection>) -> SsoForm {
    match c {
        Some(c) => SsoForm {
            issuer: c.issuer.clone(),
            client_id: c.client_id.clone(),
            domains: c.domains.join("\n"),
            default_role: c.default_role.as_str().into(),
            require_sso: c.require_sso,
            enabled: c.enabled,
            assertion_grants: c.assertions.enabled,
            assertion_clients: c.assertions.clients.join("\n"),
            assertion_ttl_mins: (c.assertions.access_ttl_secs / 60).to_string(),
            assertion_refresh: c.assertions.refresh,
            assertion_create_members: c.assertions.create_members,
        },
        None => SsoForm {
            issuer: String::new(),
            client_id: String::new(),
            domains: String::new(),
            default_role: Role::Viewer.as_str().into(),
            require_sso: false,
            enabled: true,
            assertion_grants: false,
            assertion_clients: String::new(),
            assertion_ttl_mins: (AssertionPolicy::default().access_ttl_secs / 60).to_string(),
            assertion_refresh: false,
            assertion_create_members: false,
        },
    }
}

#[server(prefix = "/fn", endpoint = "org_sso", input = GetUrl)]
pub async fn load_sso_settings() -> Result<SsoSettingsView, AppError> {
    ctx::run(async {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        let s = &oc.caller.s;
        let saved = connection::get(&s.db, oc.org.id).await?;
        let draft = ctx::take_draft::<SsoForm>(&oc.caller.session, DRAFT, Some(oc.org.id)).await;
        Ok(SsoSettingsView {
            form: draft.unwrap_or_else(|| form_of(saved.as_ref())),
            saved,
            redirect_uri: flow::callback_url(s),
            sign_in_url: format!(
                "{}/login/sso/{}",
                s.settings.public_url.trim_end_matches('/'),
                oc.org.slug
            ),
            own_domain: connection::own_domain(&oc.caller.user),
            assertion_audience: s.settings.public_url.clone(),
            assertion_resource: McpResource::Org(oc.org.slug.clone()).url(&s.settings.public_url),
            org: orgs::view(&oc.org, oc.role),
        })
    })
    .await
}

/// Saves the connection. Checkboxes left out of the post are off; an empty secret keeps the
/// stored one.
#[server(prefix = "/fn", endpoint = "save_org_sso")]
pub async fn save_sso(
    #[server(default)] csrf: String,
    #[server(default)] issuer: String,
    #[server(default)] client_id: String,
    #[server(default)] client_secret: String,
    #[server(default)] domains: String,
    #[server(default)] default_role: String,
    #[server(default)] require_sso: String,
    #[server(default)] enabled: String,
    #[server(default)] assertion_grants: String,
    #[server(default)] assertion_clients: String,
    #[server(default)] assertion_ttl_mins: String,
    #[server(default)] assertion_refresh: String,
    #[server(default)] assertion_create_members: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let on = |v: &str| matches!(v.trim(), "on" | "true" | "1" | "yes");
        let form = SsoForm {
            issuer: ctx::draft_text(&issuer),
            client_id: ctx::draft_text(&client_id),
            domains: ctx::draft_text(&domains),
            default_role: ctx::draft_text(&default_role),
            require_sso: on(&require_sso),
            enabled: on(&enabled),
            assertion_grants: on(&assertion_grants),
            assertion_clients: ctx::draft_text(&assertion_clients),
            assertion_ttl_mins: ctx::draft_text(&assertion_ttl_mins),
            assertion_refresh: on(&assertion_refresh),
            assertion_create_members: on(&assertion_create_members),
        };
        let minutes = assertion_ttl_mins.trim().parse::<i32>().ok();
        let result = match (Role::parse(&default_role), minutes) {
            (None, _) => Err(AppError::invalid(
                "default_role",
                "Choose the role a first-time member gets.",
            )),
            (_, None) => Err(AppError::invalid(
                "assertion_ttl_mins",
                "Enter the lifetime in whole minutes (1 to 1440).",
            )),
            (Some(role), Some(minutes)) => {
                let change = ConnectionChange {
                    issuer,
                    client_id,
                    client_secret: Some(client_secret),
                    domains: domains.lines().map(str::to_string).collect(),
                    default_role: role,
                    require_sso: form.require_sso,
                    enabled: form.enabled,
                    assertions: Some(AssertionPolicy {
                        enabled: form.assertion_grants,
                        clients: assertion_clients.lines().map(str::to_string).collect(),
                        access_ttl_secs: minutes.saturating_mul(60),
                        refresh: form.assertion_refresh,
                        create_members: form.assertion_create_members,
                    }),
                };
                connection::save(
                    &oc.caller.s,
                    Some(oc.caller.user.id),
                    oc.org.id,
                    &change,
                    &ctx::meta(),
                )
                .await
            }
        };
        if let Err(e) = result {
            ctx::keep_draft(&oc.caller.session, DRAFT, Some(oc.org.id), &form).await;
            return Err(e);
        }
        let text = format!(
            "Saved the single sign-on of {}. It applies from the next sign-in.",
            oc.org.name
        );
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "remove_org_sso")]
pub async fn remove_sso(#[server(default)] csrf: String) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        connection::remove(
            &oc.caller.s,
            Some(oc.caller.user.id),
            oc.org.id,
            &ctx::meta(),
        )
        .await?;
        let text = format!(
            "Removed the single sign-on of {}. Its members sign in with a password again.",
            oc.org.name
        );
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}
