//! The one-use marks of the live table (`used`), read back so that each
//! rotation writes them into the copy the host firewall includes: a table
//! put back from it after a `flush ruleset` still refuses their replays.

use std::path::Path;

use super::nft;
use crate::error::Result;
use crate::json::Value;

/// The marks as elements to add again: `100:2 timeout 75s expires 60s`.
pub fn used(nft: &Path) -> Result<Vec<String>> {
    let live = nft::list(nft, &["list", "set", "inet", "knock_rotator", "used"])?;
    let mut out = Vec::new();
    for e in nft::elements(&live) {
        let e = e.get("elem").unwrap_or(e);
        let val = e.get("val").and_then(Value::str).unwrap_or_default();
        let timeout = e.get("timeout").and_then(Value::num).unwrap_or(0);
        let expires = e.get("expires").and_then(Value::num).unwrap_or(0);
        // Our own table's, but text that goes into nft's input all the same.
        let valid = !val.is_empty() && val.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
        if valid && expires > 0 && timeout >= expires {
            out.push(format!("{val} timeout {timeout}s expires {expires}s"));
        }
    }
    Ok(out)
}
