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
    /// Door periods added.
    pub periods: usize,
}

impl Elems {
    pub fn len(&self) -> usize {
        self.first.len() + self.fa.len() + self.fb.len() + self.ports.len()
    }

    /// Keys once each: a collision's later value is dropped (nft refuses a
    /// key twice with different data, and the kernel a batch that holds
    /// one, which then goes again one element at a time: 40 ms a clash,
    /// some 20 clashes in a day of 30 s periods for 100 doors). `first`
    /// has no data, so the kernel takes a key twice; nft text (`all`)
    /// needs it once too.
    pub fn dedup(&mut self, all: bool) {
        let n = |b: &[u8]| u64::from(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
        if all {
            let mut seen = Seen::new(self.first.len());
            self.first.retain(|e| {
                seen.first(
                    n(&e.0) << 24
                        | u64::from(e.0[4]) << 16
                        | u64::from(u16::from_be_bytes([e.0[8], e.0[9]])),
                )
            });
        }
        for map in [&mut self.fa, &mut self.fb] {
            let mut seen = Seen::new(map.len());
            map.retain(|e| seen.first(n(&e.0)));
        }
    }

    /// The knock ports seen, listed once each.
    pub fn list_ports(&mut self) {
        for (w, bits) in self.seen.iter().enumerate() {
            for bit in (0..64).filter(|b| bits >> b & 1 == 1) {
                let k = w * 64 + bit;
                let mut e = [0u8; 8];
                e[0] = proto_number(if k >> 16 == 1 { Proto::Udp } else { Proto::Tcp });
                e[4..6].copy_from_slice(&((k & 0xffff) as u16).to_be_bytes());
                self.ports.push((e, 0));
            }
        }
    }
}

/// The keys seen, in an open-addressed table at most half full: linear in
/// the elements, where a sort was not (std's sort for size is a heapsort).
struct Seen {
    slots: Vec<u64>,
    mask: usize,
}

impl Seen {
    const EMPTY: u64 = u64::MAX;

    fn new(n: usize) -> Self {
        let len = (2 * n).next_power_of_two().max(16);
        Seen {
            slots: vec![Self::EMPTY; len],
            mask: len - 1,
        }
    }

    /// Whether `key` (not `EMPTY`) is new; it is seen from now on.
    fn first(&mut self, key: u64) -> bool {
        let mut i = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & self.mask;
        loop {
            match self.slots[i] {
                Self::EMPTY => {
                    self.slots[i] = key;
                    return true;
                }
                k if k == key => return false,
                _ => i = (i + 1) & self.mask,
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
        // A period whose sequence cannot be had (v3's port 65536) has none.
        let Ok(seq) = d.settings.derive(j * p, &d.name) else {
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

/// `add element` lines for `e` (protocols and ports as numbers, which nft
/// takes for `meta l4proto` and `th dport`).
pub fn text(e: &Elems, t: &mut String) {
    let n = |b: &[u8]| u32::from_ne_bytes(b[..4].try_into().unwrap_or_default());
    let port = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
    let mut lines: Vec<(&str, String)> = Vec::new();
    for (k, ttl) in &e.first {
        let (wk, proto, p) = (n(k), k[4], port(&k[8..]));
        lines.push((
            "cfirst",
            format!("0x{wk:08x} . {proto} . {p} timeout {ttl}s"),
        ));
    }
    for (set, list) in [("cfa", &e.fa), ("cfb", &e.fb)] {
        for (k, d, ttl) in list {
            let (k, d) = (n(k), n(d));
            lines.push((set, format!("0x{k:08x} timeout {ttl}s : 0x{d:08x}")));
        }
    }
    for (k, _) in &e.ports {
        lines.push(("ckp", format!("{} . {}", k[0], port(&k[4..]))));
    }
    let mut open = "";
    for (set, line) in lines {
        if set != open {
            if !open.is_empty() {
                t.push_str("}\n");
            }
            let _ = writeln!(t, "add element {TABLE} {set} {{");
            open = set;
        }
        let _ = writeln!(t, "\t{line},");
    }
    if !open.is_empty() {
        t.push_str("}\n");
    }
}
