//! `rotate` and `status` through the real binary on real files: the editor
//! corpus, refusals, crash safety, concurrent runs, the boundary run, and
//! secret hygiene. (Against a running knockd: tests/e2e/rotate_*.sh.)

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{SECRET, TempDir, assert_refused, run};

const AT: &str = "1800000000";

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("KNOCKD_ROTATOR_SECRET", SECRET),
        ("KNOCKD_ROTATOR_LENGTH", "5"),
        ("KNOCKD_ROTATOR_PROTO_MODULO", "3"),
    ]
}

fn rotate(conf: &Path, extra: &[&str]) -> Command {
    let mut c = common::cmd(&env());
    c.args(["rotate", "--config"])
        .arg(conf)
        .args(["--no-reload", "--no-boundary-run"])
        .args(extra);
    c
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name)
}

#[test]
fn corpus_rotates_byte_exactly() {
    let dir = TempDir::new("corpus");
    for name in ["tabs.conf", "crlf.conf", "latin1.conf", "names.conf"] {
        let file = dir.path().join(name);
        let old = std::fs::read(corpus(name)).unwrap();
        std::fs::write(&file, &old).unwrap();
        let r = run(&mut rotate(&file, &["--at", AT]));
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let new = std::fs::read(&file).unwrap();
        assert_eq!(
            new,
            std::fs::read(corpus(&format!("{name}.expected"))).unwrap(),
            "{name}"
        );
        assert!(common::only_values_changed(&old, &new), "{name}");
        // A second run is a no-op: nothing written.
        let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
        let r = run(&mut rotate(&file, &["--at", AT]));
        assert!(r.stdout.contains("nothing to do"), "{name}: {}", r.stdout);
        assert_eq!(
            std::fs::metadata(&file).unwrap().modified().unwrap(),
            mtime,
            "{name} rewritten"
        );
    }
}

#[test]
fn refused_files_are_left_untouched() {
    let long = format!(
        "[d_ROTATOR]\nsequence = 1\nstart_command = {}\n",
        "x".repeat(5000)
    );
    let cases: &[(&str, &str)] = &[
        (
            "[options]\nlogfile = /x\n",
            "no door whose name ends in _ROTATOR",
        ),
        ("[a]\nsequence = 1\n", "no door whose name ends in _ROTATOR"),
        (
            "[s_ROTATOR]\nsequence = 1\nbogus = 2\n",
            ":3: unknown key 'bogus' in door [s_ROTATOR]",
        ),
        (
            "sequence = 1\n[s_ROTATOR]\nsequence = 1\n",
            ":1: directive outside any section",
        ),
        (
            "[s_ROTATOR]\ntcpflags = syn\n",
            ":1: door [s_ROTATOR] has no sequence",
        ),
        (
            "[s_ROTATOR]\nsequence = 1\n[t]\nsequence = 70000\n",
            ":4: door [t]: port '70000' is over 65535",
        ),
        (
            "[s_ROTATOR]\nsequence = 1\n[t]\nsequence = 5:icmp\n",
            ":4: door [t]: protocol 'icmp' is neither tcp nor udp",
        ),
        (
            "[s_ROTATOR]\nsequence = 1\nsequence 2\n",
            ":3: 'sequence 2' has no '='",
        ),
        (
            "[s_ROTATOR]\nsequence = 1\ntcpflags = syn, ack\n",
            ":3: unknown TCP flag ' ACK'",
        ),
        (
            "[s_ROTATOR]\nsequence = 1\n[Options]\nLogFile = /x\n",
            ":4: unknown key 'logfile' in door [Options]",
        ),
        (
            "[s_ROTATOR]\nsequence = 1\none_time_sequences = /nonexistent/x\n",
            ":3: one_time_sequences '/nonexistent/x': No such file",
        ),
        (
            "[s_ROTATOR]\nsequence = 1\n[s_ROTATOR]\nsequence = 2\n",
            ":3: doors [s_ROTATOR] (line 1) and [s_ROTATOR] would have the same sequence",
        ),
        (
            "[s_ROTATOR]\nsequence = 1\n[a]\nsequence = 7\n[b]\nsequence = 7:tcp\n",
            ":5: doors [a] (line 3) and [b] would have the same sequence",
        ),
        (
            "[s_ROTATOR]\nsequence = 1\nstart_command = a\0b\n",
            ":3: contains a NUL byte",
        ),
        (&long, ":3: is 5016 bytes long; knockd reads at most 4094"),
        ("[]\nsequence = 1\n", ":1: empty section name"),
        (
            "[s_ROTATOR]\nsequence = 1\ntarget = my.host\n",
            ":3: target 'my.host' is not an IP address",
        ),
    ];
    let dir = TempDir::new("refused");
    for (i, (text, needle)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("k{i}.conf"));
        std::fs::write(&file, text).unwrap();
        let before = std::fs::metadata(&file).unwrap();
        let r = run(&mut rotate(&file, &[]));
        assert_refused(&r, needle, &format!("case {i}"));
        assert_eq!(r.code, 2, "case {i}");
        assert!(
            r.stderr.contains(&file.display().to_string()),
            "case {i}: no path: {}",
            r.stderr
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            text.as_bytes(),
            "case {i} changed"
        );
        let after = std::fs::metadata(&file).unwrap();
        assert_eq!(before.modified().unwrap(), after.modified().unwrap());
    }

    // A rotator door that takes its sequence from one_time_sequences.
    let ots = dir.path().join("ots");
    std::fs::write(&ots, "1,2,3\n").unwrap();
    let file = dir.path().join("ots.conf");
    std::fs::write(
        &file,
        format!("[s_ROTATOR]\none_time_sequences = {}\n", ots.display()),
    )
    .unwrap();
    let r = run(&mut rotate(&file, &[]));
    assert_refused(
        &r,
        ":2: rotator door [s_ROTATOR] takes its sequence from one_time_sequences",
        "ots",
    );

    let r = run(&mut rotate(&dir.path().join("missing.conf"), &[]));
    assert_refused(&r, "missing.conf: No such file or directory", "missing");
}

