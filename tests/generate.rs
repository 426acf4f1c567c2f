//! `generate` through the real binary: bad inputs are refused cleanly, and
//! the derivation's properties hold.

mod common;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;

use common::{SECRET, TempDir, assert_refused, cmd, run};

const AT: &str = "1764464861";

fn generate(env: &[(&str, &str)], args: &[&str]) -> common::Run {
    let mut full = vec![("KNOCKD_ROTATOR_SECRET", SECRET)];
    full.retain(|(k, _)| {
        !env.iter()
            .any(|(k2, _)| k2.starts_with("KNOCKD_ROTATOR_SECRET") && k == k2)
    });
    full.extend_from_slice(env);
    if env.iter().any(|(k, _)| *k == "KNOCKD_ROTATOR_SECRET_FILE") {
        full.retain(|(k, _)| *k != "KNOCKD_ROTATOR_SECRET");
    }
    run(cmd(&full).args(args))
}

#[test]
fn bad_environment_is_refused() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("KNOCKD_ROTATOR_SECRET", "short")],
            "KNOCKD_ROTATOR_SECRET: the secret is too short",
        ),
        (
            &[("KNOCKD_ROTATOR_SECRET", "ünïcødé12")],
            "too short (9 characters",
        ),
        (
            &[("KNOCKD_ROTATOR_LENGTH", "abc")],
            "KNOCKD_ROTATOR_LENGTH: 'abc' is not a whole number",
        ),
        (
            &[("KNOCKD_ROTATOR_LENGTH", "0")],
            "KNOCKD_ROTATOR_LENGTH: '0'",
        ),
        (
            &[("KNOCKD_ROTATOR_LENGTH", "-3")],
            "KNOCKD_ROTATOR_LENGTH: '-3'",
        ),
        (
            &[("KNOCKD_ROTATOR_LENGTH", "")],
            "KNOCKD_ROTATOR_LENGTH: ''",
        ),
        (
            &[("KNOCKD_ROTATOR_LENGTH", "33")],
            "KNOCKD_ROTATOR_LENGTH: '33' is not a whole number from 1 to 32",
        ),
        (
            &[("KNOCKD_ROTATOR_LENGTH", "4")],
            "KNOCKD_ROTATOR_LENGTH: 4 knocks are too few",
        ),
        (
            &[("KNOCKD_ROTATOR_PERIOD_MODULO", "0")],
            "KNOCKD_ROTATOR_PERIOD_MODULO: '0'",
        ),
        (
            &[("KNOCKD_ROTATOR_PERIOD_MODULO", "-60")],
            "KNOCKD_ROTATOR_PERIOD_MODULO: '-60'",
        ),
        (
            &[("KNOCKD_ROTATOR_PERIOD_MODULO", "1h")],
            "KNOCKD_ROTATOR_PERIOD_MODULO: '1h'",
        ),
        (
            &[("KNOCKD_ROTATOR_PORT_MODULO", "-1")],
            "KNOCKD_ROTATOR_PORT_MODULO: '-1'",
        ),
        (
            &[("KNOCKD_ROTATOR_PROTO_MODULO", "two")],
            "KNOCKD_ROTATOR_PROTO_MODULO: 'two'",
        ),
        (
            &[
                ("KNOCKD_ROTATOR_PROTO_MODULO", "2"),
                ("KNOCKD_ROTATOR_PORT_MODULO", "3"),
            ],
            "KNOCKD_ROTATOR_PROTO_MODULO=2 and KNOCKD_ROTATOR_PORT_MODULO=3 disagree",
        ),
        (
            &[("KNOCKD_ROTATOR_PORTS", "2000-3000,2500")],
            "KNOCKD_ROTATOR_PORTS: 2500 overlaps 2000-3000",
        ),
        (
            &[("KNOCKD_ROTATOR_PORTS", "4000,4000,2000-3000")],
            "KNOCKD_ROTATOR_PORTS: 4000 is listed twice",
        ),
        (
            &[("KNOCKD_ROTATOR_PORTS", "2000-65537")],
            "KNOCKD_ROTATOR_PORTS: '2000-65537' is not a port",
        ),
        (
            &[
                ("KNOCKD_ROTATOR_PORTS", "2000-65536"),
                ("KNOCKD_ROTATOR_ALGORITHM", "hmac-sha256"),
            ],
            "KNOCKD_ROTATOR_PORTS: 65536 is not a port; it is accepted only in v3's list",
        ),
        (
            &[("KNOCKD_ROTATOR_PORTS", "0-1000")],
            "KNOCKD_ROTATOR_PORTS: '0-1000'",
        ),
        (
            &[("KNOCKD_ROTATOR_PORTS", "2000-x")],
            "KNOCKD_ROTATOR_PORTS: '2000-x'",
        ),
        (
            &[("KNOCKD_ROTATOR_PORTS", "3000-2000")],
            "KNOCKD_ROTATOR_PORTS: range '3000-2000' runs backwards",
        ),
        (
            &[("KNOCKD_ROTATOR_PORTS", "")],
            "KNOCKD_ROTATOR_PORTS: is empty",
        ),
        (
            &[
                ("KNOCKD_ROTATOR_PORTS", "10000-10100"),
                ("KNOCKD_ROTATOR_LENGTH", "5"),
            ],
            "under the 40-bit minimum",
        ),
        (
            &[("KNOCKD_ROTATOR_ALLOW_WEAK", "yes")],
            "KNOCKD_ROTATOR_ALLOW_WEAK: 'yes'",
        ),
    ];
    for (env, needle) in cases {
        let r = generate(env, &["generate", "ssh", "--at", AT]);
        assert_refused(&r, needle, &format!("{env:?}"));
        assert_eq!(r.code, 2, "{env:?}");
        assert!(!r.stderr.contains(SECRET), "secret in error: {}", r.stderr);
    }
}

