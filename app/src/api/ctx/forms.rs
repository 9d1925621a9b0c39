//! What forms keep in the session between a plain form post and the page it returns to: a
//! one-time message (flash) and what a refused form had in it (a draft).

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tower_sessions::Session;
use uuid::Uuid;

use super::plain_form_post;
use crate::domain::oauth::scope::SCOPES;
use crate::error::{AppError, AppResult};
use crate::model::Flash;
use crate::web::SESSION_FLASH;

fn session_err(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store error");
    AppError::Internal
}

/// A message for the next page. With JavaScript the page shows the action's result itself,
/// so only plain form posts (which end in a redirect) store it.
pub async fn flash(
    session: &Session,
    text: impl Into<String>,
    copy: Option<String>,
) -> AppResult<()> {
    if plain_form_post() {
        session
            .insert(
                SESSION_FLASH,
                Flash {
                    text: text.into(),
                    copy,
                },
            )
            .await
            .map_err(session_err)?;
    }
    Ok(())
}

/// What a refused form had in it, kept in the session for the page the browser is sent back
/// to. `tied_to` is the org (or the record) the form belongs to, so no other page shows it.
#[derive(Serialize, Deserialize)]
struct Draft<T> {
    tied_to: Option<Uuid>,
    value: T,
}

fn draft_key(form: &str) -> String {
    format!("draft.{form}")
}

/// The longest text a draft keeps of one field (a field far over its limit is cut here, so a
/// refused form can't fill the session store).
pub const DRAFT_MAX_CHARS: usize = 4_000;

/// `text` as a draft keeps it: at most [`DRAFT_MAX_CHARS`] characters.
pub fn draft_text(text: &str) -> String {
    text.chars().take(DRAFT_MAX_CHARS).collect()
}

/// The scopes ticked in a form, as a draft keeps them: the known ones only.
pub fn draft_scopes(ticked: &[String]) -> Vec<String> {
    SCOPES
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| {
            ticked
                .iter()
                .flat_map(|t| t.split_whitespace())
                .any(|t| t == *s)
        })
        .map(str::to_string)
        .collect()
}

/// Keeps what was typed in a refused form, for the page a plain form post (no JavaScript) is
/// redirected back to, which shows it once with the error. With JavaScript the form stays on
/// the page as typed, so nothing is kept. `tied_to`: the org (or the record) the form is for;
/// a page of another one never shows it. Only call this once the CSRF proof has been checked
/// (another site must not be able to fill someone's form), and never put a secret or a
/// password in `value`: it is stored in the session.
pub async fn keep_draft<T: Serialize>(
    session: &Session,
    form: &'static str,
    tied_to: Option<Uuid>,
    value: &T,
) {
    if plain_form_post() {
        store_draft(session, form, tied_to, value).await;
    }
}

async fn store_draft<T: Serialize>(
    session: &Session,
    form: &'static str,
    tied_to: Option<Uuid>,
    value: &T,
) {
    if let Err(e) = session
        .insert(&draft_key(form), Draft { tied_to, value })
        .await
    {
        // The form comes back empty, with its message: worth a log line, not an error page.
        tracing::warn!(error = %e, form, "could not keep a form draft");
    }
}

/// Takes out the draft `form` left (it is shown once, whoever asks); `Some` only if it is
/// for `tied_to`.
pub async fn take_draft<T: DeserializeOwned>(
    session: &Session,
    form: &'static str,
    tied_to: Option<Uuid>,
) -> Option<T> {
    match session.remove::<Draft<T>>(&draft_key(form)).await {
        Ok(draft) => draft.filter(|d| d.tied_to == tied_to).map(|d| d.value),
        Err(e) => {
            tracing::warn!(error = %e, form, "could not read a form draft");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tower_sessions::session::{Id, Record};
    use tower_sessions::{Session, session_store};
    use uuid::Uuid;

    use super::{draft_scopes, draft_text, keep_draft, store_draft, take_draft};

    /// A store that is never reached: a session without an id lives in memory until saved.
    #[derive(Debug)]
    struct NoStore;

    #[async_trait::async_trait]
    impl session_store::SessionStore for NoStore {
        async fn save(&self, _: &Record) -> session_store::Result<()> {
            Ok(())
        }
        async fn load(&self, _: &Id) -> session_store::Result<Option<Record>> {
            Ok(None)
        }
        async fn delete(&self, _: &Id) -> session_store::Result<()> {
            Ok(())
        }
    }

    fn session() -> Session {
        Session::new(None, Arc::new(NoStore), None)
    }

    #[tokio::test]
    async fn a_draft_is_shown_once_and_only_for_its_org() {
        let s = session();
        let (acme, other) = (Uuid::new_v4(), Uuid::new_v4());
        let typed = ("CI deploy".to_string(), vec!["mcp:read".to_string()]);
        store_draft(&s, "test", Some(acme), &typed).await;
        assert_eq!(
            take_draft::<(String, Vec<String>)>(&s, "test", Some(acme)).await,
            Some(typed.clone())
        );
        // Shown once.
        assert_eq!(
            take_draft::<(String, Vec<String>)>(&s, "test", Some(acme)).await,
            None
        );
        // Another org's page doesn't show it, and it is gone after that too.
        store_draft(&s, "test", Some(acme), &typed).await;
        assert_eq!(
            take_draft::<(String, Vec<String>)>(&s, "test", Some(other)).await,
            None
        );
        assert_eq!(
            take_draft::<(String, Vec<String>)>(&s, "test", Some(acme)).await,
            None
        );
        // Each form has its own.
        store_draft(&s, "one", None, &1u32).await;
        assert_eq!(take_draft::<u32>(&s, "two", None).await, None);
        assert_eq!(take_draft::<u32>(&s, "one", None).await, Some(1));
    }

    #[tokio::test]
    async fn only_a_plain_form_post_keeps_a_draft() {
        // No request at all (and so no `Accept: text/html`): nothing is kept.
        let s = session();
        keep_draft(&s, "test", None, &"typed").await;
        assert_eq!(take_draft::<String>(&s, "test", None).await, None);
    }

    #[test]
    fn a_draft_keeps_known_scopes_only() {
        let ticked = ["mcp:write", "admin:all mcp:read", "mcp:write"].map(String::from);
        assert_eq!(draft_scopes(&ticked), ["mcp:read", "mcp:write"]);
        assert!(draft_scopes(&[]).is_empty());
    }

    #[test]
    fn draft_text_is_bounded() {
        assert_eq!(draft_text("  as typed \n"), "  as typed \n");
        let long = "é".repeat(super::DRAFT_MAX_CHARS + 10);
        assert_eq!(draft_text(&long).chars().count(), super::DRAFT_MAX_CHARS);
    }
}
