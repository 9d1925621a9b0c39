//! TOTP (RFC 6238) through `totp-rs`: SHA-1, six digits, 30-second steps (what every
//! authenticator app reads from a QR code), and one step of clock skew either way.

use rand::RngCore;
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// The name authenticator apps show above the code.
pub const ISSUER: &str = "Gatehouse";
pub const STEP_SECS: u64 = 30;

/// A new 160-bit secret (RFC 4226's recommended size), in base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::new_stack(bytes).to_base32()
}

/// The generator for `secret` (base32), labelled with the account's address.
pub fn totp(secret: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(secret.as_bytes().to_vec())
        .with_account_name(account.replace(':', ""))
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// The time step `code` belongs to at `unix_secs`, if it is right (within one step).
pub fn step_of(totp: &Totp, code: &str, unix_secs: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp.check(&code, unix_secs)
}

/// The secret grouped by four characters, for typing into an app.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vector_and_the_skew_window() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 s: 94287082 (8
        // digits); its last six digits are the six-digit code.
        let secret = Secret::new_stack(*b"12345678901234567890").to_base32();
        let t = totp(&secret, "ada@example.com").unwrap();
        assert_eq!(t.generate(59).to_string(), "287082");
        assert_eq!(step_of(&t, "287082", 59), Some(1));
        assert_eq!(
            step_of(&t, "287 082", 59 + 30),
            Some(1),
            "one step late is fine"
        );
        assert_eq!(
            step_of(&t, "287082", 59 + 90),
            None,
            "three steps late is not"
        );
        assert_eq!(step_of(&t, "28708", 59), None);
        assert_eq!(step_of(&t, "abcdef", 59), None);
        assert!(
            t.to_url()
                .unwrap()
                .starts_with("otpauth://totp/Gatehouse:ada%40example.com?")
        );
        assert_eq!(new_secret().len(), 32);
        assert_eq!(grouped("ABCDEFGH"), "ABCD EFGH");
    }
}
