//! Running the `nft` binary. No netlink crate expresses the packet-path set
//! updates the table needs (dynset add/update/delete), and fw4 and
//! firewalld also generate nft text; so do we.
//!
//! The text holds the sequences, which let anyone who sees them knock: it
//! goes to nft on its standard input, never on a command line (`ps` shows
//! every argv to every user). nft is found by absolute path, and runs with
//! an empty environment but a fixed PATH (ours may hold the secret).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::env::Env;
use crate::error::{Error, Result, quote};
use crate::json::{self, Value};

pub const NFT_VAR: &str = "KNOCKD_ROTATOR_NFT";
const PLACES: [&str; 4] = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"];

/// `$KNOCKD_ROTATOR_NFT` (an absolute path), else the first of the usual
/// places.
pub fn find(env: &Env) -> Result<PathBuf> {
    if let Some(p) = env.get(NFT_VAR) {
        let p = PathBuf::from(p);
        if !p.is_absolute() {
            return Err(Error::usage(format!(
                "{NFT_VAR}: {} is not an absolute path",
                quote(p.as_os_str().as_encoded_bytes())
            )));
        }
        if !p.is_file() {
            return Err(Error::failure(format!(
                "{NFT_VAR}: no nft at {}",
                p.display()
            )));
        }
        return Ok(p);
    }
    PLACES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::failure(format!(
                "nft not found in {}: install nftables (Debian: apt install nftables; \
                 OpenWrt: it comes with fw4), or set {NFT_VAR}",
                PLACES.join(", ")
            ))
        })
}

/// `nft ARGS` with an empty environment but a fixed PATH (ours may hold
/// the secret): every nft we start, `run`'s and watch mode's monitor.
pub fn command(nft: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(nft);
    c.args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    c
}

/// Run `nft ARGS` with `input` on its standard input; its standard output.
/// A failure says nft's first error line, never the input lines it quotes
/// after it (they hold sequences).
pub fn run(nft: &Path, args: &[&str], input: &[u8]) -> Result<Vec<u8>> {
    start(nft, args, input)?.finish()
}

/// An nft that runs; `finish` waits for it.
pub struct Running<'a> {
    nft: &'a Path,
    child: Child,
}

/// Start `nft ARGS` on `input`, not waiting for it (apply.rs sends tokens
/// over netlink while nft parses).
pub fn start<'a>(nft: &'a Path, args: &[&str], input: &[u8]) -> Result<Running<'a>> {
    let mut child = command(nft, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(nft.display(), e))?;
    // nft reads all of its input before it writes a line (it parses the
    // whole text first), so no writer thread is needed: write, close, read.
    // A nft that exits early leaves us EPIPE, and its message on stderr.
    if let Some(mut s) = child.stdin.take() {
        let _ = s.write_all(input);
    }
    Ok(Running { nft, child })
}

impl Running<'_> {
    pub fn finish(mut self) -> Result<Vec<u8>> {
        let nft = self.nft;
        let mut out = Vec::new();
        let mut err = Vec::new();
        if let Some(mut s) = self.child.stdout.take() {
            let _ = s.read_to_end(&mut out);
        }
        if let Some(mut s) = self.child.stderr.take() {
            let _ = s.read_to_end(&mut err);
        }
        let status = self.child.wait().map_err(|e| Error::io(nft.display(), e))?;
        if status.success() {
            return Ok(out);
        }
        let text = String::from_utf8_lossy(&err);
        let first = text
            .lines()
            .find(|l| l.contains("Error:"))
            .or_else(|| text.lines().next())
            .unwrap_or("no message");
        // Where the error was, as nft says it (stdin:LINE:COLUMNS), and what.
        let first = first.strip_prefix("/dev/stdin:").unwrap_or(first);
        Err(Error::failure(format!(
            "nft refused it ({}): {}",
            crate::error::ended(status),
            first.trim()
        )))
    }
}

/// `nft -j ARGS`, parsed; `None` when the object does not exist.
pub fn list(nft: &Path, args: &[&str]) -> Result<Option<Value>> {
    let mut all = vec!["-j"];
    all.extend_from_slice(args);
    match run(nft, &all, b"") {
        Ok(out) => Ok(json::parse(&String::from_utf8_lossy(&out))),
        Err(e) if e.message().contains("No such file or directory") => Ok(None),
        Err(e) => Err(e),
    }
}

/// `nft -j list set` of our table's set `name`; `None` when it does not
/// exist.
pub fn set(nft: &Path, name: &str) -> Result<Option<Value>> {
    list(nft, &["list", "set", "inet", "knock_rotator", name])
}

/// The elements of a set listing.
pub fn elements(v: &Option<Value>) -> &[Value] {
    v.as_ref()
        .and_then(|v| v.get("nftables"))
        .map(Value::items)
        .unwrap_or(&[])
        .iter()
        .find_map(|o| o.get("set"))
        .and_then(|s| s.get("elem"))
        .map(Value::items)
        .unwrap_or(&[])
}

/// The elements of a manifest set (`doors`, `tman`): three numbers each.
pub fn triples(v: &Option<Value>) -> Vec<(u32, u32, u64)> {
    let t = tuples(v, 3);
    t.iter().map(|t| (t[0] as u32, t[1] as u32, t[2])).collect()
}

/// The elements of a set of `len` (at most 4) numbers concatenated.
pub fn tuples(v: &Option<Value>, len: usize) -> Vec<[u64; 4]> {
    let mut out = Vec::new();
    for e in elements(v) {
        let c = e.get("concat").map_or(&[][..], Value::items);
        let mut t = [0; 4];
        let mut n = 0;
        for (v, t) in c.iter().zip(&mut t) {
            if let Some(v) = v.num() {
                *t = v as u64;
                n += 1;
            }
        }
        if n == len && c.len() == len {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_or_missing_nft_is_refused() {
        let env = Env::from_pairs([(NFT_VAR, "nft")]);
        assert!(
            find(&env)
                .unwrap_err()
                .message()
                .contains("not an absolute path")
        );
        let env = Env::from_pairs([(NFT_VAR, "/nonexistent/nft")]);
        assert!(
            find(&env)
                .unwrap_err()
                .message()
                .contains("no nft at /nonexistent/nft")
        );
    }

    /// Only the first error line leaves: the lines nft quotes after it
    /// hold the input (sequences).
    #[test]
    fn a_refusal_says_only_the_first_error_line() {
        let dir = std::env::temp_dir().join(format!("kr-nft-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = dir.join("nft");
        std::fs::write(
            &fake,
            "#!/bin/sh\ncat >/dev/null\necho '/dev/stdin:3:5-9: Error: no way' >&2\n\
             echo 'add element x { tcp . 4242 }' >&2\nexit 1\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = run(&fake, &["-f", "-"], b"secret text").unwrap_err();
        assert!(
            e.message().contains("3:5-9: Error: no way"),
            "{}",
            e.message()
        );
        assert!(!e.message().contains("4242"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
