//! `new-secret PATH`: a strong secret, made here, in a new owner-only file.
//! No more invented passphrases: 256 random bits, written as 64 hex digits
//! (valid text for every peer, and safe to paste anywhere).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use lexopt::prelude::*;

use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::error::{Error, Result};
use crate::random;
use crate::secret::{Secret, wipe};

pub const APPLET: Applet = Applet {
    name: "new-secret",
    link: None,
    summary: "write a new random secret to a new owner-only file",
    usage: USAGE,
    main: |ctx, p| super::drive(ctx, p, USAGE, parse, run),
};

const USAGE: &str = "\
Usage: knock-rotator new-secret PATH

Write a new secret of 256 random bits (64 hex digits) to PATH, a new file
readable by its owner only (mode 0600). An existing file is never
overwritten. Missing directories are made, owner-only. Point
KNOCKD_ROTATOR_SECRET_FILE, a profile's or a door's secret_file at it.

Options:
  -h, --help     show this help
  -V, --version  show the version
";

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<PathBuf>> {
    let mut path = None;
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Value(v) if path.is_none() => path = Some(PathBuf::from(v)),
            arg => return Err(arg.unexpected().into()),
        }
    }
    match path {
        Some(p) if !p.as_os_str().is_empty() => Ok(Parsed::Run(p)),
        _ => Err(Error::arg("missing PATH")),
    }
}

fn run(_: &Ctx, path: PathBuf) -> Result<()> {
    let shown = path.display();
    let mut bytes = [0u8; 32];
    random::secret_bytes(&mut bytes).map_err(|e| Error::io("the kernel's random source", e))?;
    // Hex digits straight into the wiped buffer: no formatted copy left.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = Secret::new(Vec::with_capacity(65));
    for b in bytes {
        let digits = [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
        text.buffer().extend_from_slice(&digits);
    }
    text.buffer().push(b'\n');
    wipe(&mut bytes);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        make_dir(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::usage(format!(
                "{shown}: already exists; a secret is never overwritten (remove it first)"
            )),
            _ => Error::io(&shown, e),
        })?;
    let written = f.write_all(text.expose()).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&path);
        return Err(Error::io(&shown, e));
    }
    cli::out(&format!(
        "{shown}: a new 256-bit secret, readable by its owner only\n"
    ))
}

/// The file's directory: made (owner-only, with its parents) if missing.
pub fn make_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(dir.display(), e))
}
