//! An identity assertion as it arrives: a compact JWS (RFC 7515), its header and claims read,
//! its signature checked against the provider's published keys. The cryptography is
//! openidconnect's (its JSON Web Keys verify RSA, RSA-PSS, ECDSA and EdDSA signatures); only
//! the three-part framing is read here, since openidconnect checks signatures only as part of
//! an ID token's own rules (audience = our client, nonce), which an assertion doesn't follow.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, JsonWebKeyId};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The longest assertion read (real ones are about a kilobyte).
pub const MAX_LEN: usize = 16 * 1024;

/// The JOSE header members an assertion's checks need.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub typ: Option<String>,
    #[serde(default)]
    pub kid: Option<String>,
}

/// A compact JWS, read but not yet verified.
#[derive(Debug)]
pub struct Jws<'a> {
    signing_input: &'a str,
    pub header: Header,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

/// Why a signature wasn't accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unverified {
    /// No published key fits (`kid` unknown, or no key for the algorithm): the provider may
    /// have rotated its keys since they were fetched.
    NoKey,
    /// A key fits and the signature is wrong.
    BadSignature,
}

impl<'a> Jws<'a> {
    /// Reads the three parts; the reason in words when it isn't a compact JWS.
    pub fn parse(raw: &'a str) -> Result<Self, String> {
        if raw.len() > MAX_LEN {
            return Err(format!("it is longer than {MAX_LEN} bytes"));
        }
        let mut parts = raw.split('.');
        let (Some(h), Some(p), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("it is not a JWT (three base64url parts separated by dots)".into());
        };
        let decode = |part: &str, what: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| format!("its {what} is not base64url"))
        };
        let header: Header = serde_json::from_slice(&decode(h, "header")?)
            .map_err(|_| "its header is not a JOSE header".to_string())?;
        Ok(Self {
            signing_input: &raw[..h.len() + 1 + p.len()],
            header,
            payload: decode(p, "payload")?,
            signature: decode(sig, "signature")?,
        })
    }

    /// The header's `typ`, compared as RFC 7515 §4.1.9 says: case-insensitively, with
    /// `application/` optional.
    pub fn typ_is(&self, expected: &str) -> bool {
        self.header.typ.as_deref().is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.strip_prefix("application/").unwrap_or(&t) == expected
        })
    }

    /// The signing algorithm, if it is one a provider's published (public) key can check:
    /// never `none`, never a shared-secret HMAC.
    pub fn algorithm(&self) -> Option<CoreJwsSigningAlgorithm> {
        let alg: CoreJwsSigningAlgorithm =
            serde_json::from_value(serde_json::Value::String(self.header.alg.clone())).ok()?;
        use CoreJwsSigningAlgorithm as A;
        let public_key = matches!(
            alg,
            A::RsaSsaPkcs1V15Sha256
                | A::RsaSsaPkcs1V15Sha384
                | A::RsaSsaPkcs1V15Sha512
                | A::RsaSsaPssSha256
                | A::RsaSsaPssSha384
                | A::RsaSsaPssSha512
                | A::EcdsaP256Sha256
                | A::EcdsaP384Sha384
                | A::EcdsaP521Sha512
                | A::EdDsa
        );
        public_key.then_some(alg)
    }

    /// The claims, read without trusting them (nothing is believed before [`Self::verify`]).
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.payload).map_err(|e| format!("its claims can't be read ({e})"))
    }

    /// Whether one of `keys` (the one the header's `kid` names, or else any that fits the
    /// algorithm) signed this.
    pub fn verify(
        &self,
        alg: &CoreJwsSigningAlgorithm,
        keys: &CoreJsonWebKeySet,
    ) -> Result<(), Unverified> {
        let kid = self.header.kid.clone().map(JsonWebKeyId::new);
        let fitting: Vec<&CoreJsonWebKey> = keys
            .keys()
            .iter()
            .filter(|k| kid.is_none() || k.key_id() == kid.as_ref())
            .collect();
        let mut any_fit = false;
        for key in fitting {
            match key.verify_signature(alg, self.signing_input.as_bytes(), &self.signature) {
                Ok(()) => return Ok(()),
                // A key of another type or use: not this one.
                Err(openidconnect::SignatureVerificationError::InvalidKey(_)) => {}
                Err(_) => any_fit = true,
            }
        }
        Err(if any_fit {
            Unverified::BadSignature
        } else {
            Unverified::NoKey
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    #[test]
    fn reads_the_three_parts_and_refuses_anything_else() {
        let raw = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256","typ":"oauth-id-jag+jwt","kid":"k1"}"#),
            b64(r#"{"iss":"https://idp.example"}"#),
            b64("sig")
        );
        let jws = Jws::parse(&raw).unwrap();
        assert_eq!(jws.header.kid.as_deref(), Some("k1"));
        assert!(jws.typ_is("oauth-id-jag+jwt"));
        assert_eq!(
            jws.algorithm(),
            Some(CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256)
        );
        let claims: serde_json::Value = jws.claims().unwrap();
        assert_eq!(claims["iss"], "https://idp.example");
        for bad in ["", "a.b", "a.b.c.d", "!!!.e30.x", &"a".repeat(MAX_LEN + 1)] {
            assert!(Jws::parse(bad).is_err(), "{bad:.20}");
        }
    }

    #[test]
    fn typ_compares_as_rfc_7515_says() {
        for (typ, ok) in [
            ("oauth-id-jag+jwt", true),
            ("application/OAuth-ID-JAG+JWT", true),
            ("JWT", false),
            ("at+jwt", false),
        ] {
            let raw = format!(
                "{}.{}.",
                b64(&format!(r#"{{"alg":"ES256","typ":"{typ}"}}"#)),
                b64("{}")
            );
            assert_eq!(Jws::parse(&raw).unwrap().typ_is("oauth-id-jag+jwt"), ok);
        }
    }

    #[test]
    fn only_public_key_algorithms_are_accepted() {
        for (alg, ok) in [
            ("RS256", true),
            ("PS384", true),
            ("ES256", true),
            ("EdDSA", true),
            ("HS256", false),
            ("none", false),
            ("XYZ", false),
        ] {
            let raw = format!("{}.{}.", b64(&format!(r#"{{"alg":"{alg}"}}"#)), b64("{}"));
            assert_eq!(Jws::parse(&raw).unwrap().algorithm().is_some(), ok, "{alg}");
        }
    }
}
