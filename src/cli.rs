//! Helpers shared by the applets' lexopt parse loops: typed option values,
//! help output, and writing to stdout without panicking on a closed pipe.

use std::ffi::OsString;
use std::io::Write;

use crate::error::{Error, Result, quote};
use crate::settings::{parse_number, parse_signed};

/// A lexopt error as a usage error that points at `--help`.
pub fn arg_error(prog: &str, e: lexopt::Error) -> Error {
    use lexopt::Error as E;
    let what = match e {
        E::MissingValue { option: Some(o) } => format!("missing value for option {}", quote(o)),
        E::UnexpectedOption(o) => format!("unknown option {}", quote(o)),
        E::UnexpectedArgument(a) => format!("unexpected argument {}", quote(a.as_encoded_bytes())),
        E::UnexpectedValue { option, value } => {
            format!(
                "option {} takes no value (got {})",
                quote(option),
                quote(value.as_encoded_bytes())
            )
        }
        e => e.to_string(),
    };
    Error::usage(format!("{what} (see '{prog} --help')"))
}

/// The value of option `flag` as UTF-8 text.
pub fn text(flag: &str, v: OsString) -> Result<String> {
    v.into_string().map_err(|v| {
        Error::usage(format!(
            "{flag}: {} is not valid UTF-8",
            quote(v.as_encoded_bytes())
        ))
    })
}

/// `--offset N`: a signed number of periods.
pub fn offset(flag: &str, v: OsString) -> Result<i64> {
    let s = text(flag, v)?;
    parse_signed(&s).ok_or_else(|| {
        Error::usage(format!(
            "{flag}: {} is not a whole number of periods (e.g. -1, 0, 2)",
            quote(&s)
        ))
    })
}

/// `--at UNIX_SECONDS`.
pub fn unix_time(flag: &str, v: OsString) -> Result<u64> {
    number(flag, v, 0, i64::MAX as u64)
}

/// A whole number in `min..=max`.
pub fn number(flag: &str, v: OsString, min: u64, max: u64) -> Result<u64> {
    let s = text(flag, v)?;
    parse_number(&s, min, max).map_err(|why| Error::usage(format!("{flag}: {why}")))
}

/// Write all of `s` to stdout; a closed pipe is an error, not a panic.
pub fn out(s: &str) -> Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(s.as_bytes())
        .and_then(|()| o.flush())
        .map_err(|e| Error::io("stdout", e))
}