#[test]
fn weak_settings_can_be_allowed() {
    let r = generate(
        &[
            ("KNOCKD_ROTATOR_LENGTH", "3"),
            ("KNOCKD_ROTATOR_ALLOW_WEAK", "1"),
        ],
        &["generate", "ssh"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.split(' ').count(), 3);
}

#[test]
fn bad_arguments_are_refused() {
    let cases: &[(&[&str], &str)] = &[
        (&["generate"], "missing SERVICE"),
        (&["generate", ""], "SERVICE is empty"),
        (&["generate", "ssh", "web"], "unexpected argument 'web'"),
        (
            &["generate", "ssh", "--offset"],
            "missing value for option '--offset'",
        ),
        (
            &["generate", "ssh", "--offset", "one"],
            "--offset: 'one' is not a whole number",
        ),
        (&["generate", "ssh", "--offset", "1.5"], "--offset: '1.5'"),
        (
            &["generate", "ssh", "--offset", "99999999999999999999"],
            "--offset: '99999999999999999999'",
        ),
        (
            &["generate", "ssh", "--offset", "-9999999999", "--at", AT],
            "--offset: -9999999999 reaches a period before 1970",
        ),
        (
            &["generate", "ssh", "--at", "-5"],
            "--at: '-5' is not a whole number",
        ),
        (
            &["generate", "ssh", "--at", "yesterday"],
            "--at: 'yesterday'",
        ),
        (
            &["generate", "ssh", "--format", "json"],
            "--format: 'json' is not 'plain', 'knockd' or 'token'",
        ),
        (
            &["generate", "ssh", "--frobnicate"],
            "unknown option '--frobnicate'",
        ),
        (
            &["frobnicate"],
            "unknown applet 'frobnicate'; applets: generate, knock, rotate, status, fingerprint",
        ),
        (&[], "no applet given"),
        (&["--bogus"], "unknown option '--bogus'"),
    ];
    for (args, needle) in cases {
        let r = generate(&[], args);
        if args.is_empty() {
            // The bare command prints its usage, then the one-line error last.
            assert_eq!(r.code, 2);
            assert!(r.stderr.trim_end().ends_with(needle), "{}", r.stderr);
            continue;
        }
        assert_refused(&r, needle, &format!("{args:?}"));
        assert_eq!(r.code, 2, "{args:?}");
    }
}

#[test]
fn prefixes_help_and_version() {
    let full = generate(&[], &["generate", "ssh", "--at", AT]);
    for p in ["g", "gen", "gene"] {
        assert_eq!(
            generate(&[], &[p, "ssh", "--at", AT]).stdout,
            full.stdout,
            "{p}"
        );
    }
    let help = generate(&[], &["generate", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.starts_with("Usage: knock-rotator generate"));
    let top = generate(&[], &["--help"]);
    assert!(top.stdout.contains("generate"), "{}", top.stdout);
    let v = generate(&[], &["--version"]);
    assert_eq!(v.code, 0);
    let triple = v
        .stdout
        .trim_end()
        .rsplit(", ")
        .next()
        .unwrap()
        .trim_end_matches(')');
    assert!(
        v.stdout.starts_with(&format!(
            "knock-rotator {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        v.stdout
    );
    assert!(triple.contains("-linux-"), "{}", v.stdout);
}

#[test]
fn output_shape_and_formats() {
    let plain = generate(&[], &["generate", "ssh", "--at", AT]).stdout;
    assert!(plain.ends_with('\n') && !plain.ends_with(" \n"));
    assert_eq!(plain.trim_end().split(' ').count(), 10);
    let knockd = generate(&[], &["generate", "ssh", "--at", AT, "--format", "knockd"]).stdout;
    assert_eq!(knockd, plain.replace(' ', ","));
}

/// A tiny deterministic generator, so property cases are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn shorter_sequence_is_a_prefix() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for _ in 0..20 {
        let at = (1_500_000_000 + rng.below(500_000_000)).to_string();
        let period = (1 + rng.below(100_000)).to_string();
        let env = |len: &str| {
            vec![
                ("KNOCKD_ROTATOR_LENGTH", len.to_string()),
                ("KNOCKD_ROTATOR_PERIOD_MODULO", period.clone()),
            ]
        };
        let long = generate(&as_refs(&env("32")), &["generate", "svc", "--at", &at]).stdout;
        let k = 5 + rng.below(27);
        let short = generate(
            &as_refs(&env(&k.to_string())),
            &["generate", "svc", "--at", &at],
        )
        .stdout;
        assert!(
            long.starts_with(short.trim_end()),
            "k={k}: {short} not a prefix of {long}"
        );
        assert_eq!(short.split(' ').count() as u64, k);
    }
}

fn as_refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, s)| (*k, s.as_str())).collect()
}

