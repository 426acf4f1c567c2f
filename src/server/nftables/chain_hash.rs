//! The hash chains of `ahead` doors (chained.rs): each knock packet moves
//! a source's two 32-bit chains on by nft's `jhash` (the kernel's
//! `jhash()`, Bob Jenkins' lookup3), which this computes as the kernel
//! does, so that rotate can install each door period's final values.

use crate::derive::{Knock, Proto};

/// The chains' seeds (any two distinct values; the secret is in the
/// sequences, not here).
pub const SEED_A: u32 = 0x6b72_6361;
pub const SEED_B: u32 = 0x6b72_6362;

/// The kernel's `jhash()` (Bob Jenkins' lookup3) of at most 12 bytes, as
/// nft's `jhash` expression takes it.
pub fn jhash(data: &[u8], initval: u32) -> u32 {
    debug_assert!(data.len() <= 12);
    let n = data.len() as u32;
    let mut k = [0u8; 12];
    k[..data.len()].copy_from_slice(data);
    let w = |i: usize| u32::from_le_bytes([k[i], k[i + 1], k[i + 2], k[i + 3]]);
    let init = 0xdead_beef_u32.wrapping_add(n).wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    if n == 0 {
        return c;
    }
    a = a.wrapping_add(w(0));
    b = b.wrapping_add(w(4));
    c = c.wrapping_add(w(8));
    // __jhash_final: seven rounds of x ^= y; x -= rol32(y, r).
    let f = |x: u32, y: u32, r: u32| (x ^ y).wrapping_sub(y.rotate_left(r));
    c = f(c, b, 14);
    a = f(a, c, 11);
    b = f(b, a, 25);
    c = f(c, b, 16);
    a = f(a, c, 4);
    b = f(b, a, 14);
    f(c, b, 24)
}

pub fn proto_number(p: Proto) -> u8 {
    match p {
        Proto::Tcp => 6,
        Proto::Udp => 17,
    }
}

/// One step of a chain, as the rule computes it: `jhash meta priority .
/// meta l4proto . th dport mod 4294967295 seed SEED` (registers of 4
/// bytes: the state in host order, the protocol, the port in network
/// order).
pub fn step(state: u32, k: &Knock, seed: u32) -> u32 {
    let mut d = [0u8; 12];
    d[..4].copy_from_slice(&state.to_ne_bytes());
    d[4] = proto_number(k.proto);
    d[8..10].copy_from_slice(&k.port.to_be_bytes());
    ((u64::from(jhash(&d, seed)) * 0xffff_ffff) >> 32) as u32
}

/// The (a, b) chain values of a complete sequence started in the window
/// of key `wk`.
pub fn finals(wk: u32, seq: &[Knock]) -> (u32, u32) {
    let Some((first, rest)) = seq.split_first() else {
        return (0, 0);
    };
    let mut b = step(wk, first, SEED_B);
    let mut a = step(b, first, SEED_A);
    for k in rest {
        b = step(b, k, SEED_B);
        a = step(a, k, SEED_A);
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values the kernel computed (Linux 6.18, nft 1.0.6): after UDP
    /// datagrams to 2001, 3002 and 4003 from one source, with the rules
    /// this module renders but seeds 0xa and 0xb and window key
    /// 0xfc000005, the source's chain a held 503e:6b08 and chain b 8e98:41b0. The state's
    /// bytes are in host order, as the kernel reads its register; on a
    /// big-endian host the values differ, as the kernel's do.
    #[test]
    fn chains_as_the_kernel_computes_them() {
        let u = |port| Knock {
            port,
            proto: Proto::Udp,
        };
        let seq = [u(2001), u(3002), u(4003)];
        let mut b = step(0xfc00_0005, &seq[0], 0xb);
        let mut a = step(b, &seq[0], 0xa);
        for k in &seq[1..] {
            b = step(b, k, 0xb);
            a = step(a, k, 0xa);
        }
        if cfg!(target_endian = "little") {
            assert_eq!((a, b), (0x503e_6b08, 0x8e98_41b0));
        }
    }

    /// lookup3's own check values (hashlittle, lengths 0 and 12 here).
    #[test]
    fn jhash_known_answers() {
        assert_eq!(jhash(b"", 0), 0xdead_beef);
        assert_eq!(jhash(b"", 0xdead_beef), 0xbd5b_7dde);
    }
}
