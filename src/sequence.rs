//! Sequence derivation: the compatibility contract of the original clients
//! (see README, "Derivation").
//!
//! `base = decimal(period_start) ‖ service ‖ secret`;
//! `d_i = u32_be(SHA-256(base ‖ decimal(i))[0..4])` for `i = 1..=length`;
//! `port_i = ports[d_i mod len(ports)]` (the legacy range 2000..=65535 gives
//! the original `d mod 63536 + 2000`); protocol tcp when the modulo is 0 or
//! divides the port, else udp.

use std::borrow::Cow;
use std::fmt::{self, Write};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::keyed;
use crate::settings::{Algorithm, Settings};

pub const ROTATOR_SUFFIX: &[u8] = b"_ROTATOR";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Knock {
    pub port: u16,
    pub proto: Proto,
}

impl fmt::Display for Knock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.port, self.proto.as_str())
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

/// Start of the period `offset` periods away from the one holding `now`.
pub fn period_start(now: u64, period: u64, offset: i64) -> Result<u64> {
    let index = i128::from(now / period) + i128::from(offset);
    let start = index * i128::from(period);
    if start < 0 {
        return Err(Error::usage(format!(
            "--offset: {offset} reaches a period before 1970"
        )));
    }
    u64::try_from(start)
        .ok()
        .filter(|s| *s <= i64::MAX as u64)
        .ok_or_else(|| {
            Error::usage(format!(
                "--offset: {offset} reaches a period past the clock's range"
            ))
        })
}

/// The sequence for `service` (already with its `_ROTATOR` suffix) in the
/// period starting at `period_start`.
pub fn derive(settings: &Settings, period_start: u64, service: &[u8]) -> Vec<Knock> {
    if settings.algorithm == Algorithm::HmacSha256 {
        let ports = keyed::ports(
            settings.secret.expose(),
            period_start,
            service,
            &settings.ports,
            settings.length,
        );
        return ports
            .into_iter()
            .map(|port| Knock {
                port,
                proto: proto_for(port, settings.proto_modulo),
            })
            .collect();
    }
    let mut base = Sha256::new();
    base.update(period_start.to_string().as_bytes());
    base.update(service);
    base.update(settings.secret.expose());
    let n = settings.ports.len();
    (1..=settings.length)
        .map(|i| {
            let mut h = base.clone();
            h.update(decimal(&mut [0; 10], i));
            let digest = h.finalize();
            let d = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
            let port = settings.ports.nth(d % n);
            Knock {
                port,
                proto: proto_for(port, settings.proto_modulo),
            }
        })
        .collect()
}

/// `n` in decimal, in `buf` (no allocation: this runs 10 times a door).
fn decimal(buf: &mut [u8; 10], mut n: u32) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

pub fn proto_for(port: u16, modulo: u64) -> Proto {
    if modulo == 0 || u64::from(port) % modulo == 0 {
        Proto::Tcp
    } else {
        Proto::Udp
    }
}

/// Knocks joined by `sep`: `" "` for `generate`, `","` for knockd.conf.
pub fn join(seq: &[Knock], sep: &str) -> String {
    let mut out = String::with_capacity(seq.len() * 10);
    for (i, k) in seq.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        let _ = write!(out, "{}:{}", k.port, k.proto.as_str());
    }
    out
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
        assert_eq!(period_start(100, 7, 0).unwrap(), 98);
        assert_eq!(period_start(100, 7, -1).unwrap(), 91);
        assert_eq!(period_start(100, 7, 2).unwrap(), 112);
        assert!(period_start(100, 7, -15).is_err());
        assert!(period_start(100, 7, i64::MAX).is_err());
    }

    #[test]
    fn protocols() {
        assert_eq!(proto_for(12345, 0), Proto::Tcp);
        assert_eq!(proto_for(12345, 1), Proto::Tcp);
        assert_eq!(proto_for(12345, 2), Proto::Udp);
        assert_eq!(proto_for(12346, 2), Proto::Tcp);
    }
}
