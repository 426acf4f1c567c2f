//! `rotate --watch`: rotate now and at every period boundary until SIGTERM,
//! sleeping on the real-time clock in between.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::backend::{Backend, Rotated, starts};
use crate::cli;
use crate::clock;
use crate::error::Result;
use crate::settings::{DEFAULT_PERIOD, Settings};

/// After a failed rotation, --watch tries again this often (seconds).
const RETRY: u64 = 10;

static STOP: AtomicBool = AtomicBool::new(false);
static QUIET: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// From now on SIGTERM and SIGINT end the wait and the loop (see [`stopped`]).
pub fn install_stop_handlers() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: the handler only stores to an atomic; no SA_RESTART, so a
        // blocking poll returns EINTR at once.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Whether a stop signal came.
pub fn stopped() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// One line per event, to stdout: journald or the log file keeps it.
pub fn log(line: &str) {
    let _ = cli::out(&format!("{line}\n"));
}

/// `rotate --quiet`: from now on [`info`] prints nothing (warnings and
/// errors still go to [`log`]), for cron and timers that mail any output.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A line saying that all went well: [`log`] unless quiet.
pub fn info(line: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        log(line);
    }
}

/// Rotate now and at every boundary until SIGTERM. The wait is a timerfd on
/// the real-time clock, at the boundary itself, cancelled when the clock is
/// set (so a jump is seen at once) and firing on resume when a suspend
/// crossed it; it is also capped at a minute, just in case. With doors of
/// several periods, every boundary of any of them is one.
///
/// Cancel-on-set only reports steps made after the timer is armed, so the
/// clock is read once more after arming (see [`sleep_until`]): a step that
/// lands during a rotation, or between it and the arming, ends the wait at
/// once and the loop rotates again.
pub fn watch(env: &Result<Settings>, job: &dyn Backend) -> Result<()> {
    install_stop_handlers();
    // Until the first rotation says otherwise: the environment's period.
    let mut periods = vec![env.as_ref().map_or(DEFAULT_PERIOD, |s| s.period)];
    info(&format!(
        "watching {}: rotating at every boundary of each door's period",
        job.target()
    ));
    // The time whose periods the doors hold, once a rotation succeeded.
    let mut held: Option<u64> = None;
    // After a failure: when to try again, on the monotonic clock (a step of
    // the real-time one neither hastens nor delays it).
    let mut retry_at: Option<Instant> = None;
    let mut changes = job.changes();
    // A watcher that died is started again after a pause (one that dies at
    // once, say in a sandbox that forbids it, must not spin).
    let mut watcher_after = Instant::now();
    while !stopped() {
        let now = clock::now()?;
        let current = held.is_some_and(|t| starts(t, &periods) == starts(now, &periods));
        if !current && retry_at.is_none_or(|t| Instant::now() >= t) {
            let at_boundary = held.is_some();
            // No ear while the job works: its own changes are no news (and
            // nftables sends a day of tokens as events to whoever listens,
            // which doubles the time); a new ear looks afterwards.
            changes = None;
            match job.once(env, None) {
                Ok(done) => {
                    report(&done, at_boundary, latest(&starts(done.at, &done.periods)));
                    periods = done.periods;
                    held = Some(done.at);
                    retry_at = None;
                }
                Err(e) => {
                    log(&format!("error: {e}; trying again in {RETRY} s"));
                    retry_at = Some(Instant::now() + Duration::from_secs(RETRY));
                }
            }
        }
        // Sleep while the clock stays in the periods the doors hold (or, with
        // nothing held, those of the read above), waking at the next boundary
        // or retry.
        let t = held.unwrap_or(now);
        let from = latest(&starts(t, &periods));
        let mut until = next_boundary(t, &periods);
        if let Some(r) = retry_at {
            let wait = r.saturating_duration_since(Instant::now()).as_secs();
            until = until.min(clock::now()?.saturating_add(wait.max(1)));
        }
        // A new ear has news at once: whether the work is still there.
        let mut news = false;
        if changes.is_none() && Instant::now() >= watcher_after {
            changes = job.changes();
            news = changes.is_some();
        }
        let fd = changes.as_ref().map(|c| c.fd());
        if news || sleep_until(from, until, fd) {
            match changes.as_mut().and_then(|c| c.undone()) {
                // (Nothing held: the retry's timer decides, not the ear.)
                Some(true) if held.is_some() => {
                    log(&format!(
                        "{} was undone from outside; putting it back",
                        job.target()
                    ));
                    held = None;
                    retry_at = None;
                }
                Some(_) => {}
                None => {
                    changes = None;
                    watcher_after = Instant::now() + Duration::from_secs(RETRY);
                }
            }
        }
    }
    info("stopping (signal)");
    Ok(())
}

