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
    domain::orgs,
    domain::sso::{
        connection::{self, Connection, ConnectionChange},
        flow,
    },
    model::{Role, SsoForm},
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
        },
        None => SsoForm {
            issuer: String::new(),
            client_id: String::new(),
            domains: String::new(),
            default_role: Role::Viewer.as_str().into(),
            require_sso: false,
            enabled: true,
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
        };
        let result = match Role::parse(&default_role) {
            None => Err(AppError::invalid(
                "default_role",
                "Choose the role a first-time member gets.",
            )),
            Some(role) => {
                let change = ConnectionChange {
                    issuer,
                    client_id,
                    client_secret: Some(client_secret),
                    domains: domains.lines().map(str::to_string).collect(),
                    default_role: role,
                    require_sso: form.require_sso,
                    enabled: form.enabled,
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
