//! The elements of `ahead` doors' periods (chained.rs), as the kernel holds
//! them (for netlink) and as nft text (the copy, a dry run).

use std::fmt::Write;

use super::chain_hash::{finals, proto_number};
use super::chained_keys::{key, slot_id};
use super::door::Door;
use super::layout::TABLE;
use super::tokens;

/// How long a completion of period j stays possible after `now`: it can
/// start up to the end of period j+1, and take seq_timeout.
fn life(d: &Door, j: u64, now: u64) -> u64 {
    tokens::until(d.settings.period, j)
        .saturating_add(d.seq_timeout)
        .saturating_sub(now)
        .max(1)
}

/// The elements of a span of door periods, as the kernel holds them.
#[derive(Default)]
pub struct Elems {
    pub first: Vec<([u8; 12], u64)>,
    pub fa: Vec<([u8; 4], [u8; 4], u64)>,
    pub fb: Vec<([u8; 4], [u8; 4], u64)>,
    pub ports: Vec<([u8; 8], u64)>,
    /// Door periods whose sequence cannot be had (v3's port 65536).
    pub missing: usize,
    /// Door periods added.
    pub periods: usize,
}

impl Elems {
    pub fn len(&self) -> usize {
        self.first.len() + self.fa.len() + self.fb.len() + self.ports.len()
    }

    /// Keys once each: a collision's later value is dropped (nft and the
    /// kernel refuse a key twice with different data).
    pub fn dedup(&mut self) {
        fn once<T, K: Ord + Copy>(v: &mut Vec<T>, key: impl Fn(&T) -> K) {
            let mut seen: Vec<(K, usize)> =
                v.iter().enumerate().map(|(i, e)| (key(e), i)).collect();
            seen.sort_unstable();
            seen.dedup_by_key(|s| s.0);
            let mut keep = vec![false; v.len()];
            for (_, i) in seen {
                keep[i] = true;
            }
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        once(&mut self.first, |e| e.0);
        once(&mut self.fa, |e| e.0);
        once(&mut self.fb, |e| e.0);
        once(&mut self.ports, |e| e.0);
    }
}

/// One door's elements for periods `lo..=hi`, its class `c` and id.
pub fn elems(d: &Door, c: usize, id: u32, (lo, hi): (u64, u64), now: u64, out: &mut Elems) {
    let p = d.settings.period;
    let mut ports: Vec<(u8, u16)> = Vec::new();
    for j in lo..=hi {
        let Ok(seq) = d.settings.derive(j * p, &d.name) else {
            out.missing += 1;
            continue;
        };
        let Some(k1) = seq.first() else { continue };
        out.periods += 1;
        let wk = key(c, j);
        let ttl = life(d, j, now);
        let mut f = [0u8; 12];
        f[..4].copy_from_slice(&wk.to_ne_bytes());
        f[4] = proto_number(k1.proto);
        f[8..10].copy_from_slice(&k1.port.to_be_bytes());
        out.first
            .push((f, tokens::until(p, j).saturating_sub(now).max(1)));
        let (a, b) = finals(wk, &seq);
        out.fa.push((a.to_ne_bytes(), b.to_ne_bytes(), ttl));
        out.fb
            .push((b.to_ne_bytes(), slot_id(id, j).to_ne_bytes(), ttl));
        ports.extend(seq.iter().map(|k| (proto_number(k.proto), k.port)));
    }
    ports.sort_unstable();
    ports.dedup();
    for (proto, port) in ports {
        let mut e = [0u8; 8];
        e[0] = proto;
        e[4..6].copy_from_slice(&port.to_be_bytes());
        out.ports.push((e, 0));
    }
}

/// `add element` lines for `e`.
pub fn text(e: &Elems, t: &mut String) {
    let n = |b: &[u8]| u32::from_ne_bytes(b[..4].try_into().unwrap_or_default());
    let proto = |b: u8| if b == 6 { "tcp" } else { "udp" };
    let port = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
    let mut block = |set: &str, lines: Vec<String>| {
        if lines.is_empty() {
            return;
        }
        let _ = writeln!(t, "add element {TABLE} {set} {{");
        for l in lines {
            let _ = writeln!(t, "\t{l},");
        }
        t.push_str("}\n");
    };
    block(
        "cfirst",
        e.first
            .iter()
            .map(|(k, ttl)| {
                format!(
                    "0x{:08x} . {} . {} timeout {ttl}s",
                    n(k),
                    proto(k[4]),
                    port(&k[8..])
                )
            })
            .collect(),
    );
    for (map, list) in [("cfa", &e.fa), ("cfb", &e.fb)] {
        block(
            map,
            list.iter()
                .map(|(k, d, ttl)| format!("0x{:08x} timeout {ttl}s : 0x{:08x}", n(k), n(d)))
                .collect(),
        );
    }
    block(
        "ckp",
        e.ports
            .iter()
            .map(|(k, _)| format!("{} . {}", proto(k[0]), port(&k[4..])))
            .collect(),
    );
}
