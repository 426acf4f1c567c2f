//! The original clients' derivation (the compatibility contract; see
//! README, "Derivation"):
//!
//! `base = decimal(period_start) ‖ service ‖ secret`;
//! `d_i = u32_be(SHA-256(base ‖ decimal(i))[0..4])` for `i = 1..=length`;
//! `port_i = ports[d_i mod len(ports)]` (the legacy range 2000..=65535 gives
//! the original `d mod 63536 + 2000`).

use sha2::block_api::compress256;

use super::ports::PortSet;

/// The `length` ports, in order (they may repeat).
pub fn ports<'a>(
    secret: &[u8],
    period_start: u64,
    service: &[u8],
    set: &'a PortSet,
    length: u32,
) -> impl Iterator<Item = u32> + 'a {
    let mut base = Midstate::default();
    base.update(period_start.to_string().as_bytes());
    base.update(service);
    base.update(secret);
    let n = set.len();
    (1..=length).map(move |i| set.nth(base.first_word(decimal(&mut [0; 10], i)) % n))
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256 of `base`'s whole blocks, once, and its tail: each
/// `base ‖ decimal(i)` then costs its last block (or two). A day of 30 s
/// ahead periods for 100 doors is 2.9 million of them; through digest's
/// Sha256, cloned and finalised per knock, zeroing buffers at our
/// opt-level ("z"), a dry run of that day took 0.49-0.55 s, so 0.34-0.45 s
/// (2026-12-06).
struct Midstate {
    state: [u32; 8],
    tail: [u8; 64],
    used: usize,
    len: u64,
}

impl Default for Midstate {
    fn default() -> Self {
        Midstate {
            state: H0,
            tail: [0; 64],
            used: 0,
            len: 0,
        }
    }
}

impl Midstate {
    fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        while !data.is_empty() {
            let n = (64 - self.used).min(data.len());
            self.tail[self.used..self.used + n].copy_from_slice(&data[..n]);
            self.used += n;
            data = &data[n..];
            if self.used == 64 {
                compress256(&mut self.state, &[self.tail]);
                self.used = 0;
            }
        }
    }

    /// The first four bytes of SHA-256(base ‖ `suffix`), big-endian
    /// (`suffix` of at most 10 bytes).
    fn first_word(&self, suffix: &[u8]) -> u32 {
        // The tail, the suffix, 0x80, zeros, the length in bits.
        let mut blocks = [[0u8; 64]; 2];
        let buf = blocks.as_flattened_mut();
        let end = self.used + suffix.len();
        buf[..self.used].copy_from_slice(&self.tail[..self.used]);
        buf[self.used..end].copy_from_slice(suffix);
        buf[end] = 0x80;
        let n = if end + 9 <= 64 { 1 } else { 2 };
        let bits = (self.len + suffix.len() as u64) * 8;
        buf[n * 64 - 8..n * 64].copy_from_slice(&bits.to_be_bytes());
        let mut state = self.state;
        compress256(&mut state, &blocks[..n]);
        let word = state[0];
        // The tail holds the secret's last bytes.
        wipe(&mut blocks.as_flattened_mut()[..self.used]);
        wipe(&mut state);
        word
    }
}

impl Drop for Midstate {
    fn drop(&mut self) {
        wipe(&mut self.tail);
        wipe(&mut self.state);
    }
}

/// Zeros that the optimiser may not remove (as secret::wipe; derivation
/// uses nothing of the rest of the crate).
fn wipe<T: Default>(v: &mut [T]) {
    for w in v.iter_mut() {
        // SAFETY: `w` is a valid, aligned, exclusive reference.
        unsafe { std::ptr::write_volatile(w, T::default()) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
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

    /// Every tail length and a suffix over the block's end, against
    /// sha2's own Sha256.
    #[test]
    fn midstate_is_sha256() {
        use sha2::{Digest, Sha256};
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..data.len() {
            let mut m = Midstate::default();
            // In two pieces, as ports() feeds it.
            m.update(&data[..len / 3]);
            m.update(&data[len / 3..len]);
            for suffix in [&b"1"[..], b"32", b"4294967295"] {
                let d = Sha256::new()
                    .chain_update(&data[..len])
                    .chain_update(suffix)
                    .finalize();
                let want = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
                assert_eq!(m.first_word(suffix), want, "len {len} suffix {suffix:?}");
            }
        }
    }
}
