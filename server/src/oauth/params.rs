//! Protocol input: form or JSON bodies as a multimap, with OAuth's rules (empty means absent,
//! a repeated parameter is an error except `resource`), and client credentials from
//! `Authorization: Basic` or the body.

use app::domain::oauth::OAuthError;
use app::domain::oauth::client_auth::ClientCredentials;
use axum::body::Bytes;
use base64::Engine;
use http::{HeaderMap, header};

#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect())
    }

    /// Parses a token-endpoint style body: `application/x-www-form-urlencoded` or JSON.
    pub fn from_body(headers: &HeaderMap, body: &Bytes) -> Result<Self, OAuthError> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ct.starts_with("application/json") {
            let v: serde_json::Value = serde_json::from_slice(body)
                .map_err(|_| OAuthError::invalid_request("The JSON body could not be parsed."))?;
            let obj = v
                .as_object()
                .ok_or_else(|| OAuthError::invalid_request("The JSON body must be an object."))?;
            let mut pairs = Vec::new();
            for (k, v) in obj {
                match v {
                    serde_json::Value::String(s) => pairs.push((k.clone(), s.clone())),
                    serde_json::Value::Number(n) => pairs.push((k.clone(), n.to_string())),
                    serde_json::Value::Array(items) => {
                        for i in items {
                            if let Some(s) = i.as_str() {
                                pairs.push((k.clone(), s.to_string()));
                            }
                        }
                    }
                    serde_json::Value::Null => {}
                    _ => {
                        return Err(OAuthError::invalid_request(format!(
                            "Parameter {k} must be a string."
                        )));
                    }
                }
            }
            return Ok(Self::from_pairs(pairs));
        }
        if ct.is_empty() || ct.starts_with("application/x-www-form-urlencoded") {
            return Ok(Self::from_pairs(
                url::form_urlencoded::parse(body).into_owned(),
            ));
        }
        Err(OAuthError::invalid_request(
            "Send parameters as application/x-www-form-urlencoded (or JSON).",
        ))
    }

    /// A parameter that may appear at most once.
    pub fn one(&self, name: &str) -> Result<Option<String>, OAuthError> {
        let mut it = self.0.iter().filter(|(k, _)| k == name);
        let first = it.next().map(|(_, v)| v.clone());
        if it.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "The parameter {name} was sent more than once."
            )));
        }
        Ok(first)
    }

    pub fn required(&self, name: &str) -> Result<String, OAuthError> {
        self.one(name)?.ok_or_else(|| {
            OAuthError::invalid_request(format!("The parameter {name} is required."))
        })
    }

    /// A parameter that may repeat (`resource`).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The first singular parameter among `names` that was repeated, if any.
    pub fn first_duplicate(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find(|n| self.0.iter().filter(|(k, _)| k == *n).count() > 1)
            .map(|n| n.to_string())
    }
}

fn decode_component(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Client credentials per OAuth 2.1 §2.4: Basic (form-decoded parts), or client_id and
/// client_secret in the body. A `client_id` in the body next to Basic must name the same client.
pub fn client_credentials(
    headers: &HeaderMap,
    params: &Params,
) -> Result<ClientCredentials, OAuthError> {
    let body_id = params.one("client_id")?;
    let body_secret = params.one("client_secret")?;
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(b64) = auth
            .strip_prefix("Basic ")
            .or_else(|| auth.strip_prefix("basic "))
    {
        let basic_fail = |d: &str| OAuthError {
            basic_challenge: true,
            ..OAuthError::invalid_client(d)
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| basic_fail("The Basic credentials could not be decoded."))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| basic_fail("The Basic credentials could not be decoded."))?;
        let (id, secret) = (decode_component(id), decode_component(secret));
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "Send the client secret either in the Authorization header or in the body, not both.",
            ));
        }
        if body_id.as_deref().is_some_and(|b| b != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the one in the Authorization header.",
            ));
        }
        return Ok(ClientCredentials {
            client_id: id,
            secret: Some(secret).filter(|s| !s.is_empty()),
            basic: true,
        });
    }
    let client_id = body_id.ok_or_else(|| OAuthError::invalid_client("client_id is required."))?;
    Ok(ClientCredentials {
        client_id,
        secret: body_secret,
        basic: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Params {
        Params::from_body(&HeaderMap::new(), &Bytes::from(body.to_string())).unwrap()
    }

    #[test]
    fn empty_values_are_absent_and_repeats_are_refused() {
        let p = form("a=1&b=&resource=x&resource=y&c=1&c=2");
        assert_eq!(p.one("a").unwrap().as_deref(), Some("1"));
        assert_eq!(p.one("b").unwrap(), None);
        assert_eq!(p.all("resource"), vec!["x", "y"]);
        assert_eq!(p.one("c").unwrap_err().error, "invalid_request");
    }

    #[test]
    fn basic_credentials_are_form_decoded_and_checked_against_the_body() {
        let mut h = HeaderMap::new();
        let b64 = base64::engine::general_purpose::STANDARD.encode("my%20id:s%3Acret");
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {b64}").parse().unwrap(),
        );
        let c = client_credentials(&h, &form("grant_type=x")).unwrap();
        assert_eq!(
            (c.client_id.as_str(), c.secret.as_deref(), c.basic),
            ("my id", Some("s:cret"), true)
        );
        assert!(
            client_credentials(&h, &form("client_id=my%20id")).is_ok(),
            "same id in the body is fine"
        );
        assert_eq!(
            client_credentials(&h, &form("client_id=other"))
                .unwrap_err()
                .error,
            "invalid_request"
        );
        assert_eq!(
            client_credentials(&h, &form("client_secret=x"))
                .unwrap_err()
                .error,
            "invalid_request"
        );
    }
}