#[test]
fn offset_shifts_by_whole_periods() {
    let mut rng = Rng(42);
    for _ in 0..20 {
        let period = 1 + rng.below(86_400);
        let at = 1_600_000_000 + rng.below(100_000_000);
        let off = rng.below(7) as i64 - 3;
        let p = period.to_string();
        let env = [("KNOCKD_ROTATOR_PERIOD_MODULO", p.as_str())];
        let shifted = generate(
            &env,
            &[
                "generate",
                "x",
                "--at",
                &at.to_string(),
                "--offset",
                &off.to_string(),
            ],
        );
        let moved = (at as i64 + off * period as i64).to_string();
        let direct = generate(&env, &["generate", "x", "--at", &moved]);
        assert_eq!(
            shifted.stdout, direct.stdout,
            "period {period} at {at} offset {off}"
        );
        // Any time inside one period gives that period's sequence.
        let start = at / period * period;
        let last = (start + period - 1).to_string();
        assert_eq!(
            generate(&env, &["generate", "x", "--at", &last]).stdout,
            generate(&env, &["generate", "x", "--at", &at.to_string()]).stdout
        );
    }
}

#[test]
fn rotator_suffix_rule() {
    let g = |s: &str| generate(&[], &["generate", s, "--at", AT]).stdout;
    assert_eq!(g("ssh"), g("ssh_ROTATOR"));
    assert_ne!(g("ssh_rotator"), g("ssh_ROTATOR"));
    assert_eq!(g("ROTATOR"), g("ROTATOR_ROTATOR"));
    assert_ne!(g("ROTATOR"), g("_ROTATOR"));
}

