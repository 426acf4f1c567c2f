//! The lock that serialises the rotations of one knockd.conf: flock(2) on a
//! file of our own, named by the config's path, in a runtime directory only
//! we can write (`/run/knock-rotator` for root); never on a file or
//! directory another user can open, since any holder of the lock stalls
//! every rotation. The kernel drops it when the holder exits, however it
//! exits, so it never goes stale.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{FileType, FlockOperation, Mode, OFlags, flock, fstat, mkdir, open, openat};
use rustix::io::Errno;

use crate::error::{Error, Result};

/// The exclusive rotation lock, held until dropped.
pub struct RotationLock {
    _file: OwnedFd,
}

/// Where the lock lives: root's under /run (or /var/run), another user's
/// under $XDG_RUNTIME_DIR, else a directory of theirs in the temporary
/// directory (checked to be theirs before use).
pub fn runtime_dir() -> PathBuf {
    let uid = rustix::process::geteuid().as_raw();
    if uid == 0 {
        let run = if Path::new("/run").is_dir() {
            "/run"
        } else {
            "/var/run"
        };
        return Path::new(run).join("knock-rotator");
    }
    let absolute =
        |v: Option<std::ffi::OsString>| v.filter(|d| d.as_encoded_bytes().first() == Some(&b'/'));
    if let Some(dir) = absolute(std::env::var_os("XDG_RUNTIME_DIR")) {
        return Path::new(&dir).join("knock-rotator");
    }
    let tmp = absolute(std::env::var_os("TMPDIR")).unwrap_or_else(|| "/tmp".into());
    Path::new(&tmp).join(format!("knock-rotator-{uid}"))
}

impl RotationLock {
    /// Wait up to `timeout` for the lock of the config at `real` (its
    /// canonical path).
    pub fn acquire(real: &Path, timeout: Duration) -> Result<Self> {
        let dir = runtime_dir();
        let name = lock_name(real);
        let file = open_lock(&dir, &name)?;
        let end = Instant::now() + timeout;
        loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(RotationLock { _file: file }),
                Err(Errno::WOULDBLOCK | Errno::INTR) if Instant::now() < end => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(Errno::WOULDBLOCK) => {
                    return Err(Error::failure(format!(
                        "{}: another rotation has held the lock for {} s; is one stuck?",
                        dir.join(&name).display(),
                        timeout.as_secs()
                    )));
                }
                Err(e) => {
                    return Err(Error::io(format!("{}: lock", dir.join(&name).display()), e));
                }
            }
        }
    }
}

/// Make (0700) or check the directory, then open the lock file in it; no
/// symbolic link is followed, and both must be ours and closed to others.
/// `rotate-` and 16 hex digits of a hash of the path: one lock per config,
/// a fixed-length name whatever the path holds.
fn lock_name(real: &Path) -> String {
    let hash = blake3::hash(real.as_os_str().as_encoded_bytes());
    let hex: String = hash.as_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("rotate-{hex}.lock")
}

fn open_lock(dir: &Path, name: &str) -> Result<OwnedFd> {
    let at = |e: Errno, p: &Path| Error::io(p.display(), e);
    match mkdir(dir, Mode::RWXU) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(at(e, dir)),
    }
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let d = open(dir, flags, Mode::empty()).map_err(|e| at(e, dir))?;
    check_ours(&d, dir)?;
    let path = dir.join(name);
    let flags =
        OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let f = openat(&d, name, flags, Mode::RUSR | Mode::WUSR).map_err(|e| at(e, &path))?;
    check_ours(&f, &path)?;
    Ok(f)
}

/// Owned by us, writable by no one else.
fn check_ours(fd: &OwnedFd, path: &Path) -> Result<()> {
    let st = fstat(fd).map_err(|e| Error::io(path.display(), e))?;
    let uid = rustix::process::geteuid().as_raw();
    let mode = st.st_mode as u32 & 0o7777;
    let kind = FileType::from_raw_mode(st.st_mode as _);
    if !matches!(kind, FileType::Directory | FileType::RegularFile) {
        return Err(Error::usage(format!(
            "{}: not a regular file",
            path.display()
        )));
    }
    if st.st_uid != uid || mode & 0o022 != 0 {
        return Err(Error::usage(format!(
            "{}: must be owned by uid {uid} and writable by no one else (owner {}, mode {mode:04o}); \
             another user could hold the rotation lock",
            path.display(),
            st.st_uid
        )));
    }
    Ok(())
}
