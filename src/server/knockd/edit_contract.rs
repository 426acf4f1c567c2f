//! The editor's contract, checked before anything is written: outside the
//! rotator doors' `sequence` values the new file is the old one byte for
//! byte, and the new values hold only `port:proto` items.

use super::conf::Conf;

/// Whether `new` keeps `old` (read as `conf`) but for rotator sequence values.
pub fn only_values_changed(old: &[u8], conf: &Conf, new: &[u8]) -> bool {
    let mut ranges: Vec<_> = (conf.doors.iter())
        .filter(|d| d.is_rotator())
        .flat_map(|d| d.sequence_lines.iter().map(|(_, r)| r.clone()))
        .collect();
    ranges.sort_by_key(|r| r.start);
    let (mut i, mut j) = (0, 0);
    for r in ranges {
        let keep = &old[i..r.start];
        if new.get(j..j + keep.len()) != Some(keep) {
            return false;
        }
        j += keep.len();
        while new
            .get(j)
            .is_some_and(|b| b.is_ascii_alphanumeric() || b":,".contains(b))
        {
            j += 1;
        }
        i = r.end;
    }
    old[i..] == *new.get(j..).unwrap_or(&[])
}
