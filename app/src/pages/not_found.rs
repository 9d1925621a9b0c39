use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::ErrorPanel;
use crate::error::AppError;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <ErrorPanel error=AppError::not_found("There is no page at this address.") />
    }
}
