//! The model the table is rendered from: slots (a door's sequence for one
//! period, with its 32-bit id), classes of doors that share windows and
//! step chains, door groups that share an allow set, and the names and
//! hashes that tie them to the live table.

use super::door::Door;
use crate::derive::{self, Knock};

pub const TABLE: &str = "inet knock_rotator";
/// The table's name without its family, as netlink names it.
pub const NAME: &str = "knock_rotator";
/// Sources in progress, or allowed, per family and set: past this, new
/// ones cannot start (the set refuses; the knock fails closed).
pub const SET_SIZE: u32 = 65_535;
/// Keys of the period windows sit above every slot id.
pub const KEY_BASE: u32 = 0xfe00_0000;
/// Knock packets (sequence steps and tokens) a source may send: a burst
/// that covers a knock of the longest sequence, its neighbour period's
/// and a retry of `--check` 3 s later, refilled at 16 a second. A source
/// sending faster has its excess ignored (it neither opens nor resets
/// anything).
pub fn rate(max_len: usize) -> String {
    format!(
        "limit rate 16/second burst {} packets",
        (4 * max_len).max(64)
    )
}
/// A source is forgotten this long after its last knock packet: a flood of
/// spoofed sources that fills the rate sets locks newcomers out only while
/// it lasts and for this long after.
pub const RATE_IDLE: u64 = 10;
/// IPv6 sources are limited per /64, what one host or site usually holds.
pub const V6_PREFIX: &str = "ffff:ffff:ffff:ffff::";

pub struct Slot {
    pub id: u32,
    pub door: usize,
    pub start: u64,
    pub seq: Vec<Knock>,
}

/// A door's id: a hash of its name in 22 bits, probed past collisions
/// (so it stays the same while the doors change around it).
pub fn door_ids(names: &[&[u8]]) -> Vec<u32> {
    let mut taken: Vec<u32> = Vec::with_capacity(names.len());
    names
        .iter()
        .map(|n| {
            let mut id = fnv(&[n]) & 0x3f_ffff;
            loop {
                match taken.binary_search(&id) {
                    Ok(_) => id = (id + 1) & 0x3f_ffff,
                    Err(at) => {
                        taken.insert(at, id);
                        return id;
                    }
                }
            }
        })
        .collect()
}

pub fn fnv(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for p in parts {
        for b in p.iter().chain(&[0xff]) {
            h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
        }
    }
    h
}

/// A slot's id: the door's and the period's number modulo 4 (three periods
/// are installed; a fourth value keeps a slot that is dropped from ever
/// sharing an id with the one that replaces it).
pub fn slot_id(door_id: u32, period: u64) -> u32 {
    0x0100_0000 | door_id << 2 | (period & 3) as u32
}

/// `meta priority` is a tc class id: written MAJOR:MINOR in hex.
pub fn prio(v: u32) -> String {
    format!("{:x}:{:x}", v >> 16, v & 0xffff)
}

pub fn knock(k: &Knock) -> String {
    format!("{} . {}", k.proto.as_str(), k.port)
}

/// A class of doors: the same period, grace, seq_timeout and `ahead`
/// share their windows and step chains.
pub struct Class {
    pub period: u64,
    pub grace: u64,
    pub timeout: u64,
    /// The longest sequence of its slots.
    pub len: usize,
    /// Its doors have `ahead = yes` (chained.rs).
    pub ahead: bool,
}

/// How the doors fall into classes and groups.
pub struct Layout {
    pub classes: Vec<Class>,
    pub class_of: Vec<usize>,
    /// Door groups (name, a door of it): what a knock opens, for how long.
    pub groups: Vec<(String, usize)>,
    /// The longest sequence of the step classes (their step sets).
    pub max_len: usize,
    /// The longest sequence of all doors, `ahead` ones too (the rate
    /// limit's burst).
    pub longest: usize,
    /// Some door takes a token (the token objects exist only then: `@ih`
    /// needs Linux 5.16).
    pub tokens: bool,
    /// Token doors of one class, group and token port share their window
    /// maps and keys (a token opens its group at its door's port only);
    /// each door's pair, and the groups that have token doors.
    pub token_pairs: Vec<TokenPair>,
    pub pair_of: Vec<Option<usize>>,
    pub token_groups: Vec<String>,
    /// Some door has `ahead = yes` (the chained objects exist only then).
    pub chained: bool,
    /// Each door's id (door_ids).
    pub ids: Vec<u32>,
}

