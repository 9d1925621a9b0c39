//! What every page frame needs, and signing in, up and out.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::AppError;
use crate::model::{SecondFactorPrompt, SessionInfo};
#[cfg(feature = "ssr")]
use crate::{
    api::ctx,
    domain::{invitations, orgs, two_factor, users, validate},
    web::session as web_session,
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
            info.email_unverified = !caller.user.email_verified();
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
        let meta = ctx::meta();
        let user = users::check_password(&s, &email, &password, &meta).await?;
        if user.two_factor() {
            web_session::begin_second_factor(&session, user.id, &next).await?;
            leptos_axum::redirect("/login/two-factor");
            return Ok(());
        }
        let user = users::record_sign_in(&s, user, "password", &meta).await?;
        ctx::sign_in(&session, user.id).await?;
        leptos_axum::redirect(&ctx::safe_next(&next));
        Ok(())
    })
    .await
}

/// The second step of signing in: whose code is asked for (or an error when no sign-in is
/// waiting for one).
#[server(prefix = "/fn", endpoint = "second_factor", input = GetUrl)]
pub async fn load_second_factor() -> Result<SecondFactorPrompt, AppError> {
    ctx::run(async {
        let s = ctx::services()?;
        let session = ctx::session().await?;
        let pending = web_session::pending_second_factor(&session)
            .await?
            .ok_or_else(second_factor_lapsed)?;
        let user = users::find(&s.db, pending.user_id)
            .await?
            .ok_or_else(second_factor_lapsed)?;
        Ok(SecondFactorPrompt { email: user.email })
    })
    .await
}

#[cfg(feature = "ssr")]
fn second_factor_lapsed() -> AppError {
    AppError::Unauthenticated
}

#[server(prefix = "/fn", endpoint = "verify_second_factor")]
pub async fn verify_second_factor(
    #[server(default)] csrf: String,
    #[server(default)] code: String,
) -> Result<(), AppError> {
    ctx::run(async move {
        let session = ctx::session().await?;
        ctx::check_csrf(&session, &csrf).await?;
        let s = ctx::services()?;
        let meta = ctx::meta();
        let Some(pending) = web_session::pending_second_factor(&session).await? else {
            return Err(AppError::Conflict(
                "Your sign-in took too long. Sign in again with your password.".into(),
            ));
        };
        let user = match users::find(&s.db, pending.user_id).await? {
            Some(u) if u.disabled_at.is_none() && u.two_factor() => u,
            _ => {
                return Err(AppError::Conflict(
                    "This sign-in can't continue. Sign in again with your password.".into(),
                ));
            }
        };
        let proof = two_factor::verify_sign_in(&s, &user, &code, &meta).await?;
        let user = users::record_sign_in(&s, user, proof.as_str(), &meta).await?;
        ctx::sign_in(&session, user.id).await?;
        if proof == two_factor::Proof::RecoveryCode {
            let left = two_factor::view(&s, &user).await?.recovery_codes_left;
            ctx::flash(
                &session,
                format!("You signed in with a recovery code; {left} left. Make new ones on your account page if you are running out."),
                None,
            )
            .await?;
        }
        leptos_axum::redirect(&pending.next);
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
            ctx::flash(
                &session,
                format!("Welcome to Gatehouse! We sent a link to {} — follow it to verify your address.", user.email),
                None,
            )
            .await?;
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