#[test]
fn mode_owner_and_symlinks_are_kept() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = TempDir::new("meta");
    let real = dir.path().join("real.conf");
    std::fs::copy(corpus("tabs.conf"), &real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("knockd.conf");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let r = run(&mut rotate(&link, &["--at", AT]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced"
    );
    let m = std::fs::metadata(&real).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o640);
    assert_eq!(
        std::fs::read(&real).unwrap(),
        std::fs::read(corpus("tabs.conf.expected")).unwrap()
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");
}

/// Kill rotators at random moments: the file is always the old or the new
/// version, never anything else; a later run cleans up and succeeds.
#[test]
fn killed_rotations_never_leave_a_broken_file() {
    let dir = TempDir::new("crash");
    let file = dir.path().join("knockd.conf");
    // A larger file makes the write window wider.
    let mut text = std::fs::read(corpus("tabs.conf")).unwrap();
    for i in 0..2000 {
        text.extend_from_slice(format!("[door{i}]\n\tsequence = {i}\n").as_bytes());
    }
    std::fs::write(&file, &text).unwrap();
    let mut versions = vec![text];
    let mut rng = 0x2545f4914f6cdd1d_u64;
    let mut killed_mid = 0;
    for round in 0..150 {
        let at = (1_800_000_000 + round * 21600).to_string();
        // The version this round would write, made on a copy.
        let copy = dir.path().join("copy.conf");
        std::fs::write(&copy, versions.last().unwrap()).unwrap();
        assert_eq!(run(&mut rotate(&copy, &["--at", &at])).code, 0);
        let next = std::fs::read(&copy).unwrap();
        std::fs::remove_file(&copy).unwrap();

        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = Duration::from_micros(rng % 4000);
        let mut child = rotate(&file, &["--at", &at])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while t0.elapsed() < delay {
            std::hint::spin_loop();
        }
        let _ = child.kill();
        let status = child.wait().unwrap();
        let now = std::fs::read(&file).unwrap();
        let old = versions.last().unwrap();
        assert!(
            now == *old || now == next,
            "round {round}: the file is neither the old nor the new version"
        );
        if now == next && now != *old {
            versions.push(next);
        } else if !status.success() {
            killed_mid += 1;
        }
    }
    // Killed runs may leave their temporary file; the next run removes it.
    assert_eq!(run(&mut rotate(&file, &["--at", "1900000000"])).code, 0);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("knockd.conf")],
        "leftovers"
    );
    println!(
        "{killed_mid} of 150 rotations killed before they wrote, {} completed",
        versions.len() - 1
    );
}