#[test]
fn full_port_list_equals_legacy() {
    let a = generate(&[], &["generate", "ssh", "--at", AT]).stdout;
    let b = generate(
        &[("KNOCKD_ROTATOR_PORTS", "2000-65535")],
        &["generate", "ssh", "--at", AT],
    )
    .stdout;
    assert_eq!(a, b);
}

#[test]
fn secret_file_and_credential() {
    let dir = TempDir::new("secret");
    let file = dir.path().join("secret");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let want = generate(&[], &["generate", "ssh", "--at", AT]).stdout;
    let f = file.to_str().unwrap();
    let via_file = generate(
        &[("KNOCKD_ROTATOR_SECRET_FILE", f)],
        &["generate", "ssh", "--at", AT],
    );
    assert_eq!(via_file.stdout, want, "{}", via_file.stderr);

    // CRLF from a Windows editor is one line ending too.
    std::fs::write(&file, format!("{SECRET}\r\n")).unwrap();
    assert_eq!(
        generate(
            &[("KNOCKD_ROTATOR_SECRET_FILE", f)],
            &["generate", "ssh", "--at", AT]
        )
        .stdout,
        want
    );

    // A systemd credential, found through $CREDENTIALS_DIRECTORY.
    let cred = dir.path().join("knock-rotator-secret");
    std::fs::copy(&file, &cred).unwrap();
    let r = run(cmd(&[("CREDENTIALS_DIRECTORY", dir.path().as_os_str())])
        .args(["generate", "ssh", "--at", AT]));
    assert_eq!(r.stdout, want, "{}", r.stderr);

    for mode in [0o640, 0o604, 0o620, 0o644] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let r = generate(&[("KNOCKD_ROTATOR_SECRET_FILE", f)], &["generate", "ssh"]);
        assert_refused(
            &r,
            &format!("readable or writable by group or others (mode {mode:04o})"),
            "loose file",
        );
        assert!(
            r.stderr.contains("KNOCKD_ROTATOR_SECRET_FILE: '"),
            "{}",
            r.stderr
        );
    }
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = run(cmd(&[
        ("KNOCKD_ROTATOR_SECRET_FILE", f),
        ("KNOCKD_ROTATOR_SECRET", SECRET),
    ])
    .args(["generate", "ssh"]));
    assert_refused(&r, "are both set; set only one", "both");

    let missing = dir.path().join("nope");
    let r = generate(
        &[("KNOCKD_ROTATOR_SECRET_FILE", missing.to_str().unwrap())],
        &["generate", "ssh"],
    );
    assert_refused(&r, "No such file or directory", "missing file");
    let r = generate(
        &[("KNOCKD_ROTATOR_SECRET_FILE", dir.path().to_str().unwrap())],
        &["generate", "ssh"],
    );
    assert_refused(&r, "not a regular file", "directory");
    std::fs::write(&file, "short\n").unwrap();
    let r = generate(&[("KNOCKD_ROTATOR_SECRET_FILE", f)], &["generate", "ssh"]);
    assert_refused(&r, "too short (5 characters", "short file");
}

#[test]
fn non_utf8_inputs_are_refused() {
    let bad = std::ffi::OsStr::from_bytes(b"abc\xffdefghijkl");
    let r = run(cmd(&[("KNOCKD_ROTATOR_SECRET", bad)]).args(["generate", "ssh"]));
    assert_refused(
        &r,
        "KNOCKD_ROTATOR_SECRET: the secret is not valid UTF-8",
        "secret",
    );
    let r = run(cmd(&[
        ("KNOCKD_ROTATOR_SECRET", std::ffi::OsStr::new(SECRET)),
        ("KNOCKD_ROTATOR_LENGTH", bad),
    ])
    .args(["generate", "ssh"]));
    assert_refused(
        &r,
        "KNOCKD_ROTATOR_LENGTH: 'abc\\xffdefghijkl' is not valid UTF-8",
        "length",
    );
}

