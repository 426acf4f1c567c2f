//! The objects and rules of `ahead` doors' classes (chained.rs): per
//! family, start an attempt at a first knock, move both chains on, and
//! complete where (a, b) is a door period's.

use super::chain_hash::{SEED_A, SEED_B};
use super::chained_keys::maps;

/// The sets that hold the chained elements, as the table declares them
/// (added to, never flushed by an apply).
pub const DECLARE: [&str; 5] = [
    "set cfirst { typeof meta priority . meta l4proto . th dport; flags timeout; }",
    "map cfa { typeof meta priority : meta priority; flags timeout; }",
    "map cfb { typeof meta priority : meta priority; flags timeout; }",
    "set ckp { typeof meta l4proto . th dport; }",
    "set cman { typeof meta mark . meta mark . meta mark; }",
];

/// The chains of a chained class, one per paragraph: its name, then its
/// rules. `%..%` are the PIECES; `$A` is the source, `$S` the family and
/// class, `$C` the class, `$T` the timeout; a line or chain with `$M` (a
/// window map) or `$I` (its number) is there once per window map.
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
%DROPx%
%DROPy%
delete @cya$S { $A : meta priority } delete @cyb$S { $A : meta priority }
meta priority set meta time map @$M meta priority . meta l4proto . th dport @cfirst goto cstart$S

cstart$S
add @ca$S { $A timeout $Ts }
%Bx% %Ax% goto ccheck$S

cadv$S
meta priority set meta time map @$M meta priority . meta l4proto . th dport @cfirst goto crestart$I_$S
%DROPy% %By%
meta priority set $A map @cya$S %Ay%
goto cadvx$S

crestart$I_$S
update @ca$S { $A timeout $Ts }
%DROPy%
meta priority set meta time map @$M %By% %Ay% goto cadvx$S

cadvx$S
%DROPx% %Bx%
meta priority set $A map @cxa$S %Ax%
goto ccheck$S

ccheck$S
%DONEx%
%DONEy%";

/// The pieces, for chain `$X`: its next b (from its old b, or the window
/// key) stored and put in `cs`; its next a (from its old a, or the new
/// b) stored; its b loaded and dropped from `cs` (a rule breaks here when
/// it has none); a completion on it, which ends the attempt.
const PIECES: [(&str, &str); 4] = [
    (
        "%B$X%",
        "$HB delete @c$Xb$S { $A : meta priority } add @c$Xb$S { $A timeout $Ts : meta priority } add @cs$S { $A . meta priority timeout $Ts }",
    ),
    (
        "%A$X%",
        "$HA delete @c$Xa$S { $A : meta priority } add @c$Xa$S { $A timeout $Ts : meta priority }",
    ),
    (
        "%DROP$X%",
        "meta priority set $A map @c$Xb$S delete @cs$S { $A . meta priority }",
    ),
    (
        "%DONE$X%",
        "meta priority set $A map @c$Xa$S meta priority set meta priority map @cfa $A . meta priority @cs$S meta priority set meta priority map @cfb delete @ca$S { $A } goto done_$C",
    ),
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
        format!(
            "meta priority set jhash meta priority . meta l4proto . th dport mod 4294967295 seed {seed:#x}"
        )
    };
    let text = text
        .replace("$HA", &hash(SEED_A))
        .replace("$HB", &hash(SEED_B))
        .replace("$A", addr)
        .replace("$S", &format!("{f}_{c}"))
        .replace("$C", &c.to_string())
        .replace("$T", &timeout.to_string());
    let maps = maps(c);
    let at = |line: &str, i: usize| line.replace("$M", &maps[i].0).replace("$I", &i.to_string());
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let (name, rules) = para.split_once('\n').unwrap_or((para, ""));
        if name.contains("$I") {
            for i in 0..maps.len() {
                out.push((at(name, i), rules.lines().map(|l| at(l, i)).collect()));
            }
            continue;
        }
        let mut list = Vec::new();
        for line in rules.lines() {
            match line.contains("$M") {
                true => list.extend((0..maps.len()).map(|i| at(line, i))),
                false => list.push(line.to_string()),
            }
        }
        out.push((name.to_string(), list));
    }
    out
}

/// The dynamic sets and maps of chained class `c`: (kind, name, type).
pub fn dynamic(c: usize) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    for (f, addr) in [("4", "ip saddr"), ("6", "ip6 saddr")] {
        out.push(("set", format!("ca{f}_{c}"), addr.to_string()));
        out.push((
            "set",
            format!("cs{f}_{c}"),
            format!("{addr} . meta priority"),
        ));
        for x in ["cxa", "cxb", "cya", "cyb"] {
            out.push((
                "map",
                format!("{x}{f}_{c}"),
                format!("{addr} : meta priority"),
            ));
        }
    }
    out
}
