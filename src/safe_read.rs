//! Reading the files we are given: every one is opened without blocking (a
//! FIFO must not hang us) and without taking a terminal, must be a regular
//! file, and is read with a size cap (`/dev/zero` must not exhaust memory).
//!
//! A file that holds or names a secret (a secret file, a profile, a doors
//! file) must also be private, as ssh's StrictModes demands of a key: owned
//! by us or root, not readable or writable by group or others, and in
//! directories that no one else can write, up to our home or the root (a
//! directory that others may write but with the sticky bit set, as /tmp, is
//! fine: no one else can swap our entries in it).

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// Open `path` and check it is a regular file of at most `max_bytes`.
pub fn open_regular(path: &Path, origin: &str, max_bytes: u64) -> Result<(File, Metadata)> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| io(origin, e))?;
    // Check the file we opened, not the path, so a swap cannot slip past.
    let meta = f.metadata().map_err(|e| io(origin, e))?;
    if !meta.is_file() {
        return Err(Error::usage(at(origin, "not a regular file")));
    }
    if meta.len() > max_bytes {
        return Err(too_large(origin, max_bytes));
    }
    Ok((f, meta))
}

/// Read `path`, whoever owns it, into `buf`; see [`open_regular`].
pub fn regular(path: &Path, origin: &str, max_bytes: u64, buf: &mut Vec<u8>) -> Result<Metadata> {
    let (f, meta) = open_regular(path, origin, max_bytes)?;
    read_capped(f, &meta, origin, max_bytes, buf)?;
    Ok(meta)
}

/// Open, check and read a private file into `buf` (the caller's, so that it
/// can be a secret's, wiped when dropped); `origin` starts every error.
pub fn private(path: &Path, origin: &str, max_bytes: u64, buf: &mut Vec<u8>) -> Result<()> {
    let (f, meta) = open_regular(path, origin, max_bytes)?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(Error::usage(format!(
            "{origin}: readable or writable by group or others (mode {mode:04o}); \
             run chmod 600 on it"
        )));
    }
    let euid = rustix::process::geteuid().as_raw();
    if meta.uid() != euid && meta.uid() != 0 {
        return Err(Error::usage(format!(
            "{origin}: owned by uid {}, not by you (uid {euid}) or root",
            meta.uid()
        )));
    }
    check_dirs(path, &meta, origin)?;
    read_capped(f, &meta, origin, max_bytes, buf)
}

fn read_capped(
    mut f: File,
    meta: &Metadata,
    origin: &str,
    max: u64,
    buf: &mut Vec<u8>,
) -> Result<()> {
    // Room for all of it up front: a reallocation would leave a copy behind.
    buf.reserve_exact(meta.len() as usize + 1);
    (&mut f)
        .take(max + 1)
        .read_to_end(buf)
        .map_err(|e| io(origin, e))?;
    if buf.len() as u64 > max {
        return Err(too_large(origin, max));
    }
    Ok(())
}

fn too_large(origin: &str, max: u64) -> Error {
    Error::usage(at(origin, &format!("larger than {max} bytes")))
}

/// "ORIGIN: MSG"; an empty origin leaves MSG alone, for a caller whose own
/// message names the file.
fn at(origin: &str, msg: &str) -> String {
    if origin.is_empty() {
        msg.to_string()
    } else {
        format!("{origin}: {msg}")
    }
}

fn io(origin: &str, e: impl Into<std::io::Error>) -> Error {
    Error::failure(at(origin, &crate::error::describe_io(&e.into())))
}

/// The directories above the file (after symbolic links), up to our home
/// or the root: each owned by us or root, and writable by no one else
/// unless sticky. `opened` must be the file those directories lead to.
fn check_dirs(path: &Path, opened: &Metadata, origin: &str) -> Result<()> {
    let real = std::fs::canonicalize(path).map_err(|e| io(origin, e))?;
    let same =
        std::fs::metadata(&real).is_ok_and(|m| (m.dev(), m.ino()) == (opened.dev(), opened.ino()));
    if !same {
        return Err(Error::usage(format!(
            "{origin}: changed while being read; try again"
        )));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| h.as_encoded_bytes().first() == Some(&b'/'))
        .and_then(|h| std::fs::canonicalize(h).ok());
    let euid = rustix::process::geteuid().as_raw();
    for dir in real.ancestors().skip(1) {
        let m = std::fs::metadata(dir).map_err(|e| Error::io(dir.display(), e))?;
        let mode = m.mode() & 0o7777;
        let owner_ok = m.uid() == euid || m.uid() == 0;
        let sticky = mode & 0o1000 != 0;
        if !owner_ok || (mode & 0o022 != 0 && !sticky) {
            return Err(Error::usage(format!(
                "{origin}: its directory {} is {} (owner uid {}, mode {mode:04o}), so another \
                 user could replace the file; move it to a directory only you or root can write",
                dir.display(),
                if owner_ok {
                    "writable by others"
                } else {
                    "not yours or root's"
                },
                m.uid()
            )));
        }
        if home.as_deref() == Some(dir) {
            break;
        }
    }
    Ok(())
}
