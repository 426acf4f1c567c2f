//! Shared helpers for the integration tests: run the real binary.
#![allow(dead_code)]

pub mod mutate;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const SECRET: &str = "correct horse battery staple";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_knock-rotator"))
}

/// A command for the binary with an empty environment but for `env`.
pub fn cmd<K: AsRef<OsStr>, V: AsRef<OsStr>>(env: &[(K, V)]) -> Command {
    cmd_at(&bin(), env)
}

pub fn cmd_at<K: AsRef<OsStr>, V: AsRef<OsStr>>(path: &Path, env: &[(K, V)]) -> Command {
    let mut c = Command::new(path);
    c.env_clear().stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(c: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("spawn knock-rotator");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Assert a clean failure: non-zero, nothing on stdout, one line on stderr
/// containing `needle`, no panic.
pub fn assert_refused(r: &Run, needle: &str, what: &str) {
    assert_ne!(r.code, 0, "{what}: exit 0\nstdout: {}", r.stdout);
    assert!(
        r.stdout.is_empty(),
        "{what}: stdout not empty: {}",
        r.stdout
    );
    assert_eq!(
        r.stderr.lines().count(),
        1,
        "{what}: stderr not one line: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(needle),
        "{what}: stderr lacks {needle:?}: {}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("panicked"),
        "{what}: panic: {}",
        r.stderr
    );
}

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let base = std::env::var_os("CARGO_TARGET_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = base.join(format!("{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `target/dist/`, made by `just dist` once per test process: the release
/// executables and packages.
pub fn dist() -> PathBuf {
    static BUILD: std::sync::Once = std::sync::Once::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    BUILD.call_once(|| {
        require("just");
        succeed(
            Command::new("just").arg("dist").current_dir(root),
            "just dist",
        );
    });
    root.join("target/dist")
}

/// Fail, with what to do, when a tool the tests need is missing.
pub fn require(tool: &str) {
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

/// Run `tests/e2e/NAME.sh` as root in fresh network and mount namespaces,
/// with BIN, WORK and LIB set (and `env`); its output is shown on failure.
pub fn e2e(name: &str, tools: &[&str], env: &[(&str, &std::ffi::OsStr)]) {
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
    let work = TempDir::new(&format!("e2e-{name}"));
    succeed(
        Command::new("unshare")
            .args(["--net", "--mount", "--propagation", "private", "bash"])
            .arg(dir.join(format!("{name}.sh")))
            .env("BIN", bin())
            .env("WORK", work.path())
            .env("LIB", dir.join("lib.sh"))
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .env_remove("KNOCKD_ROTATOR_SECRET"),
        &format!("tests/e2e/{name}.sh"),
    );
}

/// Run `c` to completion and return its stdout; unless it succeeds, fail
/// the test with everything it printed. The output is also printed, so
/// `--nocapture` shows the notes scripts leave (`# ...`).
pub fn succeed(c: &mut std::process::Command, what: &str) -> String {
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    stdout
}

#[allow(unused_imports)]
pub use knock_rotator::knockd_conf::only_values_changed;

/// One known answer: with `env` (and nothing else) set, `generate SERVICE
/// --at NOW --offset OFFSET` prints `expected`; `None` where the original
/// fails for that period.
pub struct Vector {
    pub line: usize,
    pub env: Vec<(String, String)>,
    pub now: i64,
    pub service: String,
    pub offset: i64,
    pub expected: Option<String>,
}

impl Vector {
    /// Check our answer: `expected`, or where the original fails (port
    /// 65536), a clean refusal that names the port, the period and the fix.
    /// Whether the binary must warn that this vector's secret is weak (all
    /// the vectors' weak secrets are short or of few characters).
    fn weak_secret(&self) -> bool {
        let get = |k: &str| {
            self.env
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        let Some(secret) = get("KNOCKD_ROTATOR_SECRET") else {
            return false;
        };
        let mut distinct: Vec<char> = secret.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        get("KNOCKD_ROTATOR_ALLOW_WEAK") != Some("1")
            && (secret.chars().count() < 16 || distinct.len() < 8)
    }

    pub fn check(&self, name: &str, r: &Run) -> Result<(), String> {
        // The weak-secret warning, exactly where it is due, and nothing else.
        let (warnings, rest): (Vec<&str>, Vec<&str>) = r
            .stderr
            .lines()
            .partition(|l| l.contains(": warning: ") && l.contains("the secret is weak"));
        let warned_right = warnings.len() == usize::from(self.weak_secret());
        let stderr = rest.join("\n");
        let ok = warned_right
            && match &self.expected {
                Some(want) => r.code == 0 && r.stdout.trim_end() == want && stderr.is_empty(),
                None => {
                    let period = self
                        .env
                        .iter()
                        .find(|(k, _)| k == "KNOCKD_ROTATOR_PERIOD_MODULO")
                        .map(|(_, v)| v.parse::<i64>().unwrap())
                        .unwrap_or(21600);
                    let start = (self.now / period + self.offset) * period;
                    r.code == 1
                        && r.stdout.is_empty()
                        && stderr.lines().count() == 1
                        && stderr.contains("draws port 65536")
                        && stderr.contains(&format!("({start})"))
                        && stderr.contains("KNOCKD_ROTATOR_PORTS=2000-65535")
                        && !stderr.contains("panicked")
                }
            };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{name}:{}: got {:?} / {:?} (exit {}), want {:?}",
                self.line, r.stdout, r.stderr, r.code, self.expected
            ))
        }
    }

    /// The arguments that ask for this answer.
    pub fn args(&self) -> Vec<String> {
        vec![
            "generate".into(),
            self.service.clone(),
            "--at".into(),
            self.now.to_string(),
            "--offset".into(),
            self.offset.to_string(),
        ]
    }
}

/// The vectors of `tests/vectors/NAME`. v3's records without
/// KNOCKD_ROTATOR_PORTS used v3's default list, which we take only when
/// written out (our default stays v1's): it is added to their `env`.
pub fn vectors(name: &str) -> Vec<Vector> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let mut env: Vec<(String, String)> = v["env"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            if name == "v3-default.jsonl" && !env.iter().any(|(k, _)| k == "KNOCKD_ROTATOR_PORTS") {
                env.push(("KNOCKD_ROTATOR_PORTS".into(), "2000-65536".into()));
            }
            Vector {
                line: i + 1,
                env,
                now: v["now"].as_i64().unwrap(),
                service: v["service"].as_str().unwrap().to_string(),
                offset: v["offset"].as_i64().unwrap(),
                expected: v["expected"].as_str().map(str::to_string),
            }
        })
        .collect()
}
