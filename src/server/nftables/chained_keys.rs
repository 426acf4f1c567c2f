//! The numbers of `ahead` doors (chained.rs): the window keys their chains
//! start from, and the slot ids a completion carries (its grant, its
//! one-use mark).

use super::windows;

/// Window keys of chained classes.
const KEY_BASE: u32 = 0xfc00_0000;
/// Above every slot id of step doors (0x01xx_xxxx), below the keys.
const ID_BASE: u32 = 0x0400_0000;
/// A chained slot's id comes back after this many periods.
pub const ID_PERIODS: u64 = 16;

/// The window key of chained class `c`'s period `j`.
pub fn key(c: usize, j: u64) -> u32 {
    KEY_BASE | ((c as u32) & 0xfff) << 12 | (j & 0xfff) as u32
}

/// The window maps of chained class `c`.
pub fn maps(c: usize) -> [(String, i64); 6] {
    windows::maps("cw", c)
}

/// A chained slot's id: the door's id and the period modulo 16.
pub fn slot_id(door_id: u32, j: u64) -> u32 {
    ID_BASE | door_id << 4 | (j % ID_PERIODS) as u32
}

/// A door with `ahead = yes` and the class it is in: its grants and
/// one-use ids (every period's, modulo ID_PERIODS).
pub fn ids(door_id: u32) -> impl Iterator<Item = u32> {
    (0..ID_PERIODS).map(move |j| slot_id(door_id, j))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_ids_stay_apart() {
        assert_eq!(key(1, 4097), 0xfc00_1001);
        assert_eq!(slot_id(0x3f_ffff, 17), 0x07ff_fff1);
        assert!(slot_id(0x3f_ffff, 15) < 0xfc00_0000);
        assert!(slot_id(0, 0) > 0x01ff_ffff);
    }
}
