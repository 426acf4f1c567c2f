//! Every known-answer vector from the original clients, through the real
//! binary: `generate SERVICE --at NOW --offset N` must print `expected`.

mod common;

use serde_json::Value;

fn check_file(name: &str) -> usize {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for (lineno, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        let env: Vec<(String, String)> = v["env"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let r = common::run(common::cmd(&env).args([
            "generate",
            v["service"].as_str().unwrap(),
            "--at",
            &v["now"].as_i64().unwrap().to_string(),
            "--offset",
            &v["offset"].as_i64().unwrap().to_string(),
        ]));
        let want = format!("{}\n", v["expected"].as_str().unwrap());
        if r.code != 0 || r.stdout != want || !r.stderr.is_empty() {
            failures.push(format!(
                "{name}:{}: got {:?} / {:?}, want {want:?}",
                lineno + 1,
                r.stdout,
                r.stderr
            ));
        }
        n += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {n} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    n
}

#[test]
fn legacy_vectors() {
    assert_eq!(check_file("legacy.jsonl"), 200);
}

#[test]
fn port_list_vectors() {
    assert_eq!(check_file("port-list.jsonl"), 100);
}
