//! Request middleware of the browser-facing routes.

pub mod csrf;
pub mod request_meta;
pub mod security_headers;
