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

pub fn parts() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_mul(2)
        .clamp(1, MAX_PARTS)
}

/// Apply `table` (the table's text, `split.main` included): Err when it is
/// not in (the previous table stays as it was); Ok(Some) when it is, but
/// the rest of the day's tokens are not (the next rotation adds them).
pub fn apply(nft: &Path, table: &str, split: &Split) -> Result<Option<Error>> {
    let input = |t: &String| nft::start(nft, &["-f", "-"], t.as_bytes());
    let mut rest: Vec<Result<Running>> = Vec::new();
    if let Some(early) = &split.early {
        nft::run(nft, &["-f", "-"], early.as_bytes())?;
        rest = split.rest.iter().map(input).collect();
    }
    let main = nft::run(nft, &["-f", "-"], table.as_bytes());
    if split.early.is_none() && main.is_ok() {
        rest = split.rest.iter().map(input).collect();
    }
    let done: Vec<bool> = rest
        .into_iter()
        .map(|r| r.and_then(Running::finish).is_ok())
        .collect();
    main?;
    // A part that failed beside the others runs once more, alone: an nft
    // that checks the ruleset's generation refuses a batch when another
    // one committed first.
    let mut failed = None;
    for (t, _) in split.rest.iter().zip(done).filter(|(_, ok)| !ok) {
        if let Err(e) = nft::run(nft, &["-f", "-"], t.as_bytes()) {
            failed = Some(e);
        }
    }
    let failed = match failed {
        Some(e) => Some(e),
        None if split.day.is_empty() => None,
        None => nft::run(nft, &["-f", "-"], split.day.as_bytes()).err(),
    };
    Ok(failed.map(|e| {
        Error::failure(format!(
            "the table is installed with the next hour's tokens, but not the rest of the \
             day's ({e}); the next rotation adds them"
        ))
    }))
}
