//! Items found by a key, through one sorted list of 64-bit FNV-1a hashes
//! of the keys. A HashMap does this too, but its code (hashbrown, SipHash,
//! the random seed) is 6 KB of a mips executable whose limit is 512 KiB.

pub struct Index {
    /// (hash of the key, item), sorted.
    keys: Vec<(u64, u32)>,
}

pub fn hash(key: &[u8]) -> u64 {
    key.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Index {
    /// The items' keys, in item order.
    pub fn new<'a>(keys: impl Iterator<Item = &'a [u8]>) -> Index {
        let mut keys: Vec<(u64, u32)> =
            keys.enumerate().map(|(i, k)| (hash(k), i as u32)).collect();
        keys.sort_unstable();
        Index { keys }
    }

    /// The items whose key hashes as `key` does, in item order (the caller
    /// compares the keys themselves).
    pub fn candidates(&self, key: &[u8]) -> impl Iterator<Item = usize> + '_ {
        let h = hash(key);
        let from = self.keys.partition_point(|k| k.0 < h);
        self.keys[from..]
            .iter()
            .take_while(move |k| k.0 == h)
            .map(|k| k.1 as usize)
    }

    /// The first item whose key is `key`, as `key_of` gives an item's.
    pub fn find<'k>(&self, key: &[u8], key_of: impl Fn(usize) -> &'k [u8]) -> Option<usize> {
        self.candidates(key).find(|&i| key_of(i) == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_of_equal_keys() {
        let keys: [&[u8]; 4] = [b"b", b"a", b"b", b""];
        let ix = Index::new(keys.iter().copied());
        assert_eq!(ix.find(b"b", |i| keys[i]), Some(0));
        assert_eq!(ix.find(b"a", |i| keys[i]), Some(1));
        assert_eq!(ix.find(b"", |i| keys[i]), Some(3));
        assert_eq!(ix.find(b"c", |i| keys[i]), None);
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
