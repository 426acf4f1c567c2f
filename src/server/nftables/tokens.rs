//! The single-packet knock's tokens, installed a day ahead: a token door
//! keeps working for a day (or 2880 periods) without the timer, however
//! short its period.
//!
//! `tok` holds token . window key (keys are per pair of class, group and
//! token port, so a token opens its door's group at its door's port
//! only); it is not flushed by an apply. Each rotation adds only the
//! periods not installed yet (the `tman` manifest in the table says, per
//! door, its content hash and the last period added); a door whose
//! secret, name, period, pair or grant changed, or that is gone, empties
//! the set and every door is added again, so a revoked secret's tokens
//! die with the rotation. Expired tokens leave by their element timeouts.
//!
//! Per pair, six `meta time` interval maps give the key of the period
//! before, of and after the packet's (`twp`, `twc`, `twn`); each is split
//! into even and odd periods, because nft's 1 s interval ends would leave
//! a gap between adjacent ranges. Token j is thus taken in periods j-1, j
//! and j+1 only: the lookups are a constant few per datagram (each in the
//! log of the periods installed, windows.rs).

use std::fmt::Write;

use super::door::Door;
use super::layout::{Layout, TABLE, fnv, group};
use super::windows;
use crate::derive::token;

/// How far ahead tokens are installed, and the most periods that makes.
pub const AHEAD: u64 = 86_400;
pub const MAX_PERIODS: u64 = 2880;
/// The copy for the host firewall holds the next hour's tokens (at least
/// four periods'): a day of them, rendered and written again at every
/// rotation, would cost more than the rotation (0.5 s for 100 doors of 60
/// s here; far more on a router). A table put back from the copy has the
/// rest added by the next rotation, as its manifest says.
pub const COPY_AHEAD: u64 = 3600;
const KEY_BASE: u32 = 0xfd00_0000;

/// The periods after the current one whose tokens are installed.
pub fn ahead(period: u64) -> u64 {
    AHEAD.div_ceil(period).clamp(1, MAX_PERIODS)
}

/// The window key of pair `q` (< MAX_PAIRS)'s period `j` (unique over the
/// installed periods: 4096 > MAX_PERIODS + 3).
pub fn key(q: usize, j: u64) -> u32 {
    KEY_BASE | ((q as u32) & 0xfff) << 12 | (j & 0xfff) as u32
}

/// The window maps of pair `q`: (name, period offset of its value).
pub fn maps(q: usize) -> [(String, i64); 6] {
    windows::maps("tw", q)
}

/// When period `j`'s token stops opening: it is taken up to the end of
/// period j+1.
pub fn until(period: u64, j: u64) -> u64 {
    j.saturating_add(2).saturating_mul(period)
}

/// The periods whose tokens a door has installed at `now`.
pub fn range(period: u64, now: u64) -> (u64, u64) {
    let n = now / period;
    (n.saturating_sub(1), n + ahead(period))
}

/// What identifies a door's tokens: secret, name, period, pair, grant.
pub fn content(d: &Door, q: usize) -> u32 {
    let t = d.settings.token_key().token(0, &d.name);
    let p = d.settings.period.to_le_bytes();
    let q = (q as u32).to_le_bytes();
    fnv(&[&t, &p, &q, group(d).as_bytes()])
}

/// One door's manifest entry: name hash . content . last period added.
pub fn manifest(d: &Door, q: usize, hi: u64) -> String {
    format!(
        "0x{:x} . 0x{:x} . {}",
        fnv(&[&d.name]),
        content(d, q),
        hi.min(u64::from(u32::MAX))
    )
}

/// The window maps' elements for every token pair, and the manifest:
/// (set, element) pairs for the static sets.
pub fn statics(doors: &[Door], l: &Layout, now: u64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (q, pair) in l.token_pairs.iter().enumerate() {
        let p = l.classes[pair.class].period;
        windows::elements(&maps(q), p, range(p, now), &|j| key(q, j), &mut out);
    }
    for (i, d) in doors.iter().enumerate() {
        if let Some(q) = l.pair_of[i] {
            let (_, hi) = range(d.settings.period, now);
            out.push(("tman".into(), manifest(d, q, hi)));
        }
    }
    out
}

/// The live manifest: (name hash, content, last period).
pub type Live = Vec<(u32, u32, u64)>;

/// Which tokens `adds` renders.
pub enum Span<'a> {
    /// Those the live table lacks, after a `flush` of the map when a door
    /// changed or left.
    Live(&'a Live),
    /// A day's (a dry run).
    Day,
    /// The next hour's, and a manifest that says so (the copy).
    Copy,
}

/// The last period whose tokens the copy holds.
fn copy_hi(period: u64, now: u64) -> u64 {
    let periods = COPY_AHEAD.div_ceil(period).max(4).min(ahead(period));
    (now / period + periods).min(range(period, now).1)
}

/// A door's tokens to add: its pair, the door, and the first and last
/// periods.
type Todo<'a> = (usize, &'a Door<'a>, u64, u64);

