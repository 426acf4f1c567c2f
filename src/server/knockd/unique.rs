//! Rotator doors must not end up sharing a sequence with any door.

use std::path::Path;

use super::conf::{Conf, Door};
use super::syntax::Port;
use crate::error::{Error, Result};
use crate::index::Index;

/// Two doors with one sequence: one knock would open both (or knockd would
/// only ever match the first). Refused, naming both.
pub fn check_unique(
    path: &Path,
    conf: &Conf,
    after: &dyn Fn(&Door) -> Option<Vec<Port>>,
) -> Result<()> {
    let doors: Vec<&Door> = conf.doors.iter().filter(|d| d.one_time.is_none()).collect();
    let seqs: Vec<Vec<u8>> = doors
        .iter()
        .map(|door| {
            let seq = if door.is_rotator() {
                after(door)
            } else {
                door.sequence.clone()
            };
            let mut key = Vec::new();
            for p in seq.unwrap_or_default() {
                key.extend(p.port.to_le_bytes());
                key.push(u8::from(p.udp));
            }
            key
        })
        .collect();
    let index = Index::new(seqs.iter().map(|s| &s[..]));
    for (i, door) in doors.iter().enumerate() {
        // The last door before this one with its sequence.
        let other = index
            .candidates(&seqs[i])
            .filter(|&j| j < i && seqs[j] == seqs[i])
            .last()
            .map(|j| doors[j]);
        if let Some(other) = other {
            // As rotation::at_line says it: PATH:LINE: message.
            return Err(Error::usage(format!(
                "{}:{}: doors {} (line {}) and {} would have the same sequence; rename or remove one",
                path.display(),
                door.line,
                other.display_name(),
                other.line,
                door.display_name()
            )));
        }
    }
    Ok(())
}
