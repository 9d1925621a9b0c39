//! Opaque secrets that secret scanners can recognise: a kind prefix, 43 base62 characters of
//! randomness (256 bits) and a 6-character CRC32 checksum, e.g. `gate_at_…`. The checksum lets
//! us refuse a mistyped or truncated token without a database lookup.

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    AccessToken,
    RefreshToken,
    PersonalToken,
    ClientSecret,
}

impl SecretKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SecretKind::AccessToken => "gate_at_",
            SecretKind::RefreshToken => "gate_rt_",
            SecretKind::PersonalToken => "gate_pat_",
            SecretKind::ClientSecret => "gate_cs_",
        }
    }

    pub const ALL: [SecretKind; 4] = [
        SecretKind::AccessToken,
        SecretKind::RefreshToken,
        SecretKind::PersonalToken,
        SecretKind::ClientSecret,
    ];
}

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LEN: usize = 43;
const CHECK_LEN: usize = 6;

/// `len` characters from a CSPRNG (the thread-local ChaCha generator, seeded and reseeded from
/// the OS: as unpredictable as the OS source, without a system call per character).
pub fn random_base62(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..62)] as char)
        .collect()
}

fn checksum(prefixed_body: &str) -> String {
    let mut n = crc32fast::hash(prefixed_body.as_bytes()) as u64;
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

pub fn generate(kind: SecretKind) -> String {
    let body = format!("{}{}", kind.prefix(), random_base62(BODY_LEN));
    let check = checksum(&body);
    body + &check
}

/// The kind of a well-formed secret (prefix, length, alphabet and checksum all right).
pub fn parse(secret: &str) -> Option<SecretKind> {
    let kind = SecretKind::ALL
        .into_iter()
        .find(|k| secret.starts_with(k.prefix()))?;
    let rest = &secret[kind.prefix().len()..];
    if rest.len() != BODY_LEN + CHECK_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (body, check) = secret.split_at(secret.len() - CHECK_LEN);
    (checksum(body) == check).then_some(kind)
}

/// The last four characters, shown in lists so people can tell tokens apart.
pub fn last_four(secret: &str) -> String {
    secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_parse_and_are_distinct() {
        for kind in SecretKind::ALL {
            let s = generate(kind);
            assert!(s.starts_with(kind.prefix()));
            assert_eq!(s.len(), kind.prefix().len() + 49);
            assert_eq!(parse(&s), Some(kind), "{s}");
            assert_ne!(generate(kind), s);
        }
    }

    #[test]
    fn typos_and_forgeries_are_refused() {
        let s = generate(SecretKind::AccessToken);
        let mut flipped: Vec<char> = s.chars().collect();
        flipped[12] = if flipped[12] == 'a' { 'b' } else { 'a' };
        assert_eq!(parse(&flipped.into_iter().collect::<String>()), None);
        assert_eq!(parse(&s[..s.len() - 1]), None);
        assert_eq!(
            parse(&s.replace("gate_at_", "gate_rt_")),
            None,
            "checksum covers the prefix"
        );
        assert_eq!(parse("gate_at_"), None);
        assert_eq!(parse("Bearer xyz"), None);
        assert_eq!(last_four("abcdef"), "cdef");
    }
}
