//! Doors with `ahead = yes`: a day of sequences installed ahead, so that
//! doors of short periods keep working for a day without the timer.
//!
//! Holding every step of a day (1.44 million elements for 100 doors of 10
//! knocks at 60 s) costs more than 1 s to apply (`just bench`). Here the
//! kernel hashes each source's knocks into two independent 32-bit chains
//! (nft's `jhash`, with two seeds), and a door period is one element per
//! set, like a token:
//! - `cfirst`: window key . first knock. A source with no attempt starts
//!   one at a first knock of the period before, of or after the packet's
//!   (six `meta time` maps, as tokens have): both chains start from the
//!   window key and that knock;
//! - every later knock packet of the source moves both chains on (`cxa`,
//!   `cxb`, each ten maps written in turn, chained_rules::INDICES; `cs`
//!   holds source . b, to compare b with a value), and a first knock
//!   within the attempt starts a second pair (`cya`, `cyb`), so that a
//!   spoiled knock does not spoil the next one (chained_rules.rs);
//! - `cfa` maps a complete chain a to its chain b, `cfb` chain b to the
//!   slot id: a source whose (a, b) is a door period's completes it, a
//!   64-bit match;
//! - `ca` holds the attempt (seq_timeout from its latest first knock); a
//!   completion ends it.
//!
//! `cfirst`, `cfa`, `cfb` and `ckp` (the day's knock ports) are added to
//! at each rotation, never flushed by an apply; the `cman` manifest says
//! per door which periods are in (first, last). Their elements carry no
//! timeouts (a fixed-size hash table, chained_rules::declare): a period
//! past opens nothing, since no window map gives its key any more, and the
//! next rotation deletes it, before adding, so that the sets never hold
//! more than their size. Two door periods whose chain a (or b) collide,
//! one chance in 2^32 per pair, cannot both be in: the later one is
//! skipped, and that door period opens nothing; deleting the earlier one's
//! key may then take the later one's element, if the later one was added
//! first (another door's, in one rotation): it too opens nothing.

use std::fmt::Write;

use super::chained_elems::{Elems, Once, elems, text};
use super::chained_keys::{key, maps};
use super::door::Door;
use super::layout::{Layout, TABLE, fnv, group};
use super::tokens;
use super::windows;

/// The window maps' elements of the chained classes.
pub fn statics(l: &Layout, now: u64, out: &mut Vec<(String, String)>) {
    // A class has `ahead` only if its doors do.
    for (c, class) in l.classes.iter().enumerate().filter(|(_, c)| c.ahead) {
        let p = class.period;
        windows::elements(&maps(c), p, tokens::range(p, now), &|j| key(c, j), out);
    }
}

/// What identifies a door's chained elements: its first period's sequence
/// (the secret and every setting of the derivation), period, class, id,
/// group and timeout.
pub fn content(d: &Door, c: usize, id: u32) -> u32 {
    // Not Debug: the shipped executables are built without its output.
    let mut bytes = Vec::new();
    for k in d.settings.derive(0, &d.name).unwrap_or_default() {
        bytes.extend(k.port.to_le_bytes());
        bytes.push(k.proto as u8);
    }
    for n in [c as u64, u64::from(id), d.seq_timeout, d.settings.period] {
        bytes.extend(n.to_le_bytes());
    }
    fnv(&[&bytes, group(d).as_bytes()])
}

/// The chained doors: (index, class, id).
fn mine(doors: &[Door], l: &Layout) -> Vec<(usize, usize, u32)> {
    doors
        .iter()
        .enumerate()
        .filter(|(_, d)| d.ahead)
        .map(|(i, _)| (i, l.class_of[i], l.ids[i]))
        .collect()
}

/// One door's part of a rotation: add periods `lo..=hi`, delete `gone`
/// (first, last; none when first > last); it then holds `held..=hi`.
#[derive(Clone, Copy)]
pub struct Todo {
    pub door: usize,
    pub class: usize,
    pub id: u32,
    pub lo: u64,
    pub hi: u64,
    pub held: u64,
    pub gone: (u64, u64),
}

/// What a rotation does: flush first (a door changed or left), then
/// delete each door's periods past and add its periods ahead.
pub struct Plan {
    pub flush: bool,
    pub todo: Vec<Todo>,
}

/// A door's line of the live manifest: name, content, first and last
/// period held (nft::tuples).
pub type Held = [u64; 4];

