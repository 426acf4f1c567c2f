//! Every known-answer vector from the original clients, through the real
//! binary: `generate SERVICE --at NOW --offset N` must print `expected`.

mod common;

use serde_json::Value;

fn check_file(name: &str) -> usize {
    let vectors = common::vectors(name);
    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|v| {
            let r = common::run(common::cmd(&v.env).args(v.args()));
            v.check(name, &r).err()
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
    vectors.len()
}

#[test]
fn legacy_vectors() {
    assert_eq!(check_file("legacy.jsonl"), 200);
}

/// The keyed mode's known answers, made by tests/keyed_reference.py (an
/// implementation of the published specification in Python's standard
/// library); `keyed_reference_agrees` re-runs it.
#[test]
fn keyed_vectors() {
    assert_eq!(check_file("keyed.jsonl"), 60);
}

#[test]
fn keyed_reference_agrees() {
    reference_agrees("tests/keyed_reference.py", "keyed.jsonl");
}

/// The single-packet knock's tokens (`generate --format token`), made by
/// tests/token_reference.py from README.md's text.
#[test]
fn token_vectors() {
    let vectors = common::vectors("token.jsonl");
    assert_eq!(vectors.len(), 40);
    for v in &vectors {
        let mut args = v.args();
        args.extend(["--format".into(), "token".into()]);
        let r = common::run(common::cmd(&v.env).args(args));
        assert_eq!(
            r.stdout.trim_end(),
            v.expected.as_deref().unwrap(),
            "token.jsonl line {}",
            v.line
        );
    }
}

#[test]
fn token_reference_agrees() {
    reference_agrees("tests/token_reference.py", "token.jsonl");
}

/// The Python reference SCRIPT prints every `expected` of vectors FILE.
fn reference_agrees(script: &str, file: &str) {
    use std::io::Write;
    common::require("python3");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = std::fs::read_to_string(root.join("tests/vectors").join(file)).unwrap();
    let mut child = std::process::Command::new("python3")
        .arg(root.join(script))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let got: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    for (i, line) in input.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(got[i], v["expected"].as_str().unwrap(), "line {}", i + 1);
    }
}

/// The openssl script in dist/ reproduces the first keyed vector.
#[test]
fn openssl_script_reproduces_a_vector() {
    common::require("openssl");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = common::succeed(
        std::process::Command::new("bash")
            .arg(root.join("dist/keyed-sequence.sh"))
            .args(["ssh", "1799992800"])
            .env("KNOCKD_ROTATOR_SECRET", "correct horse battery staple"),
        "dist/keyed-sequence.sh",
    );
    assert_eq!(
        out.trim_end(),
        "5791:tcp 43776:tcp 16485:tcp 5506:tcp 22536:tcp 25960:tcp 10202:tcp 32645:tcp 10994:tcp 36812:tcp"
    );
}

#[test]
fn port_list_vectors() {
    assert_eq!(check_file("port-list.jsonl"), 100);
}

/// The current upstream (v3) with its default list `2000-65536`, written
/// out: 40 answers, and 4 periods where v3 fails (port 65536), which we
/// refuse the same way.
#[test]
fn v3_vectors() {
    assert_eq!(check_file("v3-default.jsonl"), 44);
    let refusals = common::vectors("v3-default.jsonl")
        .iter()
        .filter(|v| v.expected.is_none())
        .count();
    assert_eq!(refusals, 4);
}
