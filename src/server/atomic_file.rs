//! Replacing a file so that it is always either the old or the new version.
//!
//! The new content goes to a temporary file in the same directory, with the
//! old file's mode and owner; it is fsynced, renamed over the old one, and
//! the directory is fsynced. Writers hold the rotation lock
//! ([`super::lock`]).

use std::fs::{File, Metadata};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const TEMP_TAG: &str = ".knock-rotator-";

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
    let result = write_temp(path, &tmp, data, old).and_then(|()| {
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

/// Atomically write `data` to `path`, a file of ours that only we may read
/// (mode 0600), whether or not it exists.
pub fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let _ = std::fs::remove_file(&tmp);
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(&tmp)
        .and_then(|mut f| f.write_all(data).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Error::io(path.display(), e));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn write_temp(path: &Path, tmp: &Path, data: &[u8], old: &Metadata) -> Result<()> {
    let what = |op: &str| format!("{}: {op}", tmp.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(tmp)
        .map_err(|e| Error::io(what("create"), e))?;
    // Owner first (chown may clear set-id bits), then the mode.
    keep_owner(&f, old).map_err(|e| match e {
        Keep::Io(e) => Error::io(what("chown"), e),
        Keep::Group(gid) => Error::usage(format!(
            "{}: cannot keep its group (gid {gid}): you are not in it, and the new file would \
             give its group's access (mode {:04o}) to your own group; rotate as root, or chgrp \
             the file to one of your groups",
            path.display(),
            old.mode() & 0o7777
        )),
    })?;
    f.set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777))
        .map_err(|e| Error::io(what("chmod"), e))?;
    f.write_all(data).map_err(|e| Error::io(what("write"), e))?;
    f.sync_all().map_err(|e| Error::io(what("fsync"), e))
}

enum Keep {
    Io(rustix::io::Errno),
    /// The old group cannot be kept, and the mode gives it access.
    Group(u32),
}

/// Give the new file `old`'s owner and group. Root can; another user can
/// keep only their own ownership, and a group they are in. Where the group
/// cannot be kept, the new file would have ours: refused when the mode
/// lets the group read it, since that hands the file to another group.
fn keep_owner(f: &File, old: &Metadata) -> std::result::Result<(), Keep> {
    use rustix::fs::{Gid, Uid, fchown};
    let (uid, gid) = (Uid::from_raw(old.uid()), Gid::from_raw(old.gid()));
    let Err(e) = fchown(f, Some(uid), Some(gid)) else {
        return Ok(());
    };
    if old.uid() != rustix::process::geteuid().as_raw() {
        return Err(Keep::Io(e));
    }
    if fchown(f, None, Some(gid)).is_ok() || old.mode() & 0o070 == 0 {
        return Ok(());
    }
    Err(Keep::Group(old.gid()))
}
