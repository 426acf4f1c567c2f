//! `rotate`: rewrite the sequences of knockd's `[*_ROTATOR]` doors and make
//! knockd re-read them, once (for a timer) or at every boundary (`--watch`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lexopt::prelude::*;

use super::{Applet, Ctx};
use crate::atomic_file::{self, DirLock};
use crate::error::{Error, Result};
use crate::reload::{self, Method};
use crate::rotation::{self, Loaded, Plan};
use crate::settings::{self, Settings};
use crate::{cli, clock};

pub const APPLET: Applet = Applet {
    name: "rotate",
    link: Some("knock-rotate"),
    summary: "rewrite the sequences of knockd's [*_ROTATOR] doors and reload it",
    usage: USAGE,
    run,
};

pub const DEFAULT_CONFIG: &str = "/etc/knockd.conf";
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// After a failed rotation, --watch tries again this often.
const RETRY: u64 = 10;

const USAGE: &str = "\
Usage: knock-rotator rotate [OPTIONS]
       knock-rotate [OPTIONS]

Rewrite the 'sequence' lines of every knockd door whose name ends in
_ROTATOR with the current period's sequence, changing nothing else in the
file, and make knockd re-read it (SIGHUP: pending stop_commands survive).
A file knockd would refuse is refused, with its line, and left untouched.

Options:
  -c, --config PATH       knockd's configuration (default /etc/knockd.conf)
  -n, --dry-run           show what would change (a diff) and touch nothing
      --show-sequences    show sequences in --dry-run output (default: only
                          on a terminal)
      --at UNIX_SECONDS   rotate for the period holding this time
      --pidfile PATH      knockd's pid file (default: its PidFile option,
                          else /var/run/knockd.pid)
      --reload-command CMD  reload with this shell command instead
      --no-reload         write the file only
  -w, --watch             keep running: rotate now and within a second of
                          every period boundary; stop on SIGTERM
      --no-boundary-run   one-shot mode: do not stay behind to rotate again
                          at a boundary due before the next timer run
  -h, --help              show this help

Settings come from the environment, as for 'generate'; see knock-rotate(8).
";

struct Options {
    config: PathBuf,
    dry_run: bool,
    show: bool,
    at: Option<u64>,
    pidfile: Option<PathBuf>,
    reload: Option<Option<String>>,
    watch: bool,
    boundary_run: bool,
}

fn parse(ctx: &Ctx, mut p: lexopt::Parser) -> Result<Option<Options>> {
    let mut o = Options {
        config: DEFAULT_CONFIG.into(),
        dry_run: false,
        show: false,
        at: None,
        pidfile: None,
        reload: None,
        watch: false,
        boundary_run: true,
    };
    let err = |e| cli::arg_error(&ctx.prog, e);
    while let Some(arg) = p.next().map_err(err)? {
        match arg {
            Short('h') | Long("help") => {
                cli::out(USAGE)?;
                return Ok(None);
            }
            Short('c') | Long("config") => o.config = p.value().map_err(err)?.into(),
            Short('n') | Long("dry-run") => o.dry_run = true,
            Long("show-sequences") => o.show = true,
            Long("at") => o.at = Some(cli::unix_time("--at", p.value().map_err(err)?)?),
            Long("pidfile") => o.pidfile = Some(p.value().map_err(err)?.into()),
            Long("reload-command") => {
                let cmd = cli::text("--reload-command", p.value().map_err(err)?)?;
                if cmd.trim().is_empty() {
                    return Err(Error::usage("--reload-command is empty"));
                }
                o.reload = Some(Some(cmd));
            }
            Long("no-reload") => o.reload = Some(None),
            Short('w') | Long("watch") => o.watch = true,
            Long("no-boundary-run") => o.boundary_run = false,
            arg => return Err(err(arg.unexpected())),
        }
    }
    if o.watch && (o.dry_run || o.at.is_some()) {
        return Err(Error::usage(
            "--watch rotates at real boundaries: drop --dry-run and --at",
        ));
    }
    Ok(Some(o))
}

fn run(ctx: &Ctx, p: lexopt::Parser) -> Result<()> {
    let Some(o) = parse(ctx, p)? else {
        return Ok(());
    };
    let settings = Settings::load(&ctx.env)?;
    if o.dry_run {
        let loaded = rotation::load(&o.config)?;
        let plan = rotation::plan(&settings, &loaded, clock::now_or(o.at)?, 0)?;
        // SAFETY: isatty on our own stdout.
        let tty = unsafe { libc::isatty(1) } == 1;
        return cli::out(&diff(&loaded, &plan, o.show || tty));
    }
    if o.watch {
        return watch(&settings, &o);
    }
    let now = clock::now_or(o.at)?;
    let summary = rotate_once(&settings, &o, now)?;
    cli::out(&format!("{summary}\n"))?;
    if o.boundary_run && o.at.is_none() {
        boundary_run(&ctx.env, &settings, &o, now)?;
    }
    Ok(())
}

