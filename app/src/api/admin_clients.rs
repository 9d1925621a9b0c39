//! The admin's OAuth clients pages (`/admin/oauth-clients`): list and search every client used
//! in or owned by the org, details, revoke for this org (block) and allow again, create and
//! delete the org's own clients. Admins only.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::{AdminClients, CreatedOrgClient, NewClientForm, OrgClientDetail};
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    api::oauth_apps::app_draft,
    domain::{
        oauth::scope,
        oauth_apps::{self, AppOwner, NewApp},
        org_admin, org_policy,
    },
    model::ClientFilter,
    policy::Capability,
};

/// The create form's draft: what was typed when it was refused (without JavaScript).
#[cfg(feature = "ssr")]
const DRAFT: &str = "org_client_new";

/// Where a client created by a plain form post waits for the next page (shown once).
#[cfg(feature = "ssr")]
const SESSION_CREATED_CLIENT: &str = "admin_created_client";

/// True when the form was sent from a client's detail page (`/admin/oauth-clients/{id}`).
#[cfg(feature = "ssr")]
fn from_detail_page() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| url::Url::parse(r).ok())
                .map(|u| u.path().to_string())
        })
        .and_then(|path| {
            path.strip_prefix("/admin/oauth-clients/")
                .map(|rest| !rest.is_empty() && rest != "new")
        })
        .unwrap_or(false)
}

#[cfg(feature = "ssr")]
fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store error");
    AppError::Internal
}

/// One page (from 1) of the org's clients matching the search and filters.
#[server(prefix = "/fn", endpoint = "admin_clients", input = GetUrl)]
pub async fn load_admin_clients(
    #[server(default)] q: String,
    #[server(default)] source: String,
    #[server(default)] blocked: String,
    #[server(default)] page: u64,
) -> Result<AdminClients, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        let filter = ClientFilter {
            q: Some(q),
            source: Some(source),
            blocked: Some(blocked),
        };
        Ok(AdminClients {
            list: org_admin::clients_page(&oc.caller.s.db, oc.org.id, &filter, page).await?,
            org_name: oc.org.name,
        })
    })
    .await
}

/// One client of the org (by row id or client_id); others are "not found".
#[server(prefix = "/fn", endpoint = "admin_client", input = GetUrl)]
pub async fn load_admin_client(#[server(default)] id: String) -> Result<OrgClientDetail, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        org_admin::client_detail(&oc.caller.s.db, oc.org.id, &id).await
    })
    .await
}

/// What the org lets one of its own confidential clients do beyond any client: be a resource
/// server of the org (introspect its tokens), skip PKCE. Checkboxes: present means on.
#[server(prefix = "/fn", endpoint = "set_org_client_trust")]
pub async fn set_org_client_trust(
    #[server(default)] csrf: String,
    #[server(default)] client: String,
    #[server(default)] resource_server: String,
    #[server(default)] pkce_optional: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let on = |v: &str| matches!(v.trim(), "on" | "true" | "yes");
        let d = org_admin::set_client_trust(
            &oc.caller.s,
            oc.caller.user.id,
            oc.org.id,
            &client,
            oauth_apps::Trust {
                resource_server: on(&resource_server),
                pkce_optional: on(&pkce_optional),
            },
            &ctx::meta(),
        )
        .await?;
        let text = format!(
            "Saved what “{}” may do: {}; {}.",
            d.client.name,
            if d.client.resource_server {
                "it may introspect this organization's tokens"
            } else {
                "it may not introspect tokens"
            },
            if d.pkce_optional {
                "it may leave out PKCE"
            } else {
                "it must use PKCE"
            }
        );
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

/// Revoke for this org: blocks the client here and ends its connections here.
#[server(prefix = "/fn", endpoint = "block_org_client")]
pub async fn block_org_client(
    #[server(default)] csrf: String,
    #[server(default)] client: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let c = org_admin::block_client(
            &oc.caller.s,
            oc.caller.user.id,
            oc.org.id,
            &client,
            &ctx::meta(),
        )
        .await?;
        let text = format!(
            "Revoked “{}” for {}: its connections here ended, and members can't connect it again until you allow it.",
            c.name, oc.org.name
        );
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "unblock_org_client")]
pub async fn unblock_org_client(
    #[server(default)] csrf: String,
    #[server(default)] client: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let c = org_admin::unblock_client(
            &oc.caller.s,
            oc.caller.user.id,
            oc.org.id,
            &client,
            &ctx::meta(),
        )
        .await?;
        let text = format!(
            "Allowed “{}” in {} again. Members who want it must connect it again.",
            c.name, oc.org.name
        );
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}

