//! Making knockd re-read its configuration: SIGHUP, never a restart.
//!
//! A restart kills the children that wait to run doors' `stop_command`s,
//! leaving doors open; a SIGHUP leaves them alone. knockd exits if the file
//! it re-reads is bad, so afterwards we check that it is still alive and,
//! where its log is known, that it logged the re-read.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use super::process::{alive, knockd_pid};
use super::rotation::Loaded;
use crate::env::is_ours;
use crate::error::{Error, Result, quote};

pub const DEFAULT_PIDFILE: &str = "/var/run/knockd.pid";
/// knockd 0.8 logs this when it re-reads its configuration (and exits
/// right after if the file is bad, which the liveness check catches).
const REREAD: &[u8] = b"re-reading config file";

#[derive(Debug, Clone)]
pub enum Method {
    /// `systemctl reload knockd` (the unit maps it to SIGHUP).
    Systemd,
    /// SIGHUP to the pid in this file.
    Pidfile(PathBuf),
    /// A command run by /bin/sh (OpenWrt, OpenRC).
    Command(String),
}

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub enum Choice {
    /// systemd when it runs knockd, else the pid file.
    #[default]
    Auto,
    /// `--reload-command CMD`.
    Command(String),
    /// `--no-reload`: write the file only.
    Off,
}

/// Where knockd is and how to reach it, for one configuration.
pub struct Target {
    pub method: Method,
    /// Lets a command's effect be checked too.
    pub pidfile: PathBuf,
    /// knockd's log, if the configuration names one.
    pub logfile: Option<PathBuf>,
}

/// The reload `choice` means for `loaded`; `None` for `--no-reload`.
/// `--pidfile` wins over the configuration's PidFile, which wins over the
/// default; an explicit `--pidfile` also means "signal it, not systemd".
pub fn target(choice: &Choice, pidfile: Option<&Path>, loaded: &Loaded) -> Option<Target> {
    let path = pidfile
        .map(Path::to_path_buf)
        .or_else(|| loaded.pidfile())
        .unwrap_or_else(|| DEFAULT_PIDFILE.into());
    let method = match choice {
        Choice::Off => return None,
        Choice::Command(cmd) => Method::Command(cmd.clone()),
        Choice::Auto if pidfile.is_some() => Method::Pidfile(path.clone()),
        Choice::Auto => default_method(&path),
    };
    Some(Target {
        method,
        pidfile: path,
        logfile: loaded.logfile(),
    })
}

/// What happened, for the log line.
pub struct Done(pub String);

/// Make knockd at `t` re-read its configuration, and check that it did.
pub fn reload(t: &Target) -> Result<Done> {
    let pidfile = &t.pidfile;
    let log_mark = t.logfile.as_deref().map(log_mark);
    match &t.method {
        Method::Systemd => {
            run(
                Command::new("systemctl").args(["reload", "knockd"]),
                "systemctl reload knockd",
            )?;
            std::thread::sleep(Duration::from_millis(500));
            let active = child(Command::new("systemctl").args(["is-active", "--quiet", "knockd"]))
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if !active {
                return Err(Error::failure(
                    "knockd is not running after 'systemctl reload knockd'; see 'journalctl -u knockd'",
                ));
            }
            wait_for_log(log_mark)?;
            Ok(Done("knockd reloaded (systemctl reload knockd)".into()))
        }
        Method::Pidfile(path) => {
            let pid = knockd_pid(path)?;
            Pid::from_raw(pid)
                .ok_or(rustix::io::Errno::SRCH)
                .and_then(|p| kill_process(p, Signal::HUP))
                .map_err(|e| Error::io(format!("SIGHUP to knockd (pid {pid})"), e))?;
            confirm(pid, log_mark)?;
            Ok(Done(format!("knockd reloaded (SIGHUP to pid {pid})")))
        }
        Method::Command(cmd) => {
            let pid = knockd_pid(pidfile).ok();
            run(
                Command::new("/bin/sh").args(["-c", cmd]),
                &format!("--reload-command {}", quote(cmd)),
            )?;
            match pid {
                Some(pid) => confirm(pid, log_mark)?,
                None => wait_for_log(log_mark)?,
            }
            Ok(Done(format!("knockd reloaded ({})", quote(cmd))))
        }
    }
}

