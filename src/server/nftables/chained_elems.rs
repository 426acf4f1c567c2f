//! The elements of `ahead` doors' periods (chained.rs), as the kernel holds
//! them (for netlink) and as nft text (the copy, a dry run).

use std::fmt::Write;
use std::io;

use super::chain_hash::{finals, proto_number};
use super::chained_keys::{key, slot_id};
use super::door::Door;
use super::layout::TABLE;
use super::netlink;
use crate::derive::Proto;

/// An element: its key (as the kernel holds it, the first bytes of it
/// as many as SETS says) and its data (maps). No timeout: a period past
/// opens nothing (no window map gives its key any more), and the next
/// rotation deletes it (chained.rs).
#[derive(Clone, Copy)]
pub struct Elem {
    key: [u8; 12],
    data: [u8; 4],
}

/// The sets that hold the elements, each in its list of Elems; whether a
/// map, and its key's length. In this order they are added: completions
/// first, so that an attempt that can start can finish.
pub const SETS: [(&str, bool, usize); 4] = [
    ("cfa", true, 4),
    ("cfb", true, 4),
    ("ckp", false, 8),
    ("cfirst", false, 12),
];
const CFA: usize = 0;
const CFB: usize = 1;
const CKP: usize = 2;
const CFIRST: usize = 3;

/// The elements of a span of door periods, as the kernel holds them.
#[derive(Default)]
pub struct Elems {
    /// Per set of SETS.
    lists: [Vec<Elem>; 4],
    /// The knock ports seen, a bit per (UDP?, port) (Once lists them).
    seen: Vec<u64>,
    /// Door periods added.
    pub periods: usize,
}

impl Elems {
    pub fn len(&self) -> usize {
        self.lists.iter().map(Vec::len).sum()
    }

    fn push(&mut self, set: usize, key: &[u8], data: [u8; 4]) {
        let mut k = [0u8; 12];
        k[..key.len()].copy_from_slice(key);
        self.lists[set].push(Elem { key: k, data });
    }

    /// Keys once each (see Once), and the knock ports not listed before.
    pub fn once(&mut self, o: &mut Once) {
        for (set, seen) in [(CFIRST, &mut o.first), (CFA, &mut o.fa), (CFB, &mut o.fb)] {
            // A 32-bit value, or a window key . protocol . port.
            let n = |e: &Elem| {
                let k = e.key;
                u64::from(u32::from_ne_bytes([k[0], k[1], k[2], k[3]])) << 24
                    | u64::from(k[4]) << 16
                    | u64::from(u16::from_be_bytes([k[8], k[9]]))
            };
            if let Some(seen) = seen {
                self.lists[set].retain(|e| seen.first(n(e)));
            }
        }
        for (w, (bits, listed)) in self.seen.iter().zip(&mut o.ports).enumerate() {
            for bit in (0..64).filter(|b| (bits & !*listed) >> b & 1 == 1) {
                let k = w * 64 + bit;
                let mut key = [0u8; 12];
                key[0] = proto_number(if k >> 16 == 1 { Proto::Udp } else { Proto::Tcp });
                key[4..6].copy_from_slice(&((k & 0xffff) as u16).to_be_bytes());
                self.lists[CKP].push(Elem { key, data: [0; 4] });
            }
            *listed |= bits;
        }
    }

    /// Empty the lists, for the next door's.
    pub fn clear(&mut self) {
        self.lists.iter_mut().for_each(Vec::clear);
    }

    /// Each transaction's elements, netlink::encode'd (keys only, to
    /// delete them: `ckp`'s are never deleted), and its set's index in
    /// SETS, in their order.
    pub fn batches(
        &self,
        delete: bool,
        f: &mut dyn FnMut(usize, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut nests = Vec::new();
        for (set, list) in self.lists.iter().enumerate() {
            let (_, map, len) = SETS[set];
            if delete && set == CKP {
                continue;
            }
            for chunk in list.chunks(netlink::PER_MESSAGE) {
                nests.clear();
                for e in chunk {
                    let data = if map && !delete { &e.data[..] } else { &[] };
                    netlink::encode(&mut nests, &e.key[..len], data, 0);
                }
                f(set, &nests)?;
            }
        }
        Ok(())
    }
}

/// The keys and knock ports added so far, to add each once: a chain
/// value's later clash is dropped (nft refuses a key twice with different
/// data, and the kernel a batch that holds one, which then goes again one
/// element at a time: 40 ms a clash, some 20 clashes in a day of 30 s
/// periods for 100 doors). `cfirst` has no data, so the kernel takes a
/// key twice; nft text needs it once too.
pub struct Once {
    first: Option<Seen>,
    fa: Option<Seen>,
    fb: Option<Seen>,
    ports: Vec<u64>,
}

impl Once {
    /// For up to `n` door periods; `cfirst` too when `text`.
    pub fn new(n: usize, text: bool) -> Self {
        Once {
            first: text.then(|| Seen::new(n)),
            fa: Some(Seen::new(n)),
            fb: Some(Seen::new(n)),
            ports: vec![0; PORT_WORDS],
        }
    }
}

/// The knock ports, a bit per (UDP?, port).
const PORT_WORDS: usize = 2 * 65536 / 64;

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
pub fn elems(d: &Door, c: usize, id: u32, (lo, hi): (u64, u64), out: &mut Elems) {
    let p = d.settings.period;
    if out.seen.is_empty() {
        out.seen = vec![0; PORT_WORDS];
    }
    for j in lo..=hi {
        // A period whose sequence cannot be had (v3's port 65536) has none.
        let Ok(seq) = d.settings.derive(j * p, &d.name) else {
            continue;
        };
        let Some(k1) = seq.first() else { continue };
        out.periods += 1;
        let wk = key(c, j);
        let mut f = [0u8; 12];
        f[..4].copy_from_slice(&wk.to_ne_bytes());
        f[4] = proto_number(k1.proto);
        f[8..10].copy_from_slice(&k1.port.to_be_bytes());
        let (a, b) = finals(wk, &seq);
        out.push(CFA, &a.to_ne_bytes(), b.to_ne_bytes());
        out.push(CFB, &b.to_ne_bytes(), slot_id(id, j).to_ne_bytes());
        out.push(CFIRST, &f, [0; 4]);
        for k in &seq {
            let bit = usize::from(k.proto == Proto::Udp) << 16 | usize::from(k.port);
            out.seen[bit / 64] |= 1 << (bit % 64);
        }
    }
}

/// `add element` lines for `e` (protocols and ports as numbers, which nft
/// takes for `meta l4proto` and `th dport`).
pub fn text(e: &Elems, t: &mut String) {
    for (set, list) in e.lists.iter().enumerate() {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(t, "add element {TABLE} {} {{", SETS[set].0);
        for Elem { key: k, data } in list {
            let n = |b: &[u8]| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            let port = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
            let _ = match set {
                CKP => writeln!(t, "\t{} . {},", k[0], port(&k[4..])),
                CFIRST => writeln!(t, "\t0x{:08x} . {} . {},", n(k), k[4], port(&k[8..])),
                _ => writeln!(t, "\t0x{:08x} : 0x{:08x},", n(k), n(data)),
            };
        }
        t.push_str("}\n");
    }
}
