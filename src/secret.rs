//! The shared secret: where it comes from, and how it is kept.
//!
//! Sources, in order: `KNOCKD_ROTATOR_SECRET` or `KNOCKD_ROTATOR_SECRET_FILE`
//! (never both), else the systemd credential `knock-rotator-secret`
//! (`LoadCredential=knock-rotator-secret:/etc/knock-rotator/secret`).
//! A secret file readable or writable by group or others is refused, as ssh
//! refuses a loose private key.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{Error, Result, quote};
use crate::origin::Origin;

pub const SECRET_VAR: &str = "KNOCKD_ROTATOR_SECRET";
pub const SECRET_FILE_VAR: &str = "KNOCKD_ROTATOR_SECRET_FILE";
pub const CREDENTIAL_NAME: &str = "knock-rotator-secret";
/// The original requires at least 10 characters (Unicode scalar values).
pub const MIN_CHARS: usize = 10;
/// A secret shorter than this, or with fewer different characters, or
/// under this many bits by a character-class estimate, is weak: one
/// observed knock lets anyone test guesses offline at hash speed.
pub const STRONG_CHARS: usize = 16;
const STRONG_DISTINCT: usize = 8;
const STRONG_BITS: u32 = 64;
/// A secret file larger than this is a mistake (a key store, a log).
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Secret bytes, zeroed when dropped; never printed, not even by `{:?}`.
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The buffer, to read into (see [`crate::safe_read::private`]).
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Overwrite with zeros in a way the optimiser may not remove.
pub fn wipe(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        // SAFETY: `b` is a valid, aligned, exclusive reference.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Pick the secret from the captured environment and check it.
pub fn load(
    value: Option<&OsStr>,
    file: Option<&OsStr>,
    credentials_dir: Option<&OsStr>,
) -> Result<(Secret, Origin)> {
    let (secret, origin) = match (value, file) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(format!(
                "{SECRET_VAR} and {SECRET_FILE_VAR} are both set; set only one"
            )));
        }
        (Some(v), None) => (Secret::new(v.as_bytes().to_vec()), SECRET_VAR.to_string()),
        (None, Some(path)) => {
            if path.is_empty() {
                return Err(Error::usage(format!("{SECRET_FILE_VAR} is set but empty")));
            }
            let path = Path::new(path);
            let origin = format!("{SECRET_FILE_VAR}: {}", quote(path.as_os_str().as_bytes()));
            (read_file(path, &origin)?, origin)
        }
        (None, None) => {
            let cred = credentials_dir
                .filter(|d| !d.is_empty())
                .map(|d| Path::new(d).join(CREDENTIAL_NAME))
                .filter(|p| p.exists());
            match cred {
                Some(path) => {
                    let origin =
                        format!("systemd credential {}", quote(path.as_os_str().as_bytes()));
                    (read_file(&path, &origin)?, origin)
                }
                None => {
                    return Err(Error::usage(format!(
                        "{SECRET_VAR} is not set (nor {SECRET_FILE_VAR}, nor a systemd credential \
                         '{CREDENTIAL_NAME}')"
                    )));
                }
            }
        }
    };
    check(&secret, &origin)?;
    let origin = match value {
        Some(_) => Origin::Env(SECRET_VAR),
        None => Origin::Other(origin),
    };
    Ok((secret, origin))
}

/// A secret given as a value (a profile's `secret` key), checked; `origin`
/// starts its error messages.
pub fn from_value(bytes: &[u8], origin: &str) -> Result<Secret> {
    let secret = Secret::new(bytes.to_vec());
    check(&secret, origin)?;
    Ok(secret)
}

/// A secret file (a profile's `secret_file` key), read and checked.
pub fn from_file(path: &Path, origin: &str) -> Result<Secret> {
    let secret = read_file(path, origin)?;
    check(&secret, origin)?;
    Ok(secret)
}

fn check(secret: &Secret, origin: &str) -> Result<()> {
    let text = std::str::from_utf8(secret.expose())
        .map_err(|_| Error::usage(format!("{origin}: the secret is not valid UTF-8")))?;
    let chars = text.chars().count();
    if chars < MIN_CHARS {
        return Err(Error::usage(format!(
            "{origin}: the secret is too short ({chars} characters, at least {MIN_CHARS})"
        )));
    }
    Ok(())
}

/// Why `secret` is weak, if it is. A rough estimate (length times the size
/// of the character classes used), made without copying the secret: it
/// cannot see dictionary words, so it only catches what is plainly weak.
pub fn weakness(secret: &Secret) -> Option<String> {
    let text = std::str::from_utf8(secret.expose()).ok()?;
    let (mut chars, mut ascii_seen, mut other) = (0usize, 0u128, 0usize);
    let (mut lower, mut upper, mut digit, mut symbol) = (false, false, false, false);
    for c in text.chars() {
        chars += 1;
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            _ if c.is_ascii() => symbol = true,
            _ => other += 1,
        }
        if c.is_ascii() {
            ascii_seen |= 1 << (c as u32);
        }
    }
    let distinct = ascii_seen.count_ones() as usize + other;
    let pool = [
        (lower, 26),
        (upper, 26),
        (digit, 10),
        (symbol, 33),
        (other > 0, 100),
    ]
    .iter()
    .filter(|(used, _)| *used)
    .map(|(_, n)| n)
    .sum::<u32>();
    let bits = chars as f64 * f64::from(pool.max(1)).log2();
    if chars < STRONG_CHARS {
        Some(format!("{chars} characters, fewer than {STRONG_CHARS}"))
    } else if distinct < STRONG_DISTINCT {
        let s = if distinct == 1 { "" } else { "s" };
        Some(format!("only {distinct} different character{s}"))
    } else if bits < f64::from(STRONG_BITS) {
        Some(format!(
            "about {} bits, under {STRONG_BITS}",
            crate::number::rounded(bits, false)
        ))
    } else {
        None
    }
}

/// Read a secret file: owner-only, regular, small; one trailing newline
/// (`\n` or `\r\n`) is dropped, since editors and `echo` add one.
fn read_file(path: &Path, origin: &str) -> Result<Secret> {
    let mut secret = Secret::new(Vec::new());
    crate::safe_read::private(path, origin, MAX_FILE_BYTES, &mut secret.0)?;
    strip_newline(&mut secret);
    Ok(secret)
}

/// Drop one trailing `\n` or `\r\n`, wiping it.
pub fn strip_newline(secret: &mut Secret) {
    let v = &mut secret.0;
    let cut = if v.ends_with(b"\r\n") {
        2
    } else {
        usize::from(v.ends_with(b"\n"))
    };
    let n = v.len() - cut;
    v[n..].fill(0);
    v.truncate(n);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak(s: &str) -> Option<String> {
        weakness(&Secret::new(s.as_bytes().to_vec()))
    }

    #[test]
    fn weak_secrets() {
        assert_eq!(weak("0123456789").unwrap(), "10 characters, fewer than 16");
        assert_eq!(
            weak(&"ab".repeat(20)).unwrap(),
            "only 2 different characters"
        );
        assert_eq!(
            weak(&"a".repeat(200)).unwrap(),
            "only 1 different character"
        );
        assert_eq!(weak("0123456701234567").unwrap(), "about 53 bits, under 64");
        for strong in [
            "correct horse battery staple",
            "verysecretkey1234",
            "sécret-ünïcode-🔑-key",
            "4f9c2b7e1d0a8c6e5b3f2a1d0c9e8b7a",
        ] {
            assert_eq!(weak(strong), None, "{strong}");
        }
    }
}
