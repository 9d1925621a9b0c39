//! The member's own OAuth apps (`/settings/oauth-apps`): list, create, edit, rotate the secret,
//! delete. Any signed-in member may register apps; each one is theirs alone.
//!
//! Credentials are shown once. After a creation the page changes (to the app's own page), so
//! the client ID and secret travel there in a one-time session entry that the page's loader
//! takes out; the same carries the secret of a rotation done without JavaScript, and the
//! message after a deletion. With JavaScript, a rotation's secret is in the action's answer.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::{OAuthAppDetail, OAuthAppList, OAuthAppSettings, OAuthAppView};
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::oauth::redirect_uri,
    domain::oauth::scope,
    domain::oauth_apps::{self, AppChanges, AppOwner, NewApp},
    domain::org_policy,
    model::{OAuthAppCredentials, OAuthAppDraft},
};

/// The answer to a rotation: the new secret, shown once.
pub type RotatedSecret = crate::model::OAuthAppCredentials;

#[cfg(feature = "ssr")]
mod once {
    //! The one-time session entry of these pages.
    use serde::{Deserialize, Serialize};
    use tower_sessions::Session;
    use uuid::Uuid;

    use crate::error::{AppError, AppResult};
    use crate::model::OAuthAppCredentials;

    const KEY: &str = "oauth_apps.once";

    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    pub struct Once {
        /// The app page it is for; `None`: the list.
        pub app_id: Option<Uuid>,
        pub credentials: Option<OAuthAppCredentials>,
        pub notice: Option<String>,
    }

    fn err(e: tower_sessions::session::Error) -> AppError {
        tracing::error!(error = %e, "session store error");
        AppError::Internal
    }

    pub async fn put(session: &Session, once: Once) -> AppResult<()> {
        session.insert(KEY, once).await.map_err(err)
    }

    /// Takes the entry out (whoever asks, it is gone after this); returns it if it is for
    /// `app_id`.
    pub async fn take(session: &Session, app_id: Option<Uuid>) -> AppResult<Option<Once>> {
        let once = session.remove::<Once>(KEY).await.map_err(err)?;
        Ok(once.filter(|o| o.app_id == app_id))
    }
}

/// Answers that carry a secret must never be cached.
#[cfg(feature = "ssr")]
fn no_store() {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
}

/// The drafts of these pages' forms: what was typed when a form was refused (no JavaScript).
#[cfg(feature = "ssr")]
const DRAFT_NEW: &str = "oauth_app_new";
#[cfg(feature = "ssr")]
const DRAFT_EDIT: &str = "oauth_app_edit";

/// An app form as typed, for its draft (also the admin's new client form).
#[cfg(feature = "ssr")]
pub(crate) fn app_draft(
    name: &str,
    description: &str,
    redirect_uris: &str,
    scopes: &[String],
    client_type: &str,
) -> OAuthAppDraft {
    OAuthAppDraft {
        name: ctx::draft_text(name),
        redirect_uris: ctx::draft_text(redirect_uris),
        description: ctx::draft_text(description),
        scopes: ctx::draft_scopes(scopes),
        client_type: ctx::draft_text(client_type.trim()),
    }
}

/// The create form's choices, and the org the app will be registered in.
#[server(prefix = "/fn", endpoint = "oauth_app_settings", input = GetUrl)]
pub async fn load_oauth_app_settings() -> Result<OAuthAppSettings, AppError> {
    ctx::run(async {
        let caller = ctx::require_user().await?;
        let org = ctx::current_org(&caller).await?.map(|(o, _)| o);
        let draft = ctx::take_draft(&caller.session, DRAFT_NEW, org.as_ref().map(|o| o.id)).await;
        Ok(OAuthAppSettings {
            scope_choices: scope::choices(),
            org_name: org.as_ref().map(|o| o.name.clone()),
            allowed_redirect_hosts: org
                .as_ref()
                .map(org_policy::redirect_hosts)
                .unwrap_or_default(),
            max_redirect_uris: redirect_uri::MAX_URIS,
            draft,
        })
    })
    .await
}