/// Lock, read, check, write if anything changes, reload. Returns the log line.
fn rotate_once(settings: &Settings, o: &Options, now: u64) -> Result<String> {
    let real = std::fs::canonicalize(&o.config).map_err(|e| Error::io(o.config.display(), e))?;
    let dir = real.parent().unwrap_or(Path::new("/"));
    let _lock = DirLock::acquire(dir, LOCK_TIMEOUT)?;
    atomic_file::remove_stale_temps(&real);
    let loaded = rotation::load(&o.config)?;
    let plan = rotation::plan(settings, &loaded, now, 0)?;
    let period = clock::utc(plan.period_start);
    if plan.new_text == loaded.text {
        let n = plan.doors.len();
        return Ok(format!(
            "{}: {}; nothing to do",
            o.config.display(),
            if n == 1 {
                format!(
                    "the rotator door already holds the sequence for the period starting {period}"
                )
            } else {
                format!(
                    "all {n} rotator doors already hold the sequences for the period starting {period}"
                )
            }
        ));
    }
    atomic_file::replace(&loaded.path, &plan.new_text, &loaded.meta)?;
    let what = format!(
        "{}: rotated {} of {} rotator door{} for the period starting {period}",
        o.config.display(),
        plan.changed(),
        plan.doors.len(),
        if plan.doors.len() == 1 { "" } else { "s" }
    );
    let pidfile = o
        .pidfile
        .clone()
        .or_else(|| {
            loaded
                .conf
                .pidfile
                .as_ref()
                .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        })
        .unwrap_or_else(|| reload::DEFAULT_PIDFILE.into());
    let logfile = loaded
        .conf
        .logfile
        .as_ref()
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()));
    let method = match &o.reload {
        Some(None) => return Ok(format!("{what}; not reloaded (--no-reload)")),
        Some(Some(cmd)) => Method::Command(cmd.clone()),
        None if o.pidfile.is_some() => Method::Pidfile(pidfile.clone()),
        None => reload::default_method(&pidfile),
    };
    match reload::reload(&method, &pidfile, logfile.as_deref()) {
        Ok(done) => Ok(format!("{what}; {}", done.0)),
        Err(e) => Err(Error::failure(format!(
            "{what}, but the reload failed: {e}"
        ))),
    }
}

