//! Gatehouse's own signing keys through the real router: the key set at
//! `/.well-known/jwks.json` (and `jwks_uri` in the metadata) verifies what Gatehouse signs,
//! checked by an independent JOSE library (node `jose`, panva); a rotation publishes the new
//! key before it signs and keeps the old one published after it stopped; retired keys go.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use app::domain::entities::signing_key;
use app::domain::signing_keys::{self, RETIRED_KEPT};
use chrono::{Duration, Utc};
use http::StatusCode;
use migration::on_both_backends;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use support::{TestApp, meta};

on_both_backends!(what_gatehouse_signs_verifies_with_its_published_keys_across_a_rotation);

async fn key_set(app: &TestApp) -> Value {
    let res = app.get("/.well-known/jwks.json").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.header("cache-control"), Some("public, max-age=300"));
    res.json()
}

fn kids(set: &Value) -> Vec<String> {
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// Verifies `jws` with node `jose` against `set`: its header and claims, or the error.
fn verify_with_jose(set: &Value, jws: &str) -> Result<Value, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end");
    let script = r#"
        import * as jose from 'jose';
        let input = '';
        for await (const chunk of process.stdin) input += chunk;
        const { set, jws } = JSON.parse(input);
        try {
          const { payload, protectedHeader } = await jose.compactVerify(jws, jose.createLocalJWKSet(set));
          console.log(JSON.stringify({ header: protectedHeader, claims: JSON.parse(new TextDecoder().decode(payload)) }));
        } catch (e) {
          console.log(JSON.stringify({ error: e.code || e.message }));
        }
    "#;
    let mut child = Command::new("node")
        .args(["--input-type=module", "-e", script])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node (and `npm ci` in end2end)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json!({ "set": set, "jws": jws }).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("jose said: {}", String::from_utf8_lossy(&out.stdout)));
    match v.get("error") {
        Some(e) => Err(e.to_string()),
        None => Ok(v),
    }
}

async fn what_gatehouse_signs_verifies_with_its_published_keys_across_a_rotation(
    db: DatabaseConnection,
) {
    let app = TestApp::with_db(db, &[]).await;
    let s = &app.services;
    let metadata = app
        .get("/.well-known/oauth-authorization-server")
        .await
        .json();
    assert_eq!(
        metadata["jwks_uri"],
        format!("{}/.well-known/jwks.json", support::ORIGIN)
    );

    // The first key is made at start (twice is once), published, and signs.
    signing_keys::ensure(s).await.unwrap();
    signing_keys::ensure(s).await.unwrap();
    let set = key_set(&app).await;
    let first = kids(&set);
    assert_eq!(first.len(), 1, "{set}");
    let key = &set["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert!(key.get("d").is_none(), "a private part is published: {key}");
    let claims = json!({ "sub": "someone", "n": 1 });
    let jws = signing_keys::sign(s, "test+jwt", &claims).await.unwrap();
    let verified = verify_with_jose(&set, &jws).unwrap();
    assert_eq!(verified["claims"], claims);
    assert_eq!(verified["header"]["kid"], json!(first[0]));
    assert_eq!(verified["header"]["typ"], "test+jwt");
    // A changed claim doesn't verify.
    let mut parts: Vec<&str> = jws.split('.').collect();
    let forged = base64_url(&json!({ "sub": "someone-else", "n": 1 }).to_string());
    parts[1] = &forged;
    assert!(verify_with_jose(&set, &parts.join(".")).is_err());

    // A rotation publishes the new key at once, but the old one keeps signing for the overlap.
    let rotated = signing_keys::rotate(s, &meta()).await.unwrap();
    assert!(rotated.signs_from > Utc::now() + Duration::minutes(59));
    let set = key_set(&app).await;
    assert_eq!(kids(&set).len(), 2);
    assert!(kids(&set).contains(&rotated.kid));
    let jws = signing_keys::sign(s, "test+jwt", &claims).await.unwrap();
    assert_eq!(
        verify_with_jose(&set, &jws).unwrap()["header"]["kid"],
        json!(first[0])
    );

    // The overlap is over (moved into the past): the new key signs, the old stays published.
    signing_key::Entity::update_many()
        .col_expr(
            signing_key::Column::SignFrom,
            // Now: after the first key's, which was made a moment ago.
            Expr::value(Utc::now()),
        )
        .filter(signing_key::Column::Kid.eq(rotated.kid.clone()))
        .exec(&app.db)
        .await
        .unwrap();
    signing_key::Entity::update_many()
        .col_expr(
            signing_key::Column::RetireAt,
            Expr::value(Utc::now() - Duration::seconds(1)),
        )
        .filter(signing_key::Column::Kid.eq(first[0].clone()))
        .exec(&app.db)
        .await
        .unwrap();
    s.signing_key.clear();
    let jws = signing_keys::sign(s, "test+jwt", &claims).await.unwrap();
    let set = key_set(&app).await;
    assert_eq!(kids(&set).len(), 2, "the old key is still published");
    assert_eq!(
        verify_with_jose(&set, &jws).unwrap()["header"]["kid"],
        json!(rotated.kid)
    );

    // Retired longer than it is kept: unpublished, then swept.
    signing_key::Entity::update_many()
        .col_expr(
            signing_key::Column::RetireAt,
            Expr::value(Utc::now() - RETIRED_KEPT - Duration::seconds(1)),
        )
        .filter(signing_key::Column::Kid.eq(first[0].clone()))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(kids(&key_set(&app).await), vec![rotated.kid.clone()]);
    assert_eq!(signing_keys::sweep(&app.db).await.unwrap(), 1);
    assert_eq!(
        signing_key::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .len(),
        1
    );
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}
