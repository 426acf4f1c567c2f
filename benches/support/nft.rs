//! The nftables backend's figures, beside knockd's, in a private network
//! namespace (the benchmark runs itself again under `unshare --net`):
//! time from the last knock to an accepted connection with knockd (its
//! capture and a start_command that adds an iptables rule) and with
//! nftables; apply, re-apply and status for 1, 100 and 1000 doors with all
//! installed periods; objects and elements per door; the cost of a packet
//! with 1 and with 1000 doors installed; a day of 60 s tokens for 100
//! doors, and the floor of a day of sequences for as many.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{ms, sh};

const SECRET: &str = "correct horse battery staple";

fn bin() -> String {
    std::env::var("KNOCK_ROTATOR_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_knock-rotator").into())
}

/// `rotate --backend nftables` of the doors file `file`, with `extra`.
fn install(file: &str, extra: &[&str]) -> (Duration, String) {
    let mut args = vec![
        "rotate",
        "--backend",
        "nftables",
        "--doors-file",
        file,
        "--no-boundary-run",
    ];
    args.extend_from_slice(extra);
    run(&args, &[])
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (Duration, String) {
    let t = Instant::now();
    let out = Command::new(bin())
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}");
    (
        t.elapsed(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

pub fn inner() {
    sh("ip link set lo up");
    let dir = std::env::temp_dir().join(format!("kr-bench-nft-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    sh("mkdir -p /run/knock-rotator && mount -t tmpfs -o mode=0700 tmpfs /run/knock-rotator");
    let secret = dir.join("secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let doors = |n: usize| {
        let p = dir.join(format!("doors{n}"));
        let mut f = std::fs::File::create(&p).unwrap();
        for i in 0..n {
            writeln!(f, "[d{i}]\nsecret_file = secret\nopen = 22/tcp\n").unwrap();
        }
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p.to_string_lossy().into_owned()
    };
    latency(&doors(1));
    println!(
        "\n[nftables] apply and status, 10-knock doors, previous/current/next periods installed"
    );
    sh("nft flush ruleset");
    packets(0);
    for n in [1, 100, 1000] {
        let file = doors(n);
        sh("nft flush ruleset");
        let (first, _) = install(&file, &["-q"]);
        let (again, _) = install(&file, &["-q"]);
        let (status, _) = run(
            &["status", "--backend", "nftables", "--doors-file", &file],
            &[],
        );
        let (_, text) = run(
            &[
                "rotate",
                "--backend",
                "nftables",
                "--doors-file",
                &file,
                "--dry-run",
                "--show-sequences",
            ],
            &[],
        );
        let summary = text
            .lines()
            .last()
            .unwrap_or("")
            .trim_start_matches("# ")
            .to_string();
        println!(
            "  {n:>5} doors: apply {:>7.1} ms, re-apply {:>7.1} ms, status {:>7.1} ms (targets at 1000: 1 s each); {summary}",
            ms(first),
            ms(again),
            ms(status)
        );
        if n == 1000 {
            per_door(&summary);
        }
        packets(n);
    }
    day_of_tokens(&dir);
    sh("nft flush ruleset");
    day_of_ahead(&dir);
    sh("nft flush ruleset");
    day_of_sequences();
    sh("nft flush ruleset");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Kernel memory in slabs and per-CPU areas, in KiB (sets live there).
fn kernel_kib() -> u64 {
    let info = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    info.lines()
        .filter(|l| l.starts_with("Slab:") || l.starts_with("Percpu:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

/// 100 token doors of 60 s periods: a day of tokens installed ahead.
fn day_of_tokens(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("doors-day");
    let mut f = std::fs::File::create(&p).unwrap();
    for i in 0..100 {
        writeln!(
            f,
            "[t{i}]\nsecret_file = secret\nperiod = 60\nopen = 22/tcp\nknock = token\ntoken_port = 4444\n"
        )
        .unwrap();
    }
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    let file = p.to_string_lossy();
    println!("\n[nftables] a day of 60 s periods ahead, 100 token doors (1442 tokens each)");
    sh("nft flush ruleset");
    let now = day_apply(&file, 60);
    let day = wrong_tokens();
    sh("nft flush ruleset");
    println!("  in watch mode: {}", watch_first(&file));
    sh("nft flush ruleset");
    let few = p.with_file_name("doors-6h");
    std::fs::write(
        &few,
        std::fs::read_to_string(&p)
            .unwrap()
            .replace("period = 60", "period = 21600"),
    )
    .unwrap();
    std::fs::set_permissions(&few, std::fs::Permissions::from_mode(0o600)).unwrap();
    let few = few.to_string_lossy();
    install(&few, &["-q"]);
    let six = wrong_tokens();
    println!(
        "  {day:.2} us per wrong token at the token port with the day installed, {six:.2} us with 6 h periods (6 tokens a door); 400 sources, best of 3 x 20000"
    );
    sh("nft flush ruleset");
    install(&file, &["--at", &now.to_string()]);
    packets(100);
}

/// First apply of a day's periods ahead (doors file `file`) now, the next
/// period's, a re-apply and status: times, kernel memory; now.
fn day_apply(file: &str, period: u64) -> u64 {
    // The kernel frees a flushed table's elements after the flush returns:
    // not while this measures.
    std::thread::sleep(Duration::from_secs(2));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at = |t: u64| t.to_string();
    let rotate = |t: u64| install(file, &["--at", &at(t)]);
    let before = kernel_kib();
    let (first, out) = rotate(now);
    let after = kernel_kib();
    let (next, _) = rotate(now + period);
    let (again, _) = rotate(now + period);
    let (status, _) = run(
        &[
            "status",
            "--backend",
            "nftables",
            "--doors-file",
            file,
            "--at",
            &at(now + period),
        ],
        &[],
    );
    println!(
        "  first apply {:>7.1} ms (target 1 s), next period {:>6.1} ms, re-apply {:>6.1} ms, status {:>6.1} ms",
        ms(first),
        ms(next),
        ms(again),
        ms(status)
    );
    println!(
        "  kernel memory +{:.1} MiB (slab and per-CPU, whole machine); {}",
        after.saturating_sub(before) as f64 / 1024.0,
        out.trim()
            .rsplit("(")
            .next()
            .unwrap_or("")
            .trim_end_matches(')')
    );
    now
}

/// 100 sequence doors of 60 s periods with `ahead = yes`: a day of their
/// sequences installed ahead, as hash chains (chained.rs).
fn day_of_ahead(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let doors = |period: u64| {
        let p = dir.join(format!("doors-ahead-{period}"));
        let mut text = String::new();
        for i in 0..100 {
            text.push_str(&format!(
                "[a{i}]\nsecret_file = secret\nperiod = {period}\nproto_modulo = 2\nopen = 22/tcp\nahead = yes\n\n"
            ));
        }
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p.to_string_lossy().into_owned()
    };
    let file = doors(60);
    println!(
        "\n[nftables] a day of 60 s periods ahead, 100 sequence doors of 10 knocks (TCP and UDP) with ahead = yes (1442 periods each)"
    );
    sh("nft flush ruleset");
    day_apply(&file, 60);
    // Knock datagrams at a door's current first knock (the first door
    // whose first knock is UDP): each source's first starts an attempt,
    // the rest move its chains on and are checked.
    let env = [
        ("KNOCKD_ROTATOR_SECRET", SECRET),
        ("KNOCKD_ROTATOR_PERIOD_MODULO", "60"),
        ("KNOCKD_ROTATOR_PROTO_MODULO", "2"),
    ];
    let first_knock = |env: &[(&str, &str)]| {
        (0..100)
            .find_map(|i| {
                let (_, seq) = run(&["generate", &format!("a{i}")], env);
                let k = seq.split_whitespace().next()?.to_string();
                let (port, proto) = k.split_once(':')?;
                (proto == "udp").then(|| port.parse::<u16>().ok())?
            })
            .expect("some door's first knock is UDP")
    };
    let day = knock_cost(first_knock(&env));
    sh("nft flush ruleset");
    install(&doors(21600), &["-q"]);
    let env6 = [
        ("KNOCKD_ROTATOR_SECRET", SECRET),
        ("KNOCKD_ROTATOR_PERIOD_MODULO", "21600"),
        ("KNOCKD_ROTATOR_PROTO_MODULO", "2"),
    ];
    let six = knock_cost(first_knock(&env6));
    println!(
        "  {day:.2} us per knock packet with the day installed, {six:.2} us with 6 h periods (6 a door); 400 sources, best of 3 x 20000"
    );
    println!(
        "\n[nftables] a day of 30 s periods ahead, the same 100 doors with period = 30 (2882 periods each)"
    );
    sh("nft flush ruleset");
    day_apply(&doors(30), 30);
    sh("nft flush ruleset");
}

/// The cost of knock datagrams to `port` from 400 sources, 50 each (in
/// their rate limit).
fn knock_cost(port: u16) -> f64 {
    let n = 20_000;
    let mut best = Duration::MAX;
    let txs: Vec<UdpSocket> = (0..400)
        .map(|i| UdpSocket::bind(format!("127.1.{}.{}:0", i / 200, i % 200 + 1)).unwrap())
        .collect();
    for _ in 0..3 {
        sh("nft flush set inet knock_rotator rate4");
        let t = Instant::now();
        for i in 0..n {
            let _ = txs[i % txs.len()].send_to(b"x", ("127.0.0.1", port));
        }
        best = best.min(t.elapsed());
    }
    best.as_secs_f64() * 1e6 / n as f64
}

/// What a day of 60 s periods would cost sequence doors (100 doors of 10
/// knocks, 1442 periods each) at the least: every sequence derived, and
/// one element per step (window key . protocol . port, with a timeout as
/// tokens have, then without) added over netlink in batches of 1000 to
/// one hash set of a scratch table, with no rule and no other set. The
/// backend keeps three periods of sequences; this is the floor any layout
/// of a day of them would pay.
fn day_of_sequences() {
    use knock_rotator::{Env, Settings};
    let (doors, periods) = (100u32, 1442u64);
    println!(
        "\n[nftables] the floor of a day of 60 s sequences ahead, {doors} doors of 10 knocks ({periods} periods each)"
    );
    let s = Settings::load(&Env::from_pairs([
        ("KNOCKD_ROTATOR_SECRET", SECRET),
        ("KNOCKD_ROTATOR_PERIOD_MODULO", "60"),
    ]))
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60;
    let t = Instant::now();
    let mut elems: Vec<([u8; 12], u64)> =
        Vec::with_capacity((doors as u64 * periods * 10) as usize);
    for d in 0..doors {
        let name = format!("d{d}");
        for j in now - 1..now - 1 + periods {
            let Ok(seq) = s.derive(j * 60, name.as_bytes()) else {
                continue;
            };
            for k in seq {
                let mut e = [0u8; 12];
                e[..4].copy_from_slice(&(d << 12 | (j & 0xfff) as u32).to_ne_bytes());
                e[4] = if k.proto.as_str() == "tcp" { 6 } else { 17 };
                e[8..10].copy_from_slice(&k.port.to_be_bytes());
                elems.push((e, (j + 2 - now) * 60));
            }
        }
    }
    let derived = t.elapsed();
    println!(
        "  derive {} sequences {:>6.1} ms",
        elems.len() / 10,
        ms(derived)
    );
    // With element timeouts (a resizable hash, as tokens have), and
    // without (a fixed-size hash: rotations would have to delete them).
    for (how, flags) in [("with timeouts", "flags timeout; "), ("no timeouts", "")] {
        if flags.is_empty() {
            elems.iter_mut().for_each(|e| e.1 = 0);
        }
        sh(&format!(
            "nft add table inet kr_floor && nft add set inet kr_floor s \
             '{{ typeof meta priority . meta l4proto . th dport; {flags}size {}; }}'",
            elems.len()
        ));
        let before = kernel_kib();
        let t = Instant::now();
        knock_rotator::nft_netlink::add("kr_floor", "s", &elems).unwrap();
        let added = t.elapsed();
        let after = kernel_kib();
        println!(
            "  {how:<13}: add {} elements {:>7.1} ms ({:.2} us each), with the derivation {:>7.1} ms (target 1 s); kernel memory +{:.1} MiB",
            elems.len(),
            ms(added),
            added.as_secs_f64() * 1e6 / elems.len() as f64,
            ms(derived + added),
            after.saturating_sub(before) as f64 / 1024.0
        );
        sh("nft delete table inet kr_floor");
        // The deleted table's memory is freed after an RCU grace period.
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// `rotate --watch` of `file` on an empty ruleset: its first rotation's
/// line, from "applied in" (watch mode's ear on the ruleset is there
/// before and after it, not during it).
fn watch_first(file: &str) -> String {
    use std::io::BufRead;
    let mut child = Command::new(bin())
        .args([
            "rotate",
            "--watch",
            "--backend",
            "nftables",
            "--doors-file",
            file,
        ])
        .env_clear()
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let line = out
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split_once("applied in ")
                .map(|(_, r)| r.trim_end_matches(')').to_string())
        })
        .unwrap_or_else(|| "no rotation".into());
    let _ = child.kill();
    let _ = child.wait();
    format!("first apply's transactions {line}")
}

/// Sets, chains and rules do not grow with the doors; elements do.
fn per_door(summary: &str) {
    let num = |word: &str| -> f64 {
        let w: Vec<&str> = summary
            .split([' ', ',', ':'])
            .filter(|s| !s.is_empty())
            .collect();
        w.iter()
            .position(|x| *x == word)
            .and_then(|i| w.get(i.wrapping_sub(1)))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let doors = num("doors");
    println!(
        "  per door at 1000 doors: {:.3} objects (sets + chains + rules, the same at any count), {:.1} elements",
        (num("sets") + num("chains") + num("rules")) / doors,
        num("elements") / doors
    );
}

/// The cost of a datagram with a wrong token at the token port, which walks
/// every lookup; 400 sources (127/8 is all local), 50 datagrams each, stay
/// inside their rate limit.
fn wrong_tokens() -> f64 {
    let txs: Vec<UdpSocket> = (0..400)
        .map(|i| UdpSocket::bind(format!("127.1.{}.{}:0", i / 200, i % 200 + 1)).unwrap())
        .collect();
    let n = 20_000;
    let mut best = Duration::MAX;
    for _ in 0..3 {
        sh("nft flush set inet knock_rotator rate4");
        let t = Instant::now();
        for i in 0..n {
            let mut wrong = [0u8; 16];
            wrong[..4].copy_from_slice(&(i as u32).to_le_bytes());
            let _ = txs[i % txs.len()].send_to(&wrong, "127.0.0.1:4444");
        }
        best = best.min(t.elapsed());
    }
    best.as_secs_f64() * 1e6 / n as f64
}

/// The cost of a packet that our chains look at: UDP datagrams to a port no
/// door uses, sent on lo (their input path runs in the sender's time).
fn packets(doors: usize) {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = rx.local_addr().unwrap();
    let n = 20_000;
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..n {
            let _ = tx.send_to(b"x", to);
        }
        best = best.min(t.elapsed());
    }
    println!(
        "  {doors:>5} doors: {:.2} us per new UDP datagram to a port no door uses (sent on lo, best of 3 x {n}; 0 doors: no table)",
        best.as_secs_f64() * 1e6 / f64::from(n)
    );
}

/// From the moment the knock client exits (its last knock sent) to the
/// first accepted connection to port 22, which is dropped until the door
/// opens; knockd's way and ours, each reset between tries.
fn latency(doors1: &str) {
    let listener = TcpListener::bind("127.0.0.1:22").unwrap();
    let addr: SocketAddr = "127.0.0.1:22".parse().unwrap();
    let env = [("KNOCKD_ROTATOR_SECRET", SECRET)];
    let (_, seq) = run(&["generate", "d0", "--format", "knockd"], &env);
    let conf = std::env::temp_dir().join(format!("kr-bench-knockd-{}.conf", std::process::id()));
    let log = conf.with_extension("log");
    std::fs::write(
        &conf,
        format!(
            "[options]\n\tLogFile = {}\n[d0]\n\tsequence = {}\n\tseq_timeout = 10\n\ttcpflags = syn\n\t\
             start_command = /usr/sbin/iptables -I INPUT -s %IP% -p tcp --dport 22 -j ACCEPT\n",
            log.display(),
            seq.trim()
        ),
    )
    .unwrap();
    let logged = || std::fs::read_to_string(&log).unwrap_or_default();
    // `send` knocks and says when the clock starts.
    let time_to_open = |reset: &str, send: &dyn Fn() -> Instant| -> Vec<Duration> {
        let mut v = Vec::new();
        for _ in 0..30 {
            sh(reset);
            let t = send();
            while TcpStream::connect_timeout(&addr, Duration::from_millis(1)).is_err() {
                assert!(
                    t.elapsed() < Duration::from_secs(5),
                    "the door did not open: {}",
                    logged()
                );
            }
            v.push(t.elapsed());
            while listener.set_nonblocking(true).is_ok() && listener.accept().is_ok() {}
        }
        v.sort();
        v
    };
    println!("\n[nftables] last knock to an accepted connection (30 tries each)");
    sh(
        "PATH=$PATH:/usr/sbin:/sbin; iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT; iptables -A INPUT -i lo -p tcp --dport 22 -j DROP; iptables -A INPUT -i lo -p tcp --dport 1024:65535 -j DROP",
    );
    let pid = std::env::temp_dir().join("kr-bench-knockd.pid");
    sh(&format!(
        "knockd -d -i lo -c {} -p {}; sleep 1",
        conf.display(),
        pid.display()
    ));
    let client = |knock: &'static [&'static str]| {
        move || {
            run(knock, &env);
            Instant::now()
        }
    };
    let sequence = client(&["knock", "127.0.0.1", "d0"]);
    let k = time_to_open(
        "PATH=$PATH:/usr/sbin:/sbin; while iptables -D INPUT -s 127.0.0.1/32 -p tcp --dport 22 -j ACCEPT 2>/dev/null; do :; done",
        &sequence,
    );
    sh(&format!(
        "kill $(cat {}); PATH=$PATH:/usr/sbin:/sbin; iptables -F INPUT",
        pid.display()
    ));
    let _ = install(doors1, &["-q"]);
    // Each try starts afresh: the allowed sources, the source's rate limit
    // (30 knocks in a row would exceed it) and, for tokens, the used ones.
    let reset = "for s in rate4 tused $(nft list table inet knock_rotator | sed -n 's/.*set \\(a4_[0-9a-f]*\\).*/\\1/p'); do nft flush set inet knock_rotator $s 2>/dev/null; done; true";
    let n = time_to_open(reset, &sequence);
    let tokens = std::path::Path::new(doors1).with_file_name("doors-token");
    std::fs::write(
        &tokens,
        "[d0]\nsecret_file = secret\nopen = 22/tcp\nknock = token\ntoken_port = 4444\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600)).unwrap();
    install(&tokens.to_string_lossy(), &["-q"]);
    let t = time_to_open(
        reset,
        &client(&["knock", "--token", "4444", "127.0.0.1", "d0"]),
    );
    // The same datagram sent by this process. On loopback the kernel runs
    // the datagram's whole input path (our table included) before
    // send_to returns: the send's time bounds the door's opening, and a
    // first connect that gets in shows the door was open by then.
    let (_, hex) = run(&["generate", "d0", "--format", "token"], &env);
    let token: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&hex.trim()[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (mut sends, mut first) = (Vec::new(), 0);
    for _ in 0..30 {
        sh(reset);
        let t = Instant::now();
        udp.send_to(&token, "127.0.0.1:4444").unwrap();
        sends.push(t.elapsed());
        if TcpStream::connect_timeout(&addr, Duration::from_millis(1)).is_ok() {
            first += 1;
        }
        while listener.set_nonblocking(true).is_ok() && listener.accept().is_ok() {}
    }
    sends.sort();
    for (label, v) in [
        ("knockd 0.8 + iptables start_command", &k),
        ("nftables backend, 10-knock sequence", &n),
        ("nftables backend, token (one datagram)", &t),
    ] {
        println!(
            "  {label:<40} median {:>8.3} ms  p95 {:>8.3} ms",
            ms(v[v.len() / 2]),
            ms(v[v.len() * 95 / 100])
        );
    }
    println!(
        "  the token's send_to, in process (the door opens within it) median {:>8.3} ms  p95 {:>8.3} ms; \
         the first connect after it got in {first}/30",
        ms(sends[sends.len() / 2]),
        ms(sends[sends.len() * 95 / 100])
    );
    let _ = std::fs::remove_file(&conf);
    let _ = std::fs::remove_file(&log);
}
