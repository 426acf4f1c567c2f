//! The objects and rules of `ahead` doors' classes (chained.rs): per
//! family, start an attempt at a first knock, move both chains on, and
//! complete where (a, b) is a door period's.

use super::chain_hash::{SEED_A, SEED_B};
use super::chained_keys::maps;
use super::layout::{Layout, SET_SIZE};
use super::tokens;

/// The sets that hold the chained elements, as the table declares them
/// (added to, never flushed by an apply), of `size` elements each. No
/// timeouts: the kernel then keeps `cfirst`, `cfa` and `cfb` in hash
/// tables of a fixed size, made once, where a set with timeouts grows by
/// rehashing, in a worker beside the adds (a day of 30 s periods for 100
/// doors, back to back: 1.12-1.24 s to apply with timeouts, 0.90-0.99 s
/// so; 2026-12-06); each rotation deletes the periods past (chained.rs).
/// `cman` holds name . content . first . last period per door. One line
/// each, tab-indented, for a table block.
pub fn declare(l: &Layout) -> String {
    let size = size(l);
    format!(
        "\tset cfirst {{ typeof meta priority . meta l4proto . th dport; size {size}; }}
\tmap cfa {{ typeof meta priority : meta priority; size {size}; }}
\tmap cfb {{ typeof meta priority : meta priority; size {size}; }}
\tset ckp {{ typeof meta l4proto . th dport; }}
\tset cman {{ typeof meta mark . meta mark . meta mark . meta mark; }}\n"
    )
}

/// The sets `declare` declares.
pub const DECLARED: usize = 5;

/// The size of `cfirst`, `cfa` and `cfb`: every door's installed periods
/// (a period is one element of each; a rotation deletes the periods past
/// before it adds), an eighth more, at least 1024. The kernel makes 4/3
/// of it, rounded up to a power of two, buckets of 8 bytes.
pub fn size(l: &Layout) -> u32 {
    let n: u64 = l
        .class_of
        .iter()
        .map(|&c| &l.classes[c])
        .filter(|c| c.ahead)
        // tokens::range: the period before, this one, `ahead` after it.
        .map(|c| tokens::ahead(c.period) + 2)
        .sum();
    (n + n / 8).clamp(1024, 1 << 30) as u32
}

/// How many maps hold each of a source's chain values, written in turn:
/// each knock packet deletes the value it read and adds the next one to
/// the next map, and an attempt starts at the map after its source's last
/// one. The kernel keeps a deleted element until its garbage collection
/// (every second, later when the ruleset changes meanwhile) and fails to
/// add an element while 16 such of its key fill its bucket and the table
/// is being rehashed: with one map, a 32-knock sequence sent at once could
/// lose its chain. In turn, a source's rate limit (a burst of at most 128
/// knock packets, then 16 a second) leaves at most 15 in a map a second.
pub const INDICES: usize = 10;

/// The chains of a chained class, one per paragraph: its name, then its
/// rules. `%..%` are the PIECES; `$P` is `meta priority`, `$A` the
/// source, `$S` the family and class, `$C` the class, `$T` the timeout; a
/// line or chain with `$M` (a window map) or `$I` (its number) is there
/// once per window map, one with `$K` once per index (`$N` the next one),
/// `$W` is the index written (the next one in a chain of an index, the
/// first elsewhere), and `$V` sends a source with no chain to the `cfirst`
/// of an index that a hash of its address picks (of `$R`).
///
/// A source has two chains, each a pair (a, b): X, from the first knock of
/// its attempt, and Y, from the latest first knock within it (none until
/// then). So a knock that a lost, reordered or stray packet spoiled does
/// not spoil the next one, while a sequence one of whose later knocks is
/// some period's first knock still completes on X. `cs` holds source . b
/// of both, to compare b with a value.
const CHAINS: &str = "\
cseq$S
$A @ca$S goto cadv$S
%DROPy%
delete @cya$K_$S { $A : $P }
$A @cxb$K_$S goto cseq$K_$S
jhash $A mod $R vmap { $V }

cseq$K_$S
%DROPx%
delete @cxa$K_$S { $A : $P }
goto cfirst$K_$S

cfirst$K_$S
$P set meta time map @$M $P . meta l4proto . th dport @cfirst goto cstart$K_$S

cstart$K_$S
add @ca$S { $A timeout $Ts }
%Bx% %Ax% goto ccheck$N_$S

cadv$S
$P set meta time map @$M $P . meta l4proto . th dport @cfirst goto crestart$I_$S
$A @cyb$K_$S goto cadvy$K_$S
goto cadvx$S

cadvy$K_$S
%DROPy% %By%
%READy% %Ay%
goto cadvx$S

crestart$I_$S
update @ca$S { $A timeout $Ts }
%DROPy%
delete @cya$K_$S { $A : $P }
$P set meta time map @$M %By% %Ay% goto cadvx$S

cadvx$S
$A @cxb$K_$S goto cadvx$K_$S
goto cchecky$S

cadvx$K_$S
%DROPx% %Bx%
%READx% %Ax%
goto ccheck$N_$S

ccheck$K_$S
%DONEx%
$A @ca$S goto cchecky$S

cchecky$S
%DONEy%

