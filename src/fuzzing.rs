//! Entry points for the cargo-fuzz targets in fuzz/ (feature `fuzzing`):
//! each takes the fuzzer's bytes, runs one parser as the program would, and
//! panics when an invariant fails. Not API: built only for fuzzing.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use crate::applet::{APPLETS, Ctx, PARSE_ONLY};
use crate::client::dns_wire::{self, Answer, TYPE_A, TYPE_AAAA};
use crate::client::resolve::{hosts_in, nameservers_in};
use crate::derive::ports::PortSet;
use crate::env::Env;
use crate::number::parse_number;
use crate::secret::{self, Secret};
use crate::server::doors::Doors;
use crate::server::knockd::conf::{self as knockd_conf, Conf};
use crate::server::knockd::edit_contract::only_values_changed;
use crate::server::knockd::rotation::{self, Loaded};
use crate::settings::{KEYS, Settings};
use crate::settings_file::{self, SectionSource, SettingsFile};

const NOW: u64 = 1_800_000_000;
const SECRET: &str = "fuzzing secret: 7f3a9c1e5b2d8a4f6e0c";

fn loaded(text: Vec<u8>, conf: Conf) -> Loaded {
    Loaded {
        path: PathBuf::from("/fuzz/knockd.conf"),
        text,
        meta: std::fs::metadata("/").expect("metadata of /"),
        conf,
    }
}

/// knockd.conf: either refused (for a reason of the file, not a bug), or a
/// rotation changes only rotator `sequence` values, reads back, and a
/// second pass changes nothing.
pub fn knockd_conf(data: &[u8]) {
    let Ok(conf) = knockd_conf::parse(data, &|_| Err("no such file".into())) else {
        return;
    };
    let env = Env::from_pairs([("KNOCKD_ROTATOR_SECRET", SECRET)]);
    let settings = Settings::load(&env).expect("fixed settings");
    let doors = Doors::uniform(&settings);
    let first = loaded(data.to_vec(), conf);
    // plan() checks the editor's contract itself and refuses, saying
    // "(a bug)", when it fails: a refusal of that kind is a finding.
    let plan = match rotation::plan(&doors, &first, NOW, 0) {
        Ok(plan) => plan,
        Err(e) => {
            assert!(!e.message().contains("(a bug)"), "{}", e.message());
            return;
        }
    };
    assert!(only_values_changed(
        &first.text,
        &first.conf,
        &plan.new_text
    ));
    let conf = knockd_conf::parse(&plan.new_text, &|_| Err("no such file".into()))
        .expect("the rotated file reads back");
    let second = loaded(plan.new_text.clone(), conf);
    let again = rotation::plan(&doors, &second, NOW, 0).expect("a second pass plans");
    assert_eq!(
        again.new_text, plan.new_text,
        "a second pass changed the file"
    );
}

/// A DNS reply to our question: never an address unless the reply carries
/// our question, and only of the family asked.
pub fn dns_reply(data: &[u8]) {
    let (Some(&pick), Some(buf)) = (data.first(), data.get(1..)) else {
        return;
    };
    let qtype = if pick & 1 == 0 { TYPE_A } else { TYPE_AAAA };
    let name = ["a.example", "Mixed-Case.example.org", "c"][usize::from(pick >> 1) % 3];
    // The reply's own id, so that most inputs get past that check.
    let id = buf.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    if let Ok(Answer::Addrs(addrs)) = dns_wire::parse_response(buf, id, name, qtype) {
        let (qname, end) = oracle_name(buf, 12).expect("addresses from a reply without a question");
        assert!(
            qname.eq_ignore_ascii_case(name.as_bytes()),
            "addresses from a reply to another question"
        );
        assert_eq!(buf.get(end..end + 2), Some(&qtype.to_be_bytes()[..]));
        assert!(
            addrs.iter().all(|a| a.is_ipv4() == (qtype == TYPE_A)),
            "an address of the other family"
        );
    }
}

