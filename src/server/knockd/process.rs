//! Which process is knockd: the pid file's process, checked to be knockd
//! before it gets a signal, and whether it is still alive afterwards.

use std::path::Path;

use crate::error::{Error, Result, quote};

/// The pid in `path`, if that process is knockd (a stale pid file may name
/// any process, which must not get our signal). Its name alone proves
/// nothing, since any user can name a process `knockd`: it must also run
/// as root (knockd needs root to capture packets) or as us, and its
/// executable, where we may read it, must be named `knockd`.
pub fn knockd_pid(path: &Path) -> Result<libc::pid_t> {
    let mut text = Vec::new();
    let shown = format!("pid file {}", path.display());
    crate::safe_read::regular(path, &shown, 64, &mut text)?;
    let text = String::from_utf8_lossy(&text);
    let pid: libc::pid_t =
        text.trim().parse().ok().filter(|p| *p > 1).ok_or_else(|| {
            Error::failure(format!("{shown}: {} is not a pid", quote(text.trim())))
        })?;
    let not_knockd = |why: &str| {
        Error::failure(format!(
            "{shown}: pid {pid} is not knockd ({why}; is knockd running? a stale pid file?)"
        ))
    };
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim_end() != "knockd" {
        return Err(not_knockd("its name is not knockd"));
    }
    let uid = process_uid(pid).ok_or_else(|| not_knockd("it has exited"))?;
    let euid = rustix::process::geteuid().as_raw();
    if uid != 0 && uid != euid {
        return Err(not_knockd(&format!("it runs as uid {uid}, not as root")));
    }
    // Unreadable when we have fewer capabilities than knockd (a sandboxed
    // unit); the uid check above is the one that counts.
    if let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) {
        let exe = exe.as_os_str().as_encoded_bytes();
        let exe = exe.strip_suffix(b" (deleted)").unwrap_or(exe);
        if exe.rsplit(|&b| b == b'/').next() != Some(b"knockd") {
            return Err(not_knockd("its executable is not knockd"));
        }
    }
    Ok(pid)
}

/// The real uid of `pid`, from /proc (readable by anyone).
fn process_uid(pid: libc::pid_t) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn alive(pid: libc::pid_t) -> bool {
    // A zombie has exited already; /proc says so in its state field.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            stat.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => false,
    }
}