#[test]
fn closed_stdout_is_not_a_panic() {
    use std::process::Stdio;
    let mut c = cmd(&[("KNOCKD_ROTATOR_SECRET", SECRET)]);
    c.args(["generate", "ssh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// A weak secret: refused for the keyed algorithm unless ALLOW_WEAK, a
/// single warning line for the legacy one, nothing when strong.
#[test]
fn weak_secrets_are_refused_or_warned() {
    let keyed = [
        ("KNOCKD_ROTATOR_SECRET", "0123456789ab"),
        ("KNOCKD_ROTATOR_ALGORITHM", "hmac-sha256"),
    ];
    let r = common::run(common::cmd(&keyed).args(["generate", "ssh"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr.trim_end(),
        "knock-rotator: KNOCKD_ROTATOR_SECRET: the secret is weak (12 characters, fewer than 16); \
         anyone who sees one knock can test guesses offline, so make a strong one with \
         'knock-rotator new-secret PATH', or set KNOCKD_ROTATOR_ALLOW_WEAK=1 to accept it"
    );
    let forced = [keyed[0], keyed[1], ("KNOCKD_ROTATOR_ALLOW_WEAK", "1")];
    let r = common::run(common::cmd(&forced).args(["generate", "ssh"]));
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let r = common::run(common::cmd(&keyed[..1]).args(["generate", "ssh"]));
    assert_eq!(r.code, 0);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("knock-rotator: warning: KNOCKD_ROTATOR_SECRET: the secret is weak")
    );
    assert!(!r.stderr.contains("0123456789ab"));
    let strong = [("KNOCKD_ROTATOR_SECRET", "a strong and long enough secret")];
    let r = common::run(common::cmd(&strong).args(["generate", "ssh"]));
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

/// `--version` through every name the executable answers to, and after
/// every applet.
#[test]
fn version_through_every_name() {
    let dir = common::TempDir::new("names");
    let main = common::run(common::cmd::<&str, &str>(&[]).arg("--version")).stdout;
    assert!(main.starts_with("knock-rotator "), "{main}");
    for name in ["knock", "knock-rotate"] {
        let link = dir.path().join(name);
        std::os::unix::fs::symlink(common::bin(), &link).unwrap();
        for flag in ["--version", "-V"] {
            let r = common::run(common::cmd_at::<&str, &str>(&link, &[]).arg(flag));
            assert_eq!(
                (r.code, &r.stdout),
                (0, &main),
                "{name} {flag}: {}",
                r.stderr
            );
        }
    }
    for applet in [
        "generate",
        "knock",
        "rotate",
        "status",
        "fingerprint",
        "config",
        "new-secret",
        "profile",
    ] {
        let r = common::run(common::cmd::<&str, &str>(&[]).args([applet, "--version"]));
        assert_eq!(
            (r.code, &r.stdout),
            (0, &main),
            "{applet} --version: {}",
            r.stderr
        );
    }
}

/// Output to a closed pipe, stderr too (`generate ... 2>&1 | head -c0`): a
/// plain failure, never a panic's abort.
#[test]
fn closed_output_is_no_panic() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe fills both descriptors; the read end is closed at once
    // and the write end owned here.
    let w = unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        libc::close(fds[0]);
        OwnedFd::from_raw_fd(fds[1])
    };
    let status = cmd(&[("KNOCKD_ROTATOR_SECRET", SECRET)])
        .args(["generate", "ssh", "--at", AT])
        .stdout(w.try_clone().expect("dup the pipe"))
        .stderr(w)
        .status()
        .expect("spawn knock-rotator");
    assert_eq!(status.code(), Some(1), "{status:?}");
}
