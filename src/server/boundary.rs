//! One-shot mode under a timer that runs every KNOCKD_ROTATOR_SERVER_INTERVAL
//! seconds: when the next boundary comes before the next run, stay behind
//! and rotate at the boundary. The run is a detached grandchild that still
//! holds the settings in memory: no secret on any command line or in any
//! environment.

use rustix::process::{Pid, WaitOptions, setsid, waitpid};

use super::backend::Backend;
use super::watch::{info, install_stop_handlers, next_boundary, sleep_until, stopped};
use crate::clock;
use crate::error::{Error, Result};
use crate::settings::Settings;

/// Exit codes of the intermediate child, which only detaches.
const DETACHED: i32 = 0;
const SETSID_FAILED: i32 = 3;
const FORK_FAILED: i32 = 4;

/// If the boundary after `now` comes before the next timer run (`interval`
/// seconds away), leave a process behind that rotates then. `prog` is how
/// the user called us, for its messages.
pub fn boundary_run(
    prog: &str,
    interval: u64,
    env: &Result<Settings>,
    periods: &[u64],
    job: &dyn Backend,
    now: u64,
) -> Result<()> {
    let next = next_boundary(now, periods);
    if next - now >= interval {
        return Ok(());
    }
    // SAFETY: single-threaded process; the children only detach, sleep,
    // rotate and exit.
    let pid = unsafe { libc::fork() };
    if pid == -1 {
        return Err(Error::io(
            "fork for the boundary run",
            std::io::Error::last_os_error(),
        ));
    }
    if pid == 0 {
        detach_and_rotate(prog, env, job, next);
    }
    let status = Pid::from_raw(pid)
        .map(|p| waitpid(Some(p), WaitOptions::empty()))
        .and_then(|r| r.ok().flatten())
        .and_then(|(_, s)| s.exit_status());
    let why = match status {
        Some(DETACHED) => {
            info(&format!(
                "next boundary at {} is before the next timer run: rotating again then",
                clock::utc(next)
            ));
            return Ok(());
        }
        Some(SETSID_FAILED) => "setsid failed",
        Some(FORK_FAILED) => "the second fork failed",
        _ => "its first child died",
    };
    Err(Error::failure(format!(
        "no boundary run at {}: {why}; the timer's next run rotates instead",
        clock::utc(next)
    )))
}

/// In the first child: a new session, a grandchild that does the work, and
/// the child's own exit (reaped by the parent) saying how that went.
fn detach_and_rotate(prog: &str, env: &Result<Settings>, job: &dyn Backend, next: u64) -> ! {
    if setsid().is_err() {
        exit_now(SETSID_FAILED);
    }
    // SAFETY: still single-threaded.
    match unsafe { libc::fork() } {
        -1 => exit_now(FORK_FAILED),
        0 => {}
        _ => exit_now(DETACHED),
    }
    install_stop_handlers();
    while !stopped() && clock::now().unwrap_or(next) < next {
        sleep_until(0, next, None);
    }
    let code = if stopped() {
        0
    } else {
        match job.once(env, None) {
            Ok(done) => {
                for line in &done.lines {
                    info(&format!("boundary run: {line}"));
                }
                match done.refused {
                    Some(e) => {
                        crate::cli::err(&format!("{prog}: boundary run: {e}\n"));
                        e.code()
                    }
                    None => 0,
                }
            }
            Err(e) => {
                crate::cli::err(&format!("{prog}: boundary run: {e}\n"));
                e.code()
            }
        }
    };
    std::process::exit(code)
}

/// Leave the intermediate child at once: none of the parent's destructors,
/// atexit handlers or buffered output run twice.
fn exit_now(code: i32) -> ! {
    // SAFETY: _exit takes no pointers and never returns.
    unsafe { libc::_exit(code) }
}
