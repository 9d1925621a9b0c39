//! The browser entry point: hydrates the server-rendered HTML so forms work without reloads.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Every page is a lazily loaded route (see `app`): hydration waits for the shown page's
    // wasm before it walks the server's HTML.
    leptos::mount::hydrate_lazy(app::App);
}
