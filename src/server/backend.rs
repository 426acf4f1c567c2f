//! What every backend's rotation gives watch mode and the boundary run:
//! one rotation, for the clock's periods or a given time, and what it did.

use crate::clock;
use crate::error::{Error, Result};
use crate::settings::Settings;

/// How often one rotation rotates again when the clock keeps stepping into
/// other periods while it works (each pass takes milliseconds; a clock that
/// outruns this is left to watch mode's next wake-up or the next timer run).
const SETTLE_PASSES: usize = 4;

/// What one rotation did.
pub struct Rotated {
    /// The log lines, one for each pass that did something (see
    /// [`settled`]); none when a door was refused and nothing written.
    pub lines: Vec<String>,
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

pub const BACKEND_VAR: &str = "KNOCKD_ROTATOR_BACKEND";

/// Which backend serves the doors: `--backend`, else `$KNOCKD_ROTATOR_BACKEND`,
/// else knockd.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Knockd,
    Nftables,
}

impl Kind {
    /// `what` names the flag or variable, for the error.
    pub fn parse(what: &str, value: &str) -> Result<Kind> {
        match value {
            "knockd" => Ok(Kind::Knockd),
            "nftables" => Ok(Kind::Nftables),
            other => Err(Error::usage(format!(
                "{what}: {} is neither knockd nor nftables",
                crate::error::quote(other)
            ))),
        }
    }

    pub fn from_env(env: &crate::env::Env) -> Result<Kind> {
        match env.text(BACKEND_VAR)? {
            None => Ok(Kind::Knockd),
            Some(v) => Kind::parse(BACKEND_VAR, v),
        }
    }
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

    /// Something that tells watch mode when the backend's work was undone
    /// from outside (nftables: our table deleted by a host firewall's
    /// reload), so that it is put back at once; `None` if nothing can.
    fn changes(&self) -> Option<Box<dyn Changes>> {
        None
    }
}

/// See [`Backend::changes`].
pub trait Changes {
    /// Readable when there is news.
    fn fd(&self) -> std::os::fd::BorrowedFd<'_>;
    /// Read the news: `Some(true)` when the work was undone, `None` when
    /// this watcher is gone (watch mode makes another).
    fn undone(&mut self) -> Option<bool>;
}

/// The start of the period holding `now`, for each period length.
pub fn starts(now: u64, periods: &[u64]) -> Vec<u64> {
    periods.iter().map(|p| now / p * p).collect()
}

/// Run `pass` (one rotation, the backend's lock held) for the periods
/// holding `at`, or the clock's: read under the lock, so that no rotation
/// writes the period of a read made before another rotation's write; and
/// read again after each pass, so that a step of the clock while it worked
/// is followed before the lock is let go. Every pass's lines are kept: the
/// first pass's work (a reload, say) happened even when a later one
/// followed it.
pub fn settled(at: Option<u64>, mut pass: impl FnMut(u64) -> Result<Rotated>) -> Result<Rotated> {
    let mut now = clock::now_or(at)?;
    let mut lines = Vec::new();
    let mut n = 1;
    loop {
        let mut done = pass(now)?;
        lines.append(&mut done.lines);
        let last = at.is_some() || n == SETTLE_PASSES;
        let after = if last { now } else { clock::now()? };
        if last || starts(after, &done.periods) == starts(now, &done.periods) {
            done.lines = lines;
            return Ok(done);
        }
        now = after;
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotated(line: String, at: u64) -> Rotated {
        Rotated {
            lines: vec![line],
            refused: None,
            periods: vec![1],
            warnings: Vec::new(),
            at,
        }
    }

    /// A pass that crosses a boundary is followed by another, and the log
    /// keeps both: the first pass's reload happened (the watch log of
    /// rotate_doors.sh once held only the second's line).
    #[test]
    fn a_pass_across_a_boundary_keeps_its_line() {
        let mut passes = Vec::new();
        let done = settled(None, |now| {
            if passes.is_empty() {
                while clock::now().unwrap() == now {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
            passes.push(now);
            Ok(rotated(format!("pass {}", passes.len()), now))
        })
        .unwrap();
        assert!(passes.len() >= 2, "{passes:?}");
        assert_eq!(done.lines[0], "pass 1");
        assert_eq!(done.lines.len(), passes.len());
        assert_eq!(done.at, *passes.last().unwrap());
    }

    #[test]
    fn a_given_time_is_one_pass() {
        let done = settled(Some(5), |now| Ok(rotated("only".into(), now))).unwrap();
        assert_eq!(done.lines, ["only"]);
        assert_eq!(done.at, 5);
    }
}