cfin$S
$P set $P map @cfa $A . $P @cs$S $P set $P map @cfb delete @ca$S { $A } goto done_$C";

/// The pieces, for chain `$X`: its b at index `$K` loaded, dropped from
/// `cs` and deleted (a rule breaks here when it has none); its a loaded
/// and deleted; its next b (from its old b, or the window key) added at
/// `$W` and to `cs`; its next a (from its old a, or the new b) added at
/// `$W`; its a taken to `cfin`, which completes where (a, b) is a door
/// period's and ends the attempt (the one rule that reads `cfa` and `cfb`:
/// the kernel checks every element of a map for each rule that reads it).
const PIECES: [(&str, &str); 5] = [
    (
        "%DROP$X%",
        "$P set $A map @c$Xb$K_$S delete @cs$S { $A . $P } delete @c$Xb$K_$S { $A : $P }",
    ),
    (
        "%READ$X%",
        "$P set $A map @c$Xa$K_$S delete @c$Xa$K_$S { $A : $P }",
    ),
    (
        "%B$X%",
        "$HB add @c$Xb$W_$S { $A timeout $Ts : $P } add @cs$S { $A . $P timeout $Ts }",
    ),
    ("%A$X%", "$HA add @c$Xa$W_$S { $A timeout $Ts : $P }"),
    ("%DONE$X%", "$P set $A map @c$Xa$K_$S jump cfin$S"),
];

/// The rules of chained class `c` for one family (`f`, its source `addr`):
/// (chain, rules).
pub fn chains(f: &str, addr: &str, c: usize, timeout: u64) -> Vec<(String, Vec<String>)> {
    let mut text = CHAINS.to_string();
    for x in ["x", "y"] {
        for (name, piece) in PIECES {
            text = text.replace(&name.replace("$X", x), &piece.replace("$X", x));
        }
    }
    let hash = |seed: u32| {
        format!("$P set jhash $P . meta l4proto . th dport mod 4294967295 seed {seed:#x}")
    };
    // Without a seed, the kernel draws one: no one can aim sources at one map.
    let spread: Vec<String> = (0..INDICES)
        .map(|k| format!("{k} : goto cfirst{k}_$S"))
        .collect();
    let text = text
        .replace("$V", &spread.join(", "))
        .replace("$R", &INDICES.to_string())
        .replace("$HA", &hash(SEED_A))
        .replace("$HB", &hash(SEED_B))
        .replace("$P", "meta priority")
        .replace("$A", addr)
        .replace("$S", &format!("{f}_{c}"))
        .replace("$C", &c.to_string())
        .replace("$T", &timeout.to_string());
    let maps = maps(c);
    let at = |line: &str, i: usize| line.replace("$M", &maps[i].0).replace("$I", &i.to_string());
    let index = |line: &str, k: usize| {
        let n = ((k + 1) % INDICES).to_string();
        line.replace("$K", &k.to_string())
            .replace("$N", &n)
            .replace("$W", &n)
    };
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let (name, rules) = para.split_once('\n').unwrap_or((para, ""));
        // The chain's copies: per window map (0), per index (1), or one.
        let copies = match (name.contains("$I"), name.contains("$K")) {
            (true, _) => (0..maps.len()).map(|i| (0, i)).collect(),
            (_, true) => (0..INDICES).map(|k| (1, k)).collect(),
            _ => vec![(2, 0)],
        };
        let subst = |l: &str, (kind, n): (u8, usize)| match kind {
            0 => at(l, n),
            1 => index(l, n),
            _ => l.to_string(),
        };
        for copy in copies {
            let name = subst(name, copy);
            let mut list = Vec::new();
            for line in rules.lines() {
                let line = subst(line, copy);
                // A line once per window map or per index left in it.
                if line.contains("$M") {
                    list.extend((0..maps.len()).map(|i| at(&line, i).replace("$W", "0")));
                } else if line.contains("$K") {
                    list.extend((0..INDICES).map(|k| index(&line, k)));
                } else {
                    list.push(line.replace("$W", "0"));
                }
            }
            out.push((name, list));
        }
    }
    out
}

/// The dynamic sets and maps of chained class `c`: (kind, name, type,
/// size). The kernel allocates a set's table for its size at once, so the
/// maps of each index share the size of one (a megabyte each otherwise):
/// a source holds one element in one of them, and a source with none
/// starts at an index its address hashes to, so together they hold as
/// many sources as the others; a full map fails closed (no attempt).
pub fn dynamic(c: usize) -> Vec<(&'static str, String, String, u32)> {
    let mut out = Vec::new();
    for (f, addr) in [("4", "ip saddr"), ("6", "ip6 saddr")] {
        out.push(("set", format!("ca{f}_{c}"), addr.to_string(), SET_SIZE));
        out.push((
            "set",
            format!("cs{f}_{c}"),
            format!("{addr} . meta priority"),
            SET_SIZE,
        ));
        for x in ["cxa", "cxb", "cya", "cyb"] {
            for k in 0..INDICES {
                out.push((
                    "map",
                    format!("{x}{k}_{f}_{c}"),
                    format!("{addr} : meta priority"),
                    SET_SIZE / INDICES as u32,
                ));
            }
        }
    }
    out
}
