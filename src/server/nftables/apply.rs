//! Applying the rendered table with its tokens: one transaction; or, when
//! a day of tokens goes in (tokens::split), the table's with the first
//! hour of them, and the rest of the day over netlink, while nft parses
//! the table when the table holds no tokens yet and after it otherwise.
//! The manifest says the day only once all are in.

use std::path::Path;

use super::layout::NAME;
use super::netlink;
use super::nft;
use super::tokens::Split;
use crate::error::{Error, Result};

/// While which nft `beside` runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Beside {
    /// `split.early`'s: the sets it makes are not there yet.
    Early,
    /// The table's.
    Table,
}

/// Apply `table` (the table's text, `split.main` included), running
/// `beside` while nft parses it (and first while `split.early`'s nft
/// runs, if any): Err when it is not in (the previous table stays as it
/// was); Ok(Some) when it is, but the rest of the day's tokens are not
/// (the next rotation adds them).
pub fn apply(
    nft: &Path,
    table: &str,
    split: &Split,
    beside: &mut dyn FnMut(Beside),
) -> Result<Option<Error>> {
    let rest = || -> std::result::Result<(), String> {
        if split.rest.is_empty() {
            return Ok(());
        }
        netlink::add(NAME, "tok", &split.rest).map_err(|e| netlink::failed("tok", e))
    };
    let sent = match &split.early {
        Some(early) => {
            let made = nft::start(nft, &["-f", "-"], early.as_bytes())?;
            beside(Beside::Early);
            made.finish()?;
            let main = nft::start(nft, &["-f", "-"], table.as_bytes())?;
            let sent = rest();
            beside(Beside::Table);
            main.finish()?;
            sent
        }
        None => {
            let main = nft::start(nft, &["-f", "-"], table.as_bytes())?;
            beside(Beside::Table);
            main.finish()?;
            rest()
        }
    };
    let failed = match sent {
        Ok(()) if !split.day.is_empty() => nft::run(nft, &["-f", "-"], split.day.as_bytes())
            .err()
            .map(|e| e.message().to_string()),
        Ok(()) => None,
        Err(e) => Some(e),
    };
    Ok(failed.map(|e| {
        Error::failure(format!(
            "the table is installed with the next hour's tokens, but not the rest of the \
             day's ({e}); the next rotation adds them"
        ))
    }))
}
