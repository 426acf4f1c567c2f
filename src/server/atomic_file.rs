//! Replacing a file so that it is always either the old or the new version,
//! and a lock that serialises writers and can never go stale.
//!
//! The new content goes to a temporary file in the same directory, with the
//! old file's mode and owner; it is fsynced, renamed over the old one, and
//! the directory is fsynced. The lock is flock(2) on the directory: the
//! kernel drops it when the holder exits, however it exits.

use std::fs::{File, Metadata};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, flock};
use rustix::io::Errno;

use crate::error::{Error, Result};

const TEMP_TAG: &str = ".knock-rotator-";

/// An exclusive lock on a directory, held until dropped.
pub struct DirLock {
    _dir: File,
}

impl DirLock {
    /// Wait up to `timeout` for the lock on `dir`.
    pub fn acquire(dir: &Path, timeout: Duration) -> Result<Self> {
        let f = File::open(dir).map_err(|e| Error::io(dir.display(), e))?;
        let end = Instant::now() + timeout;
        loop {
            match flock(&f, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(DirLock { _dir: f }),
                Err(Errno::WOULDBLOCK | Errno::INTR) if Instant::now() < end => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(Errno::WOULDBLOCK) => {
                    return Err(Error::failure(format!(
                        "{}: another rotation has held the lock for {} s; is one stuck?",
                        dir.display(),
                        timeout.as_secs()
                    )));
                }
                Err(e) => return Err(Error::io(format!("{}: lock", dir.display()), e)),
            }
        }
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}{TEMP_TAG}{}.tmp", std::process::id()))
}

/// Remove temporary files a killed writer left next to `path`. Call with
/// the lock held, so no live writer's file is touched.
pub fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = format!(".{}{TEMP_TAG}", name.to_string_lossy());
    if let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) {
        for e in entries.flatten() {
            let n = e.file_name();
            let n = n.as_bytes();
            if n.starts_with(prefix.as_bytes()) && n.ends_with(b".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Atomically replace `path` with `data`, keeping `old`'s mode and owner.
pub fn replace(path: &Path, data: &[u8], old: &Metadata) -> Result<()> {
    let tmp = temp_path(path);
    let result = write_temp(&tmp, data, old).and_then(|()| {
        std::fs::rename(&tmp, path).map_err(|e| Error::io(format!("{}: rename", path.display()), e))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // The rename is durable only once the directory is on disk too.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("{}: fsync", dir.display()), e))
}

fn write_temp(tmp: &Path, data: &[u8], old: &Metadata) -> Result<()> {
    let what = |op: &str| format!("{}: {op}", tmp.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(tmp)
        .map_err(|e| Error::io(what("create"), e))?;
    // Owner first (chown may clear set-id bits), then the mode.
    if let Err(e) = rustix::fs::fchown(
        &f,
        Some(rustix::fs::Uid::from_raw(old.uid())),
        Some(rustix::fs::Gid::from_raw(old.gid())),
    ) {
        // Not root: we can only keep our own ownership, which is fine when
        // the file was ours already.
        if old.uid() != rustix::process::geteuid().as_raw() {
            return Err(Error::io(what("chown"), e));
        }
    }
    f.set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777))
        .map_err(|e| Error::io(what("chmod"), e))?;
    f.write_all(data).map_err(|e| Error::io(what("write"), e))?;
    f.sync_all().map_err(|e| Error::io(what("fsync"), e))
}
