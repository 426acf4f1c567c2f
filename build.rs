//! Stamps `--version` with the git commit and the target triple.

use std::process::Command;

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=KNOCK_ROTATOR_TARGET={target}");
    // A source tarball has no .git: let packagers say which commit it is.
    let commit = std::env::var("KNOCK_ROTATOR_COMMIT")
        .ok()
        .or_else(git_commit);
    println!(
        "cargo:rustc-env=KNOCK_ROTATOR_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    println!("cargo:rerun-if-env-changed=KNOCK_ROTATOR_COMMIT");
    for path in [".git/HEAD", ".git/index"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    let hash = String::from_utf8(out.stdout).ok()?.trim().to_string();
    if !out.status.success() || hash.is_empty() {
        return None;
    }
    let dirty = Command::new("git")
        .args(["diff", "--quiet", "HEAD", "--"])
        .status()
        .map(|s| !s.success())
        .unwrap_or(false);
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}
