//! The shipped executables: `just dist` builds five static musl executables
//! (x86_64, aarch64, armv7, mipsel, mips), each at most 512 KiB, with
//! SHA256SUMS; each one, under qemu-user where foreign, computes every known
//! answer, names its target and opens a door on loopback.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

struct Target {
    triple: &'static str,
    /// The qemu-user that runs it here; `None` for the host's own.
    qemu: Option<&'static str>,
    /// What `readelf -h` says of it.
    machine: &'static str,
    endian: &'static str,
}

const TARGETS: [Target; 5] = [
    Target {
        triple: "x86_64-unknown-linux-musl",
        qemu: None,
        machine: "Advanced Micro Devices X86-64",
        endian: "little endian",
    },
    Target {
        triple: "aarch64-unknown-linux-musl",
        qemu: Some("qemu-aarch64-static"),
        machine: "AArch64",
        endian: "little endian",
    },
    Target {
        triple: "armv7-unknown-linux-musleabihf",
        qemu: Some("qemu-arm-static"),
        machine: "ARM",
        endian: "little endian",
    },
    Target {
        triple: "mipsel-unknown-linux-musl",
        qemu: Some("qemu-mipsel-static"),
        machine: "MIPS R3000",
        endian: "little endian",
    },
    Target {
        triple: "mips-unknown-linux-musl",
        qemu: Some("qemu-mips-static"),
        machine: "MIPS R3000",
        endian: "big endian",
    },
];

const MAX_BYTES: u64 = 512 * 1024;

fn exe(triple: &str) -> PathBuf {
    common::dist().join(format!("knock-rotator-{triple}"))
}

fn readelf(args: &[&str], path: &Path) -> String {
    let out = Command::new("readelf")
        .args(args)
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "readelf {args:?} {}", path.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The line of `readelf -h` output that starts with `field:`, its value.
fn header<'a>(text: &'a str, field: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(field)?.strip_prefix(':'))
        .map(str::trim)
        .unwrap_or("")
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn executables_are_static_small_and_summed() {
    common::require("readelf");
    for t in &TARGETS {
        let path = exe(t.triple);
        let size = std::fs::metadata(&path).unwrap().len();
        println!("{}: {size} bytes", t.triple);
        assert!(
            size <= MAX_BYTES,
            "{}: {size} bytes, over 512 KiB",
            t.triple
        );
        let h = readelf(&["--file-header"], &path);
        assert_eq!(header(&h, "Machine"), t.machine, "{}:\n{h}", t.triple);
        assert!(header(&h, "Data").ends_with(t.endian), "{}:\n{h}", t.triple);
        assert!(header(&h, "Type").starts_with("EXEC"), "{}:\n{h}", t.triple);
        let text = readelf(&["--program-headers", "--dynamic", "--wide"], &path);
        assert!(
            !text.contains("INTERP"),
            "{}: has a program interpreter:\n{text}",
            t.triple
        );
        assert!(
            !text.contains("(NEEDED)"),
            "{}: needs shared libraries:\n{text}",
            t.triple
        );
        let sections = readelf(&["--section-headers", "--wide"], &path);
        for s in [".symtab", ".debug_info", ".pdr"] {
            assert!(!sections.contains(s), "{}: has {s}", t.triple);
        }
    }
    common::succeed(
        Command::new("sha256sum")
            .args(["--check", "--strict", "SHA256SUMS"])
            .current_dir(common::dist()),
        "sha256sum --check SHA256SUMS",
    );
    // Every file beside it is summed.
    let listed = std::fs::read_to_string(common::dist().join("SHA256SUMS")).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(common::dist())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "SHA256SUMS")
        .collect();
    files.sort();
    let mut summed: Vec<String> = listed
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(_, n)| n.to_string()))
        .collect();
    summed.sort();
    assert_eq!(summed, files);
    for t in &TARGETS {
        assert!(
            files.contains(&format!("knock-rotator-{}", t.triple)),
            "{files:?}"
        );
    }
}

fn run_on(t: &Target, env: &[(String, String)], args: &[&str]) -> common::Run {
    let mut c = match t.qemu {
        Some(q) => {
            let mut c = Command::new(q);
            c.arg(exe(t.triple));
            c
        }
        None => Command::new(exe(t.triple)),
    };
    c.args(args).env_clear().envs(env.iter().cloned());
    common::run(&mut c)
}

