//! The instance key, for what Gatehouse must store reversibly: TOTP secrets and mail waiting in
//! the outbox (later also SSO client secrets, upstream credentials and signing keys). Values
//! are sealed with XChaCha20-Poly1305 (random 192-bit nonces, so no nonce bookkeeping) under
//! one 256-bit key. A sealed value names its key by id and is bound to its place (a row and a
//! column, as associated data): copied elsewhere, it does not open.
//!
//! The database remembers which key its values are sealed with (`instance_key`): a wrong or
//! missing key is refused at start-up ([`bind`]), never discovered later as garbage. A new key
//! takes over from the previous one in one transaction ([`bind`] with `previous`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::Utc;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use sha2::{Digest, Sha256};

use super::entities::{instance_key, mail_outbox, user_totp};
use crate::domain::write_txn::BeginWrite;

const VERSION: &str = "v1";
const CHECK_PLACE: &str = "instance_key:check";
const CHECK_VALUE: &[u8] = b"gatehouse instance key";

/// The 256-bit instance key.
#[derive(Clone)]
pub struct InstanceKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InstanceKey({})", self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "not a key: expected 32 random bytes in base64 (make one with `gatehouse generate-secret-key`)"
    )]
    NotBase64,
    #[error(
        "a key is 32 bytes; this one is {0} bytes (make one with `gatehouse generate-secret-key`)"
    )]
    WrongLength(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("not a sealed value")]
    Malformed,
    #[error("sealed with another instance key (key id {0})")]
    OtherKey(String),
    #[error("the sealed value does not open with the instance key here (altered or moved)")]
    Forged,
}

