//! The member's personal tokens page (`/settings/tokens`): create, list and revoke their own
//! standard PATs in the org they are working in.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::{CreatedPat, PatList, PatSettings};
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::{oauth::scope, orgs, pats},
    model::PatDraft,
};

/// The create form's draft: what was typed when it was refused (without JavaScript).
#[cfg(feature = "ssr")]
const DRAFT: &str = "pat_create";

/// The create form as typed, for its draft.
#[cfg(feature = "ssr")]
fn draft_of(name: &str, scopes: &[String], expires_in_days: &str) -> PatDraft {
    PatDraft {
        name: ctx::draft_text(name),
        scopes: ctx::draft_scopes(scopes),
        expires_in_days: ctx::draft_text(expires_in_days.trim()),
    }
}

/// Any member of the current org: everyone may see and revoke their own tokens (also after
/// a demotion or with the org's personal tokens switched off); creating is checked apart.
#[cfg(feature = "ssr")]
async fn member() -> Result<ctx::OrgCaller, AppError> {
    ctx::require_member().await
}

/// Who may create tokens here, and the create form's choices.
#[server(prefix = "/fn", endpoint = "pat_settings", input = GetUrl)]
pub async fn load_pat_settings() -> Result<PatSettings, AppError> {
    ctx::run(async {
        let oc = member().await?;
        let max = oc.org.pat_max_ttl_days.max(1);
        let draft = ctx::take_draft(&oc.caller.session, DRAFT, Some(oc.org.id)).await;
        Ok(PatSettings {
            refusal: pats::refusal(&oc.org, oc.role, oc.caller.user.two_factor()),
            scopes: scope::choices(),
            expiry_choices: pats::expiry_choices(max),
            default_expiry_days: pats::default_expiry_days(max),
            max_expiry_days: max,
            mcp_url: format!(
                "{}/o/{}/mcp",
                oc.caller.s.settings.public_url.trim_end_matches('/'),
                oc.org.slug
            ),
            org: orgs::view(&oc.org, oc.role),
            draft,
        })
    })
    .await
}

/// One page (from 1) of the caller's tokens in the current org.
#[server(prefix = "/fn", endpoint = "pats", input = GetUrl)]
pub async fn load_pats(#[server(default)] page: u64) -> Result<PatList, AppError> {
    ctx::run(async move {
        let oc = member().await?;
        pats::list_for_user(&oc.caller.s.db, oc.caller.user.id, oc.org.id, page).await
    })
    .await
}

/// Creates a token; the secret is in the answer (with JavaScript) or in the flash message of
/// the next page (a plain form post), and nowhere else, ever.
#[server(prefix = "/fn", endpoint = "create_pat")]
pub async fn create_pat(
    #[server(default)] csrf: String,
    #[server(default)] name: String,
    #[server(default)] scopes: Vec<String>,
    #[server(default)] expires_in_days: String,
) -> Result<CreatedPat, AppError> {
    ctx::run(async move {
        let oc = member().await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let draft = draft_of(&name, &scopes, &expires_in_days);
        let created = async {
            let expires_in_days = expires_in_days.trim().parse::<i64>().map_err(|_| {
                AppError::invalid("expires_in_days", "Choose when the token expires.")
            })?;
            let new = pats::NewPat {
                name,
                scopes,
                expires_in_days,
            };
            pats::create(
                &oc.caller.s,
                &oc.caller.user,
                &oc.org,
                oc.role,
                &new,
                &ctx::meta(),
            )
            .await
        }
        .await;
        let created = match created {
            Ok(created) => created,
            Err(e) => {
                // Without JavaScript the page comes back: with what was typed.
                ctx::keep_draft(&oc.caller.session, DRAFT, Some(oc.org.id), &draft).await;
                return Err(e);
            }
        };
        let text = format!(
            "Created the token “{}”. Copy it now: it won't be shown again.",
            created.token.name
        );
        ctx::flash(&oc.caller.session, text, Some(created.secret.clone())).await?;
        Ok(created)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "revoke_pat")]
pub async fn revoke_pat(
    #[server(default)] csrf: String,
    #[server(default)] token_id: String,
) -> Result<String, AppError> {
    ctx::run(async move {
        let oc = member().await?;
        ctx::check_csrf(&oc.caller.session, &csrf).await?;
        let id = ctx::parse_id(&token_id, "token")?;
        let t =
            pats::revoke_own(&oc.caller.s, oc.caller.user.id, oc.org.id, id, &ctx::meta()).await?;
        let text = format!(
            "Revoked the token “{}”. Anything using it stops working now.",
            t.name
        );
        ctx::flash(&oc.caller.session, text.clone(), None).await?;
        Ok(text)
    })
    .await
}
