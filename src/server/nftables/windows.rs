//! The `meta time` maps that give a packet the keys of the period before,
//! of and after its own (for tokens and `ahead` doors): each is split into
//! even and odd periods, because nft's 1 s interval ends would leave a gap
//! between adjacent ranges. The lookups are a constant few per packet,
//! however many periods are installed; each walks the kernel's tree of
//! intervals, in the log of them (six lookups in maps of 720 intervals
//! cost 1.1 us more a packet than in maps of 3, measured with nft alone
//! on 2026-12-06).

use super::layout::prio;

/// Six window maps named `PREFIX{p,c,n}{e,o}_Q`.
pub fn maps(prefix: &str, q: usize) -> [(String, i64); 6] {
    let m = |w: &str, p: &str| format!("{prefix}{w}{p}_{q}");
    [
        (m("p", "e"), -1),
        (m("p", "o"), -1),
        (m("c", "e"), 0),
        (m("c", "o"), 0),
        (m("n", "e"), 1),
        (m("n", "o"), 1),
    ]
}

/// The window maps' elements for periods `lo..=hi` (and `hi + 1`: the
/// last is taken up to its end), `key(j)` being period j's key.
pub fn elements(
    maps: &[(String, i64); 6],
    p: u64,
    (lo, hi): (u64, u64),
    key: &dyn Fn(u64) -> u32,
    out: &mut Vec<(String, String)>,
) {
    for j in lo..=hi + 1 {
        let range = format!("{}-{}", j * p, (j + 1) * p);
        let parity = (j % 2) as usize;
        for (i, (map, shift)) in maps.iter().enumerate() {
            if i % 2 != parity || j.checked_add_signed(*shift).is_none() {
                continue;
            }
            let v = key(j.saturating_add_signed(*shift));
            out.push((map.clone(), format!("{range} : {}", prio(v))));
        }
    }
}
