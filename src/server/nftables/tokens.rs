//! The single-packet knock's tokens, installed a day ahead: a token door
//! keeps working for a day (or 2880 periods) without the timer, however
//! short its period.
//!
//! `tokens` maps token . window key to the door group's grant; it is not
//! flushed by an apply. Each rotation adds only the periods not installed
//! yet (the `tman` manifest in the table says, per door, its content hash
//! and the last period added); a door whose secret, name, period or grant
//! changed, or that is gone, empties the map and every door is added
//! again, so a revoked secret's tokens die with the rotation. Expired
//! tokens leave by their element timeouts.
//!
//! Per class, six `meta time` interval maps give the key of the period
//! before, of and after the packet's (`twp`, `twc`, `twn`); each is split
//! into even and odd periods, because nft's 1 s interval ends would leave
//! a gap between adjacent ranges. Token j is thus taken in periods j-1, j
//! and j+1 only: the lookups are a constant few per datagram.

use std::fmt::Write;

use super::door::Door;
use super::layout::{Layout, TABLE, fnv, group, prio};
use crate::derive::token;

/// How far ahead tokens are installed, and the most periods that makes.
pub const AHEAD: u64 = 86_400;
pub const MAX_PERIODS: u64 = 2880;
const KEY_BASE: u32 = 0xfd00_0000;

/// The periods after the current one whose tokens are installed.
pub fn ahead(period: u64) -> u64 {
    AHEAD.div_ceil(period).clamp(1, MAX_PERIODS)
}

/// The window key of class `c`'s period `j` (unique over the installed
/// periods: 4096 > MAX_PERIODS + 3).
pub fn key(c: usize, j: u64) -> u32 {
    KEY_BASE | ((c as u32) & 0xfff) << 12 | (j & 0xfff) as u32
}

/// The window maps of class `c`: (name, period offset of its value).
pub fn maps(c: usize) -> [(String, i64); 6] {
    let m = |w: &str, p: &str| format!("tw{w}{p}_{c}");
    [
        (m("p", "e"), -1),
        (m("p", "o"), -1),
        (m("c", "e"), 0),
        (m("c", "o"), 0),
        (m("n", "e"), 1),
        (m("n", "o"), 1),
    ]
}

/// The periods whose tokens a door has installed at `now`.
pub fn range(period: u64, now: u64) -> (u64, u64) {
    let n = now / period;
    (n.saturating_sub(1), n + ahead(period))
}

/// What identifies a door's tokens: secret, name, period, class, grant.
pub fn content(d: &Door, c: usize) -> u32 {
    let t = d.settings.token(0, &d.name);
    let p = d.settings.period.to_le_bytes();
    let c = (c as u32).to_le_bytes();
    fnv(&[&t, &p, &c, group(d).as_bytes()])
}

/// One door's manifest entry: name hash . content . last period added.
pub fn manifest(d: &Door, c: usize, now: u64) -> String {
    let (_, hi) = range(d.settings.period, now);
    format!(
        "0x{:x} . 0x{:x} . {}",
        fnv(&[&d.name]),
        content(d, c),
        hi.min(u64::from(u32::MAX))
    )
}

/// The window maps' elements for every class with token doors, and the
/// manifest: (set, element) pairs for the static sets.
pub fn statics(doors: &[Door], l: &Layout, now: u64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (c, class) in l.classes.iter().enumerate() {
        let mine = |(i, d): (usize, &Door)| d.token_port.is_some() && l.class_of[i] == c;
        if !doors.iter().enumerate().any(mine) {
            continue;
        }
        let p = class.period;
        let (lo, hi) = range(p, now);
        // Token j is taken up to period j+1.
        for j in lo..=hi + 1 {
            let range = format!("{}-{}", j * p, (j + 1) * p);
            let parity = (j % 2) as usize;
            for (i, (map, shift)) in maps(c).iter().enumerate() {
                if i % 2 != parity || j.checked_add_signed(*shift).is_none() {
                    continue;
                }
                let v = key(c, j.saturating_add_signed(*shift));
                out.push((map.clone(), format!("{range} : {}", prio(v))));
            }
        }
    }
    for (i, d) in doors.iter().enumerate() {
        if d.token_port.is_some() {
            out.push(("tman".into(), manifest(d, l.class_of[i], now)));
        }
    }
    out
}

/// The live manifest: (name hash, content, last period).
pub type Live = Vec<(u32, u32, u64)>;

/// `add element` lines for the tokens to install at `now`: all of them
/// (`live` None: the copy for the host firewall, or a dry run), or those
/// the live table lacks, after a `flush` of the map when a door changed
/// or left. The number of tokens added.
pub fn adds(doors: &[Door], l: &Layout, now: u64, live: Option<&Live>, text: &mut String) -> usize {
    let mine: Vec<(usize, &Door)> = doors
        .iter()
        .enumerate()
        .filter(|(_, d)| d.token_port.is_some())
        .collect();
    let from = |i: usize, d: &Door| -> Option<u64> {
        let live = live?;
        let e = live.iter().find(|e| e.0 == fnv(&[&d.name]))?;
        (e.1 == content(d, l.class_of[i])).then_some(e.2 + 1)
    };
    let kept = live.is_some_and(|live| {
        live.len() == mine.len() && mine.iter().all(|(i, d)| from(*i, d).is_some())
    });
    if live.is_some() && !kept {
        let _ = writeln!(text, "flush map {TABLE} tokens");
    }
    let mut n = 0;
    for (i, d) in mine {
        let c = l.class_of[i];
        let p = d.settings.period;
        let (lo, hi) = range(p, now);
        let lo = if kept {
            from(i, d).unwrap_or(lo).max(lo)
        } else {
            lo
        };
        if lo > hi {
            continue;
        }
        let _ = writeln!(text, "add element {TABLE} tokens {{");
        let g = group(d);
        for j in lo..=hi {
            let t = token::hex(&d.settings.token(j * p, &d.name));
            let ttl = ((j + 2) * p).saturating_sub(now).max(1);
            let _ = writeln!(
                text,
                "\t0x{t} . {} timeout {ttl}s : goto tg_{g},",
                prio(key(c, j))
            );
            n += 1;
        }
        let _ = writeln!(text, "}}");
    }
    n
}
