//! What every applet's lexopt parse loop shares: the outcome of a parse,
//! typed option values read straight from the parser, and writing to
//! stdout without panicking on a closed pipe.

use std::io::Write;
use std::path::PathBuf;

use lexopt::Parser;

use crate::error::{Error, Result, quote};
use crate::number::{parse_number, parse_signed};

/// What a command line asks for.
pub enum Parsed<T> {
    Run(T),
    Help,
    Version,
}

/// The value of option `flag` as UTF-8 text.
pub fn text(p: &mut Parser, flag: &str) -> Result<String> {
    p.value()?.into_string().map_err(|v| {
        Error::usage(format!(
            "{flag}: {} is not valid UTF-8",
            quote(v.as_encoded_bytes())
        ))
    })
}

/// The value of option `flag` as a path (any bytes).
pub fn path(p: &mut Parser) -> Result<PathBuf> {
    Ok(p.value()?.into())
}

/// `--offset N`: a signed number of periods.
pub fn offset(p: &mut Parser, flag: &str) -> Result<i64> {
    let s = text(p, flag)?;
    parse_signed(&s).ok_or_else(|| {
        Error::usage(format!(
            "{flag}: {} is not a whole number of periods (e.g. -1, 0, 2)",
            quote(&s)
        ))
    })
}

/// `--at UNIX_SECONDS`.
pub fn unix_time(p: &mut Parser, flag: &str) -> Result<u64> {
    number(p, flag, 0, i64::MAX as u64)
}

/// A whole number in `min..=max`.
pub fn number(p: &mut Parser, flag: &str, min: u64, max: u64) -> Result<u64> {
    let s = text(p, flag)?;
    parse_number(&s, min, max).map_err(|why| Error::usage(format!("{flag}: {why}")))
}

/// Write all of `s` to stdout; a closed pipe is an error, not a panic.
pub fn out(s: &str) -> Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(s.as_bytes())
        .and_then(|()| o.flush())
        .map_err(|e| Error::io("stdout", e))
}

/// Write `s` to stderr; a closed stderr is ignored, not a panic (no one is
/// left to tell).
pub fn err(s: &str) {
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
}

/// `knock --proxy`: stdout carries ssh's bytes, so notes go to stderr.
static NOTES_TO_STDERR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn notes_to_stderr() {
    NOTES_TO_STDERR.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// A verbose line: stdout, unless stdout is a relayed stream.
pub fn note(s: &str) -> Result<()> {
    if NOTES_TO_STDERR.load(std::sync::atomic::Ordering::Relaxed) {
        err(s);
        return Ok(());
    }
    out(s)
}

/// `--offset N` reached a period the clock cannot hold.
pub fn offset_out_of_range(offset: i64) -> Error {
    if offset < 0 {
        Error::usage(format!("--offset: {offset} reaches a period before 1970"))
    } else {
        Error::usage(format!(
            "--offset: {offset} reaches a period past the clock's range"
        ))
    }
}

/// Print a warning on stderr, once per process however often it recurs
/// (watch mode re-reads its settings at every rotation).
pub fn warn_once(what: &str) {
    static SHOWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
    if !shown.iter().any(|s| s == what) {
        shown.push(what.to_string());
        err(&format!("{}: warning: {what}\n", crate::prog::MAIN_NAME));
    }
}
