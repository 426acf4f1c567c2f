//! Sequence derivation, shared by both sides: from (period start, service,
//! secret) to a knock sequence. Depends on nothing but the hash crates, so
//! the client and the server sides compute it the same way.

mod keyed;
mod legacy;
pub mod ports;
pub mod sequence;
pub mod token;

use std::borrow::Cow;

use ports::PortSet;
pub use sequence::{Knock, Proto, join, proto_for};

/// Every rotator door's name ends with this; `generate ssh` means
/// `ssh_ROTATOR`.
pub const ROTATOR_SUFFIX: &[u8] = b"_ROTATOR";

/// How sequences are derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// The original clients' SHA-256 scheme (the default, byte-compatible).
    Legacy,
    /// HMAC-SHA-256, unbiased, no repeated port (keyed.rs).
    HmacSha256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Legacy => "legacy",
            Algorithm::HmacSha256 => "hmac-sha256",
        }
    }
}

/// Everything that shapes a sequence besides the period and the service.
pub struct Scheme<'a> {
    pub algorithm: Algorithm,
    pub secret: &'a [u8],
    /// Knocks per sequence.
    pub length: u32,
    /// Protocol selector, see [`proto_for`].
    pub proto_modulo: u64,
    pub ports: &'a PortSet,
}

/// The period's sequence draws port 65536, which only v3's list holds and
/// no packet can carry: v3 fails in such a period, and so must we.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port65536;

/// The sequence for `service` (already with its `_ROTATOR` suffix) in the
/// period starting at `period_start`.
pub fn derive(s: &Scheme, period_start: u64, service: &[u8]) -> Result<Vec<Knock>, Port65536> {
    let knock = |port: u16| Knock {
        port,
        proto: proto_for(port, s.proto_modulo),
    };
    let ports: Vec<u32> = match s.algorithm {
        // Without v3's 65536 every port fits: no check per port (this runs
        // for every door of a large knockd.conf).
        Algorithm::Legacy if !s.ports.has_v3_top() => {
            return Ok(
                legacy::ports(s.secret, period_start, service, s.ports, s.length)
                    .map(|p| knock(p as u16))
                    .collect(),
            );
        }
        Algorithm::Legacy => {
            legacy::ports(s.secret, period_start, service, s.ports, s.length).collect()
        }
        Algorithm::HmacSha256 => keyed::ports(s.secret, period_start, service, s.ports, s.length),
    };
    ports
        .into_iter()
        .map(|p| u16::try_from(p).map(knock).map_err(|_| Port65536))
        .collect()
}

/// Bits of entropy in one sequence: `length` draws from the list, without
/// repetition in the keyed mode.
pub fn bits(algorithm: Algorithm, length: u32, ports: &PortSet) -> f64 {
    match algorithm {
        Algorithm::Legacy => f64::from(length) * ports.bits_per_port(),
        Algorithm::HmacSha256 => (0..length)
            .map(|i| f64::from(ports.len().saturating_sub(i).max(1)).log2())
            .sum(),
    }
}

/// `ssh` → `ssh_ROTATOR`; a name already ending in exactly `_ROTATOR` is
/// kept as it is.
pub fn rotator_name(service: &[u8]) -> Cow<'_, [u8]> {
    if service.ends_with(ROTATOR_SUFFIX) {
        Cow::Borrowed(service)
    } else {
        let mut v = service.to_vec();
        v.extend_from_slice(ROTATOR_SUFFIX);
        Cow::Owned(v)
    }
}

/// Start of the period `offset` periods away from the one holding `now`;
/// `None` before 1970 or past what the clock can hold. The caller names
/// what asked for it.
pub fn period_start(now: u64, period: u64, offset: i64) -> Option<u64> {
    let index = i128::from(now / period) + i128::from(offset);
    u64::try_from(index * i128::from(period))
        .ok()
        .filter(|s| *s <= i64::MAX as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_rule() {
        assert_eq!(&*rotator_name(b"ssh"), b"ssh_ROTATOR");
        assert_eq!(&*rotator_name(b"ssh_ROTATOR"), b"ssh_ROTATOR");
        assert_eq!(&*rotator_name(b"ROTATOR"), b"ROTATOR_ROTATOR");
        assert_eq!(&*rotator_name(b"a_ROTATOR_b"), b"a_ROTATOR_b_ROTATOR");
        assert_eq!(&*rotator_name(b"ssh_rotator"), b"ssh_rotator_ROTATOR");
    }

    #[test]
    fn periods() {
        assert_eq!(period_start(100, 7, 0), Some(98));
        assert_eq!(period_start(100, 7, -1), Some(91));
        assert_eq!(period_start(100, 7, 2), Some(112));
        assert_eq!(period_start(100, 7, -15), None);
        assert_eq!(period_start(100, 7, i64::MAX), None);
    }
}