/// Log what a rotation did; `start` is the boundary it was for.
fn report(done: &Rotated, at_boundary: bool, start: u64) {
    for w in &done.warnings {
        log(&format!("warning: {w}"));
    }
    for line in &done.lines {
        if at_boundary {
            info(&format!("{line} ({} ms after the boundary)", lag_ms(start)));
        } else {
            info(line);
        }
    }
    if let Some(e) = &done.refused {
        // The same in every retry: wait for the next period.
        log(&format!("error: {e}; not retried before the next boundary"));
    }
}

/// The latest of the current periods' starts: the boundary just crossed.
fn latest(starts: &[u64]) -> u64 {
    starts.iter().copied().max().unwrap_or(0)
}

/// The first boundary after `now` of any of `periods`.
pub fn next_boundary(now: u64, periods: &[u64]) -> u64 {
    periods
        .iter()
        .map(|p| (now / p + 1) * p)
        .min()
        .unwrap_or(now + 60)
}

/// How late after the boundary at `start` the rotation was done.
fn lag_ms(start: u64) -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis().saturating_sub(u128::from(start) * 1000))
        .unwrap_or(0)
}

/// Sleep while the real-time clock is in `[from, until)`: until UNIX time
/// `until`, a step of the clock out of that span, a signal, a minute, or
/// `also` becoming readable (then true). The clock is read again after the
/// timer is armed, because cancel-on-set reports only the steps made after
/// that.
pub fn sleep_until(from: u64, until: u64, also: Option<std::os::fd::BorrowedFd>) -> bool {
    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };
    let at = |secs: u64| Timespec {
        tv_sec: secs as i64,
        tv_nsec: 0,
    };
    let spec = Itimerspec {
        it_interval: at(0),
        it_value: at(until),
    };
    let fd = timerfd_create(TimerfdClockId::Realtime, TimerfdFlags::CLOEXEC).and_then(|fd| {
        timerfd_settime(
            &fd,
            TimerfdTimerFlags::ABSTIME | TimerfdTimerFlags::CANCEL_ON_SET,
            &spec,
        )
        .map(|_| fd)
    });
    let inside = || clock::now().is_ok_and(|now| (from..until).contains(&now));
    use rustix::event::{PollFd, PollFlags, poll};
    if !inside() {
        return false;
    }
    let mut fds = Vec::with_capacity(2);
    // No timerfd (very old kernel): polls of at most a second, so that a
    // step is seen within one.
    let cap = match &fd {
        Ok(fd) => {
            fds.push(PollFd::new(fd, PollFlags::IN));
            60
        }
        Err(_) => 1,
    };
    if let Some(a) = &also {
        fds.push(PollFd::new(a, PollFlags::IN));
    }
    let _ = poll(&mut fds, Some(&at(cap)));
    also.is_some() && fds.last().is_some_and(|f| !f.revents().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock already outside the span (a step that came before the timer
    /// was armed) ends the wait at once rather than at the next boundary.
    #[test]
    fn a_clock_outside_the_span_ends_the_wait_at_once() {
        let now = clock::now().unwrap();
        for (from, until) in [(0, now), (now + 3600, now + 7200)] {
            let t = Instant::now();
            sleep_until(from, until, None);
            assert!(t.elapsed() < Duration::from_secs(1), "{from}..{until}");
        }
    }

    #[test]
    fn boundaries() {
        assert_eq!(next_boundary(3599, &[3600]), 3600);
        assert_eq!(next_boundary(3600, &[3600, 600]), 4200);
        assert_eq!(starts(4000, &[3600, 600]), [3600, 3600]);
        assert_eq!(latest(&starts(4300, &[3600, 600])), 4200);
    }
}
