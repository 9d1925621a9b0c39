//! Form helpers: the CSRF proof, messages next to fields, the outcome of a row action, the
//! one-time copy box.

use leptos::prelude::*;

use crate::components::layout::use_session;
use crate::error::AppError;

/// The hidden CSRF proof every state-changing form carries.
#[component]
pub fn CsrfField() -> impl IntoView {
    let session = use_session();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let csrf = session.await.map(|s| s.csrf).unwrap_or_default();
                view! { <input type="hidden" name="csrf" value=csrf /> }
            })}
        </Suspense>
    }
}

/// `aria-invalid` for a field whose value was refused.
pub fn aria_invalid(error: Signal<Option<AppError>>, field: &str) -> Option<&'static str> {
    error
        .get()
        .is_some_and(|e| e.field() == Some(field))
        .then_some("true")
}

/// The error of an action, if its last run failed.
pub fn action_error<T, S>(value: S) -> Signal<Option<AppError>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|r| r.err()))
}

/// The message for one field, shown right next to it.
#[component]
pub fn FieldError(error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    let id = format!("{field}-error");
    move || {
        error.get().filter(|e| e.field() == Some(field)).map(|e| {
            view! { <p class="field-error" id=id.clone() role="alert">{e.to_string()}</p> }
        })
    }
}

/// The message for errors that belong to no single field (those in `fields` show next to
/// their field instead).
#[component]
pub fn FormError(
    error: Signal<Option<AppError>>,
    #[prop(optional)] fields: &'static [&'static str],
) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| e.field().is_none_or(|f| !fields.contains(&f)))
            .map(|e| {
                view! { <p class="form-error" role="alert">{e.to_string()}</p> }
            })
    }
}

/// A value shown once with a copy button (token secrets, recovery codes: several lines).
#[component]
pub fn CopyBox(value: String, #[prop(into)] label: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let for_click = value.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window().navigator().clipboard().write_text(&for_click);
        }
        let _ = &for_click;
        copied.set(true);
    };
    view! {
        <div class="copy-box">
            <label>
                <span class="label">{label}</span>
                {if value.contains('\n') {
                    let rows = value.lines().count().to_string();
                    view! { <textarea readonly rows=rows class="mono" data-testid="copy-value">{value}</textarea> }.into_any()
                } else {
                    view! { <input type="text" readonly value=value class="mono" data-testid="copy-value" /> }.into_any()
                }}
            </label>
            <button type="button" class="secondary" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}

/// The outcome of an action on one table row (revoke, disable, change role…), above the table.
pub fn row_outcome(result: Result<String, AppError>) -> AnyView {
    match result {
        Ok(msg) => view! { <p class="ok" role="status" data-testid="row-result">{msg}</p> }.into_any(),
        Err(e) => view! { <p class="form-error" role="alert" data-testid="row-result">{e.to_string()}</p> }
            .into_any(),
    }
}