#[derive(PartialEq)]
pub struct TokenPair {
    pub class: usize,
    pub group: String,
    pub port: u16,
}

pub fn layout(doors: &[Door], slots: &[Slot]) -> Layout {
    let mut classes: Vec<Class> = Vec::new();
    let mut class_of = Vec::new();
    let mut groups: Vec<(String, usize)> = Vec::new();
    for (i, d) in doors.iter().enumerate() {
        let same = |c: &Class| {
            (c.period, c.grace, c.timeout, c.ahead)
                == (d.settings.period, d.grace, d.seq_timeout, d.ahead)
        };
        let c = classes.iter().position(same).unwrap_or_else(|| {
            classes.push(Class {
                period: d.settings.period,
                grace: d.grace,
                timeout: d.seq_timeout,
                len: 1,
                ahead: d.ahead,
            });
            classes.len() - 1
        });
        class_of.push(c);
        let g = group(d);
        if !groups.iter().any(|(n, _)| *n == g) {
            groups.push((g, i));
        }
    }
    for s in slots {
        let c = &mut classes[class_of[s.door]];
        c.len = c.len.max(s.seq.len());
    }
    let max_len = classes.iter().map(|c| c.len).max().unwrap_or(1);
    let mut token_pairs: Vec<TokenPair> = Vec::new();
    let mut pair_of = vec![None; doors.len()];
    let mut token_groups = Vec::new();
    for (i, d) in doors.iter().enumerate() {
        let Some(port) = d.token_port else { continue };
        let pair = TokenPair {
            class: class_of[i],
            group: group(d),
            port,
        };
        pair_of[i] = Some(
            token_pairs
                .iter()
                .position(|p| *p == pair)
                .unwrap_or_else(|| {
                    token_pairs.push(pair);
                    token_pairs.len() - 1
                }),
        );
        let g = group(d);
        if !token_groups.contains(&g) {
            token_groups.push(g);
        }
    }
    Layout {
        classes,
        class_of,
        groups,
        max_len,
        longest: doors
            .iter()
            .map(|d| d.settings.length as usize)
            .fold(max_len, usize::max),
        tokens: doors.iter().any(|d| d.token_port.is_some()),
        token_pairs,
        pair_of,
        token_groups,
        chained: doors.iter().any(|d| d.ahead),
        ids: door_ids(&doors.iter().map(|d| &d.name[..]).collect::<Vec<_>>()),
    }
}

/// The key of class `c`'s window for period number `j`.
pub fn key(c: usize, j: u64) -> u32 {
    KEY_BASE | (c as u32) << 2 | (j & 3) as u32
}

/// A door group: what its knock opens and for how long; its name.
pub fn group(d: &Door) -> String {
    let open: Vec<String> = d.open.iter().map(knock).collect();
    let key = format!("{} {} {}", open.join(","), d.open_for, d.reject);
    format!("{:08x}", fnv(&[key.as_bytes()]))
}

/// A content hash of a door's installed slots, for `status`.
pub fn content(slots: &[&Slot]) -> u32 {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for s in slots {
        parts.push(s.start.to_le_bytes().to_vec());
        for k in &s.seq {
            parts.push(format!("{k}").into_bytes());
        }
    }
    let refs: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
    fnv(&refs)
}

/// The previous, current and next periods' slots of every door, and why
/// a door has no current one.
pub fn slots(doors: &[Door], now: u64) -> (Vec<Slot>, Vec<String>) {
    let names: Vec<&[u8]> = doors.iter().map(|d| &d.name[..]).collect();
    let ids = door_ids(&names);
    let mut slots = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    for (i, d) in doors.iter().enumerate() {
        let period = d.settings.period;
        // An `ahead` door's sequences are chained.rs's.
        let offsets: &[i64] = if d.ahead { &[0] } else { &[-1, 0, 1] };
        for &offset in offsets {
            let Some(start) = derive::period_start(now, period, offset) else {
                continue;
            };
            match d.settings.derive(start, &d.name) {
                Ok(_) if d.ahead => {}
                Ok(seq) => slots.push(Slot {
                    id: slot_id(ids[i], start / period),
                    door: i,
                    start,
                    seq,
                }),
                Err(e) if offset == 0 => refused.push(e.message().to_string()),
                Err(_) => {}
            }
        }
    }
    (slots, refused)
}
