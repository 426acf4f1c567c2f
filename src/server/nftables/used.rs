//! The one-use marks of the live table (`used`: slots that opened; `tused`:
//! tokens that did), read back so that each rotation writes them into the
//! copy the host firewall includes: a table put back from it after a
//! `flush ruleset` still refuses their replays.

use std::path::Path;

use super::nft;
use crate::error::Result;
use crate::json::Value;

/// The marks of `set` as elements to add again: `100:2 timeout 75s
/// expires 60s`, `0x1f..e0 timeout 64800s expires 100s`.
pub fn used(nft: &Path, set: &str) -> Result<Vec<String>> {
    let live = nft::set(nft, set)?;
    let mut out = Vec::new();
    for e in nft::elements(&live) {
        let e = e.get("elem").unwrap_or(e);
        let val = e.get("val").and_then(Value::str).unwrap_or_default();
        let timeout = e.get("timeout").and_then(Value::num).unwrap_or(0);
        let expires = e.get("expires").and_then(Value::num).unwrap_or(0);
        // Our own table's, but text that goes into nft's input all the same.
        let digits = val.strip_prefix("0x").unwrap_or(val);
        let valid =
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
        if valid && expires > 0 && timeout >= expires {
            out.push(format!("{val} timeout {timeout}s expires {expires}s"));
        }
    }
    Ok(out)
}
