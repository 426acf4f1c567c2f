//! Applying the rendered table with its tokens: one transaction; or, when
//! a day of tokens goes in (tokens::split), the table's with the first
//! hour of them, and the rest of the day in transactions of nft processes
//! that run at once, beside the table's when the table holds no tokens yet
//! and after it otherwise. The manifest says the day only once all are in.

use std::path::Path;

use super::nft::{self, Running};
use super::tokens::Split;
use crate::error::{Error, Result};

/// nft processes for the rest of a day's tokens: nft spends most of it
/// parsing, one core each, while the kernel takes the batches in turn.
pub const MAX_PARTS: usize = 4;

/// Twice the online CPUs, at most MAX_PARTS. (sysconf, not std's
/// available_parallelism: that one reads cgroup files, 16 KB of code that
/// mips cannot spare.)
pub fn parts() -> usize {
    // SAFETY: sysconf only reads a system value.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(cpus)
        .unwrap_or(1)
        .saturating_mul(2)
        .clamp(1, MAX_PARTS)
}

/// Apply `table` (the table's text, `split.main` included): Err when it is
/// not in (the previous table stays as it was); Ok(Some) when it is, but
/// the rest of the day's tokens are not (the next rotation adds them).
pub fn apply(nft: &Path, table: &str, split: &Split) -> Result<Option<Error>> {
    let mut rest = Vec::new();
    if let Some(early) = &split.early {
        nft::run(nft, &["-f", "-"], early.as_bytes())?;
        rest = start(nft, &split.rest);
    }
    let main = nft::run(nft, &["-f", "-"], table.as_bytes());
    if split.early.is_none() && main.is_ok() {
        rest = start(nft, &split.rest);
    }
    let mut done = Vec::new();
    for r in rest {
        done.push(r.and_then(Running::finish).is_ok());
    }
    main?;
    // A part that failed beside the others runs once more, alone: an nft
    // that checks the ruleset's generation refuses a batch when another
    // one committed first.
    let mut failed = None;
    for (t, ok) in split.rest.iter().zip(done) {
        if !ok && let Err(e) = nft::run(nft, &["-f", "-"], t.as_bytes()) {
            failed = Some(e);
        }
    }
    if failed.is_none() && !split.day.is_empty() {
        failed = nft::run(nft, &["-f", "-"], split.day.as_bytes()).err();
    }
    Ok(failed.map(|e| {
        Error::failure(format!(
            "the table is installed with the next hour's tokens, but not the rest of the \
             day's ({e}); the next rotation adds them"
        ))
    }))
}

fn start<'a>(nft: &'a Path, parts: &[String]) -> Vec<Result<Running<'a>>> {
    let mut started = Vec::new();
    for t in parts {
        started.push(nft::start(nft, &["-f", "-"], t.as_bytes()));
    }
    started
}
