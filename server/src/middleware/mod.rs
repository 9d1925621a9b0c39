//! Request middleware.

pub mod csrf;
pub mod request_meta;
pub mod security_headers;
pub mod unavailable;
