//! The shipped executables: `just dist` builds static musl executables for
//! x86_64 and aarch64 under 1 MiB with SHA256SUMS; the aarch64 one, under
//! qemu, computes every known answer and opens a door on loopback.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

const TARGETS: [&str; 2] = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];

fn dist() -> PathBuf {
    static BUILD: Once = Once::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    BUILD.call_once(|| {
        common::require("just");
        common::succeed(
            Command::new("just").arg("dist").current_dir(root),
            "just dist",
        );
    });
    root.join("target/dist")
}

fn exe(target: &str) -> PathBuf {
    dist().join(format!("knock-rotator-{target}"))
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn executables_are_static_small_and_summed() {
    common::require("readelf");
    for t in TARGETS {
        let path = exe(t);
        let size = std::fs::metadata(&path).unwrap().len();
        println!("{t}: {size} bytes");
        assert!(size < 1024 * 1024, "{t}: {size} bytes, over 1 MiB");
        let headers = Command::new("readelf")
            .args(["--program-headers", "--dynamic", "--wide"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&headers.stdout);
        assert!(headers.status.success());
        assert!(
            !text.contains("INTERP"),
            "{t}: has a program interpreter:\n{text}"
        );
        assert!(
            !text.contains("(NEEDED)"),
            "{t}: needs shared libraries:\n{text}"
        );
        let sections = Command::new("readelf")
            .args(["--section-headers", "--wide"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&sections.stdout).contains(".symtab"),
            "{t}: not stripped"
        );
    }
    common::succeed(
        Command::new("sha256sum")
            .args(["--check", "--strict", "SHA256SUMS"])
            .current_dir(dist()),
        "sha256sum --check SHA256SUMS",
    );
    let listed = std::fs::read_to_string(dist().join("SHA256SUMS")).unwrap();
    assert_eq!(listed.lines().count(), 2, "{listed}");
}

fn qemu(env: &[(String, String)], args: &[&str]) -> common::Run {
    let mut c = Command::new("qemu-aarch64-static");
    c.arg(exe("aarch64-unknown-linux-musl"))
        .args(args)
        .env_clear()
        .envs(env.iter().cloned());
    common::run(&mut c)
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn aarch64_computes_every_known_answer_under_qemu() {
    common::require("qemu-aarch64-static");
    let v = qemu(&[], &["--version"]);
    assert!(
        v.stdout.contains("aarch64-unknown-linux-musl"),
        "{}{}",
        v.stdout,
        v.stderr
    );
    let mut n = 0;
    for file in ["legacy.jsonl", "port-list.jsonl", "v3-default.jsonl"] {
        for v in common::vectors(file) {
            let args = v.args();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = qemu(&v.env, &args);
            if let Err(e) = v.check(file, &r) {
                panic!("{e}");
            }
            n += 1;
        }
    }
    assert_eq!(n, 344);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn aarch64_knocks_on_loopback_under_qemu() {
    let a64 = exe("aarch64-unknown-linux-musl");
    common::e2e(
        "release_aarch64",
        &["qemu-aarch64-static"],
        &[("A64", a64.as_os_str())],
    );
}

/// README's Termux install path, followed step by step with the static
/// x86_64 executable (the aarch64 one runs the same code under qemu above).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn termux_install_path_works() {
    let exe = exe("x86_64-unknown-linux-musl");
    common::e2e(
        "install_termux",
        &["dnsmasq", "mount", "python3"],
        &[("STATIC", exe.as_os_str())],
    );
}

/// README's server path under a real systemd (Debian in systemd-nspawn):
/// the watch unit from dist/ rotates, reloads knockd with systemctl, keeps
/// knocks working and the secret hidden; the one-shot unit rotates too, and
/// both sandboxes rate at most 2.5 in `systemd-analyze security`. The Debian tree is made with
/// debootstrap once and kept in target/.
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn server_path_under_systemd() {
    assert!(
        rustix::process::geteuid().is_root(),
        "needs root: run 'bash tests/run' as root"
    );
    for t in ["systemd-nspawn", "debootstrap", "nsenter"] {
        common::require(t);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = common::TempDir::new("systemd");
    common::succeed(
        Command::new("bash")
            .arg(root.join("tests/systemd/server.sh"))
            .env("STATIC", exe("x86_64-unknown-linux-musl"))
            .env("UNIT", root.join("dist/systemd/knock-rotator.service"))
            .env(
                "ONESHOT",
                root.join("dist/systemd/knock-rotator-oneshot.service"),
            )
            .env("ROOT", root.join("target/systemd-root"))
            .env("WORK", work.path()),
        "tests/systemd/server.sh",
    );
}
