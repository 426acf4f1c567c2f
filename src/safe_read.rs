//! Reading a file that holds or names a secret (a secret file, a profile, a
//! doors file): it must be a regular file, owned by us or root, and not
//! readable or writable by group or others, as ssh demands of a private key.
//! Opened without blocking (a FIFO must not hang us) and read with a cap.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// Open, check and read `path` into `buf` (the caller's, so that it can be
/// a secret's, wiped when dropped); `origin` starts every error message.
pub fn read(path: &Path, origin: &str, max_bytes: u64, buf: &mut Vec<u8>) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| Error::io(origin, e))?;
    // Check the file we opened, not the path, so a swap cannot slip past.
    let meta = f.metadata().map_err(|e| Error::io(origin, e))?;
    if !meta.is_file() {
        return Err(Error::usage(format!("{origin}: not a regular file")));
    }
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
    if meta.len() > max_bytes {
        return Err(Error::usage(format!(
            "{origin}: larger than {max_bytes} bytes"
        )));
    }
    // Room for all of it up front: a reallocation would leave a copy behind.
    buf.reserve_exact(meta.len() as usize + 1);
    (&mut f)
        .take(max_bytes + 1)
        .read_to_end(buf)
        .map_err(|e| Error::io(origin, e))?;
    if buf.len() as u64 > max_bytes {
        return Err(Error::usage(format!(
            "{origin}: larger than {max_bytes} bytes"
        )));
    }
    Ok(())
}
