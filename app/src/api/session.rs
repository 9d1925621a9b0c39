//! What every page frame needs, and signing in, up and out.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::SessionInfo;
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::{invitations, orgs, users, validate},
};

#[server(prefix = "/fn", endpoint = "session", input = GetUrl)]
pub async fn load_session() -> Result<SessionInfo, AppError> {
    ctx::run(async {
        let s = ctx::services()?;
        let session = ctx::session().await?;
        let csrf = ctx::csrf_token(&session).await?;
        let flash = use_context::<http::request::Parts>().and_then(|p| {
            p.extensions
                .get::<crate::web::PoppedFlash>()
                .map(|f| f.0.clone())
        });
        let mut info = SessionInfo {
            csrf,
            flash,
            signup_enabled: s.settings.signup_enabled,
            ..Default::default()
        };
        if let Some(user) = crate::web::session::signed_in(&s, &session).await? {
            info.orgs = orgs::orgs_of(&s.db, user.id).await?;
            let caller = ctx::Caller {
                s: s.clone(),
                session,
                user,
            };
            info.current_org = ctx::current_org(&caller)
                .await?
                .map(|(o, r)| orgs::view(&o, r));
            info.user = Some(users::view(&caller.user));
        }
        Ok(info)
    })
    .await
}

#[server(prefix = "/fn", endpoint = "login")]
pub async fn login(
    #[server(default)] csrf: String,
    email: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    ctx::run(async move {
        let session = ctx::session().await?;
        ctx::check_csrf(&session, &csrf).await?;
        let s = ctx::services()?;
        let user = users::authenticate(&s, &email, &password, &ctx::meta()).await?;
        ctx::sign_in(&session, user.id).await?;
        leptos_axum::redirect(&ctx::safe_next(&next));
        Ok(())
    })
    .await
}

#[server(prefix = "/fn", endpoint = "signup")]
pub async fn signup(
    #[server(default)] csrf: String,
    #[server(default)] name: String,
    email: String,
    password: String,
    #[server(default)] invite: String,
) -> Result<(), AppError> {
    ctx::run(async move {
        let session = ctx::session().await?;
        ctx::check_csrf(&session, &csrf).await?;
        let s = ctx::services()?;
        let meta = ctx::meta();
        let invite = invite.trim().to_string();
        let email = validate::Email::parse(&email)?;
        if !s.settings.signup_enabled {
            // Invite-only instance: an account may be created only for a pending invitation.
            let ok = !invite.is_empty()
                && invitations::info(&s.db, &invite, None)
                    .await
                    .is_ok_and(|i| i.state == crate::model::InvitationState::Pending && i.email == email.as_str());
            if !ok {
                return Err(AppError::forbidden(
                    "Sign-up is turned off on this Gatehouse. Ask an organization admin for an invitation.",
                ));
            }
        }
        let password = validate::Password::parse(&password, Some(&email))?;
        let name = validate::display_name(&name)?;
        let user = users::sign_up(&s, &email, &password, name, &meta).await?;
        ctx::sign_in(&session, user.id).await?;
        if invite.is_empty() {
            ctx::flash(&session, "Welcome to Gatehouse! Create an organization to get started.", None).await?;
            leptos_axum::redirect("/");
        } else {
            let org = invitations::accept(&s.db, &invite, &user, &meta).await?;
            ctx::set_current_org(&session, org.id).await?;
            ctx::flash(&session, format!("Welcome to {}!", org.name), None).await?;
            leptos_axum::redirect(&format!("/o/{}", org.slug));
        }
        Ok(())
    })
    .await
}

/// `POST /logout`: ends the session (every form carries the CSRF proof).
#[server(prefix = "", endpoint = "logout")]
pub async fn logout(#[server(default)] csrf: String) -> Result<(), AppError> {
    ctx::run(async move {
        let session = ctx::session().await?;
        ctx::check_csrf(&session, &csrf).await?;
        if let Some(user_id) = crate::web::session::user_id(&session).await? {
            let s = ctx::services()?;
            crate::domain::audit::record(
                &s.db,
                crate::domain::audit::AuditEntry::new("user.logout")
                    .actor(user_id)
                    .target("user", user_id),
                &ctx::meta(),
            )
            .await?;
        }
        ctx::sign_out(&session).await?;
        leptos_axum::redirect("/login?signed_out=1");
        Ok(())
    })
    .await
}