/// `--version`, then every vector file, legacy, keyed and token; the
/// failures.
fn known_answers(t: &Target) -> Vec<String> {
    let v = run_on(t, &[], &["--version"]);
    let mut failures = Vec::new();
    if !v.stdout.contains(t.triple) {
        failures.push(format!("--version: {}{}", v.stdout, v.stderr));
    }
    let mut n = 0;
    for file in [
        "legacy.jsonl",
        "port-list.jsonl",
        "v3-default.jsonl",
        "keyed.jsonl",
    ] {
        for v in common::vectors(file) {
            let args = v.args();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = run_on(t, &v.env, &args);
            failures.extend(v.check(file, &r).err());
            n += 1;
        }
    }
    // The tokens too: big-endian MIPS computes the same bytes.
    for v in common::vectors("token.jsonl") {
        let mut args = v.args();
        args.extend(["--format".into(), "token".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run_on(t, &v.env, &args);
        let want = v.expected.as_deref().unwrap_or_default();
        if r.stdout.trim_end() != want {
            failures.push(format!(
                "token.jsonl:{}: {} (want {want})",
                v.line, r.stdout
            ));
        }
        n += 1;
    }
    assert_eq!(n, 444);
    failures
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn every_executable_computes_every_known_answer() {
    for t in TARGETS.iter().filter_map(|t| t.qemu) {
        common::require(t);
    }
    common::dist();
    // One thread per target: qemu runs are slow, and independent.
    let failures: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = TARGETS
            .iter()
            .map(|t| s.spawn(move || (t.triple, known_answers(t))))
            .collect();
        runs.into_iter()
            .flat_map(|h| {
                let (triple, f) = h.join().unwrap();
                f.into_iter().map(move |e| format!("{triple}: {e}"))
            })
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each foreign executable, under qemu-user (which uses this kernel's
/// network stack, so the namespace works as for a native one), knocks on
/// loopback and a real knockd opens the door.
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn every_foreign_executable_knocks_on_loopback() {
    for t in &TARGETS {
        let Some(qemu) = t.qemu else { continue };
        let exe = exe(t.triple);
        common::e2e(
            "release_emulated",
            &[qemu],
            &[("EXE", exe.as_os_str()), ("QEMU", qemu.as_ref())],
        );
    }
}

/// The Debian packages: lintian clean, and installed, upgraded, removed and
/// purged beside Debian's knockd in a Debian tree (tests/packages/debian.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn debian_packages_install_upgrade_and_purge() {
    assert!(
        rustix::process::geteuid().is_root(),
        "needs root: run 'bash tests/run' as root"
    );
    for t in ["lintian", "dpkg-deb", "debootstrap", "unshare"] {
        common::require(t);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = common::TempDir::new("debian");
    common::succeed(
        Command::new("bash")
            .arg(root.join("tests/packages/debian.sh"))
            .env("DIST", common::dist())
            .env("ROOT", root.join("target/systemd-root"))
            .env("SRC", root)
            .env("WORK", work.path()),
        "tests/packages/debian.sh",
    );
}

/// The OpenWrt packages: laid out as opkg expects (tests/packages/openwrt.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn openwrt_packages_are_laid_out_for_opkg() {
    for t in ["busybox", "readelf", "tar"] {
        common::require(t);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = common::TempDir::new("openwrt");
    common::succeed(
        Command::new("bash")
            .arg(root.join("tests/packages/openwrt.sh"))
            .env("DIST", common::dist())
            .env("WORK", work.path()),
        "tests/packages/openwrt.sh",
    );
}

/// The OpenWrt packages for apk: installed, upgraded and removed by the real
/// apk-tools 3, built from vendor/ when missing (tests/packages/openwrt_apk.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn openwrt_apk_packages_install_upgrade_and_remove() {
    for t in ["busybox", "readelf", "tar", "meson", "ninja"] {
        common::require(t);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dist = common::dist();
    let apk = common::succeed(
        &mut Command::new(root.join("dist/openwrt/apk-tools.sh")),
        "dist/openwrt/apk-tools.sh",
    );
    let work = common::TempDir::new("openwrt-apk");
    common::succeed(
        Command::new("bash")
            .arg(root.join("tests/packages/openwrt_apk.sh"))
            .env("DIST", dist)
            .env("WORK", work.path())
            .env("APK", apk.trim())
            .env("SRC", root),
        "tests/packages/openwrt_apk.sh",
    );
}

/// The OpenWrt package's init script under busybox ash with procd stand-ins,
/// then what it asked procd to run, against a real knockd
/// (tests/e2e/rotate_openwrt.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn openwrt_init_script_runs_the_package() {
    let ipk = common::dist().join(format!(
        "knock-rotator_{}-1_x86_64.ipk",
        env!("CARGO_PKG_VERSION")
    ));
    common::e2e("rotate_openwrt", &["busybox"], &[("IPK", ipk.as_os_str())]);
}

/// Watch mode under clock steps, in a qemu guest (TCG, Debian's kernel)
/// whose clock the test may set (tests/clock/qemu.sh): forward over five
/// boundaries, back over four, forward again; each time the file holds the
/// clock's period within a second, and no rotation is for any other period.
/// Then the race: 120 steps back at 0 to 8 ms after a forward step's
/// rotation, each followed within a second, as is the boundary after it.
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn watch_follows_clock_steps_in_a_qemu_guest() {
    for t in ["qemu-system-x86_64", "cpio", "busybox", "readelf", "rustc"] {
        common::require(t);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = common::TempDir::new("clock");
    common::succeed(
        Command::new("bash")
            .arg(root.join("tests/clock/qemu.sh"))
            .env("STATIC", exe("x86_64-unknown-linux-musl"))
            .env("WORK", work.path())
            .env("KERNEL_CACHE", root.join("target/clock-kernel")),
        "tests/clock/qemu.sh",
    );
}

/// README's Debian path for the nftables backend under a real systemd:
/// nftables.service with our include, knock-rotator-nftables.service; the
/// door opens after a knock, and again after 'systemctl reload nftables'
/// and 'restart' (tests/systemd/nftables.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn nftables_server_path_under_systemd() {
    assert!(
        rustix::process::geteuid().is_root(),
        "needs root: run 'bash tests/run' as root"
    );
    for t in ["systemd-nspawn", "debootstrap", "nsenter"] {
        common::require(t);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = common::TempDir::new("systemd-nft");
    common::succeed(
        Command::new("bash")
            .arg(root.join("tests/systemd/nftables.sh"))
            .env("STATIC", exe("x86_64-unknown-linux-musl"))
            .env(
                "UNIT",
                root.join("dist/systemd/knock-rotator-nftables.service"),
            )
            .env("ROOT", root.join("target/systemd-root"))
            .env("WORK", work.path()),
        "tests/systemd/nftables.sh",
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