/// One page (from 1) of the caller's apps.
#[server(prefix = "/fn", endpoint = "oauth_apps", input = GetUrl)]
pub async fn load_oauth_apps(#[server(default)] page: u64) -> Result<OAuthAppList, AppError> {
    ctx::run(async move {
        let caller = ctx::require_user().await?;
        let mut list = oauth_apps::list(&caller.s.db, AppOwner::User(caller.user.id), page).await?;
        list.notice = once::take(&caller.session, None)
            .await?
            .and_then(|o| o.notice);
        Ok(list)
    })
    .await
}

/// One of the caller's apps; anyone else's, or an unknown id, is "not found".
#[server(prefix = "/fn", endpoint = "oauth_app", input = GetUrl)]
pub async fn load_oauth_app(#[server(default)] id: String) -> Result<OAuthAppDetail, AppError> {
    ctx::run(async move {
        let caller = ctx::require_user().await?;
        let id = ctx::parse_id(&id, "OAuth app")?;
        let draft = ctx::take_draft(&caller.session, DRAFT_EDIT, Some(id)).await;
        let app = oauth_apps::get(&caller.s.db, AppOwner::User(caller.user.id), id).await?;
        let once = once::take(&caller.session, Some(id)).await?;
        if once.as_ref().is_some_and(|o| o.credentials.is_some()) {
            no_store();
        }
        let base = caller
            .s
            .settings
            .public_url
            .trim_end_matches('/')
            .to_string();
        Ok(OAuthAppDetail {
            app,
            credentials: once.as_ref().and_then(|o| o.credentials.clone()),
            notice: once.and_then(|o| o.notice),
            scope_choices: scope::choices(),
            authorize_url: format!("{base}/oauth/authorize"),
            token_url: format!("{base}/oauth/token"),
            mcp_url: format!("{base}/mcp"),
            draft,
        })
    })
    .await
}

