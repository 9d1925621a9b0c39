//! Gatehouse's own signing keys: Ed25519 (JWS `EdDSA`), made at first start, the private key
//! sealed under the instance key, the public keys published at `/.well-known/jwks.json` for
//! anyone to check what Gatehouse signed offline with any JOSE library (upstream MCP servers
//! check the assertions that tell them who is calling).
//!
//! Rotation overlaps: a new key is published at once but signs only from [`OVERLAP`] later,
//! when verifiers that cache the key set have seen it; the key it replaces stops signing then
//! and stays published for [`RETIRED_KEPT`] more, longer than anything it signed lives.
//! openidconnect does the signing (it signs ID tokens the same way); ed25519-dalek makes keys.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use openidconnect::core::{CoreEdDsaPrivateSigningKey, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};

use super::audit::{self, AuditEntry};
use super::entities::signing_key;
use super::signing_key_cache::ActiveKey;
use super::write_txn::BeginWrite;
use super::{RequestMeta, Services};
use crate::error::{AppError, AppResult};

/// The JWS algorithm of every key.
pub const ALG: &str = "EdDSA";
/// A new key is published this long before it signs.
pub const OVERLAP: Duration = Duration::hours(1);
/// A replaced key stays published this long after it stopped signing.
pub const RETIRED_KEPT: Duration = Duration::hours(1);

fn place(kid: &str) -> String {
    format!("signing_key:{kid}")
}

/// A new key, signing from `sign_from`: its row (private key sealed).
fn make(s: &Services, sign_from: DateTime<Utc>) -> AppResult<signing_key::ActiveModel> {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let pem = ed25519_dalek::SigningKey::from_bytes(&secret)
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| {
            tracing::error!(error = %e, "a new signing key can't be encoded");
            AppError::Internal
        })?;
    let now = Utc::now();
    // Dated, so an operator reading a JWKS sees which key is which.
    let kid = format!(
        "gh-{}-{}",
        now.format("%Y%m%d"),
        crate::domain::secrets::random_urlsafe(6)
    );
    let key =
        CoreEdDsaPrivateSigningKey::from_ed25519_pem(&pem, Some(JsonWebKeyId::new(kid.clone())))
            .map_err(|e| {
                tracing::error!(error = %e, "a new signing key can't be read back");
                AppError::Internal
            })?;
    let mut jwk =
        serde_json::to_value(key.as_verification_key()).map_err(|_| AppError::Internal)?;
    jwk["alg"] = json!(ALG);
    Ok(signing_key::ActiveModel {
        private_sealed: Set(s.key.seal_str(&place(&kid), &pem)),
        kid: Set(kid),
        alg: Set(ALG.into()),
        public_jwk: Set(jwk.to_string()),
        created_at: Set(now),
        sign_from: Set(sign_from),
        retire_at: Set(None),
    })
}

/// Makes the first key if there is none that signs (at start-up): nothing to overlap with.
pub async fn ensure(s: &Services) -> AppResult<()> {
    if signer(&s.db).await?.is_none() {
        make(s, Utc::now())?.insert(&s.db).await?;
        tracing::info!("made the first signing key");
    }
    Ok(())
}

/// The key that signs now: the newest whose `sign_from` has come.
async fn signer(db: &impl ConnectionTrait) -> AppResult<Option<signing_key::Model>> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::SignFrom.lte(Utc::now()))
        .order_by_desc(signing_key::Column::SignFrom)
        .one(db)
        .await?)
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub kid: String,
    pub signs_from: DateTime<Utc>,
}

/// Starts a rotation: a new key, published now and signing after [`OVERLAP`]; every older key
/// stops signing then. Audited.
pub async fn rotate(s: &Services, meta: &RequestMeta) -> AppResult<Rotated> {
    let signs_from = Utc::now() + OVERLAP;
    let row = make(s, signs_from)?;
    let txn = s.db.begin_write().await?;
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetireAt, Expr::value(signs_from))
        .filter(signing_key::Column::RetireAt.is_null())
        .exec(&txn)
        .await?;
    let row = row.insert(&txn).await?;
    audit::record(
        &txn,
        AuditEntry::new("instance.signing_key.rotated")
            .target("signing_key", &row.kid)
            .details(json!({ "signs_from": signs_from })),
        meta,
    )
    .await?;
    txn.commit().await?;
    s.signing_key.clear();
    Ok(Rotated {
        kid: row.kid,
        signs_from,
    })
}

/// The published key set: every key not retired longer ago than [`RETIRED_KEPT`].
pub async fn jwks(db: &impl ConnectionTrait) -> AppResult<Value> {
    let keys: Vec<Value> = signing_key::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(signing_key::Column::RetireAt.is_null())
                .add(signing_key::Column::RetireAt.gt(Utc::now() - RETIRED_KEPT)),
        )
        .order_by_desc(signing_key::Column::SignFrom)
        .all(db)
        .await?
        .iter()
        .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
        .collect();
    Ok(json!({ "keys": keys }))
}

/// Deletes keys retired long enough ago that nothing they signed can still be checked.
pub async fn sweep(db: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(signing_key::Entity::delete_many()
        .filter(signing_key::Column::RetireAt.lt(Utc::now() - RETIRED_KEPT))
        .exec(db)
        .await?
        .rows_affected)
}

/// The key to sign with now (kept by this process for a minute).
async fn active(s: &Services) -> AppResult<ActiveKey> {
    if let Some(k) = s.signing_key.get() {
        return Ok(k);
    }
    let row = match signer(&s.db).await? {
        Some(row) => row,
        None => {
            ensure(s).await?;
            signer(&s.db).await?.ok_or(AppError::Internal)?
        }
    };
    let pem = s
        .key
        .open_str(&place(&row.kid), &row.private_sealed)
        .map_err(|e| {
            tracing::error!(error = %e, kid = %row.kid, "a signing key does not open");
            AppError::Internal
        })?;
    let key = CoreEdDsaPrivateSigningKey::from_ed25519_pem(
        &pem,
        Some(JsonWebKeyId::new(row.kid.clone())),
    )
    .map_err(|_| AppError::Internal)?;
    let active = ActiveKey {
        kid: row.kid,
        key: std::sync::Arc::new(key),
    };
    s.signing_key.put(active.clone());
    Ok(active)
}

/// A compact JWS of `claims` with header `typ`, signed with the active key.
pub async fn sign(s: &Services, typ: &str, claims: &Value) -> AppResult<String> {
    let k = active(s).await?;
    let header = json!({ "alg": ALG, "typ": typ, "kid": k.kid });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = k
        .key
        .sign(&CoreJwsSigningAlgorithm::EdDsa, input.as_bytes())
        .map_err(|_| AppError::Internal)?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
