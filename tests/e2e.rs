//! End-to-end tests with real parts: each `tests/e2e/NAME.sh` runs as root
//! in private network and mount namespaces against a real knockd, iptables
//! and dnsmasq, driving the real binary. A missing component or privilege
//! is a failure with a message, never a skip.

mod common;

use common::mutate::{Rng, mutate};
use knock_rotator::{Env, Settings};
use knock_rotator::{knockd_conf, rotation};

use std::path::Path;

fn script(name: &str, tools: &[&str]) {
    common::e2e(name, tools, &[]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn knock_opens_door_over_ipv4_and_ipv6() {
    script("knock_families", &[]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn knock_classic_form() {
    script("knock_classic", &[]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn knock_check_and_retry() {
    script("knock_check", &["python3"]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn knock_resolves_through_termux_resolv_conf() {
    script("knock_dns", &["dnsmasq", "mount"]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn knock_raw_segments() {
    script("knock_raw", &["setpriv"]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn ssh_knocks_through_proxy_command() {
    script(
        "ssh",
        &["sshd", "ssh", "scp", "sftp", "ssh-keygen", "mount", "pgrep"],
    );
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn knock_never_straddles_a_rotation() {
    script("knock_boundary", &["python3"]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn knock_boundary_window() {
    script("knock_window", &[]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn rotate_reloads_knockd() {
    script("rotate_reload", &[]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn rotate_v3_list_and_port_65536() {
    script("rotate_v3", &["sha256sum"]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn rotate_doors_per_person() {
    script("rotate_doors", &["python3"]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn rotate_watch_keeps_knocks_working() {
    script("rotate_watch", &[]);
}

/// The editor's reading of knockd.conf agrees with knockd's own: on the
/// corpus, on knockd's quirks, on mutated files (both ways), and knockd
/// accepts every file rotate writes.
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn knockd_agrees_with_the_editor() {
    let work = common::TempDir::new("agree");
    let dir = work.path();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let settings = Settings::load(&Env::from_pairs([(
        "KNOCKD_ROTATOR_SECRET",
        common::SECRET,
    )]))
    .unwrap();
    let seeds = ["tabs.conf", "crlf.conf", "latin1.conf", "names.conf"];
    let mut rng = Rng(0xa9ee_5eed);
    let (mut ours_accept, mut ours_refuse) = (0, 0);
    for i in 0..120 {
        let text = if i < seeds.len() {
            std::fs::read(corpus.join(seeds[i])).unwrap()
        } else {
            mutate(
                &std::fs::read(corpus.join(seeds[i % seeds.len()])).unwrap(),
                &mut rng,
            )
        };
        let probe = dir.join(format!("probe{i}"));
        std::fs::write(&probe, &text).unwrap();
        let verdict = knockd_conf::parse(&text, &|_| Err("missing".into())).is_ok();
        let name = format!("m{i}.{}", if verdict { "accept" } else { "refuse" });
        std::fs::rename(&probe, dir.join(&name)).unwrap();
        if verdict {
            ours_accept += 1;
        } else {
            ours_refuse += 1;
        }
        // What rotate would write must start too.
        let file = dir.join(format!("in{i}"));
        std::fs::write(&file, &text).unwrap();
        if let Ok(plan) =
            rotation::load(&file).and_then(|l| rotation::plan(&settings, &l, 1_800_000_000, 0))
        {
            std::fs::write(dir.join(format!("r{i}.accept")), &plan.new_text).unwrap();
        }
        std::fs::remove_file(&file).unwrap();
    }
    assert!(
        ours_accept > 20 && ours_refuse > 20,
        "{ours_accept} / {ours_refuse}"
    );
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/knockd.conf.example");
    std::fs::copy(&example, dir.join("example.accept")).unwrap();
    // knockd's quirks, each checked by hand against knockd 0.8 once.
    let quirks: &[(&str, bool)] = &[
        ("[d]\nsequence = abc\n", true),
        ("[d]\nsequence = 1,,2\n", true),
        ("[d]\nsequence = 1:tcp:x\n", true),
        ("[d]\nsequence =\n", true),
        ("[ a b ]\r\nsequence = 1\r\n", true),
        ("[d]\nsequence = 1\nUseSyslog\n", true),
        ("[d]\nsequence = 65536\n", false),
        ("[d]\nsequence = 1:\n", false),
        ("[d]\nsequence = 1\ntcpflags = syn, ack\n", false),
        ("[options]\nUseSyslog = yes\n", false),
        ("[d\nsequence = 1\n", false),
        ("[Options]\nLogFile = /dev/null\n", false),
        ("[d]\nsequence = 1\ntarget = host.invalid\n", false),
    ];
    for (i, (text, ok)) in quirks.iter().enumerate() {
        assert_eq!(
            knockd_conf::parse(text.as_bytes(), &|_| Err("missing".into())).is_ok(),
            *ok,
            "quirk {i}"
        );
        std::fs::write(
            dir.join(format!("q{i}.{}", if *ok { "accept" } else { "refuse" })),
            text,
        )
        .unwrap();
    }
    common::e2e(
        "knockd_agrees",
        &["timeout"],
        &[("CHECK_DIR", dir.as_os_str())],
    );
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn a_local_attacker_cannot_stall_or_misdirect_rotation() {
    script("local_attacker", &["setpriv", "flock", "python3", "mkfifo"]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn the_secret_reaches_no_child_no_proc_file_no_core() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
    common::e2e(
        "secret_exposure",
        &["strace", "python3", "pgrep"],
        &[("DIST", dist.as_os_str())],
    );
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn knock_refuses_a_hostile_dns_server() {
    script("knock_dns_hostile", &["python3", "mount"]);
}

/// The nftables backend against the real kernel: our knock and knockd's
/// classic one over IPv4 and IPv6, resets, repeats, the wrong protocol,
/// seq_timeout, ordered sweeps, grace, knocks across a boundary every
/// 10 ms, an established connection through rotations and open_for,
/// `--remove` beside a host table (tests/e2e/nft_doors.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn nftables_doors_open_as_strictly_as_knockd() {
    script("nft_doors", &["nft", "python3", "knock", "mkfifo"]);
}

/// The nftables backend beside a host firewall: fw4's ruleset with its
/// include (reload, restart), watch mode after a flush and a deletion by
/// hand, Debian's nftables.conf on reload and restart
/// (tests/e2e/nft_hosts.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn nftables_doors_survive_host_firewall_reloads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fw4 = root.join("tests/fw4");
    common::e2e(
        "nft_hosts",
        &["nft", "python3", "mount"],
        &[("FW4", fw4.as_os_str()), ("SRC", root.as_os_str())],
    );
}

/// The nftables backend's bad input and faults: a doors file with errors,
/// knockd's options, a missing nft, nft refusing the transaction, a table
/// deleted by hand, a full allow set; one-line errors, nothing
/// half-applied, the host's table untouched (tests/e2e/nft_faults.sh).
/// One use per period: a replay from another source opens nothing, after a
/// re-apply, a flush and restore, and a rotation (tests/e2e/nft_one_use.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn nftables_one_use_refuses_a_replayed_knock() {
    script("nft_one_use", &["nft", "python3"]);
}

/// The single-packet knock: each token opens once, in its window only
/// (tests/e2e/nft_token.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn nftables_token_opens_once() {
    script("nft_token", &["nft", "python3"]);
}

/// A day of sequences ahead: a 60 s door keeps opening 200 periods after
/// its last rotation; one use holds (tests/e2e/nft_ahead.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn nftables_ahead_doors_open_for_a_day() {
    script("nft_ahead", &["nft", "python3"]);
}

/// Per-source limits on knock attempts, and a flood of spoofed sources at
/// the rate set's size limit (tests/e2e/nft_flood.sh).
#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn nftables_rate_limits_fail_closed_and_recover() {
    script("nft_flood", &["nft", "python3"]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn nftables_faults_are_clear_and_change_nothing() {
    script("nft_faults", &["nft", "python3"]);
}
