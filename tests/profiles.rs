//! Client profiles and the server's doors file, through the real binary:
//! every vector through a profile, the precedence rule, file errors, the
//! onboarding applets, and a server door's printed profile computing the
//! sequence that rotate wrote.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{TempDir, assert_refused, run};

const SECRET: &str = "profile test secret, not a real one";

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The profile key of each variable a vector sets.
fn key_of(var: &str) -> &'static str {
    match var {
        "KNOCKD_ROTATOR_LENGTH" => "length",
        "KNOCKD_ROTATOR_PERIOD_MODULO" => "period",
        "KNOCKD_ROTATOR_PORT_MODULO" | "KNOCKD_ROTATOR_PROTO_MODULO" => "proto_modulo",
        "KNOCKD_ROTATOR_PORTS" => "ports",
        "KNOCKD_ROTATOR_ALGORITHM" => "algorithm",
        "KNOCKD_ROTATOR_ALLOW_WEAK" => "allow_weak",
        v => panic!("a vector sets {v}"),
    }
}

/// Every vector with an answer, each as a profile (secret in a file of its
/// own, byte for byte), with a stray secret in the environment.
#[test]
fn every_vector_through_a_profile() {
    let dir = TempDir::new("profile-vectors");
    let mut config = String::from("# one profile per vector\n");
    let mut cases = Vec::new();
    for file in [
        "legacy.jsonl",
        "port-list.jsonl",
        "keyed.jsonl",
        "v3-default.jsonl",
    ] {
        for (i, v) in common::vectors(file).into_iter().enumerate() {
            if v.expected.is_none() {
                continue; // refusals name the variable; covered in vectors.rs
            }
            let name = format!("{}-{i}", file.trim_end_matches(".jsonl"));
            config.push_str(&format!("[{name}]\nsecret_file = {name}.secret\n"));
            for (k, val) in &v.env {
                if k == "KNOCKD_ROTATOR_SECRET" {
                    write(&dir.path().join(format!("{name}.secret")), val, 0o600);
                } else {
                    config.push_str(&format!("{} = {val}\n", key_of(k)));
                }
            }
            cases.push((name, v));
        }
    }
    let path = dir.path().join("config");
    write(&path, &config, 0o600);
    let stray = [
        ("KNOCKD_ROTATOR_SECRET", "another server's secret"),
        ("KNOCKD_ROTATOR_LENGTH", "7"),
    ];
    let mut failures = Vec::new();
    for (name, v) in &cases {
        let r = run(common::cmd(&stray)
            .args(["generate", "--config-file"])
            .arg(&path)
            .args(["-p", name, &v.service, "--at", &v.now.to_string()])
            .args(["--offset", &v.offset.to_string()]));
        if let Err(e) = v.check(name, &r) {
            failures.push(e);
        }
    }
    assert!(cases.len() > 350, "{}", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A profile file for the tests below; returns the file's path.
fn profiles(dir: &Path, body: &str) -> std::path::PathBuf {
    let path = dir.join("config");
    write(&path, body, 0o600);
    path
}

#[test]
fn precedence_and_config_output() {
    let dir = TempDir::new("profile-precedence");
    let body = format!(
        "[nas]\nhost = 127.0.0.1\nservice = ssh\nsecret = {SECRET}\nlength = 12\ndelay = 0\n"
    );
    let path = profiles(dir.path(), &body);
    let generate = |env: &[(&str, &str)], args: &[&str]| {
        run(common::cmd(env)
            .env("KNOCKD_ROTATOR_CONFIG", &path)
            .args(["generate", "--at", "1800000000"])
            .args(args))
    };
    let want = generate(&[], &["-p", "nas"]);
    assert_eq!(want.code, 0, "{}", want.stderr);
    assert_eq!(want.stdout.split(' ').count(), 12);
    // A stray secret and length in the environment change nothing.
    let env = [
        ("KNOCKD_ROTATOR_SECRET", "stray secret for elsewhere"),
        ("KNOCKD_ROTATOR_LENGTH", "5"),
    ];
    assert_eq!(generate(&env, &["-p", "nas"]).stdout, want.stdout);
    // The profile's service, or one given.
    let other = generate(&[], &["-p", "nas", "web"]);
    assert_ne!(other.stdout, want.stdout);
    // Without a profile: the environment, as always.
    let plain = generate(
        &[
            ("KNOCKD_ROTATOR_SECRET", SECRET),
            ("KNOCKD_ROTATOR_LENGTH", "12"),
        ],
        &["ssh"],
    );
    assert_eq!(plain.stdout, want.stdout);
    let shown = run(common::cmd(&env)
        .env("KNOCKD_ROTATOR_CONFIG", &path)
        .args(["config", "-p", "nas"]));
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let p = path.display();
    for line in [
        format!("  length        12                      {p}:5"),
        "  period        21600                   default".to_string(),
        format!("  secret        (not shown)             {p}:4"),
        format!("  delay         0                       {p}:6"),
        "  retries       2                       default".to_string(),
        "note: the environment sets KNOCKD_ROTATOR_LENGTH, KNOCKD_ROTATOR_SECRET, which a profile does not read".to_string(),
    ] {
        assert!(shown.stdout.contains(&line), "{line}\n{}", shown.stdout);
    }
    assert!(!shown.stdout.contains(SECRET), "{}", shown.stdout);
    let fp = |args: &[&str]| {
        run(common::cmd(&[
            ("KNOCKD_ROTATOR_SECRET", SECRET),
            ("KNOCKD_ROTATOR_LENGTH", "12"),
        ])
        .env("KNOCKD_ROTATOR_CONFIG", &path)
        .arg("fingerprint")
        .args(args))
        .stdout
    };
    assert_eq!(fp(&["-p", "nas"]), fp(&[]));
}

#[test]
fn file_errors_name_the_file_line_and_key() {
    let dir = TempDir::new("profile-errors");
    let generate = |body: &str, mode: u32, args: &[&str]| {
        let path = dir.path().join("config");
        write(&path, body, mode);
        run(common::cmd::<&str, &str>(&[])
            .arg("generate")
            .arg("--config-file")
            .arg(&path)
            .args(args))
    };
    let p = dir.path().join("config").display().to_string();
    let ok = format!("[nas]\nservice = ssh\nsecret = {SECRET}\n");
    for (body, mode, args, want) in [
        (
            ok.clone(),
            0o644,
            vec!["-p", "nas"],
            format!("{p}: readable or writable by group or others (mode 0644)"),
        ),
        (
            ok.clone(),
            0o600,
            vec!["-p", "vps"],
            format!("{p}: no profile [vps] (it has: nas)"),
        ),
        (
            ok.clone() + "lenght = 5\n",
            0o600,
            vec!["-p", "nas"],
            format!("{p}:4: unknown key 'lenght' in [nas]"),
        ),
        (
            ok.clone() + "length = 99\n",
            0o600,
            vec!["-p", "nas"],
            format!("{p}:4: length: "),
        ),
        (
            ok.clone() + "delay = soon\n",
            0o600,
            vec!["-p", "nas"],
            format!("{p}:4: delay: "),
        ),
        (
            ok.clone() + "family = 5\n",
            0o600,
            vec!["-p", "nas"],
            format!("{p}:4: family: '5' is not 4, 6 or any"),
        ),
        (
            ok.clone() + "secret_file = x\n",
            0o600,
            vec!["-p", "nas"],
            format!("{p}:4: [nas] has both secret (line 3) and secret_file"),
        ),
        (
            "[nas]\nservice = ssh\nsecret = short\n".into(),
            0o600,
            vec!["-p", "nas"],
            format!("{p}:3: secret: the secret is too short"),
        ),
        (
            "[nas]\nservice = ssh\n".into(),
            0o600,
            vec!["-p", "nas"],
            format!("{p}:1: [nas] has no secret_file (nor secret)"),
        ),
        (
            "[nas]\nsecret_file = none.secret\n".into(),
            0o600,
            vec!["-p", "nas"],
            format!(
                "{p}:2: secret_file '{}/none.secret': No such file",
                dir.path().display()
            ),
        ),
        (
            ok.clone(),
            0o600,
            vec!["ssh"],
            "--config-file needs --profile NAME".into(),
        ),
    ] {
        let r = generate(&body, mode, &args);
        assert_refused(&r, &want, &format!("{body:?} {args:?}"));
        assert!(!r.stderr.contains(SECRET));
    }
    // knock: a lone argument is a profile; a profile needs a host.
    let path = dir.path().join("config");
    write(&path, &ok, 0o600);
    let r = run(common::cmd::<&str, &str>(&[])
        .args(["knock", "--config-file"])
        .arg(&path)
        .arg("nas"));
    assert_refused(
        &r,
        &format!("{p}: profile [nas] has no host, which a knock needs"),
        "knock",
    );
    let r = run(common::cmd::<&str, &str>(&[])
        .args(["knock", "--config-file"])
        .arg(&path)
        .args(["127.0.0.1", "ssh"]));
    assert_refused(&r, "--config-file needs --profile NAME", "knock");
    let r = run(common::cmd(&[("HOME", dir.path())]).args(["knock", "nas"]));
    assert_refused(&r, "no profile 'nas': ", "knock, no file");
}

#[test]
fn new_secret_makes_a_strong_owner_only_file() {
    let dir = TempDir::new("new-secret");
    let path = dir.path().join("a/b/door.secret");
    let r = run(common::cmd::<&str, &str>(&[]).arg("new-secret").arg(&path));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let dmode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dmode & 0o777, 0o700);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.len(), 65);
    assert!(text.trim_end().bytes().all(|b| b.is_ascii_hexdigit()));
    let r = run(common::cmd::<&str, &str>(&[]).arg("new-secret").arg(&path));
    assert_refused(
        &r,
        "already exists; a secret is never overwritten",
        "overwrite",
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let other = dir.path().join("other.secret");
    run(common::cmd::<&str, &str>(&[]).arg("new-secret").arg(&other));
    assert_ne!(std::fs::read_to_string(&other).unwrap(), text);
    let r = run(common::cmd(&[("KNOCKD_ROTATOR_SECRET_FILE", &path)]).args(["generate", "ssh"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Two doors with their own secrets and periods, one from the environment;
/// each door's printed profile computes what rotate wrote.
#[test]
fn doors_file_and_printed_profiles_agree() {
    let dir = TempDir::new("doors");
    let d = dir.path();
    write(
        &d.join("alice.secret"),
        "alice's own secret, long enough",
        0o600,
    );
    write(
        &d.join("bob.secret"),
        "bob's own secret, long enough\n",
        0o600,
    );
    write(
        &d.join("doors"),
        "[ssh_alice]\nsecret_file = alice.secret\nalgorithm = hmac-sha256\nperiod = 3600\nports = 10000-20000\n\n[ssh_bob_ROTATOR]\nsecret_file = bob.secret\nlength = 8\n",
        0o600,
    );
    let conf = d.join("knockd.conf");
    let text = "[ssh_alice_ROTATOR]\n sequence = 1\n command = /bin/true\n[ssh_bob_ROTATOR]\n sequence = 2\n command = /bin/true\n[web_ROTATOR]\n sequence = 3\n command = /bin/true\n";
    write(&conf, text, 0o600);
    let doors = d.join("doors").to_str().unwrap().to_string();
    let server = [
        ("KNOCKD_ROTATOR_SECRET", SECRET),
        ("KNOCKD_ROTATOR_DOORS", &doors),
    ];
    let rotate = |at: &str| {
        run(common::cmd(&server)
            .args([
                "rotate",
                "--no-reload",
                "--no-boundary-run",
                "--at",
                at,
                "--config",
            ])
            .arg(&conf))
    };
    let r = rotate("1800000000");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("rotated 3 of 3 rotator doors for each door's current period"),
        "{}",
        r.stdout
    );
    // An hour on, only alice's period has ended.
    let r = rotate("1800003600");
    assert!(r.stdout.contains("rotated 1 of 3"), "{}", r.stdout);
    let rotated = std::fs::read_to_string(&conf).unwrap();
    let status = run(common::cmd(&server)
        .args(["status", "--at", "1800003600", "--config"])
        .arg(&conf));
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    let phone = d.join("phone");
    std::fs::create_dir(&phone).unwrap();
    for (door, line) in [("ssh_alice", 2), ("ssh_bob", 5), ("web", 8)] {
        let printed = run(common::cmd(&server).args([
            "profile",
            door,
            "--host",
            "vps.example.org",
            "--with-secret",
        ]));
        assert_eq!(printed.code, 0, "{}", printed.stderr);
        let config = phone.join(door);
        write(&config, &printed.stdout, 0o600);
        let seq = run(common::cmd::<&str, &str>(&[])
            .args([
                "generate",
                "--format",
                "knockd",
                "--at",
                "1800003600",
                "--config-file",
            ])
            .arg(&config)
            .args(["-p", door]));
        assert_eq!(seq.code, 0, "{}", seq.stderr);
        let want = rotated.lines().nth(line - 1).unwrap().trim();
        assert_eq!(
            format!("sequence = {}", seq.stdout.trim_end()),
            want,
            "{door}"
        );
        let fp = run(common::cmd::<&str, &str>(&[])
            .arg("fingerprint")
            .arg("--config-file")
            .arg(&config)
            .args(["-p", door]));
        let fp = fp
            .stdout
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("fingerprint ")
            .to_string();
        assert!(
            status.stdout.contains(&format!("fingerprint {fp}")),
            "{door} {fp}\n{}",
            status.stdout
        );
    }
    assert!(status.stdout.contains("period 3600 s"), "{}", status.stdout);
    // Without --with-secret the secret stays on the server.
    let printed = run(common::cmd(&server).args(["profile", "ssh_bob", "--host", "h"]));
    assert!(
        printed.stdout.contains("secret_file = ssh_bob.secret\n"),
        "{}",
        printed.stdout
    );
    assert!(
        !printed.stdout.contains("bob's own secret"),
        "{}",
        printed.stdout
    );
}

#[test]
fn doors_file_errors() {
    let dir = TempDir::new("doors-errors");
    let d = dir.path();
    write(&d.join("a.secret"), "a door's secret, long enough", 0o600);
    let conf = d.join("knockd.conf");
    write(
        &conf,
        "[ssh_alice_ROTATOR]\n sequence = 1\n command = /bin/true\n[web_ROTATOR]\n sequence = 3\n command = /bin/true\n",
        0o600,
    );
    let doors = d.join("doors");
    let p = doors.display().to_string();
    let rotate = |body: &str, env: &[(&str, &str)]| {
        write(&doors, body, 0o600);
        run(common::cmd(env)
            .args(["rotate", "--no-reload", "--no-boundary-run", "--doors-file"])
            .arg(&doors)
            .arg("--config")
            .arg(&conf))
    };
    let ok = "[ssh_alice]\nsecret_file = a.secret\n";
    let before = std::fs::read(&conf).unwrap();
    for (body, env, want) in [
        (
            format!("{ok}host = x\n"),
            vec![],
            format!("{p}:3: unknown key 'host' in [ssh_alice]; a door takes"),
        ),
        (
            format!("{ok}[ssh_alice_ROTATOR]\nsecret_file = a.secret\n"),
            vec![],
            format!(
                "{p}:3: [ssh_alice_ROTATOR] is door 'ssh_alice_ROTATOR' again (first at line 1)"
            ),
        ),
        (
            ok.to_string(),
            vec![],
            format!(
                "door 'web_ROTATOR' is not in {p}, so it takes the environment's settings, but KNOCKD_ROTATOR_SECRET is not set"
            ),
        ),
        (
            format!("{ok}period = 0\n"),
            vec![("KNOCKD_ROTATOR_SECRET", SECRET)],
            format!("{p}:3: period: "),
        ),
    ] {
        let r = rotate(&body, &env);
        assert_refused(&r, &want, &body);
        assert_eq!(
            std::fs::read(&conf).unwrap(),
            before,
            "{body}: the file changed"
        );
    }
    let r = rotate(
        &format!("{ok}[gone]\nsecret_file = a.secret\n"),
        &[("KNOCKD_ROTATOR_SECRET", SECRET)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "warning: {p}:3: [gone_ROTATOR] matches no rotator door"
        )),
        "{}",
        r.stderr
    );
    // A named doors file that does not exist is an error, not the environment.
    let r = run(common::cmd(&[("KNOCKD_ROTATOR_SECRET", SECRET)])
        .args([
            "rotate",
            "--no-reload",
            "--doors-file",
            "/nonexistent/doors",
            "--config",
        ])
        .arg(&conf));
    assert_refused(&r, "/nonexistent/doors: No such file", "missing doors file");
}
