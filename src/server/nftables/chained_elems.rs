//! The elements of `ahead` doors' periods (chained.rs), as the kernel holds
//! them (for netlink) and as nft text (the copy, a dry run).

use std::fmt::Write;

use super::chain_hash::{finals, proto_number};
use super::chained_keys::{key, slot_id};
use super::door::Door;
use super::layout::TABLE;
use super::tokens;
use crate::derive::Proto;

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
    /// The knock ports seen, a bit per (UDP?, port): `ports` once each.
    seen: Vec<u64>,
    /// Door periods whose sequence cannot be had (v3's port 65536).
    pub missing: usize,
    /// Door periods added.
    pub periods: usize,
}

impl Elems {
    pub fn len(&self) -> usize {
        self.first.len() + self.fa.len() + self.fb.len() + self.ports.len()
    }

    /// Keys once each: a collision's later value is dropped (nft refuses a
    /// key twice with different data). Netlink needs no such pass: the
    /// kernel's refusal of a batch sends its elements one by one, and
    /// skips the one that collides.
    pub fn dedup(&mut self) {
        // One sort of integer keys for all (musl's memcmp, which sorting
        // byte arrays calls, is slow; each sort's code is kilobytes on mips).
        fn once<T>(v: &mut Vec<T>, key: impl Fn(&T) -> u64) {
            let mut seen: Vec<(u64, u32)> = v
                .iter()
                .enumerate()
                .map(|(i, e)| (key(e), i as u32))
                .collect();
            seen.sort_unstable();
            seen.dedup_by_key(|s| s.0);
            let mut keep = vec![false; v.len()];
            for (_, i) in seen {
                keep[i as usize] = true;
            }
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        let n = |b: &[u8]| u64::from(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
        once(&mut self.first, |e| {
            n(&e.0) << 24
                | u64::from(e.0[4]) << 16
                | u64::from(u16::from_be_bytes([e.0[8], e.0[9]]))
        });
        once(&mut self.fa, |e| n(&e.0));
        once(&mut self.fb, |e| n(&e.0));
    }

    /// The knock ports seen, listed once each.
    pub fn list_ports(&mut self) {
        for (w, bits) in self.seen.iter().enumerate() {
            for bit in (0..64).filter(|b| bits >> b & 1 == 1) {
                let k = w * 64 + bit;
                let mut e = [0u8; 8];
                e[0] = if k >> 16 == 1 { 17 } else { 6 };
                e[4..6].copy_from_slice(&((k & 0xffff) as u16).to_be_bytes());
                self.ports.push((e, 0));
            }
        }
    }
}

/// One door's elements for periods `lo..=hi`, its class `c` and id.
pub fn elems(d: &Door, c: usize, id: u32, (lo, hi): (u64, u64), now: u64, out: &mut Elems) {
    let p = d.settings.period;
    if out.seen.is_empty() {
        out.seen = vec![0; 2 * 65536 / 64];
    }
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
        for k in &seq {
            let bit = usize::from(k.proto == Proto::Udp) << 16 | usize::from(k.port);
            out.seen[bit / 64] |= 1 << (bit % 64);
        }
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
