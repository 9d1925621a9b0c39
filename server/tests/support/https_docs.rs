//! A real HTTPS server for client metadata documents, in the test process: a CA made by the
//! test (rcgen), a certificate for `localhost` signed by it, rustls. Gatehouse trusts the CA
//! through `GATEHOUSE_EXTRA_CA_FILE`, as a private deployment would; certificate checks stay
//! on. Each path answers what the test set for it, and the server counts the fetches.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What one path answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Option<Duration>,
}

impl Reply {
    /// A JSON document, cacheable for ten minutes.
    pub fn json(v: &Value) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("cache-control".into(), "max-age=600".into()),
            ],
            body: v.to_string().into_bytes(),
            delay: None,
        }
    }

    pub fn raw(status: u16, content_type: &str, body: &[u8]) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.to_vec(),
            delay: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }
}

type Routes = Arc<Mutex<HashMap<String, Reply>>>;

pub struct DocServer {
    pub port: u16,
    /// The test CA's certificate (PEM), for `GATEHOUSE_EXTRA_CA_FILE`.
    pub ca_file: PathBuf,
    /// Keeps the CA file until the server goes.
    _cert: super::test_ca::TestCert,
    routes: Routes,
    hits: Arc<Mutex<HashMap<String, u32>>>,
    task: tokio::task::JoinHandle<()>,
}

impl DocServer {
    pub async fn start() -> Self {
        let cert = super::test_ca::TestCert::localhost();

        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_der.clone())),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Routes = Arc::default();
        let hits: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let (r, h) = (routes.clone(), hits.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, routes, hits) = (acceptor.clone(), r.clone(), h.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = vec![0u8; 8192];
                    let mut len = 0;
                    while len < buf.len() {
                        match tls.read(&mut buf[len..]).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => len += n,
                        }
                        if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..len]).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
                    let reply = routes
                        .lock()
                        .unwrap()
                        .get(&path)
                        .cloned()
                        .unwrap_or_else(|| Reply::raw(404, "text/plain", b"not found"));
                    if let Some(d) = reply.delay {
                        tokio::time::sleep(d).await;
                    }
                    let mut out = format!("HTTP/1.1 {} X\r\n", reply.status);
                    for (n, v) in &reply.headers {
                        out.push_str(&format!("{n}: {v}\r\n"));
                    }
                    out.push_str(&format!(
                        "content-length: {}\r\nconnection: close\r\n\r\n",
                        reply.body.len()
                    ));
                    let _ = tls.write_all(out.as_bytes()).await;
                    let _ = tls.write_all(&reply.body).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self {
            port,
            ca_file: cert.ca_file.clone(),
            _cert: cert,
            routes,
            hits,
            task,
        }
    }

    /// The https URL of `path` on this server (`https://localhost:PORT/…`).
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
    }

    /// How many times `path` was fetched.
    pub fn hits(&self, path: &str) -> u32 {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// The settings that make a test Gatehouse trust this server (loopback included: an
    /// unsafe setting, for tests only).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "GATEHOUSE_EXTRA_CA_FILE",
                self.ca_file.display().to_string(),
            ),
            ("GATEHOUSE_UNSAFE_METADATA_FROM_LOOPBACK", "on".to_string()),
        ]
    }
}

impl Drop for DocServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