impl InstanceKey {
    /// A key as `GATEHOUSE_SECRET_KEY` or the key file hold it: 32 bytes in base64 (URL-safe or
    /// standard, padded or not).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let bytes = [URL_SAFE_NO_PAD, URL_SAFE, STANDARD, STANDARD_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or(KeyError::NotBase64)?;
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongLength(bytes.len()))?;
        Ok(Self::from_bytes(bytes))
    }

    /// A new random key and its text form.
    pub fn generate() -> (Self, String) {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        (Self::from_bytes(bytes), URL_SAFE_NO_PAD.encode(bytes))
    }

    fn from_bytes(bytes: [u8; 32]) -> Self {
        // The id names the key in sealed values and messages without revealing it.
        let digest = Sha256::new()
            .chain_update(b"gatehouse instance key id\0")
            .chain_update(bytes)
            .finalize();
        let id = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            id,
            cipher: XChaCha20Poly1305::new(&bytes.into()),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plain` for `place` (what it is and whose: `"totp:<user id>"`).
    pub fn seal(&self, place: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: place.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any length a database column holds");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}.{}.{}", self.id, URL_SAFE_NO_PAD.encode(out))
    }

    pub fn seal_str(&self, place: &str, plain: &str) -> String {
        self.seal(place, plain.as_bytes())
    }

    /// Opens what [`InstanceKey::seal`] sealed for the same `place`.
    pub fn open(&self, place: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SealError::Malformed);
        };
        if id != self.id {
            return Err(SealError::OtherKey(id.to_string()));
        }
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Malformed)?;
        if raw.len() < 24 {
            return Err(SealError::Malformed);
        }
        let (nonce, ct) = raw.split_at(24);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| SealError::Forged)
    }

    pub fn open_str(&self, place: &str, sealed: &str) -> Result<String, SealError> {
        String::from_utf8(self.open(place, sealed)?).map_err(|_| SealError::Forged)
    }
}

/// Where each kind of sealed value lives, as its associated data.
pub mod place {
    use uuid::Uuid;

    pub fn totp(user_id: Uuid) -> String {
        format!("totp:{user_id}")
    }

    pub fn mail(mail_id: Uuid) -> String {
        format!("mail:{mail_id}")
    }
}

/// Why the instance key given at start-up can't be used with this database.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(
        "the instance key (key id {given}) is not the key this database's secrets are sealed with (key id {stored}). Give the right key; to change keys, set the new key and the old one as GATEHOUSE_SECRET_KEY_PREVIOUS for one start"
    )]
    WrongKey { given: String, stored: String },
    #[error(
        "GATEHOUSE_SECRET_KEY_PREVIOUS (key id {previous}) is not the key this database's secrets are sealed with (key id {stored}) either"
    )]
    WrongPrevious { previous: String, stored: String },
    #[error("a value sealed with the previous key does not open ({place}): {error}")]
    Unopenable { place: String, error: SealError },
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// What [`bind`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// A new database: it now remembers this key.
    First,
    /// The key the database's values are sealed with.
    Same,
    /// The values sealed with the previous key are now sealed with this one.
    Rotated { resealed: usize },
}

/// The id of the key this database's values are sealed with, if it has one yet.
pub async fn sealed_with(db: &impl ConnectionTrait) -> Result<Option<String>, sea_orm::DbErr> {
    Ok(instance_key::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|k| k.key_id))
}

/// Checks `key` against the database at start-up. With `previous` (the key the values are
/// sealed with now), reseals every sealed value with `key` in one transaction; of two
/// processes starting at once, one reseals and the other finds the work done.
pub async fn bind(
    db: &DatabaseConnection,
    key: &InstanceKey,
    previous: Option<&InstanceKey>,
) -> Result<Bound, BindError> {
    let Some(row) = instance_key::Entity::find_by_id(1).one(db).await? else {
        let inserted = instance_key::ActiveModel {
            id: Set(1),
            key_id: Set(key.id.clone()),
            check_sealed: Set(key.seal(CHECK_PLACE, CHECK_VALUE)),
            created_at: Set(Utc::now()),
            rotated_at: Set(None),
        }
        .insert(db)
        .await;
        return match inserted {
            Ok(_) => Ok(Bound::First),
            // Another process inserted its row first: check against that one.
            Err(e) if super::is_unique_violation(&e) => Box::pin(bind(db, key, previous)).await,
            Err(e) => Err(e.into()),
        };
    };
    if key.open(CHECK_PLACE, &row.check_sealed).is_ok() {
        return Ok(Bound::Same);
    }
    let Some(previous) = previous else {
        return Err(BindError::WrongKey {
            given: key.id.clone(),
            stored: row.key_id,
        });
    };
    if previous.open(CHECK_PLACE, &row.check_sealed).is_err() {
        return Err(BindError::WrongPrevious {
            previous: previous.id.clone(),
            stored: row.key_id,
        });
    }
    let txn = db.begin_write().await?;
    // Claim the rotation: the row still names the previous key (a concurrent start that got
    // here first changed it, and this one then re-checks).
    let claimed = instance_key::Entity::update_many()
        .col_expr(
            instance_key::Column::KeyId,
            sea_orm::sea_query::Expr::value(key.id.clone()),
        )
        .col_expr(
            instance_key::Column::CheckSealed,
            sea_orm::sea_query::Expr::value(key.seal(CHECK_PLACE, CHECK_VALUE)),
        )
        .col_expr(
            instance_key::Column::RotatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(instance_key::Column::Id.eq(1))
        .filter(instance_key::Column::CheckSealed.eq(row.check_sealed.clone()))
        .exec(&txn)
        .await?
        .rows_affected;
    if claimed == 0 {
        drop(txn);
        return Box::pin(bind(db, key, None)).await;
    }
    let resealed = reseal_all(&txn, key, previous).await?;
    txn.commit().await?;
    Ok(Bound::Rotated { resealed })
}

/// Every sealed column, resealed from `previous` to `key`. A table that gains a sealed column
/// adds it here.
async fn reseal_all(
    txn: &impl ConnectionTrait,
    key: &InstanceKey,
    previous: &InstanceKey,
) -> Result<usize, BindError> {
    let reseal = |place: String, sealed: &str| -> Result<String, BindError> {
        let plain = previous
            .open(&place, sealed)
            .map_err(|error| BindError::Unopenable {
                place: place.clone(),
                error,
            })?;
        Ok(key.seal(&place, &plain))
    };
    let mut count = 0;
    for row in user_totp::Entity::find().all(txn).await? {
        let sealed = reseal(place::totp(row.user_id), &row.secret_sealed)?;
        let mut active: user_totp::ActiveModel = row.into();
        active.secret_sealed = Set(sealed);
        active.update(txn).await?;
        count += 1;
    }
    for row in mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SealedBody.is_not_null())
        .all(txn)
        .await?
    {
        let Some(body) = row.sealed_body.clone() else {
            continue;
        };
        let sealed = reseal(place::mail(row.id), &body)?;
        let mut active: mail_outbox::ActiveModel = row.into();
        active.sealed_body = Set(Some(sealed));
        active.update(txn).await?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_place() {
        let (key, text) = InstanceKey::generate();
        let again = InstanceKey::parse(&text).unwrap();
        assert_eq!(key.id(), again.id());
        let sealed = key.seal_str("totp:a", "JBSWY3DPEHPK3PXP");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            again.open_str("totp:a", &sealed).unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
        assert_eq!(key.open("totp:b", &sealed), Err(SealError::Forged));
        let (other, _) = InstanceKey::generate();
        assert!(matches!(
            other.open("totp:a", &sealed),
            Err(SealError::OtherKey(_))
        ));
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(key.open("totp:a", &tampered).is_err());
        assert_eq!(key.open("totp:a", "garbage"), Err(SealError::Malformed));
        // Two seals of one value differ (random nonces).
        assert_ne!(sealed, key.seal_str("totp:a", "JBSWY3DPEHPK3PXP"));
    }

    #[test]
    fn keys_parse_from_base64_of_32_bytes_only() {
        assert_eq!(
            InstanceKey::parse("not base64 !!").unwrap_err(),
            KeyError::NotBase64
        );
        assert_eq!(
            InstanceKey::parse(&URL_SAFE_NO_PAD.encode([1u8; 16])).unwrap_err(),
            KeyError::WrongLength(16)
        );
        let standard = STANDARD.encode([7u8; 32]);
        let urlsafe = URL_SAFE_NO_PAD.encode([7u8; 32]);
        assert_eq!(
            InstanceKey::parse(&standard).unwrap().id(),
            InstanceKey::parse(&urlsafe).unwrap().id()
        );
        assert!(!format!("{:?}", InstanceKey::parse(&standard).unwrap()).contains(&urlsafe));
    }
}