/// Registers an app and goes to its page, where the client ID and (confidential apps) the
/// secret are shown once.
#[server(prefix = "/fn", endpoint = "create_oauth_app")]
pub async fn create_oauth_app(
    #[server(default)] csrf: String,
    #[server(default)] name: String,
    #[server(default)] description: String,
    #[server(default)] redirect_uris: String,
    #[server(default)] scopes: Vec<String>,
    #[server(default)] client_type: String,
) -> Result<OAuthAppView, AppError> {
    ctx::run(async move {
        let caller = ctx::require_user().await?;
        ctx::check_csrf(&caller.session, &csrf).await?;
        let org_id = ctx::current_org(&caller).await?.map(|(o, _)| o.id);
        let draft = app_draft(&name, &description, &redirect_uris, &scopes, &client_type);
        let created = async {
            let confidential = match client_type.trim() {
                "confidential" => true,
                "public" => false,
                _ => {
                    return Err(AppError::invalid(
                        "client_type",
                        "Choose whether the app is confidential (a server that keeps a secret) or public (a native or browser app).",
                    ));
                }
            };
            let new = NewApp {
                name,
                description,
                redirect_uris: oauth_apps::split_uris(&redirect_uris),
                scopes,
                confidential,
                org_id,
                trust: Default::default(),
            };
            oauth_apps::create(
                &caller.s,
                caller.user.id,
                AppOwner::User(caller.user.id),
                &new,
                &ctx::meta(),
            )
            .await
        }
        .await;
        let created = match created {
            Ok(created) => created,
            Err(e) => {
                // Without JavaScript the form comes back: with what was typed.
                ctx::keep_draft(&caller.session, DRAFT_NEW, org_id, &draft).await;
                return Err(e);
            }
        };
        once::put(
            &caller.session,
            once::Once {
                app_id: Some(created.app.id),
                credentials: Some(OAuthAppCredentials {
                    client_id: created.app.client_id.clone(),
                    secret: created.secret.clone(),
                    rotated: false,
                }),
                notice: None,
            },
        )
        .await?;
        leptos_axum::redirect(&format!("/settings/oauth-apps/{}", created.app.id));
        Ok(created.app)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "update_oauth_app")]
pub async fn update_oauth_app(
    #[server(default)] csrf: String,
    #[server(default)] app_id: String,
    #[server(default)] name: String,
    #[server(default)] description: String,
    #[server(default)] redirect_uris: String,
    #[server(default)] scopes: Vec<String>,
) -> Result<String, AppError> {
    ctx::run(async move {
        let caller = ctx::require_user().await?;
        ctx::check_csrf(&caller.session, &csrf).await?;
        let id = ctx::parse_id(&app_id, "OAuth app")?;
        let draft = app_draft(&name, &description, &redirect_uris, &scopes, "");
        let changes = AppChanges {
            name,
            description,
            redirect_uris: oauth_apps::split_uris(&redirect_uris),
            scopes,
        };
        let app = match oauth_apps::update(
            &caller.s,
            caller.user.id,
            AppOwner::User(caller.user.id),
            id,
            &changes,
            &ctx::meta(),
        )
        .await
        {
            Ok(app) => app,
            Err(e) => {
                // Without JavaScript the app's page comes back: with what was typed.
                ctx::keep_draft(&caller.session, DRAFT_EDIT, Some(id), &draft).await;
                return Err(e);
            }
        };
        let text = format!("Saved the changes to “{}”.", app.name);
        if ctx::plain_form_post() {
            once::put(
                &caller.session,
                once::Once {
                    app_id: Some(id),
                    credentials: None,
                    notice: Some(text.clone()),
                },
            )
            .await?;
        }
        Ok(text)
    })
    .await
}

/// Replaces the secret; the old one stops working at once.
#[server(prefix = "/fn", endpoint = "rotate_oauth_app_secret")]
pub async fn rotate_oauth_app_secret(
    #[server(default)] csrf: String,
    #[server(default)] app_id: String,
) -> Result<RotatedSecret, AppError> {
    ctx::run(async move {
        let caller = ctx::require_user().await?;
        ctx::check_csrf(&caller.session, &csrf).await?;
        let id = ctx::parse_id(&app_id, "OAuth app")?;
        let rotated = oauth_apps::rotate_secret(
            &caller.s,
            caller.user.id,
            AppOwner::User(caller.user.id),
            id,
            &ctx::meta(),
        )
        .await?;
        let creds = OAuthAppCredentials {
            client_id: rotated.app.client_id.clone(),
            secret: Some(rotated.secret),
            rotated: true,
        };
        no_store();
        if ctx::plain_form_post() {
            once::put(
                &caller.session,
                once::Once {
                    app_id: Some(id),
                    credentials: Some(creds.clone()),
                    notice: None,
                },
            )
            .await?;
        }
        Ok(creds)
    })
    .await
}

/// Deletes the app with its connections and tokens, then goes back to the list.
#[server(prefix = "/fn", endpoint = "delete_oauth_app")]
pub async fn delete_oauth_app(
    #[server(default)] csrf: String,
    #[server(default)] app_id: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let caller = ctx::require_user().await?;
        ctx::check_csrf(&caller.session, &csrf).await?;
        let id = ctx::parse_id(&app_id, "OAuth app")?;
        let was = oauth_apps::delete(
            &caller.s,
            caller.user.id,
            AppOwner::User(caller.user.id),
            id,
            &ctx::meta(),
        )
        .await?;
        let text = format!(
            "Deleted the OAuth app “{}”. Its connections and tokens stopped working.",
            was.name
        );
        once::put(
            &caller.session,
            once::Once {
                app_id: None,
                credentials: None,
                notice: Some(text.clone()),
            },
        )
        .await?;
        leptos_axum::redirect("/settings/oauth-apps");
        Ok(text)
    })
    .await
}
