//! The keyed derivation, `KNOCKD_ROTATOR_ALGORITHM=hmac-sha256`: a MAC with
//! the secret as key, unbiased port choice, no port twice in a sequence.
//! Specified in README.md ("The keyed derivation") and knock-rotator(1), so
//! that other clients can implement it from the text alone:
//!
//! ```text
//! lp(x)    = u32_be(len(x)) ‖ x
//! M        = lp("knock-rotator hmac-sha256 v1") ‖ u64_be(period_start) ‖ lp(service)
//! block_j  = HMAC-SHA-256(key = secret, M ‖ u32_be(j)),  j = 0, 1, 2, ...
//! r        = the blocks' 32-bit big-endian words, in order
//! n        = number of ports in the list;  limit = 2^32 - (2^32 mod n)
//! for each r: skip it if r >= limit; else p = ports[r mod n];
//!             skip p if already chosen; else append p
//! until LENGTH ports are chosen; protocol as in the legacy scheme.
//! ```

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::ports::PortSet;

pub const DOMAIN: &[u8] = b"knock-rotator hmac-sha256 v1";

fn lp(out: &mut Vec<u8>, x: &[u8]) {
    out.extend_from_slice(&(x.len() as u32).to_be_bytes());
    out.extend_from_slice(x);
}

/// The message M (without the block counter).
pub fn message(period_start: u64, service: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(4 + DOMAIN.len() + 8 + 4 + service.len() + 4);
    lp(&mut m, DOMAIN);
    m.extend_from_slice(&period_start.to_be_bytes());
    lp(&mut m, service);
    m
}

/// `length` distinct ports from `ports`, chosen uniformly. The caller has
/// checked `length <= ports.len()`.
pub fn ports(
    secret: &[u8],
    period_start: u64,
    service: &[u8],
    set: &PortSet,
    length: u32,
) -> Vec<u32> {
    let n = u64::from(set.len());
    let limit = (1u64 << 32) - ((1u64 << 32) % n);
    let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    let mut m = message(period_start, service);
    let base_len = m.len();
    let mut chosen: Vec<u32> = Vec::with_capacity(length as usize);
    let mut j: u32 = 0;
    while chosen.len() < length as usize {
        m.truncate(base_len);
        m.extend_from_slice(&j.to_be_bytes());
        let mut h = mac.clone();
        h.update(&m);
        let block = h.finalize().into_bytes();
        for w in block.chunks_exact(4) {
            let r = u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
            if r >= limit {
                continue;
            }
            let p = set.nth((r % n) as u32);
            if !chosen.contains(&p) {
                chosen.push(p);
                if chosen.len() == length as usize {
                    break;
                }
            }
        }
        j += 1;
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_layout() {
        let m = message(0x0102030405060708, b"ssh_ROTATOR");
        assert_eq!(&m[..4], &[0, 0, 0, 28]);
        assert_eq!(&m[4..32], DOMAIN);
        assert_eq!(&m[32..40], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&m[40..44], &[0, 0, 0, 11]);
        assert_eq!(&m[44..], b"ssh_ROTATOR");
    }

    /// Over many periods every port of the list comes up about equally
    /// often (chi-square), and no sequence repeats a port.
    #[test]
    fn uniform_and_without_repeats() {
        let set = PortSet::parse("X", "2000-2999").unwrap();
        let mut counts = vec![0u32; 1000];
        let periods = 20_000u64;
        for p in 0..periods {
            let seq = ports(b"statistics secret", p * 21600, b"ssh_ROTATOR", &set, 10);
            let mut s = seq.clone();
            s.sort_unstable();
            s.dedup();
            assert_eq!(s.len(), 10, "a repeated port in period {p}");
            for port in seq {
                counts[(port - 2000) as usize] += 1;
            }
        }
        let expected = (periods * 10) as f64 / 1000.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (f64::from(c) - expected).powi(2) / expected)
            .sum();
        // 999 degrees of freedom: mean 999, standard deviation ~44.7.
        assert!(
            chi2 < 999.0 + 5.0 * 44.7,
            "chi-square {chi2:.0} is too far from uniform"
        );
        assert!(
            chi2 > 999.0 - 5.0 * 44.7,
            "chi-square {chi2:.0} is too regular to be random"
        );
    }

    #[test]
    fn distinct_and_in_the_list() {
        let set = PortSet::parse("X", "100-109").unwrap();
        let p = ports(b"secret key 123", 1_800_000_000, b"x_ROTATOR", &set, 10);
        let mut s = p.clone();
        s.sort_unstable();
        assert_eq!(
            s,
            (100..=109).collect::<Vec<u32>>(),
            "a permutation of the whole list"
        );
    }
}
