//! A real OpenID Connect provider for the single sign-on tests: node `oidc-provider` (OpenID
//! certified) started by the test over HTTPS with a test CA (`end2end/support/oidc_provider.mjs`),
//! and a person signing in at it the way a browser without JavaScript would: following
//! redirects and posting its sign-in form.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::test_ca::TestCert;

pub const CLIENT_ID: &str = "gatehouse-sso";
pub const CLIENT_SECRET: &str = "a-secret-the-provider-gave-gatehouse";

pub struct OidcProvider {
    pub port: u16,
    /// `https://127.0.0.1:<port>`: what its discovery document and ID tokens state.
    pub issuer: String,
    pub cert: TestCert,
    child: Child,
    dir: PathBuf,
}

impl OidcProvider {
    /// A provider with Gatehouse registered as `CLIENT_ID`, sending people back to
    /// `redirect_uri`.
    pub fn start(redirect_uri: &str) -> Self {
        Self::spawn("oidc_provider.mjs", redirect_uri)
    }

    /// A provider that forges what it answers (`end2end/support/forging_oidc_provider.mjs`):
    /// it signs nobody in, and what is wrong with its ID token is the `flaw` parameter added
    /// to the authorization URL.
    pub fn start_forging(redirect_uri: &str) -> Self {
        Self::spawn("forging_oidc_provider.mjs", redirect_uri)
    }

    /// An enterprise identity provider issuing ID-JAGs (`end2end/support/id_jag_idp.mjs`):
    /// signs with `jose`, mints any assertion for the refusal tests ([`Self::mint`]) and does
    /// the RFC 8693 exchange real clients do.
    pub fn start_id_jag() -> Self {
        Self::spawn("id_jag_idp.mjs", "")
    }

    fn spawn(script: &str, redirect_uri: &str) -> Self {
        let cert = TestCert::localhost();
        let dir = std::env::temp_dir().join(format!("gatehouse-oidc-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cert.pem"), &cert.cert_pem).unwrap();
        std::fs::write(dir.join("key.pem"), &cert.key_pem).unwrap();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../end2end/support")
            .join(script);
        let mut child = Command::new("node")
            .arg(script)
            .env("OIDC_CERT", dir.join("cert.pem"))
            .env("OIDC_KEY", dir.join("key.pem"))
            .env("OIDC_PORT", "0")
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "start node oidc-provider (node, and `npm ci` in end2end: `bash .ci/setup --test`)",
            );
        let port = super::ready_port(&mut child, "the OIDC provider");
        Self {
            port,
            issuer: format!("https://127.0.0.1:{port}"),
            cert,
            child,
            dir,
        }
    }

    /// What Gatehouse needs to reach it: trust in the test CA, and loopback allowed.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "GATEHOUSE_EXTRA_CA_FILE",
                self.cert.ca_file.display().to_string(),
            ),
            ("GATEHOUSE_UNSAFE_METADATA_FROM_LOOPBACK", "on".to_string()),
        ]
    }

    /// Signs `login` (an email address) in at the provider from `authorize_url` (where
    /// Gatehouse sent the person) and returns where the provider sends them back: the full
    /// callback URL with its query.
    pub async fn sign_in(&self, authorize_url: &str, login: &str) -> String {
        let http = self.http();
        let base = url::Url::parse(&self.issuer).unwrap();
        let mut next = url::Url::parse(authorize_url).unwrap();
        for _ in 0..10 {
            if next.origin() != base.origin() {
                return next.to_string();
            }
            let res = http.get(next.clone()).send().await.unwrap();
            if let Some(location) = res.headers().get("location") {
                next = next.join(location.to_str().unwrap()).unwrap();
                continue;
            }
            let status = res.status();
            let page = res.text().await.unwrap();
            assert!(
                page.contains("name=\"login\""),
                "the provider answered {status} without a sign-in form: {page}"
            );
            let action = page
                .split("action=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("the form's action")
                .to_string();
            let res = http
                .post(next.join(&action).unwrap())
                .form(&[("prompt", "login"), ("login", login), ("password", "any")])
                .send()
                .await
                .unwrap();
            let location = res
                .headers()
                .get("location")
                .unwrap_or_else(|| panic!("the sign-in form led nowhere: {}", res.status()))
                .to_str()
                .unwrap()
                .to_string();
            next = next.join(&location).unwrap();
        }
        panic!("the provider never sent the person back");
    }
}

impl OidcProvider {
    /// A browser of the provider's pages: trusts the test CA, keeps cookies, follows nothing.
    fn http(&self) -> reqwest::Client {
        let ca =
            reqwest::Certificate::from_pem(std::fs::read(&self.cert.ca_file).unwrap().as_slice())
                .unwrap();
        reqwest::Client::builder()
            .add_root_certificate(ca)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// The forging provider replaces its signing key (its JWKS then lists only the new one).
    pub async fn rotate_keys(&self) {
        let res = self
            .http()
            .post(format!("{}/rotate", self.issuer))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }

    /// An ID-JAG from the ID-JAG provider: its defaults (`iss` itself, a fresh `jti`, `iat`
    /// now, `exp` in five minutes) with `claims` over them, `header` members over the default
    /// header, signed with `key` (`rsa`, `ec`, `other`: a key it doesn't publish, `hmac`,
    /// `none`), and the claims named in `omit` left out.
    pub async fn mint(
        &self,
        claims: serde_json::Value,
        header: serde_json::Value,
        key: &str,
        omit: &[&str],
    ) -> String {
        let res = self
            .http()
            .post(format!("{}/mint", self.issuer))
            .json(&serde_json::json!({ "claims": claims, "header": header, "key": key, "omit": omit }))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "mint: {}", res.status());
        let v: serde_json::Value = res.json().await.unwrap();
        v["assertion"].as_str().unwrap().to_string()
    }

    /// Registers an MCP client at the ID-JAG provider, mapped to its client ID at Gatehouse
    /// (what the provider's admin sets up).
    pub async fn register_client(&self, client_id: &str, secret: &str, mcp_client_id: &str) {
        let res = self
            .http()
            .post(format!("{}/clients", self.issuer))
            .json(&serde_json::json!({ "client_id": client_id, "client_secret": secret, "mcp_client_id": mcp_client_id }))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }

    /// How often the forging provider's discovery document and JWKS were fetched.
    pub async fn fetched(&self) -> (u64, u64) {
        let v: serde_json::Value = self
            .http()
            .get(format!("{}/stats", self.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            v["discovery"].as_u64().unwrap(),
            v["jwks"].as_u64().unwrap(),
        )
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