/// The periods to add and delete at `now`: those after what the live
/// manifest says, and those it holds before the day's (all of the day,
/// after emptying the sets, when it says another door set; all of it when
/// `live` is None: a dry run, the copy).
pub fn plan(doors: &[Door], l: &Layout, now: u64, live: Option<&[Held]>) -> Plan {
    let mine = mine(doors, l);
    let held = |i: usize, c: usize, id: u32| -> Option<(u64, u64)> {
        let d = &doors[i];
        let e = live?.iter().find(|e| e[0] == u64::from(fnv(&[&d.name])))?;
        (e[1] == u64::from(content(d, c, id))).then_some((e[2], e[3]))
    };
    let kept = live.is_some_and(|live| {
        live.len() == mine.len() && mine.iter().all(|&(i, c, id)| held(i, c, id).is_some())
    });
    let todo = mine
        .iter()
        .map(|&(i, c, id)| {
            let (lo, hi) = tokens::range(doors[i].settings.period, now);
            let mut t = Todo {
                door: i,
                class: c,
                id,
                lo,
                hi,
                held: lo,
                gone: (1, 0),
            };
            if let (true, Some((first, last))) = (kept, held(i, c, id)) {
                t.lo = lo.max(last + 1);
                t.held = lo.max(first);
                t.gone = (first, last.min(lo.saturating_sub(1)));
            }
            t
        })
        .collect();
    Plan {
        flush: live.is_some() && !kept,
        todo,
    }
}

impl Plan {
    /// Whether the rotation changes the chained sets.
    pub fn adds(&self) -> bool {
        self.flush
            || self
                .todo
                .iter()
                .any(|t| t.lo <= t.hi || t.gone.0 <= t.gone.1)
    }

    /// Each door's elements to delete (`gone`) or to add, keys once
    /// each (`text`: for nft text, see Once), until `f` says stop; the
    /// door periods.
    pub fn each(
        &self,
        doors: &[Door],
        gone: bool,
        text: bool,
        f: &mut dyn FnMut(&Elems) -> bool,
    ) -> usize {
        let span = |t: &Todo| if gone { t.gone } else { (t.lo, t.hi) };
        let n = self
            .todo
            .iter()
            .map(|t| (span(t).1 + 1).saturating_sub(span(t).0) as usize)
            .sum();
        // Deleting a key twice in one transaction is refused: once each.
        let mut once = Once::new(n, text || gone);
        let mut e = Elems::default();
        for t in &self.todo {
            let (lo, hi) = span(t);
            if lo > hi {
                continue;
            }
            e.clear();
            elems(&doors[t.door], t.class, t.id, (lo, hi), &mut e);
            e.once(&mut once);
            if !f(&e) {
                break;
            }
        }
        e.periods
    }

    /// The elements' nft text, appended to `out` (only counted without
    /// it): (door periods, elements).
    pub fn text(&self, doors: &[Door], mut out: Option<&mut String>) -> (usize, usize) {
        let mut n = 0;
        let periods = self.each(doors, false, true, &mut |e| {
            n += e.len();
            if let Some(t) = out.as_deref_mut() {
                text(e, t);
            }
            true
        });
        (periods, n)
    }

    /// The nft text that empties the chained sets (a door changed or left).
    pub fn flush_text(&self) -> String {
        if !self.flush {
            return String::new();
        }
        ["cfirst", "ckp", "cman"]
            .iter()
            .map(|s| format!("flush set {TABLE} {s}\n"))
            .chain(
                ["cfa", "cfb"]
                    .iter()
                    .map(|m| format!("flush map {TABLE} {m}\n")),
            )
            .collect()
    }

    /// The manifest saying each door holds its periods up to `hi(door)`.
    pub fn manifest(&self, doors: &[Door], hi: &dyn Fn(&Todo) -> u64) -> String {
        if self.todo.is_empty() {
            return String::new();
        }
        let mut t = format!("flush set {TABLE} cman\nadd element {TABLE} cman {{\n");
        let n = |v: u64| v.min(u64::from(u32::MAX));
        for todo in &self.todo {
            let d = &doors[todo.door];
            let _ = writeln!(
                t,
                "\t0x{:x} . 0x{:x} . {} . {},",
                fnv(&[&d.name]),
                content(d, todo.class, todo.id),
                n(todo.held),
                n(hi(todo))
            );
        }
        t.push_str("}\n");
        t
    }
}

/// The copy's text (the host firewall puts our table back from it): the
/// next hour's elements (as tokens::COPY_AHEAD), and a manifest saying so.
pub fn copy(doors: &[Door], l: &Layout, now: u64) -> String {
    let mut plan = plan(doors, l, now, None);
    for t in &mut plan.todo {
        let p = doors[t.door].settings.period;
        let periods = tokens::COPY_AHEAD.div_ceil(p).max(4);
        t.hi = t.hi.min(now / p + periods);
    }
    let mut t = plan.manifest(doors, &|t| t.hi);
    plan.text(doors, Some(&mut t));
    t
}