/// Deletes one of the org's own (admin-created) clients and everything issued to it. A plain
/// form post from the client's own page goes on to the list (the client's page is gone).
#[server(prefix = "/fn", endpoint = "delete_org_client")]
pub async fn delete_org_client(
    #[server(default)] csrf: String,
    #[server(default)] client: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let not_ours = || {
            AppError::not_found(
                "There is no such OAuth client of this organization. Only clients created by its admins can be deleted here; revoke others for this organization instead.",
            )
        };
        let found = org_admin::find_client(&oc.caller.s.db, oc.org.id, &client)
            .await
            .map_err(|_| not_ours())?;
        let owner = AppOwner::Org { org_id: oc.org.id };
        if !owner.owns(&found) {
            return Err(not_ours());
        }
        let was = oauth_apps::delete(
            &oc.caller.s,
            oc.caller.user.id,
            owner,
            found.id,
            &ctx::meta(),
        )
        .await?;
        let text = format!(
            "Deleted “{}”. Every connection and token it had stopped working.",
            was.name
        );
        if from_detail_page() && ctx::plain_form_post() {
            // The client's page is gone: go to the list, which shows the message once. (With
            // JavaScript the client's page shows the outcome itself.)
            oc.caller
                .session
                .insert(
                    crate::web::SESSION_FLASH,
                    crate::model::Flash {
                        text: text.clone(),
                        copy: None,
                    },
                )
                .await
                .map_err(session_error)?;
            leptos_axum::redirect("/admin/oauth-clients");
        } else {
            ctx::flash(&oc.caller.session, text.clone(), None).await?;
        }
        Ok(text)
    })
    .await
}

/// The create form's choices, and (after a plain form post) the client just created.
#[server(prefix = "/fn", endpoint = "new_org_client_form", input = GetUrl)]
pub async fn load_new_client_form() -> Result<NewClientForm, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        let created = oc
            .caller
            .session
            .remove::<CreatedOrgClient>(SESSION_CREATED_CLIENT)
            .await
            .map_err(session_error)?;
        let draft = ctx::take_draft(&oc.caller.session, DRAFT, Some(oc.org.id)).await;
        Ok(NewClientForm {
            org_name: oc.org.name.clone(),
            scopes: scope::choices(),
            redirect_hosts: org_policy::redirect_hosts(&oc.org),
            created,
            draft,
        })
    })
    .await
}

/// Creates an OAuth client owned by the org. The secret (confidential clients) is in the
/// answer, or, after a plain form post, on the next page; nowhere else, ever.
#[server(prefix = "/fn", endpoint = "create_org_client")]
pub async fn create_org_client(
    #[server(default)] csrf: String,
    #[server(default)] name: String,
    #[server(default)] description: String,
    #[server(default)] redirect_uris: String,
    #[server(default)] scopes: Vec<String>,
    #[server(default)] client_type: String,
) -> Result<CreatedOrgClient, AppError> {
    ctx::run(async move {
        let oc = ctx::require_org(Capability::AdministerOrg).await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let draft = app_draft(&name, &description, &redirect_uris, &scopes, &client_type);
        let made = async {
            let confidential = match client_type.trim() {
                "confidential" => true,
                "public" => false,
                _ => {
                    return Err(AppError::invalid(
                        "client_type",
                        "Choose confidential (a server that can keep a secret) or public (a native or browser app).",
                    ));
                }
            };
            let new = NewApp {
                name,
                description,
                redirect_uris: oauth_apps::split_uris(&redirect_uris),
                scopes,
                confidential,
                org_id: Some(oc.org.id),
                trust: Default::default(),
            };
            oauth_apps::create(
                &oc.caller.s,
                oc.caller.user.id,
                AppOwner::Org { org_id: oc.org.id },
                &new,
                &ctx::meta(),
            )
            .await
        }
        .await;
        let made = match made {
            Ok(made) => made,
            Err(e) => {
                // Without JavaScript the form comes back: with what was typed.
                ctx::keep_draft(&oc.caller.session, DRAFT, Some(oc.org.id), &draft).await;
                return Err(e);
            }
        };
        let created = CreatedOrgClient {
            id: made.client.id,
            client_id: made.client.client_id.clone(),
            name: made.client.name.clone(),
            secret: made.secret,
        };
        if ctx::plain_form_post() {
            oc.caller
                .session
                .insert(SESSION_CREATED_CLIENT, &created)
                .await
                .map_err(session_error)?;
        }
        Ok(created)
    })
    .await
}
