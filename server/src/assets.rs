//! The console's front-end files under `/pkg` (the wasm, its JS glue and the stylesheet).
//!
//! `cargo leptos build --release --precompress` writes a `.br` and a `.gz` beside each file;
//! tower-http's `ServeDir` sends the one the browser accepts (brotli first), and the file
//! itself to a browser that accepts neither. With `hash-files` (set in the workspace's leptos
//! metadata) every name carries its content's hash, so a name never changes content: the
//! browser may keep it for a year without asking again, and a new build is new names.

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use http::{HeaderValue, header};
use tower_http::services::ServeDir;

/// What a browser may do with a file it got from `/pkg`.
#[derive(Clone, Copy)]
pub struct PkgCaching(&'static str);

impl PkgCaching {
    /// Hashed names never change content; unhashed ones (a build without `hash-files`) must be
    /// checked again on every use, or a browser would run an old wasm against a new server.
    pub fn new(hashed_names: bool) -> Self {
        Self(if hashed_names {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        })
    }
}

/// The `/pkg` routes, serving `{site_root}/{pkg_dir}`.
pub fn routes<S: Clone + Send + Sync + 'static>(
    site_root: &str,
    pkg_dir: &str,
    caching: PkgCaching,
) -> Router<S> {
    let files = ServeDir::new(std::path::Path::new(site_root).join(pkg_dir))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .nest_service(&format!("/{pkg_dir}"), files)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            cache_found(caching, req, next)
        }))
}

/// Only a file that was found gets the long lifetime: a 404 must not be remembered.
async fn cache_found(caching: PkgCaching, req: Request, next: Next) -> Response {
    // wasm-bindgen's `snippets/` keep their names (the wasm imports them by name): checked again.
    let policy = if req.uri().path().contains("/snippets/") {
        PkgCaching::new(false).0
    } else {
        caching.0
    };
    let mut res = next.run(req).await;
    if res.status().is_success() || res.status() == http::StatusCode::NOT_MODIFIED {
        let headers = res.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        // The body depends on Accept-Encoding (ServeDir doesn't say so): a shared cache must
        // not hand the brotli file to a browser that didn't ask for it.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

/// The file in which cargo-leptos writes the hashes of this build's file names. Leptos reads it
/// next to the running executable (its own rule), so that is where it is looked for.
pub const HASH_FILE: &str = "hash.txt";

fn hash_file_path() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(HASH_FILE))
}

/// Whether cargo-leptos hashed the file names.
pub fn hash_file_present() -> bool {
    hash_file_path().is_some_and(|p| p.is_file())
}

/// The stylesheet's address, for the pages rendered without the app (the app's own pages
/// get it from Leptos's `HashedStylesheet`, which reads the same file the same way).
pub fn stylesheet_href() -> String {
    let hash = hash_file_path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|hashes| {
            hashes.lines().find_map(|line| {
                let (file, hash) = line.trim().split_once(':')?;
                (file == "css").then(|| hash.trim().to_string())
            })
        });
    match hash {
        Some(hash) => format!("/pkg/gatehouse.{hash}.css"),
        None => "/pkg/gatehouse.css".into(),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http::{Request, StatusCode, header};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    /// A site root with one hashed file and its precompressed copies, as a release build
    /// leaves it (the copies hold different bytes here, to tell which one was sent).
    fn site() -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!("gatehouse-pkg-{}", uuid::Uuid::new_v4()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("gatehouse.Abc123.wasm"), b"plain").unwrap();
        std::fs::write(pkg.join("gatehouse.Abc123.wasm.br"), b"brotli").unwrap();
        std::fs::write(pkg.join("gatehouse.Abc123.wasm.gz"), b"gzip").unwrap();
        root
    }

    async fn get(app: &Router, path: &str, accept: &str) -> (StatusCode, http::HeaderMap, Vec<u8>) {
        let req = Request::get(path)
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        (parts.status, parts.headers, bytes)
    }

    #[tokio::test]
    async fn hashed_files_go_out_precompressed_and_immutable() {
        let root = site();
        let app: Router = routes(root.to_str().unwrap(), "pkg", PkgCaching::new(true));
        let path = "/pkg/gatehouse.Abc123.wasm";

        let (status, h, body) = get(&app, path, "gzip, deflate, br").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, b"brotli");
        assert_eq!(h[header::CONTENT_ENCODING], "br");
        assert_eq!(h[header::CONTENT_TYPE], "application/wasm");
        assert_eq!(
            h[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(
            h[header::VARY]
                .to_str()
                .unwrap()
                .contains("accept-encoding")
        );

        let (_, h, body) = get(&app, path, "gzip").await;
        assert_eq!(body, b"gzip");
        assert_eq!(h[header::CONTENT_ENCODING], "gzip");

        let (_, h, body) = get(&app, path, "identity").await;
        assert_eq!(body, b"plain");
        assert!(h.get(header::CONTENT_ENCODING).is_none());

        // A name that isn't there: no long-lived answer a later build could be hidden behind.
        let (status, h, _) = get(&app, "/pkg/gatehouse.Zzz999.wasm", "br").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(h.get(header::CACHE_CONTROL).is_none());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn unhashed_files_are_checked_again() {
        let root = site();
        let app: Router = routes(root.to_str().unwrap(), "pkg", PkgCaching::new(false));
        let (status, h, _) = get(&app, "/pkg/gatehouse.Abc123.wasm", "br").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(h[header::CACHE_CONTROL], "no-cache");
        std::fs::remove_dir_all(root).unwrap();
    }
}
