//! The OAuth 2.1 authorization server: clients, authorization requests and consent, grants,
//! revocation and introspection. Protocol parsing lives in the server; the rules live here.

pub mod assertion;
pub mod authorize;
pub mod client_auth;
pub mod client_domains;
pub mod clients;
pub mod consent;
pub mod error;
pub mod grants;
pub mod housekeeping;
pub mod metadata_document;
pub mod redirect_uri;
pub mod resource;
pub mod rotation_writer;
pub mod scope;
pub mod token_format;
pub mod tokens;

pub use error::OAuthError;

/// `uri` with `params` appended to its query (keeping any query it already has).
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.to_string()
        }
        Err(_) => uri.to_string(),
    }
}