/// A child with none of our variables: nothing of the secret's reaches it.
fn child(c: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars_os().filter(|(k, _)| is_ours(k)) {
        c.env_remove(k);
    }
    c.stdin(Stdio::null())
}

fn run(c: &mut Command, what: &str) -> Result<()> {
    let out = child(c).output().map_err(|e| Error::io(what, e))?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let said = said.lines().next().unwrap_or("").trim();
    Err(Error::failure(format!(
        "{what} failed ({}){}",
        crate::error::ended(out.status),
        if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        }
    )))
}

/// knockd re-reads within milliseconds of the signal (and exits at once if
/// the file is bad): wait for its log line where we know its log, give it a
/// moment in any case, then it must be alive and must have logged.
fn confirm(pid: libc::pid_t, log_mark: Option<LogMark>) -> Result<()> {
    let start = Instant::now();
    let logged = wait_for_log(log_mark);
    let settle = Duration::from_millis(300);
    while alive(pid) && start.elapsed() < settle {
        std::thread::sleep(Duration::from_millis(20));
    }
    if !alive(pid) {
        return Err(Error::failure(format!(
            "knockd (pid {pid}) exited after the reload: it refused the configuration; \
             doors are down until it is restarted, see its log"
        )));
    }
    logged
}

/// Where knockd's log ended before the reload: its file and length.
#[derive(Clone, Copy)]
struct LogMark<'a> {
    path: &'a Path,
    dev_ino: Option<(u64, u64)>,
    len: u64,
}

fn log_mark(path: &Path) -> LogMark<'_> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok();
    LogMark {
        path,
        dev_ino: meta.as_ref().map(|m| (m.dev(), m.ino())),
        len: meta.map_or(0, |m| m.len()),
    }
}

/// The log's text written since `mark`, at most 1 MiB of it. After the log
/// was rotated (another file, or a shorter one) it is the new file's text,
/// all written since; an old line never counts.
fn log_since(mark: LogMark) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::MetadataExt;
    let Ok((mut f, meta)) = crate::safe_read::open_regular(mark.path, "", u64::MAX) else {
        return Vec::new();
    };
    let same = mark.dev_ino == Some((meta.dev(), meta.ino())) && meta.len() >= mark.len;
    let from = if same { mark.len } else { 0 };
    let mut new = Vec::new();
    let _ = f
        .seek(SeekFrom::Start(from))
        .and_then(|_| f.take(1 << 20).read_to_end(&mut new));
    new
}

fn wait_for_log(log_mark: Option<LogMark>) -> Result<()> {
    let Some(mark) = log_mark else {
        return Ok(());
    };
    let end = Instant::now() + Duration::from_secs(2);
    loop {
        let new = log_since(mark);
        if new
            .windows(REREAD.len())
            .any(|w| w.eq_ignore_ascii_case(REREAD))
        {
            return Ok(());
        }
        if Instant::now() >= end {
            return Err(Error::failure(format!(
                "knockd did not log that it re-read its configuration ({} has no '{}' line after the reload)",
                mark.path.display(),
                String::from_utf8_lossy(REREAD)
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The default method: systemd when it runs knockd, else the pid file.
fn default_method(pidfile: &Path) -> Method {
    let systemd = Path::new("/run/systemd/system").is_dir()
        && child(Command::new("systemctl").args(["is-active", "--quiet", "knockd"]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
    if systemd {
        Method::Systemd
    } else {
        Method::Pidfile(pidfile.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only lines written after the mark count; a log replaced since (log
    /// rotation) counts whole, since all of it is newer.
    #[test]
    fn the_log_is_read_from_the_mark() {
        let dir = std::env::temp_dir().join(format!("kr-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("knockd.log");
        std::fs::write(&log, "[old] re-reading config file\n").unwrap();
        let mark = log_mark(&log);
        assert_eq!(log_since(mark), b"");
        assert!(
            wait_for_log(Some(mark)).is_err(),
            "an old line confirmed a reload"
        );
        let append = |text: &str| {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            f.write_all(text.as_bytes()).unwrap();
        };
        append("[new] re-reading config file\n");
        assert_eq!(log_since(mark), b"[new] re-reading config file\n");
        std::fs::rename(&log, dir.join("knockd.log.1")).unwrap();
        std::fs::write(&log, "[newer] x\n").unwrap();
        assert_eq!(log_since(mark), b"[newer] x\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
