//! The original clients' derivation (the compatibility contract; see
//! README, "Derivation"):
//!
//! `base = decimal(period_start) ‖ service ‖ secret`;
//! `d_i = u32_be(SHA-256(base ‖ decimal(i))[0..4])` for `i = 1..=length`;
//! `port_i = ports[d_i mod len(ports)]` (the legacy range 2000..=65535 gives
//! the original `d mod 63536 + 2000`).

use sha2::{Digest, Sha256};

use super::ports::PortSet;

/// The `length` ports, in order (they may repeat).
pub fn ports<'a>(
    secret: &[u8],
    period_start: u64,
    service: &[u8],
    set: &'a PortSet,
    length: u32,
) -> impl Iterator<Item = u32> + 'a {
    let mut base = Sha256::new();
    base.update(period_start.to_string().as_bytes());
    base.update(service);
    base.update(secret);
    let n = set.len();
    (1..=length).map(move |i| {
        let mut h = base.clone();
        h.update(decimal(&mut [0; 10], i));
        let digest = h.finalize();
        let d = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        set.nth(d % n)
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 32, 4_294_967_295] {
            assert_eq!(decimal(&mut [0; 10], n), n.to_string().as_bytes());
        }
    }
}
