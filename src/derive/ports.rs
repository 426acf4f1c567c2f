//! The set of ports a sequence draws from: `KNOCKD_ROTATOR_PORTS`, or the
//! legacy range 2000..=65535.
//!
//! Kept as sorted, disjoint ranges so that indexing into a 63536-port list
//! costs a few comparisons and no allocation of the whole list.
//!
//! One member may lie past the last port: 65536, because the current
//! upstream (v3) writes its default list as `2000-65536` and indexes into
//! it. A sequence that draws it cannot be sent (see derive::Port65536).

use crate::error::{Error, Result, quote};

/// The legacy derivation's range: `(d mod 63536) + 2000`.
pub const LEGACY_FIRST: u32 = 2000;
pub const LEGACY_LAST: u32 = 65535;
/// v3's list includes this, which no packet can carry.
pub const V3_TOP: u32 = 65536;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSet {
    /// Sorted, disjoint, inclusive ranges.
    ranges: Vec<(u32, u32)>,
    len: u32,
}

impl PortSet {
    pub fn legacy() -> Self {
        PortSet::from_ranges(vec![(LEGACY_FIRST, LEGACY_LAST)])
    }

    fn from_ranges(ranges: Vec<(u32, u32)>) -> Self {
        let len = ranges.iter().map(|&(a, b)| b - a + 1).sum();
        PortSet { ranges, len }
    }

    /// Parse `2000-3000,4000,5000-6000`. `name` is the variable being read,
    /// for error messages. Duplicates and overlaps are refused: they would
    /// silently weight some ports, and the original refuses them too.
    pub fn parse(name: &str, text: &str) -> Result<Self> {
        let bad = |why: String| Error::usage(format!("{name}: {why}"));
        if text.trim().is_empty() {
            return Err(bad("is empty; unset it for the default 2000-65535".into()));
        }
        let mut ranges = Vec::new();
        for item in text.split(',') {
            let item = item.trim_matches([' ', '\t']);
            if item.is_empty() {
                return Err(bad(format!("empty item in {}", quote(text))));
            }
            let (a, b) = match item.split_once('-') {
                Some((a, b)) => (a.trim_matches([' ', '\t']), b.trim_matches([' ', '\t'])),
                None => (item, item),
            };
            let a = parse_port(a).ok_or_else(|| bad(not_a_port(item)))?;
            let b = parse_port(b).ok_or_else(|| bad(not_a_port(item)))?;
            if a > b {
                return Err(bad(format!("range {} runs backwards", quote(item))));
            }
            ranges.push((a, b));
        }
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            let ((a1, b1), (a2, b2)) = (w[0], w[1]);
            if a2 <= b1 {
                return Err(bad(if (a1, b1) == (a2, b2) {
                    format!("{} is listed twice", range_text(a1, b1))
                } else {
                    format!("{} overlaps {}", range_text(a2, b2), range_text(a1, b1))
                }));
            }
        }
        Ok(PortSet::from_ranges(ranges))
    }

    /// Number of ports in the set.
    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `port` is a member.
    pub fn contains(&self, port: u32) -> bool {
        self.ranges.iter().any(|&(a, b)| (a..=b).contains(&port))
    }

    /// Whether v3's 65536 is a member.
    pub fn has_v3_top(&self) -> bool {
        self.ranges.last().is_some_and(|&(_, b)| b == V3_TOP)
    }

    /// The `i`-th smallest port (65536 included, where listed); `i < len()`.
    pub fn nth(&self, mut i: u32) -> u32 {
        for &(a, b) in &self.ranges {
            let n = b - a + 1;
            if i < n {
                return a + i;
            }
            i -= n;
        }
        unreachable!("index checked by caller")
    }

    /// Bits of entropy of one port chosen uniformly from the set.
    pub fn bits_per_port(&self) -> f64 {
        f64::from(self.len).log2()
    }

    /// The set in its one canonical form (`2000-2999,3001`): adjacent
    /// ranges merged, so equal sets read the same.
    pub fn canonical(&self) -> String {
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for &(a, b) in &self.ranges {
            match merged.last_mut() {
                Some(last) if last.1 + 1 == a => last.1 = b,
                _ => merged.push((a, b)),
            }
        }
        merged
            .iter()
            .map(|&(a, b)| range_text(a, b))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A port, or v3's 65536 (see the module's note).
fn parse_port(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|p| (1..=V3_TOP).contains(p))
}

fn not_a_port(item: &str) -> String {
    format!(
        "{} is not a port or range of ports from 1 to 65535",
        quote(item)
    )
}

fn range_text(a: u32, b: u32) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_indexes() {
        let s = PortSet::parse("X", "5000-6000, 4000,2000-3000").unwrap();
        assert_eq!(s.len(), 1001 + 1 + 1001);
        assert_eq!(s.nth(0), 2000);
        assert_eq!(s.nth(1000), 3000);
        assert_eq!(s.nth(1001), 4000);
        assert_eq!(s.nth(1002), 5000);
        assert_eq!(s.nth(2002), 6000);
    }

    #[test]
    fn canonical_form() {
        let s = PortSet::parse("X", "3000-3999, 2000-2999,5000,4001").unwrap();
        assert_eq!(s.canonical(), "2000-3999,4001,5000");
    }

    #[test]
    fn legacy_equals_full_list() {
        assert_eq!(
            PortSet::parse("X", "2000-65535").unwrap(),
            PortSet::legacy()
        );
        assert_eq!(PortSet::legacy().len(), 63536);
    }

    /// v3's default list, as v3 writes it: 63537 ports, 65536 the last.
    #[test]
    fn v3_list() {
        let s = PortSet::parse("X", "2000-65536").unwrap();
        assert_eq!(s.len(), 63537);
        assert_eq!(s.nth(63536), 65536);
        assert!(s.has_v3_top());
        assert_eq!(s.canonical(), "2000-65536");
        assert!(!PortSet::legacy().has_v3_top());
        for ok in ["65536", "3000-4000,65536", "65000-65536"] {
            assert!(PortSet::parse("X", ok).unwrap().has_v3_top(), "{ok}");
        }
    }

    #[test]
    fn refuses_bad_lists() {
        for bad in [
            "",
            " ",
            "2000-65537",
            "65537",
            "0",
            "abc",
            "1-2-3",
            "3000-2000",
            "1,,2",
            "1,",
            "100,100",
            "100-200,150",
            "100-200,150-300",
            "+5",
            "-5",
            "5-",
            "99999999999",
        ] {
            let err = PortSet::parse("KNOCKD_ROTATOR_PORTS", bad).unwrap_err();
            assert!(
                err.message().starts_with("KNOCKD_ROTATOR_PORTS: "),
                "{bad}: {err}"
            );
        }
    }
}
