//! `just bench` (= `cargo bench --bench bench`): whole-process figures for
//! the real binary, plus in-process derivation throughput.
//!
//! `cargo bench --bench bench -- NAME...` runs only the named groups.

use std::ffi::OsStr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use knock_rotator::{Env, Settings};

#[path = "support/nft.rs"]
mod nft;

const SECRET: &str = "correct horse battery staple";

fn main() {
    match std::env::var("KR_BENCH_INNER").as_deref() {
        Ok("knock") => return knock_inner(),
        Ok("nftables") => return nft::inner(),
        _ => {}
    }
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    println!("knock-rotator benchmarks ({})", env!("CARGO_PKG_VERSION"));
    if want("generate") {
        bench_generate();
    }
    if want("derive") {
        bench_derive();
    }
    if want("knock") {
        bench_knock();
    }
    if want("rotate") {
        bench_rotate();
    }
    if want("nftables") {
        bench_nftables();
    }
    if want("sizes") {
        bench_sizes();
    }
}

/// The release executables built so far (`just dist` builds all five), each
/// against the 512 KiB limit.
fn bench_sizes() {
    println!("\n[sizes] release executables (target/TARGET/dist; limit 524288 bytes)");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    // `just bench` builds x86_64 only: an older file is a figure of older
    // code.
    let built = |t: &str| std::fs::metadata(root.join(t).join("dist/knock-rotator"));
    let x86 = built("x86_64-unknown-linux-musl")
        .and_then(|m| m.modified())
        .ok();
    for t in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "armv7-unknown-linux-musleabihf",
        "mipsel-unknown-linux-musl",
        "mips-unknown-linux-musl",
    ] {
        match built(t) {
            Ok(m) if m.modified().ok() < x86 => {
                println!(
                    "  {t:<32} {:>7} bytes, older than x86_64's build (just dist)",
                    m.len()
                )
            }
            Ok(m) => println!("  {t:<32} {:>7} bytes", m.len()),
            Err(_) => println!("  {t:<32} not built (just dist)"),
        }
    }
}

/// The nftables figures need root and a private network and mount
/// namespace (benches/nft.rs).
fn bench_nftables() {
    let me = std::env::current_exe().unwrap();
    let status = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private"])
        .arg(me)
        .env("KR_BENCH_INNER", "nftables")
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        println!("  [nftables] failed: needs root, unshare, nft, iptables and knockd ({status:?})");
    }
}

/// Wall time of one child process.
fn measure<S: AsRef<OsStr>>(prog: &str, args: &[S], env: &[(&str, &str)]) -> Duration {
    let mut c = command(prog, args, env);
    let t0 = Instant::now();
    let status = c.status().expect("spawn");
    let wall = t0.elapsed();
    assert!(status.success(), "{prog} failed");
    wall
}

fn command<S: AsRef<OsStr>>(prog: &str, args: &[S], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(prog);
    c.args(args)
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Peak RSS (KiB) of the program itself: VmHWM read at its exit through
/// ptrace. wait4's ru_maxrss would also count the spawning process's
/// memory from before exec.
fn peak_rss_kib<S: AsRef<OsStr>>(prog: &str, args: &[S], env: &[(&str, &str)]) -> u64 {
    use std::os::unix::process::CommandExt;
    let mut c = command(prog, args, env);
    // SAFETY: ptrace(TRACEME) is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // Reaped by the waitpid loop below, which std's Child cannot see.
    #[allow(clippy::zombie_processes)]
    let child = c.spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut hwm = 0;
    // SAFETY: plain syscalls on our own traced child.
    unsafe {
        libc::waitpid(pid, &mut status, 0); // stopped at exec
        libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0, libc::PTRACE_O_TRACEEXIT);
        libc::ptrace(libc::PTRACE_CONT, pid, 0, 0);
        loop {
            libc::waitpid(pid, &mut status, 0);
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                break;
            }
            if status >> 8 == (libc::SIGTRAP | (libc::PTRACE_EVENT_EXIT << 8)) {
                let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
                hwm = text
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
                    .unwrap_or(0);
            }
            let sig = if libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) != libc::SIGTRAP {
                libc::WSTOPSIG(status)
            } else {
                0
            };
            libc::ptrace(libc::PTRACE_CONT, pid, 0, sig);
        }
    }
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{prog} failed"
    );
    hwm
}

