//! A rotation's work on the `ahead` doors' sets (chained.rs): what it
//! asks of the live table, the text that goes before the table's or
//! beside it, the elements sent and the manifest, and what it takes back
//! when nft refuses the table.

use std::fmt::Write;
use std::path::Path;

use super::chained::{self, Plan};
use super::chained_feed::{self, Feed};
use super::chained_rules;
use super::door::Door;
use super::layout::{Layout, NAME, TABLE};
use super::netlink_ask;
use super::nft;
use super::tokens::Split;
use crate::error::{Error, Result};

/// A rotation that changes the chained sets.
pub struct Chained {
    plan: Plan,
    /// The child deriving the elements (or why there is none).
    feed: std::result::Result<Feed, String>,
    /// Some when the sets were missing: made first, alone (no rule reads
    /// them yet), and filled while nft applies the table; whether the
    /// table existed.
    early: Option<bool>,
    /// What filling them while nft applied the table came to.
    added: Option<std::result::Result<usize, String>>,
}

/// The rotation's work on the chained sets at `now` (None: nothing to
/// change), and the text to put before the table's (sets to make again).
/// What goes with the table is added to `split`.
pub fn prepare(
    nft: &Path,
    list: &[Door],
    l: &Layout,
    now: u64,
    split: &mut Split,
) -> Result<(Option<Chained>, String)> {
    let mut live = nft::tuples(&nft::set(nft, "cman")?, 4);
    let shape = shape(l).map_err(Error::failure)?;
    let mut remake = String::new();
    if shape == Some(false) {
        remake = remake_text();
        live.clear();
    }
    let plan = chained::plan(list, l, now, Some(&live));
    if !plan.adds() {
        return Ok((None, remake));
    }
    let feed = chained_feed::start(&plan, list);
    let early = match shape {
        None => Some(netlink_ask::exists(NAME).unwrap_or(true)),
        Some(_) => None,
    };
    match early {
        Some(_) => split
            .early
            .get_or_insert_default()
            .push_str(&declare_text(l)),
        None => split.main.push_str(&plan.flush_text()),
    }
    let c = Chained {
        plan,
        feed,
        early,
        added: None,
    };
    Ok((Some(c), remake))
}

impl Chained {
    /// While nft applies the table: fill the sets made first.
    pub fn beside(&mut self) {
        if self.early.is_some() && self.added.is_none() {
            let feed = std::mem::replace(&mut self.feed, Err(String::new()));
            self.added = Some(feed.and_then(chained_feed::add));
        }
    }

    /// nft refused the table: the sets made first go again (the table
    /// too, if they made it), so that nothing of the rotation stays.
    pub fn refused(&self, nft: &Path) {
        if let Some(existed) = self.early {
            let _ = nft::run(nft, &["-f", "-"], undo_text(existed).as_bytes());
        }
    }

    /// After the table: the elements (unless sent beside it) and the
    /// manifest; the door periods added.
    pub fn finish(self, nft: &Path, list: &[Door]) -> std::result::Result<usize, String> {
        let n = match self.added {
            Some(n) => n,
            None => self.feed.and_then(chained_feed::add),
        }?;
        chained_feed::manifest(nft, &self.plan, list)?;
        Ok(n)
    }
}

/// The live chained sets: None when missing; Some(false) when they are
/// to be made again (`remake_text`), empty, in the table's transaction:
/// of another size, or of the version before (with timeouts, and a
/// manifest of three fields).
fn shape(l: &Layout) -> std::result::Result<Option<bool>, String> {
    let shape = netlink_ask::shape(NAME, "cfa")
        .map_err(|e| format!("table {TABLE}: cannot ask the kernel for set cfa: {e}"))?;
    Ok(shape.map(|(flags, size)| {
        flags & netlink_ask::SET_TIMEOUT == 0 && size == chained_rules::size(l)
    }))
}

/// The chained sets alone (and the table, if missing), as nft text.
fn declare_text(l: &Layout) -> String {
    format!("table {TABLE} {{\n{}}}\n", chained_rules::declare(l))
}

/// The nft text that deletes the chained sets and the manifest (their
/// rules first), for the table's text to declare them again.
fn remake_text() -> String {
    format!("flush table {TABLE}\n{}", delete_text(&SETS[..4]))
}

/// What `declare_text` made, deleted: the sets, or the table when it
/// made that too (`existed` false).
fn undo_text(existed: bool) -> String {
    match existed {
        true => delete_text(&SETS),
        false => format!("delete table {TABLE}\n"),
    }
}

/// The sets that hold the elements and the manifest; `ckp` (the knock
/// ports, never emptied but by a flush).
const SETS: [(&str, &str); 5] = [
    ("set", "cfirst"),
    ("map", "cfa"),
    ("map", "cfb"),
    ("set", "cman"),
    ("set", "ckp"),
];

fn delete_text(sets: &[(&str, &str)]) -> String {
    let mut t = String::new();
    for (kind, name) in sets {
        let _ = writeln!(t, "delete {kind} {TABLE} {name}");
    }
    t
}
