//! The source tree stays readable: no import cycles between modules, no
//! file over 300 lines before its unit tests, no function over 80 lines.
//! (Read from the text of src/, which `cargo fmt` keeps in one shape.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 300;
const MAX_FN_LINES: usize = 80;

/// Every .rs file under src/, with its module path (`server::job`).
fn modules() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            (parts.join("::"), p)
        })
        .collect()
}

/// The file's text before its `#[cfg(test)]` module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// `a::b` is `a` or inside it.
fn within(m: &str, ancestor: &str) -> bool {
    ancestor.is_empty() || m == ancestor || m.starts_with(&format!("{ancestor}::"))
}

/// The modules `module`'s code names through `crate::` and `super::` paths,
/// each taken to the deepest module that exists.
fn uses(module: &str, text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    for start in ["crate::", "super::"] {
        for (i, _) in text.match_indices(start) {
            if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
                continue;
            }
            let base = if start == "crate::" {
                String::new()
            } else {
                module.rsplit_once("::").map_or("", |(p, _)| p).to_string()
            };
            let rest = &text[i + start.len()..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut names: Vec<String> = Vec::new();
            if path.is_empty() && rest.starts_with('{') {
                // `use super::{a, b}`: each name.
                let group = &rest[1..rest.find('}').unwrap()];
                names.extend(group.split(',').map(|n| n.trim().to_string()));
            } else {
                names.push(path.trim_end_matches(':').to_string());
            }
            for name in names {
                let mut m = base.clone();
                let mut deepest = base.clone();
                for seg in name.split("::").filter(|s| !s.is_empty()) {
                    m = if m.is_empty() {
                        seg.to_string()
                    } else {
                        format!("{m}::{seg}")
                    };
                    if known.contains(&m) {
                        deepest = m.clone();
                    }
                }
                out.insert(deepest);
            }
        }
    }
    out
}

#[test]
fn no_import_cycles_between_modules() {
    let mods = modules();
    let known: BTreeSet<String> = mods.iter().map(|(m, _)| m.clone()).collect();
    // A module's uses of its own ancestors or descendants are how Rust
    // nests (mod.rs lists its children, they use its types): not cycles.
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, path) in &mods {
        let deps = uses(m, &code(path), &known)
            .into_iter()
            .filter(|d| !within(d, m) && !within(m, d))
            .collect();
        graph.insert(m.clone(), deps);
    }
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == m) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        stack.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
    // The sides stay apart: derivation knows neither side, and the client
    // and server sides do not use each other.
    for (m, deps) in &graph {
        for d in deps {
            let bad = (within(m, "derive") && !within(d, "derive") && !["error"].contains(&d.as_str()))
                    || (within(m, "client") && within(d, "server"))
                    || (within(m, "server") && within(d, "client"))
                    // Each backend is its own: neither uses the other.
                    || (within(m, "server::knockd") && within(d, "server::nftables"))
                    || (within(m, "server::nftables") && within(d, "server::knockd"))
                    // What the backends share knows neither of them.
                    || (within(m, "server")
                        && !within(m, "server::knockd")
                        && !within(m, "server::nftables")
                        && (within(d, "server::knockd") || within(d, "server::nftables")));
            assert!(!bad, "{m} uses {d}");
        }
    }
}

#[test]
fn files_and_functions_stay_short() {
    let mut long = Vec::new();
    for (_, path) in modules() {
        let text = code(&path);
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() > MAX_FILE_LINES {
            long.push(format!(
                "{}: {} lines before its tests",
                path.display(),
                lines.len()
            ));
        }
        // rustfmt puts a function's closing brace at its own indentation.
        for (i, l) in lines.iter().enumerate() {
            let body = l.trim_start();
            let indent = &l[..l.len() - body.len()];
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "unsafe fn ",
                "pub unsafe fn ",
            ]
            .iter()
            .any(|p| body.starts_with(p));
            if !is_fn || body.ends_with(';') {
                continue;
            }
            let close = format!("{indent}}}");
            if let Some(end) = lines[i..].iter().position(|l| *l == close) {
                if end + 1 > MAX_FN_LINES {
                    long.push(format!(
                        "{}:{}: a function of {} lines",
                        path.display(),
                        i + 1,
                        end + 1
                    ));
                }
            }
        }
    }
    assert!(long.is_empty(), "{}", long.join("\n"));
}