struct Stats {
    median: Duration,
    p95: Duration,
    max_rss_kib: u64,
}

fn repeat<S: AsRef<OsStr>>(n: usize, prog: &str, args: &[S], env: &[(&str, &str)]) -> Stats {
    for _ in 0..20 {
        measure(prog, args, env); // warm the page cache
    }
    let mut times: Vec<Duration> = (0..n).map(|_| measure(prog, args, env)).collect();
    let max_rss_kib = (0..10)
        .map(|_| peak_rss_kib(prog, args, env))
        .max()
        .unwrap_or(0);
    times.sort();
    Stats {
        median: times[n / 2],
        p95: times[n * 95 / 100],
        max_rss_kib,
    }
}

fn bench_generate() {
    let env = [("KNOCKD_ROTATOR_SECRET", SECRET)];
    let n = 1000;
    println!("\n[generate] whole process, {n} runs (target: < 1 ms and < 2 MiB)");
    let row = |label: &str, s: Stats| {
        println!(
            "  {label:<34} median {:>7.3} ms  p95 {:>7.3} ms  peak RSS {:>5} KiB",
            ms(s.median),
            ms(s.p95),
            s.max_rss_kib
        )
    };
    // What we ship is the static musl build; `just bench` passes its path.
    if let Ok(bin) = std::env::var("KNOCK_ROTATOR_BIN") {
        row(
            "generate ssh (static musl)",
            repeat(n, &bin, &["generate", "ssh"], &env),
        );
    }
    let host = env!("CARGO_BIN_EXE_knock-rotator");
    row(
        "generate ssh (host build, glibc)",
        repeat(n, host, &["generate", "ssh"], &env),
    );
    row(
        "/bin/true (spawn baseline)",
        repeat(n, "/bin/true", &[] as &[&str], &[]),
    );
}

fn bench_derive() {
    let settings = Settings::load(&Env::from_pairs([("KNOCKD_ROTATOR_SECRET", SECRET)])).unwrap();
    let list = Settings::load(&Env::from_pairs([
        ("KNOCKD_ROTATOR_SECRET", SECRET),
        ("KNOCKD_ROTATOR_PORTS", "2000-2999,3001,3003,60000-65535"),
    ]))
    .unwrap();
    let keyed = Settings::load(&Env::from_pairs([
        ("KNOCKD_ROTATOR_SECRET", SECRET),
        ("KNOCKD_ROTATOR_ALGORITHM", "hmac-sha256"),
    ]))
    .unwrap();
    println!("\n[derive] in process, 10-knock sequences");
    for (name, s) in [
        ("legacy range", &settings),
        ("port list", &list),
        ("hmac-sha256", &keyed),
    ] {
        let n = 200_000u64;
        let t0 = Instant::now();
        let mut sink = 0u64;
        for p in 0..n {
            let seq = s.derive(p * 21600, b"ssh_ROTATOR").unwrap();
            sink = sink.wrapping_add(u64::from(seq[0].port));
        }
        let dt = t0.elapsed();
        std::hint::black_box(sink);
        println!(
            "  {name:<13} {:>10.0} sequences/s  {:>6.0} ns/sequence  {:>10.0} knocks/s",
            n as f64 / dt.as_secs_f64(),
            dt.as_nanos() as f64 / n as f64,
            (n * 10) as f64 / dt.as_secs_f64()
        );
    }
}

/// The knock figures need a host that drops every knock: a private network
/// namespace with its own firewall, entered by re-running this benchmark
/// under `unshare --net` (root).
fn bench_knock() {
    println!("\n[knock] 10 knocks to 127.0.0.1, every knock port dropped by iptables");
    let me = std::env::current_exe().unwrap();
    let status = Command::new("unshare")
        .arg("--net")
        .arg(me)
        .env("KR_BENCH_INNER", "knock")
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        println!("  failed: needs root, unshare, iptables and knockd's knock ({status:?})");
    }
}

fn sh(cmd: &str) {
    let ok = Command::new("sh")
        .args(["-c", cmd])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "{cmd}");
}