/// A unified-style diff of the lines that would change. Sequences are
/// shown only when asked for (or on a terminal): logs keep none.
fn diff(loaded: &Loaded, plan: &Plan, show: bool) -> String {
    let path = loaded.path.display();
    let mut out = format!(
        "--- {path}\n+++ {path} (period starting {})\n",
        clock::utc(plan.period_start)
    );
    let old_lines: Vec<_> = crate::knockd_conf::lines(&loaded.text).collect();
    let new_lines: Vec<_> = crate::knockd_conf::lines(&plan.new_text).collect();
    let mut any = false;
    let mut door = String::new();
    for ((or, n), (nr, _)) in old_lines.iter().zip(&new_lines) {
        let (old, new) = (&loaded.text[or.clone()], &plan.new_text[nr.clone()]);
        let t = crate::knockd_conf::trimmed(old);
        if t.starts_with(b"[") && t.ends_with(b"]") {
            door = String::from_utf8_lossy(t).into_owned();
        }
        if old == new {
            continue;
        }
        any = true;
        let show_line = |l: &[u8]| {
            let text = String::from_utf8_lossy(l)
                .trim_end_matches('\r')
                .to_string();
            if show {
                return text;
            }
            match text.split_once('=') {
                Some((k, _)) => format!("{k}= (hidden; --show-sequences shows it)"),
                None => text,
            }
        };
        out.push_str(&format!(
            "@@ line {n} {door} @@\n-{}\n+{}\n",
            show_line(old),
            show_line(new)
        ));
    }
    if !any {
        out.push_str("(no change: every rotator door holds the current sequence)\n");
    }
    out
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_stop_handlers() {
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

/// Rotate now and at every boundary until SIGTERM. The wait is a timerfd on
/// the real-time clock, at the boundary itself, cancelled when the clock is
/// set (so a jump is seen at once) and firing on resume when a suspend
/// crossed it; it is also capped at a minute, just in case.
fn watch(settings: &Settings, o: &Options) -> Result<()> {
    install_stop_handlers();
    let period = settings.period;
    log(&format!(
        "watching {}: period {period} s, rotating at every boundary",
        o.config.display()
    ));
    let mut done_for: Option<u64> = None;
    let mut retry_at: Option<u64> = None;
    while !STOP.load(Ordering::SeqCst) {
        let now = clock::now()?;
        let start = now / period * period;
        if done_for != Some(start) && retry_at.is_none_or(|t| now >= t) {
            let at_boundary = done_for.is_some();
            match rotate_once(settings, o, now) {
                Ok(line) => {
                    if at_boundary {
                        // How late after the boundary the reload was done.
                        let lag = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_millis().saturating_sub(u128::from(start) * 1000))
                            .unwrap_or(0);
                        log(&format!("{line} ({lag} ms after the boundary)"));
                    } else {
                        log(&line);
                    }
                    done_for = Some(start);
                    retry_at = None;
                }
                Err(e) => {
                    log(&format!("error: {e}; trying again in {RETRY} s"));
                    retry_at = Some(now + RETRY);
                }
            }
        }
        let target = retry_at.unwrap_or(start + period).min(start + period);
        sleep_until(target);
    }
    log("stopping (signal)");
    Ok(())
}

fn log(line: &str) {
    // One line per event, to stdout: journald or the log file keeps it.
    let _ = cli::out(&format!("{line}\n"));
}

/// Sleep until UNIX time `target` (real-time clock), a signal, or a minute.
fn sleep_until(target: u64) {
    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };
    let spec = Itimerspec {
        it_interval: Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: Timespec {
            tv_sec: target as i64,
            tv_nsec: 0,
        },
    };
    let fd = timerfd_create(TimerfdClockId::Realtime, TimerfdFlags::CLOEXEC).and_then(|fd| {
        timerfd_settime(
            &fd,
            TimerfdTimerFlags::ABSTIME | TimerfdTimerFlags::CANCEL_ON_SET,
            &spec,
        )
        .map(|_| fd)
    });
    let cap = rustix::time::Timespec {
        tv_sec: 60,
        tv_nsec: 0,
    };
    match fd {
        Ok(fd) => {
            let mut fds = [rustix::event::PollFd::new(
                &fd,
                rustix::event::PollFlags::IN,
            )];
            let _ = rustix::event::poll(&mut fds, Some(&cap));
        }
        Err(_) => {
            // No timerfd (very old kernel): short sleeps on the clock.
            let now = clock::now().unwrap_or(target);
            std::thread::sleep(Duration::from_secs(target.saturating_sub(now).clamp(1, 60)));
        }
    }
}

/// One-shot mode under a timer that runs every KNOCKD_ROTATOR_SERVER_INTERVAL
/// seconds: when the next boundary comes before the next run, stay behind
/// (a detached child, still holding the settings in memory: no secret on
/// any command line or in any environment) and rotate at the boundary.
fn boundary_run(env: &settings::Env, settings: &Settings, o: &Options, now: u64) -> Result<()> {
    let interval = settings::server_interval(env)?;
    let next = (now / settings.period + 1) * settings.period;
    if next - now >= interval {
        return Ok(());
    }
    // SAFETY: single-threaded process; the children only sleep, rotate and exit.
    match unsafe { libc::fork() } {
        -1 => Err(Error::io(
            "fork for the boundary run",
            std::io::Error::last_os_error(),
        )),
        0 => {
            // SAFETY: in the child.
            unsafe {
                libc::setsid();
                if libc::fork() != 0 {
                    libc::_exit(0);
                }
            }
            install_stop_handlers();
            while !STOP.load(Ordering::SeqCst) && clock::now().unwrap_or(next) < next {
                sleep_until(next);
            }
            let code = if STOP.load(Ordering::SeqCst) {
                0
            } else {
                match rotate_once(settings, o, clock::now().unwrap_or(next)) {
                    Ok(line) => {
                        log(&format!("boundary run: {line}"));
                        0
                    }
                    Err(e) => {
                        eprintln!("knock-rotate: boundary run: {e}");
                        e.code()
                    }
                }
            };
            std::process::exit(code);
        }
        pid => {
            let mut status = 0;
            // SAFETY: reaping our own short-lived child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            log(&format!(
                "next boundary at {} is before the next timer run: rotating again then",
                clock::utc(next)
            ));
            Ok(())
        }
    }
}
