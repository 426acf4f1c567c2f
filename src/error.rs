//! The one error type: a single line a user can act on, and an exit status.
//!
//! Messages name the variable, flag, file or line at fault and quote the bad
//! value, except the secret, which is never quoted.

use std::fmt;

/// Exit status for bad input: arguments, environment, configuration files.
pub const EXIT_USAGE: i32 = 2;
/// Exit status for an operation that failed: a send, a write, a reload.
pub const EXIT_FAILURE: i32 = 1;

#[derive(Debug, Clone)]
pub struct Error {
    msg: String,
    code: i32,
    /// A mistake in the command line: the report points at `--help`.
    arg: bool,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Bad input (exit status 2).
    pub fn usage(msg: impl Into<String>) -> Self {
        Error {
            msg: one_line(msg.into()),
            code: EXIT_USAGE,
            arg: false,
        }
    }

    /// A bad command line (exit status 2); reported with a pointer to
    /// `PROG --help` (see [`Error::report`]).
    pub fn arg(msg: impl Into<String>) -> Self {
        Error {
            arg: true,
            ..Error::usage(msg)
        }
    }

    /// A failed operation (exit status 1).
    pub fn failure(msg: impl Into<String>) -> Self {
        Error {
            msg: one_line(msg.into()),
            code: EXIT_FAILURE,
            arg: false,
        }
    }

    /// A failed system call on `what` (a path, a host), with the OS reason.
    pub fn io(what: impl fmt::Display, err: impl Into<std::io::Error>) -> Self {
        Error::failure(format!("{what}: {}", describe_io(&err.into())))
    }

    pub fn code(&self) -> i32 {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.msg
    }

    /// The line printed for `prog` (`knock`, `knock-rotator generate`).
    pub fn report(&self, prog: &str) -> String {
        if self.arg {
            format!("{prog}: {} (see '{prog} --help')", self.msg)
        } else {
            format!("{prog}: {}", self.msg)
        }
    }
}

/// lexopt's errors, in our words: each names the option or argument.
impl From<lexopt::Error> for Error {
    fn from(e: lexopt::Error) -> Self {
        use lexopt::Error as E;
        Error::arg(match e {
            E::MissingValue { option: Some(o) } => format!("missing value for option {}", quote(o)),
            E::UnexpectedOption(o) => format!("unknown option {}", quote(o)),
            E::UnexpectedArgument(a) => {
                format!("unexpected argument {}", quote(a.as_encoded_bytes()))
            }
            E::UnexpectedValue { option, value } => format!(
                "option {} takes no value (got {})",
                quote(option),
                quote(value.as_encoded_bytes())
            ),
            e => e.to_string(),
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

/// std's io::Error Display appends " (os error N)"; users want the words.
pub fn describe_io(err: &std::io::Error) -> String {
    let s = err.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// How a child ended, in words. std's Display of an ExitStatus would do,
/// but it brings a table of every signal's name (size on mips).
pub fn ended(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => "stopped".into(),
    }
}

/// Quote a user-supplied value for an error message, escaping anything that
/// would break the one-line promise or hide in a terminal.
pub fn quote(value: impl AsRef<[u8]>) -> String {
    let mut out = String::from("'");
    for chunk in value.as_ref().utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\'' => out.push_str("\\'"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.extend(c.escape_default()),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('\'');
    out
}

fn one_line(msg: String) -> String {
    if msg.contains(['\n', '\r']) {
        msg.replace(['\n', '\r'], " ")
    } else {
        msg
    }
}