/// Many rotators at once, for different periods: the file ends as exactly
/// one of their versions, and each run either did its work or waited.
#[test]
fn concurrent_rotations_serialise() {
    let dir = TempDir::new("concurrent");
    let file = dir.path().join("knockd.conf");
    std::fs::copy(corpus("latin1.conf"), &file).unwrap();
    let ats: Vec<String> = (0..12)
        .map(|i| (1_800_000_000 + i * 21600).to_string())
        .collect();
    let mut expected = Vec::new();
    for at in &ats {
        let copy = dir.path().join("copy.conf");
        std::fs::copy(corpus("latin1.conf"), &copy).unwrap();
        assert_eq!(run(&mut rotate(&copy, &["--at", at])).code, 0);
        expected.push(std::fs::read(&copy).unwrap());
        std::fs::remove_file(&copy).unwrap();
    }
    for _ in 0..5 {
        let children: Vec<_> = ats
            .iter()
            .map(|at| {
                rotate(&file, &["--at", at])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let now = std::fs::read(&file).unwrap();
        assert!(expected.contains(&now), "the file is none of the versions");
    }
}

#[test]
fn dry_run_shows_a_diff_and_touches_nothing() {
    let dir = TempDir::new("dry");
    let file = dir.path().join("knockd.conf");
    std::fs::copy(corpus("crlf.conf"), &file).unwrap();
    let r = run(common::cmd(&env())
        .args(["rotate", "--dry-run", "--at", AT, "--config"])
        .arg(&file));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(corpus("crlf.conf")).unwrap()
    );
    let new_seq = "41517:tcp,37737:tcp,5517:tcp,21734:udp,6568:udp";
    assert!(
        r.stdout.contains("@@ line 5 [web_ROTATOR] @@"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("-    Sequence = (hidden; --show-sequences shows it)"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains(new_seq) && !r.stdout.contains("1:tcp,2:udp"),
        "sequences shown off a terminal"
    );
    let r = run(common::cmd(&env())
        .args(["rotate", "-n", "--show-sequences", "--at", AT, "-c"])
        .arg(&file));
    assert!(
        r.stdout.contains(&format!("+    Sequence = {new_seq}\n")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("-    Sequence = 1:tcp,2:udp\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn status_reports_without_sequences() {
    let dir = TempDir::new("status");
    let file = dir.path().join("knockd.conf");
    std::fs::copy(corpus("names.conf"), &file).unwrap();
    let status = |at: &str| {
        run(common::cmd(&env())
            .args(["status", "--at", at, "--config"])
            .arg(&file))
    };
    let r = status(AT);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("[a_ROTATOR] (line 3): stale: holds none of"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("2 rotator doors are not current"),
        "{}",
        r.stderr
    );
    assert_eq!(run(&mut rotate(&file, &["--at", AT])).code, 0);
    let r = status(AT);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("period: 21600 s, current one started 2027-01-15 06:00:00 UTC"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("next boundary: 2027-01-15 12:00:00 UTC (in 4h 0m 0s)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("[c_ROTATOR] (line 12): current"),
        "{}",
        r.stdout
    );
    let r = status("1800021600");
    assert!(
        r.stdout
            .contains("[c_ROTATOR] (line 12): stale: holds the previous period's sequence"),
        "{}",
        r.stdout
    );
    let r = status("1799978400");
    assert!(
        r.stdout.contains("ahead: holds the next period's sequence"),
        "{}",
        r.stdout
    );
    for port in std::fs::read_to_string(&file)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| s.len() == 5)
    {
        assert!(
            !r.stdout.contains(port),
            "status printed a port of a sequence"
        );
    }
}

/// The one-shot mode, near a boundary, stays behind and rotates at it; the
/// process that does so carries the secret neither in its command line nor
/// in its environment.
#[test]
fn boundary_run_rotates_at_the_boundary() {
    let dir = TempDir::new("boundary");
    let file = dir.path().join("knockd.conf");
    std::fs::copy(corpus("tabs.conf"), &file).unwrap();
    let log = dir.path().join("log");
    let mut e = env();
    e.push(("KNOCKD_ROTATOR_PERIOD_MODULO", "4"));
    let status = common::cmd(&e)
        .args(["rotate", "--no-reload", "--config"])
        .arg(&file)
        .stdout(std::fs::File::create(&log).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let first = std::fs::read(&file).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("is before the next timer run: rotating again then"),
        "{text}"
    );
    // The child that stayed behind: find it, and look at what /proc shows.
    let me = std::fs::canonicalize(common::bin()).unwrap();
    let stayer = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .find(|e| {
            std::fs::read_link(e.path().join("exe")).is_ok_and(|x| x == me)
                && std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                    c.windows(file.as_os_str().len())
                        .any(|w| w == file.as_os_str().as_encoded_bytes())
                })
        })
        .expect("the boundary run is waiting");
    for f in ["cmdline", "environ"] {
        let data = std::fs::read(stayer.path().join(f)).unwrap();
        assert!(
            !data.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "secret in /proc/PID/{f}"
        );
    }
    let end = Instant::now() + Duration::from_secs(7);
    while std::fs::read(&file).unwrap() == first {
        assert!(
            Instant::now() < end,
            "no rotation at the boundary: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("boundary run: "),
        "no log line"
    );
}

/// Nothing of the secret reaches a reload command: not its environment,
/// not ours as /proc shows it, not any command line.
#[test]
fn reload_command_never_sees_the_secret() {
    let dir = TempDir::new("hygiene");
    let file = dir.path().join("knockd.conf");
    std::fs::copy(corpus("tabs.conf"), &file).unwrap();
    let dump = dir.path().join("dump");
    let own = dir.path().join("own-environ");
    let cmd = format!(
        "cat /proc/self/environ > {own}; cat /proc/self/environ /proc/$PPID/environ /proc/self/cmdline /proc/$PPID/cmdline > {}",
        dump.display(),
        own = own.display()
    );
    let mut e = env();
    e.push(("KNOCKD_ROTATOR_SERVER_INTERVAL", "1"));
    let r = run(common::cmd(&e)
        .args(["rotate", "--at", AT, "--reload-command", &cmd, "--config"])
        .arg(&file));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let data = std::fs::read(&dump).unwrap();
    assert!(data.len() > 20, "nothing dumped");
    assert!(
        !data.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the secret reached the reload command"
    );
    let child_env = std::fs::read(&own).unwrap();
    assert!(
        !child_env.windows(15).any(|w| w == b"KNOCKD_ROTATOR_"),
        "our variables reached the reload command"
    );
    assert!(!r.stdout.contains(SECRET) && !r.stderr.contains(SECRET));
}

/// `status --json`: one object of schema 1, valid JSON, the exit status as
/// without it, and no sequence.
#[test]
fn status_json_for_monitoring() {
    let dir = TempDir::new("status-json");
    let file = dir.path().join("knockd.conf");
    std::fs::copy(corpus("names.conf"), &file).unwrap();
    let status = |at: &str| {
        run(common::cmd(&env())
            .args(["status", "--json", "--at", at, "--config"])
            .arg(&file))
    };
    let parse = |r: &common::Run| -> serde_json::Value {
        assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
    };
    let r = status(AT);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = parse(&r);
    assert_eq!(v["schema"], 1);
    assert_eq!(v["ok"], false);
    assert_eq!(v["now"], 1800000000u64);
    assert_eq!(v["config"], file.to_str().unwrap());
    assert_eq!(v["doors"][0]["holds"], "other", "{v}");
    assert_eq!(run(&mut rotate(&file, &["--at", AT])).code, 0);
    let r = status(AT);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = parse(&r);
    assert_eq!(v["ok"], true);
    let doors = v["doors"].as_array().unwrap();
    assert!(doors.len() >= 2, "{v}");
    let c = doors.iter().find(|d| d["name"] == "c_ROTATOR").unwrap();
    assert_eq!(c["line"], 12);
    assert_eq!(c["holds"], "current");
    assert_eq!(c["period"], 21600);
    assert_eq!(c["period_start"], 1799992800u64);
    assert_eq!(c["next_boundary"], 1800014400u64);
    assert_eq!(c["settings_from"], "the environment");
    assert_eq!(c["fingerprint"].as_str().unwrap().len(), 19);
    assert_eq!(v["warnings"].as_array().unwrap().len(), 0);
    let v = parse(&status("1800021600"));
    assert!(
        v["doors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["holds"] == "previous"),
        "{v}"
    );
    let v = parse(&status("1799978400"));
    assert!(
        v["doors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["holds"] == "next"),
        "{v}"
    );
    for port in std::fs::read_to_string(&file)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| s.len() == 5)
    {
        assert!(
            !v.to_string().contains(port),
            "--json printed a port of a sequence"
        );
    }
}

/// `rotate --quiet` prints nothing when all goes well, but still warns.
#[test]
fn rotate_quiet_prints_only_warnings() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("quiet");
    let file = dir.path().join("knockd.conf");
    std::fs::copy(corpus("names.conf"), &file).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = run(&mut rotate(&file, &["--at", AT, "--quiet"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, "");
    let r = run(&mut rotate(&file, &["--at", "1800021600", "-q"]));
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    // Readable by others: the warning still comes.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = run(&mut rotate(&file, &["--at", AT, "-q"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("warning:"), "{}", r.stderr);
    let r = run(&mut rotate(&file, &["--at", "1800043200"]));
    assert!(r.stdout.contains("rotated"), "{}", r.stdout);
}