/// A name at `at`, dotted, and where what follows it starts: written apart
/// from dns_wire's reader, as the oracle it is checked against (labels, and
/// pointers followed at most 64 times).
fn oracle_name(buf: &[u8], mut at: usize) -> Option<(Vec<u8>, usize)> {
    let (mut out, mut end) = (Vec::new(), None);
    for _ in 0..64 {
        let len = usize::from(*buf.get(at)?);
        match len {
            0 => return Some((out, end.unwrap_or(at + 1))),
            1..=63 => {
                if !out.is_empty() {
                    out.push(b'.');
                }
                out.extend_from_slice(buf.get(at + 1..at + 1 + len)?);
                at += 1 + len;
            }
            0xc0..=0xff => {
                end.get_or_insert(at + 2);
                at = (len & 0x3f) << 8 | usize::from(*buf.get(at + 1)?);
            }
            _ => return None,
        }
    }
    None
}

/// resolv.conf and hosts text: servers on port 53, and only addresses that
/// a line gives the name.
pub fn resolv_hosts(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    assert!(nameservers_in(&text).iter().all(|s| s.port() == 53));
    let found = hosts_in(&text, "router.lan");
    if !found.is_empty() {
        assert!(text.to_ascii_lowercase().contains("router.lan"));
    }
}

/// KNOCKD_ROTATOR_PORTS and numbers: what parses stays in range, and a
/// port list's canonical form parses to the same list.
pub fn ports(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = PortSet::parse("KNOCKD_ROTATOR_PORTS", &text) {
        let n = p.len();
        assert!(n > 0);
        for i in [0, n / 2, n - 1] {
            assert!(p.nth(i) <= 65536);
        }
        let again = PortSet::parse("canonical", &p.canonical()).expect("the canonical form parses");
        assert_eq!((again.len(), again.canonical()), (n, p.canonical()));
    }
    let (min, max) = (u64::from(data.first().copied().unwrap_or(0)), 1 << 20);
    if let Ok(v) = parse_number(&text, min, max) {
        assert!((min..=max).contains(&v));
    }
}

/// The settings from the environment: lines of `K=VALUE`, K a byte that
/// picks one of the variables. Never a panic; a sequence when accepted.
pub fn settings_env(data: &[u8]) {
    let mut pairs = vec![("KNOCKD_ROTATOR_SECRET".to_string(), OsString::from(SECRET))];
    for line in data.split(|&b| b == b'\n') {
        let (Some(&k), Some(value)) = (line.first(), line.get(1..)) else {
            continue;
        };
        let name = match usize::from(k) % (KEYS.len() + 2) {
            i if i < KEYS.len() => KEYS[i].1.to_string(),
            i if i == KEYS.len() => "KNOCKD_ROTATOR_SECRET".to_string(),
            _ => "KNOCKD_ROTATOR_PORT_MODULO".to_string(),
        };
        pairs.retain(|(n, _)| *n != name);
        pairs.push((name, OsString::from_vec(value.to_vec())));
    }
    let env = Env::from_pairs(pairs);
    if let Ok(s) = Settings::load(&env) {
        if let Ok(seq) = s.derive(NOW / s.period * s.period, b"ssh") {
            assert!(!seq.is_empty());
        }
    }
}

/// A secret's value and a secret file's text: never a panic.
pub fn secret(data: &[u8]) {
    let _ = secret::from_value(data, "KNOCKD_ROTATOR_SECRET");
    let mut s = Secret::new(data.to_vec());
    secret::strip_newline(&mut s);
    let _ = secret::weakness(&s);
}

/// Every applet's argument parsing: the first byte picks the applet, the
/// rest are arguments split at NUL bytes. Parsing only: nothing runs.
pub fn args(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let applet = &APPLETS[usize::from(pick) % APPLETS.len()];
    let args: Vec<OsString> = (rest.split(|&b| b == 0))
        .filter(|_| !rest.is_empty())
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    let ctx = Ctx {
        env: Env::from_pairs([("KNOCKD_ROTATOR_SECRET", SECRET)]),
        prog: "fuzz".into(),
    };
    PARSE_ONLY.with(|p| p.set(true));
    let _ = (applet.main)(&ctx, lexopt::Parser::from_args(args));
    PARSE_ONLY.with(|p| p.set(false));
}

/// A client profile or doors file: never a panic; each section's settings
/// load or are refused.
pub fn settings_file(data: &[u8]) {
    let Ok(sections) = settings_file::parse("/fuzz/config", data) else {
        return;
    };
    let file = SettingsFile {
        path: PathBuf::from("/fuzz/config"),
        sections,
    };
    for section in &file.sections {
        assert!(settings_file::valid_name(&section.name));
        let _ = Settings::load(&SectionSource {
            file: &file,
            section,
        });
    }
}