fn knock_inner() {
    sh("ip link set lo up");
    sh("PATH=$PATH:/usr/sbin:/sbin; iptables -A INPUT -i lo -p tcp --dport 1024:65535 -j DROP");
    let bin = std::env::var("KNOCK_ROTATOR_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_knock-rotator").into());
    let env = [("KNOCKD_ROTATOR_SECRET", SECRET)];
    let out = Command::new(&bin)
        .args(["generate", "ssh"])
        .env_clear()
        .envs(env)
        .output()
        .unwrap();
    let seq: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(|s| s.to_string())
        .collect();
    let n = 200;
    let row = |label: &str, prog: &str, args: Vec<String>| {
        let s = repeat(n, prog, &args, &env);
        println!(
            "  {label:<46} median {:>8.3} ms  p95 {:>8.3} ms",
            ms(s.median),
            ms(s.p95)
        );
        s.median
    };
    let ours = |extra: &[&str]| {
        let mut a = vec!["knock".to_string(), "127.0.0.1".into(), "ssh".into()];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let classic = |delay: &str| {
        let mut a = vec!["-d".to_string(), delay.into(), "127.0.0.1".into()];
        a.extend(seq.iter().cloned());
        a
    };
    let o0 = row(
        "knock-rotator knock HOST ssh --delay 0",
        &bin,
        ours(&["--delay", "0"]),
    );
    let k0 = row(
        "knockd's knock -d 0 HOST (same 10 ports)",
        "knock",
        classic("0"),
    );
    let od = row(
        "knock-rotator knock HOST ssh (default 10 ms)",
        &bin,
        ours(&[]),
    );
    let kd = row(
        "knockd's knock -d 10 HOST (same 10 ports)",
        "knock",
        classic("10"),
    );
    println!(
        "  difference at equal delay: {:+.3} ms at 0 ms, {:+.3} ms at 10 ms (target: within 2 ms)",
        ms(o0) - ms(k0),
        ms(od) - ms(kd)
    );
    println!(
        "  speed-up over the original's ~11 s at the default delay: {:.0}x (target: >= 50x)",
        11.0 / od.as_secs_f64()
    );
}

/// rotate on a generated knockd.conf of 5000 rotator doors: the whole
/// process (read, check, derive 5000 sequences, write, fsync, rename).
fn bench_rotate() {
    let dir = std::env::temp_dir().join(format!("kr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("knockd.conf");
    let mut text = String::from("[options]\n\tLogFile = /var/log/knockd.log\n");
    for i in 0..5000 {
        text.push_str(&format!(
            "[door{i}_ROTATOR]\n\tsequence = 1:tcp\n\tseq_timeout = 15\n\ttcpflags = syn\n\t\
             start_command = /sbin/iptables -I INPUT -s %IP% -p tcp --dport {p} -j ACCEPT\n\tcmd_timeout = 30\n\t\
             stop_command = /sbin/iptables -D INPUT -s %IP% -p tcp --dport {p} -j ACCEPT\n",
            p = 1000 + i % 60000
        ));
    }
    std::fs::write(&conf, &text).unwrap();
    let bin = std::env::var("KNOCK_ROTATOR_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_knock-rotator").into());
    let env = [("KNOCKD_ROTATOR_SECRET", SECRET)];
    let n = 40;
    let mut times = Vec::new();
    for i in 0..n + 3 {
        // A new period each run, so every run rewrites all 5000 doors.
        let at = (1_800_000_000u64 + i as u64 * 21600).to_string();
        let args = [
            "rotate",
            "--no-reload",
            "--no-boundary-run",
            "--at",
            &at,
            "--config",
            conf.to_str().unwrap(),
        ];
        let t = measure(&bin, &args, &env);
        if i >= 3 {
            times.push(t);
        }
    }
    times.sort();
    let size = std::fs::metadata(&conf).unwrap().len();
    println!(
        "\n[rotate] 5000 rotator doors, {} KiB file, every door rewritten each run, {n} runs",
        size / 1024
    );
    println!(
        "  knock-rotator rotate --no-reload  median {:>7.2} ms  p95 {:>7.2} ms  (target: < 50 ms)",
        ms(times[n / 2]),
        ms(times[n * 95 / 100])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
