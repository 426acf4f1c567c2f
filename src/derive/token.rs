//! The single-packet knock's token: 128 bits per (period, door), keyed by
//! the secret and domain-separated from the port derivations. Specified in
//! README.md ("The token") so that other clients can implement it:
//!
//! ```text
//! lp(x) = u32_be(len(x)) ‖ x
//! token = first 16 bytes of HMAC-SHA-256(key = secret,
//!             lp("knock-rotator token v1") ‖ u64_be(period_start) ‖ lp(service))
//! ```
//!
//! The keyed port derivation's message starts with a different `lp`
//! domain, so no token is ever a prefix of its blocks' input.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const DOMAIN: &[u8] = b"knock-rotator token v1";
pub const LEN: usize = 16;

#[cfg(test)]
fn token(secret: &[u8], period_start: u64, service: &[u8]) -> [u8; LEN] {
    Keyed::new(secret).token(period_start, service)
}

/// The HMAC keyed once, for the many periods of a day of tokens (a token
/// then costs two SHA-256 blocks, not four).
pub struct Keyed(Hmac<Sha256>);

impl Keyed {
    pub fn new(secret: &[u8]) -> Keyed {
        Keyed(<Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length"))
    }

    pub fn token(&self, period_start: u64, service: &[u8]) -> [u8; LEN] {
        let mut h = self.0.clone();
        h.update(&(DOMAIN.len() as u32).to_be_bytes());
        h.update(DOMAIN);
        h.update(&period_start.to_be_bytes());
        h.update(&(service.len() as u32).to_be_bytes());
        h.update(service);
        let mut out = [0u8; LEN];
        out.copy_from_slice(&h.finalize().into_bytes()[..LEN]);
        out
    }
}

/// Lower-case hex, as `generate --token` prints it and nft takes it.
pub fn hex(t: &[u8; LEN]) -> String {
    let mut s = String::with_capacity(2 * LEN);
    push_hex(t, &mut s);
    s
}

/// `hex` onto `out`, without an allocation per token.
pub fn push_hex(t: &[u8; LEN], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in t {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed with Python's hmac module from the text above
    /// (tests/token_reference.py).
    #[test]
    fn known_answer() {
        let t = token(
            b"correct horse battery staple",
            1_799_992_800,
            b"ssh_ROTATOR",
        );
        assert_eq!(hex(&t), KAT);
    }

    #[test]
    fn keyed_once_agrees_with_keyed_each_time() {
        let k = Keyed::new(b"s");
        for start in [0, 60, 1_799_992_800, u64::MAX] {
            assert_eq!(
                k.token(start, b"a_ROTATOR"),
                token(b"s", start, b"a_ROTATOR")
            );
        }
        assert_eq!(hex(&[0xab; LEN]), "ab".repeat(LEN));
    }

    const KAT: &str = "ca12ecf60c1402e1f42184fa4322258c";
}