/// What `span` adds at `now`, door by door, and whether `tok` must be
/// emptied first (a door changed or left).
fn todo<'a>(doors: &'a [Door<'a>], l: &Layout, now: u64, span: &Span) -> (bool, Vec<Todo<'a>>) {
    let mine: Vec<(usize, &Door)> = doors
        .iter()
        .enumerate()
        .filter_map(|(i, d)| Some((l.pair_of[i]?, d)))
        .collect();
    let live = match span {
        Span::Live(live) => Some(live),
        _ => None,
    };
    let from = |q: usize, d: &Door| -> Option<u64> {
        let live = live?;
        let e = live.iter().find(|e| e.0 == fnv(&[&d.name]))?;
        (e.1 == content(d, q)).then_some(e.2 + 1)
    };
    let kept = live.is_some_and(|live| {
        live.len() == mine.len() && mine.iter().all(|(q, d)| from(*q, d).is_some())
    });
    let todo = mine
        .into_iter()
        .map(|(q, d)| {
            let p = d.settings.period;
            let (lo, mut hi) = range(p, now);
            if matches!(span, Span::Copy) {
                hi = copy_hi(p, now);
            }
            let lo = if kept {
                from(q, d).unwrap_or(lo).max(lo)
            } else {
                lo
            };
            (q, d, lo, hi)
        })
        .collect();
    (live.is_some() && !kept, todo)
}

/// A token element as the kernel holds it (the token's bytes, then the
/// window key in host order: `meta priority`'s), and its timeout.
pub type Elem = ([u8; 20], u64);

/// One door's elements for periods `lo..=hi`: for netlink.rs, or `block`.
fn elems(q: usize, d: &Door, lo: u64, hi: u64, now: u64, out: &mut Vec<Elem>) {
    let p = d.settings.period;
    let keyed = d.settings.token_key();
    for j in lo..=hi {
        let mut e = [0; 20];
        e[..16].copy_from_slice(&keyed.token(j * p, &d.name));
        e[16..].copy_from_slice(&key(q, j).to_ne_bytes());
        out.push((e, until(p, j).saturating_sub(now).max(1)));
    }
}

/// One door's `add element` block for periods `lo..=hi`; how many.
fn block(q: usize, d: &Door, lo: u64, hi: u64, now: u64, text: &mut String) -> usize {
    let mut all = Vec::new();
    elems(q, d, lo, hi, now, &mut all);
    if all.is_empty() {
        return 0;
    }
    // The key as a plain number: nft parses it faster than a tc class id
    // (fd00:8c7).
    let _ = writeln!(text, "add element {TABLE} tok {{");
    for ((e, ttl), j) in all.iter().zip(lo..) {
        text.push_str("\t0x");
        token::push_hex(&e[..16].try_into().unwrap_or_default(), text);
        let _ = writeln!(text, " . 0x{:08x} timeout {ttl}s,", key(q, j));
    }
    let _ = writeln!(text, "}}");
    all.len()
}

/// The manifest saying that each door holds its tokens up to `hi(door)`,
/// replacing the one the table's text gave.
fn manifests(todo: &[Todo], hi: &dyn Fn(&Todo) -> u64, text: &mut String) {
    if todo.is_empty() {
        return;
    }
    let _ = writeln!(text, "flush set {TABLE} tman");
    let _ = writeln!(text, "add element {TABLE} tman {{");
    for t in todo {
        let _ = writeln!(text, "\t{},", manifest(t.1, t.0, hi(t)));
    }
    let _ = writeln!(text, "}}");
}

/// `add element` lines for the tokens of `span` (a day's or the copy's;
/// the live table's are `split`'s) at `now`, and their number.
pub fn adds(doors: &[Door], l: &Layout, now: u64, span: Span, text: &mut String) -> usize {
    let (_, todo) = todo(doors, l, now, &span);
    if matches!(span, Span::Copy) {
        manifests(&todo, &|t| t.3, text);
    }
    todo.iter()
        .map(|&(q, d, lo, hi)| block(q, d, lo, hi, now, text))
        .sum()
}

/// Below this many tokens to add, they all go with the table.
pub const SPLIT_MIN: usize = 8192;

/// The tokens the live table lacks, split for applying: `main` goes with
/// the table; when there are many, `rest` holds the periods past the
/// copy's hour, for netlink.rs (nft would parse them for 1.2 s). Until
/// they are in, the manifest says the hour; `day` then says the day.
#[derive(Default)]
pub struct Split {
    /// Run first, alone: declares and empties `tok` (no door has tokens
    /// installed), so that `rest` can go in while nft parses `main`.
    pub early: Option<String>,
    pub main: String,
    pub rest: Vec<Elem>,
    pub day: String,
    pub count: usize,
}

pub fn split(doors: &[Door], l: &Layout, now: u64, live: &Live) -> Split {
    let (flush, todo) = todo(doors, l, now, &Span::Live(live));
    let count: usize = todo
        .iter()
        .map(|t| (t.3 + 1).saturating_sub(t.2) as usize)
        .sum();
    // No door has tokens installed: nothing is lost by emptying `tok` early.
    let beside = live.is_empty() && count >= SPLIT_MIN;
    let mut out = Split {
        // `tok` declared alone (and the table, if missing), and emptied.
        early: beside
            .then(|| format!("table {TABLE} {{\n\t{DECLARE}\n}}\nflush set {TABLE} tok\n")),
        count,
        ..Split::default()
    };
    if flush && !beside {
        let _ = writeln!(out.main, "flush set {TABLE} tok");
    }
    if count < SPLIT_MIN {
        for &(q, d, lo, hi) in &todo {
            block(q, d, lo, hi, now, &mut out.main);
        }
        return out;
    }
    let cut = |t: &Todo| copy_hi(t.1.settings.period, now).min(t.3);
    out.rest.reserve(count);
    for t in &todo {
        block(t.0, t.1, t.2, cut(t), now, &mut out.main);
        elems(t.0, t.1, t.2.max(cut(t) + 1), t.3, now, &mut out.rest);
    }
    manifests(&todo, &|t| cut(t).max(t.2.saturating_sub(1)), &mut out.main);
    manifests(&todo, &|t| t.3, &mut out.day);
    out
}

/// The set `tok`, as the table declares it.
pub const DECLARE: &str = "set tok { typeof @ih,0,128 . meta priority; flags timeout; }";
