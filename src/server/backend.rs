//! What every backend's rotation gives watch mode and the boundary run:
//! one rotation, for the clock's periods or a given time, and what it did.

use crate::error::{Error, Result};
use crate::settings::Settings;

/// What one rotation did.
pub struct Rotated {
    /// The log line; `None` when a door was refused and nothing written.
    pub line: Option<String>,
    /// Doors that cannot be rotated in this period (v3's port 65536): they
    /// keep their sequence, and the run must fail, but not be retried
    /// before the next boundary.
    pub refused: Option<Error>,
    /// The doors' period lengths (watch mode wakes at the next boundary of
    /// any of them).
    pub periods: Vec<u64>,
    /// Sections of the doors file that match no door, and the like: one
    /// warning each.
    pub warnings: Vec<String>,
    /// The time whose periods the doors now hold.
    pub at: u64,
}

/// A server backend: knockd.conf and knockd, or the kernel's nftables.
pub trait Backend {
    /// Rotate every door for its period holding `at`, or the clock's when
    /// `None` (read under the backend's lock, and again after the work, as
    /// knockd's job does); `env` is the environment's settings, for doors
    /// the doors file does not list.
    fn once(&self, env: &Result<Settings>, at: Option<u64>) -> Result<Rotated>;

    /// What is rotated, for log lines: a file or a table.
    fn target(&self) -> String;
}

/// The start of the period holding `now`, for each period length.
pub fn starts(now: u64, periods: &[u64]) -> Vec<u64> {
    periods.iter().map(|p| now / p * p).collect()
}
