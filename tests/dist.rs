//! What we ship beside the binary: man pages lint clean, the systemd units
//! verify, the OpenWrt script parses, and the example knockd.conf rotates.

mod common;

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> Command {
    common::require(name);
    Command::new(name)
}

#[test]
fn man_pages_lint_clean() {
    let pages: Vec<_> = std::fs::read_dir(root().join("man"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(!pages.is_empty());
    for page in pages {
        let out = tool("mandoc")
            .args(["-T", "lint", "-W", "warning"])
            .arg(&page)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && said.trim().is_empty(),
            "{}: {said}",
            page.display()
        );
    }
}

#[test]
fn systemd_units_verify() {
    let work = common::TempDir::new("units");
    let bin = common::bin();
    for unit in [
        "knock-rotator.service",
        "knock-rotator-oneshot.service",
        "knock-rotator.timer",
    ] {
        let text = std::fs::read_to_string(root().join("dist/systemd").join(unit)).unwrap();
        assert!(
            !text.lines().any(|l| l.starts_with("Environment=")),
            "{unit}: Environment= would expose settings"
        );
        // Verify against the binary we built, where the unit expects /usr/local/bin.
        let text = text.replace("/usr/local/bin/knock-rotator", bin.to_str().unwrap());
        std::fs::write(work.path().join(unit), text).unwrap();
    }
    for unit in [
        "knock-rotator.service",
        "knock-rotator-oneshot.service",
        "knock-rotator.timer",
    ] {
        let out = tool("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(work.path().join(unit))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        // knockd.service is not installed here; anything else is a finding.
        let findings: Vec<_> = said
            .lines()
            .filter(|l| !l.contains("knockd.service"))
            .collect();
        assert!(
            out.status.success() && findings.is_empty(),
            "{unit}: {said}"
        );
    }
}

#[test]
fn openwrt_script_parses() {
    common::succeed(
        tool("sh")
            .arg("-n")
            .arg(root().join("dist/openwrt/knock-rotator.init")),
        "sh -n knock-rotator.init",
    );
}

#[test]
fn example_config_rotates() {
    let work = common::TempDir::new("example");
    let conf = work.path().join("knockd.conf");
    std::fs::copy(root().join("dist/knockd.conf.example"), &conf).unwrap();
    let r = common::run(
        common::cmd(&[("KNOCKD_ROTATOR_SECRET", common::SECRET)])
            .args(["rotate", "--no-reload", "--no-boundary-run", "--config"])
            .arg(&conf),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("rotated 1 of 1 rotator door"),
        "{}",
        r.stdout
    );
}

/// bash completes applets, options and option values; the zsh and fish
/// files parse.
#[test]
fn shell_completions() {
    let bash = root().join("dist/completions/knock-rotator.bash");
    let complete = |words: &str| {
        let script = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); _knock_rotator; echo \"${{COMPREPLY[*]}}\"",
            bash.display()
        );
        common::succeed(tool("bash").args(["-c", &script]), "bash completion")
            .trim()
            .to_string()
    };
    assert_eq!(complete("knock-rotator ge"), "generate");
    assert_eq!(
        complete("knock-rotator generate ssh --format ''"),
        "plain knockd"
    );
    assert!(complete("knock-rotator rotate --dr").contains("--dry-run"));
    assert!(complete("knock-rotate --wa").contains("--watch"));
    assert!(complete("knock --che").contains("--check"));
    assert!(complete("knock-rotator knock --ra").contains("--raw"));
    common::succeed(
        tool("zsh")
            .arg("-n")
            .arg(root().join("dist/completions/_knock-rotator")),
        "zsh -n _knock-rotator",
    );
    common::succeed(
        tool("fish")
            .arg("--no-execute")
            .arg(root().join("dist/completions/knock-rotator.fish")),
        "fish --no-execute knock-rotator.fish",
    );
}
