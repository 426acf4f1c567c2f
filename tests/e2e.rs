//! End-to-end tests with real parts: each `tests/e2e/NAME.sh` runs as root
//! in private network and mount namespaces against a real knockd, iptables
//! and dnsmasq, driving the real binary. A missing component or privilege
//! is a failure with a message, never a skip.

mod common;

use std::path::Path;
use std::process::Command;

fn require(tool: &str) {
    let found = Command::new("sh")
        .args([
            "-c",
            &format!("PATH=$PATH:/usr/sbin:/sbin command -v {tool}"),
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed: run 'bash tests/run', which installs it"
    );
}

/// Run one script in fresh namespaces; its output is shown on failure.
pub fn script(name: &str, tools: &[&str]) {
    assert!(
        rustix::process::geteuid().is_root(),
        "end-to-end tests need root (network namespaces, knockd, iptables): run 'bash tests/run' as root"
    );
    for t in ["unshare", "ip", "iptables", "ip6tables", "knockd"]
        .iter()
        .chain(tools)
    {
        require(t);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    let work = common::TempDir::new(&format!("e2e-{name}"));
    let out = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "bash"])
        .arg(dir.join(format!("{name}.sh")))
        .env("BIN", common::bin())
        .env("WORK", work.path())
        .env("LIB", dir.join("lib.sh"))
        .env_remove("KNOCKD_ROTATOR_SECRET")
        .output()
        .expect("run unshare");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "tests/e2e/{name}.sh failed ({}):\n{text}",
        out.status
    );
}

#[test]
fn knock_opens_door_over_ipv4_and_ipv6() {
    script("knock_families", &[]);
}

#[test]
fn knock_classic_form() {
    script("knock_classic", &[]);
}

#[test]
fn knock_check_and_retry() {
    script("knock_check", &["python3"]);
}

#[test]
fn knock_resolves_through_termux_resolv_conf() {
    script("knock_dns", &["dnsmasq", "mount"]);
}

#[test]
fn knock_raw_segments() {
    script("knock_raw", &["setpriv"]);
}

#[test]
fn knock_boundary_window() {
    script("knock_window", &[]);
}

#[test]
fn rotate_reloads_knockd() {
    script("rotate_reload", &[]);
}
