//! The console's weight on a first visit: a page is fetched as a browser fetches it, then every
//! front-end file it links (the stylesheet, the JS glue, the main wasm, the shown route's wasm
//! chunks and their loader), each with `Accept-Encoding: br, gzip`; the figure is the bytes
//! that crossed the wire. It measures what `target/site` holds: build it with
//! `cargo leptos build --release --split --precompress` first.

use reqwest::Client;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING};

use crate::cli::CliError;

struct Fetched {
    path: String,
    bytes: usize,
    encoding: String,
    cache_control: String,
}

/// The `/pkg/…` addresses a page links, in order, each once.
fn linked_files(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in html.split("href=\"").skip(1) {
        let Some(end) = piece.find('"') else { continue };
        let href = &piece[..end];
        if href.starts_with("/pkg/") && !out.iter().any(|h| h == href) {
            out.push(href.to_string());
        }
    }
    out
}

/// Fetches `path` and what it links; prints one line per file and the total.
pub async fn first_visit(base: &str, path: &str, site_root: &str) -> Result<(), CliError> {
    let http = Client::new();
    let page = http
        .get(format!("{base}{path}"))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .map_err(|e| CliError(format!("front end: {e}")))?
        .text()
        .await
        .map_err(|e| CliError(format!("front end: {e}")))?;
    let mut files = Vec::new();
    for href in linked_files(&page) {
        let res = http
            .get(format!("{base}{href}"))
            .header(ACCEPT_ENCODING, "br, gzip")
            .send()
            .await
            .map_err(|e| CliError(format!("front end {href}: {e}")))?;
        if !res.status().is_success() {
            return Err(CliError(format!(
                "front end: {href} answered {}; build the site first",
                res.status()
            )));
        }
        let header = |name| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_string()
        };
        let (encoding, cache_control) = (header(CONTENT_ENCODING), header(CACHE_CONTROL));
        let bytes = res
            .bytes()
            .await
            .map_err(|e| CliError(format!("front end {href}: {e}")))?
            .len();
        files.push(Fetched {
            path: href,
            bytes,
            encoding,
            cache_control,
        });
    }
    let total: usize = files.iter().map(|f| f.bytes).sum();
    // What every page loads: all but the page's own wasm modules.
    let shared: Vec<&str> = files
        .iter()
        .map(|f| f.path.trim_start_matches("/pkg/"))
        .filter(|p| !p.starts_with("chunk_") && !p.starts_with("split_"))
        .collect();
    let heaviest = heaviest_page(site_root, &shared);
    println!(
        "  {:<30} {:>7.1} KB on the wire in {} files",
        format!("console first visit ({path})"),
        kb(total),
        files.len()
    );
    let (large, small): (Vec<&Fetched>, Vec<&Fetched>) =
        files.iter().partition(|f| f.bytes >= 4096);
    for f in large {
        println!(
            "    {:>7.1} KB  {:<4} {:<38} {}",
            kb(f.bytes),
            f.encoding,
            f.cache_control,
            f.path
        );
    }
    if !small.is_empty() {
        let mut encodings: Vec<&str> = small.iter().map(|f| f.encoding.as_str()).collect();
        let mut caching: Vec<&str> = small.iter().map(|f| f.cache_control.as_str()).collect();
        encodings.dedup();
        caching.dedup();
        println!(
            "    {:>7.1} KB  {:<4} {:<38} {} smaller files (wasm chunks shared between pages)",
            kb(small.iter().map(|f| f.bytes).sum()),
            encodings.join(","),
            caching.join(","),
            small.len()
        );
    }
    if let Some((page, bytes)) = heaviest {
        println!(
            "  {:<30} {:>7.1} KB on the wire (from the build's split manifest)",
            format!("heaviest page ({page})"),
            kb(bytes)
        );
    }
    Ok(())
}

fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

/// The heaviest page's first visit, from the build's split manifest (page → the wasm chunks it
/// needs) and the brotli files beside them: what `first_visit` would count on that page.
pub fn heaviest_page(site_root: &str, shared_files: &[&str]) -> Option<(String, usize)> {
    let pkg = std::path::Path::new(site_root).join("pkg");
    let size = |name: &str| std::fs::metadata(pkg.join(name)).map(|m| m.len() as usize);
    let manifest = std::fs::read_dir(&pkg).ok()?.find_map(|e| {
        let name = e.ok()?.file_name().into_string().ok()?;
        (name.starts_with("__wasm_split_manifest.") && name.ends_with(".json")).then_some(name)
    })?;
    let manifest: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&std::fs::read(pkg.join(manifest)).ok()?).ok()?;
    let shared: usize = shared_files
        .iter()
        .filter_map(|f| size(&format!("{f}.br")).ok())
        .sum();
    manifest
        .into_iter()
        .filter(|(key, _)| key.contains("_route_view"))
        .map(|(key, modules)| {
            let own: usize = modules
                .iter()
                .filter_map(|m| size(&format!("{m}.wasm.br")).ok())
                .sum();
            let page = key.trim_start_matches('_');
            let page = page.split("_route_view").next().unwrap_or(page).to_string();
            (page, shared + own)
        })
        .max_by_key(|(_, bytes)| *bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_each_linked_front_end_file_once() {
        let html = r#"<link rel="stylesheet" href="/pkg/a.1.css"><link rel="modulepreload" href="/pkg/a.1.js">
            <link rel="preload" href="/pkg/a.1.wasm"><a href="/login">x</a><link href="/pkg/a.1.js">"#;
        assert_eq!(
            super::linked_files(html),
            ["/pkg/a.1.css", "/pkg/a.1.js", "/pkg/a.1.wasm"]
        );
    }
}
