//! The wall clock, in whole UNIX seconds, as the derivation sees it.

use crate::error::{Error, Result};

/// Current UNIX time in whole seconds (UTC).
pub fn now() -> Result<u64> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| Error::failure("the system clock is set before 1970; fix the clock"))
}

/// `--at UNIX_SECONDS` if given, else the clock.
pub fn now_or(at: Option<u64>) -> Result<u64> {
    match at {
        Some(t) => Ok(t),
        None => now(),
    }
}
