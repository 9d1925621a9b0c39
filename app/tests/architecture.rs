//! The shape of the domain, checked on its source: no module of `app/src/domain` depends, through
//! any chain of `use`s, on itself. A cycle ties modules into one unit that can only change
//! together; the access decision in particular must stay below everything that calls it.
//!
//! Modules are files (a `mod.rs` is its directory's module); a path into a module's subtree
//! counts as a dependency on that subtree's module, re-exports are followed to the module that
//! defines the item, and a module may use its own children and parent freely. `entities`
//! (sea-orm table definitions, whose relations point both ways by nature) are left out; `oauth`
//! is a namespace, so its files are modules of their own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn domain_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain")
}

/// Every domain module (by path like `oauth/grants`) and its source.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != "entities" {
                    walk(&path, root, out);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(root).unwrap().with_extension("");
            let mut name = rel.to_string_lossy().replace('\\', "/");
            if name == "mod" {
                name = String::new();
            } else if let Some(dir) = name.strip_suffix("/mod") {
                name = dir.to_string();
            }
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    let mut out = BTreeMap::new();
    walk(&domain_dir(), &domain_dir(), &mut out);
    out
}

/// The source without tests and comments (doc links are not dependencies).
fn code(src: &str) -> String {
    let src = src.split("#[cfg(test)]").next().unwrap_or_default();
    src.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Item names a module re-exports, and the child module each comes from.
fn reexports(src: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let code = code(src);
    for stmt in code.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((child, items)) = rest.split_once("::") else {
            continue;
        };
        if matches!(child, "crate" | "super" | "self") {
            continue;
        }
        for item in items
            .trim_matches(|c| c == '{' || c == '}' || char::is_whitespace(c))
            .split(',')
        {
            let item = item.trim();
            let name = item.rsplit(" as ").next().unwrap_or(item).trim();
            let original = item.split(" as ").next().unwrap_or(item).trim();
            if !name.is_empty() {
                out.insert(name.to_string(), child.to_string());
            }
            let _ = original;
        }
    }
    out
}

/// The paths a module's code names: `crate::domain::a::b` and `super::a::b`, with `{…}` groups
/// expanded, each as its segments relative to the domain root.
fn paths(module: &str, src: &str) -> Vec<Vec<String>> {
    let code = code(src);
    let here: Vec<String> = module
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    // `super::` names the module's parent (files and `mod.rs` alike, as paths here say).
    let parent = here[..here.len().saturating_sub(1)].to_vec();
    let mut out = Vec::new();
    for (prefix, base) in [("crate::domain::", Vec::new()), ("super::", parent)] {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(prefix) {
            rest = &rest[at + prefix.len()..];
            expand(&base, rest, &mut out);
        }
    }
    out
}

/// The path at the start of `text` (after a prefix), with `{…}` groups expanded.
fn expand(base: &[String], text: &str, out: &mut Vec<Vec<String>>) {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let mut path = base.to_vec();
    path.extend(
        text[..end]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    if !text[end..].starts_with('{') {
        out.push(path);
        return;
    }
    // A group: split its top level on commas, each part a path under `path`.
    let mut depth = 0;
    let mut start = end + 1;
    for (i, c) in text.char_indices().skip(end) {
        match c {
            '{' => depth += 1,
            '}' | ',' if depth == 1 => {
                let part = text[start..i].trim();
                if !part.is_empty() && part != "self" {
                    expand(&path, part, out);
                } else if part == "self" {
                    out.push(path.clone());
                }
                start = i + 1;
                if c == '}' {
                    return;
                }
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
}

fn graph() -> Graph {
    let mods = modules();
    let mut g: Graph = mods.keys().map(|m| (m.clone(), BTreeSet::new())).collect();
    for (module, src) in &mods {
        for path in paths(module, src) {
            // The longest prefix of the path that is a module, then through its re-exports.
            let mut target = None;
            for k in (1..=path.len()).rev() {
                let cand = path[..k].join("/");
                if mods.contains_key(&cand) {
                    let mut t = cand.clone();
                    if let Some(item) = path.get(k)
                        && let Some(child) = reexports(&mods[&cand]).get(item)
                    {
                        let via = if cand.is_empty() {
                            child.clone()
                        } else {
                            format!("{cand}/{child}")
                        };
                        if mods.contains_key(&via) {
                            t = via;
                        }
                    }
                    target = Some(t);
                    break;
                }
            }
            if target.is_none() && path.len() == 1 {
                // An item of the domain root, re-exported from a child (`Services`).
                target = reexports(&mods[""]).get(&path[0]).cloned();
            }
            let Some(target) = target else { continue };
            let related = target == *module
                || target.is_empty()
                || module.starts_with(&format!("{target}/"))
                || target.starts_with(&format!("{module}/"));
            if !related {
                g.get_mut(module).unwrap().insert(target);
            }
        }
    }
    g
}

/// A cycle in `g`, if there is one (as the modules on it, in order).
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &Graph,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                1 => {
                    let at = stack.iter().position(|s| s == m).unwrap();
                    let mut c = stack[at..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0
            && let Some(c) = visit(n, g, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// The graph with each top-level module's subtree as one node (but `oauth`'s files apart).
fn top_level(g: &Graph) -> Graph {
    let top = |m: &str| -> String {
        if m.starts_with("oauth/") {
            m.to_string()
        } else {
            m.split('/').next().unwrap_or_default().to_string()
        }
    };
    let mut out: Graph = BTreeMap::new();
    for (a, bs) in g {
        out.entry(top(a)).or_default();
        for b in bs {
            if top(a) != top(b) {
                out.entry(top(a)).or_default().insert(top(b));
            }
        }
    }
    out
}

#[test]
fn the_domain_has_no_import_cycles() {
    let g = graph();
    assert!(
        g.len() > 30,
        "the domain's modules were found: {:?}",
        g.keys()
    );
    // The checker sees dependencies at all (a graph without edges has no cycles either).
    assert!(
        g["oauth/grants"].contains("access"),
        "{:?}",
        g["oauth/grants"]
    );
    assert!(
        g["services"].contains("access/cache"),
        "{:?}",
        g["services"]
    );
    assert_eq!(find_cycle(&g), None, "a cycle among the domain's files");
    assert_eq!(
        find_cycle(&top_level(&g)),
        None,
        "a cycle among the domain's modules"
    );
}

#[test]
fn the_access_decision_depends_on_no_other_domain_module() {
    let g = graph();
    let allowed = |m: &str| {
        m.starts_with("access")
            || matches!(
                m,
                "secrets"
                    | "oauth/scope"
                    | "oauth/resource"
                    | "oauth/redirect_uri"
                    | "oauth/client_domains"
                    | "oauth/token_format"
            )
    };
    for (module, deps) in g.iter().filter(|(m, _)| m.starts_with("access")) {
        let outside: Vec<&String> = deps.iter().filter(|d| !allowed(d)).collect();
        assert!(outside.is_empty(), "{module} depends on {outside:?}");
    }
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let mut g: Graph = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
