//! The objects and rules of `ahead` doors' classes (chained.rs): per
//! family, start an attempt at a first knock, move both chains on, and
//! complete where (a, b) is a door period's.

use super::chain_hash::{SEED_A, SEED_B};
use super::chained_keys::maps;

/// The sets that hold the chained elements, as the table declares them
/// (added to, never flushed by an apply).
pub const DECLARE: [&str; 5] = [
    "set cfirst { typeof meta priority . meta l4proto . th dport; flags timeout; }",
    "map cfa { typeof meta priority : meta priority; flags timeout; }",
    "map cfb { typeof meta priority : meta priority; flags timeout; }",
    "set ckp { typeof meta l4proto . th dport; }",
    "set cman { typeof meta mark . meta mark . meta mark; }",
];

/// The rules of chained class `c` for one family (`f`, its source `addr`):
/// (chain, rules).
pub fn chains(f: &str, addr: &str, c: usize, timeout: u64) -> Vec<(String, Vec<String>)> {
    let n = |s: &str| format!("{s}{f}_{c}");
    let (ca, cva, cvb, cs) = (n("ca"), n("cva"), n("cvb"), n("cs"));
    let next = |seed: u32| {
        format!(
            "meta priority set jhash meta priority . meta l4proto . th dport mod 4294967295 seed 0x{seed:x}"
        )
    };
    let store = |map: &str| {
        format!(
            "delete @{map} {{ {addr} : meta priority }} add @{map} {{ {addr} timeout {timeout}s : meta priority }}"
        )
    };
    let b = format!(
        "{} {} add @{cs} {{ {addr} . meta priority timeout {timeout}s }}",
        next(SEED_B),
        store(&cvb)
    );
    let a = format!("{} {}", next(SEED_A), store(&cva));
    let mut seq = vec![
        format!("{addr} @{ca} goto {}", n("cadv")),
        // An ended attempt's b leaves `cs`.
        format!("meta priority set {addr} map @{cvb} delete @{cs} {{ {addr} . meta priority }}"),
    ];
    for (map, _) in maps(c) {
        seq.push(format!(
            "meta priority set meta time map @{map} meta priority . meta l4proto . th dport @cfirst goto {}",
            n("cstart")
        ));
    }
    vec![
        (n("cseq"), seq),
        (
            n("cstart"),
            vec![
                format!("add @{ca} {{ {addr} timeout {timeout}s }}"),
                format!("{b} {a} goto {}", n("ccheck")),
            ],
        ),
        (
            n("cadv"),
            vec![
                format!(
                    "meta priority set {addr} map @{cvb} delete @{cs} {{ {addr} . meta priority }} {b}"
                ),
                format!(
                    "meta priority set {addr} map @{cva} {a} goto {}",
                    n("ccheck")
                ),
            ],
        ),
        (
            n("ccheck"),
            vec![format!(
                "meta priority set meta priority map @cfa {addr} . meta priority @{cs} \
                 meta priority set meta priority map @cfb delete @{ca} {{ {addr} }} goto done_{c}"
            )],
        ),
    ]
}

/// The dynamic sets and maps of chained class `c`: (kind, name, type).
pub fn dynamic(c: usize) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    for (f, addr) in [("4", "ip saddr"), ("6", "ip6 saddr")] {
        out.push(("set", format!("ca{f}_{c}"), addr.to_string()));
        out.push((
            "set",
            format!("cs{f}_{c}"),
            format!("{addr} . meta priority"),
        ));
        out.push((
            "map",
            format!("cva{f}_{c}"),
            format!("{addr} : meta priority"),
        ));
        out.push((
            "map",
            format!("cvb{f}_{c}"),
            format!("{addr} : meta priority"),
        ));
    }
    out
}
