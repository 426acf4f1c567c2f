//! `status` with the nftables backend, from the live table: per door, which
//! periods it holds (its line in the `doors` set: name hash, content hash,
//! and until when its installed windows open), and how many sources its
//! group allows now. Only those small sets are listed, never the whole
//! table (listing tens of thousands of elements takes seconds). And a
//! warning where the host firewall would drop a door's port anyway.

use std::path::Path;

use super::door::Door;
use super::elements::manifest;
use super::layout::{self, RATE_IDLE, SET_SIZE, Slot, fnv, group, knock};
use super::nft;
use super::tokens;
use crate::error::Result;
use crate::json::Value;

/// Which periods a door's line in the live table is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// The periods around now: as a rotation now would install.
    Current,
    /// As a rotation one period ago installed: the timer or watch is late.
    Previous,
    Other,
    /// Not in the table (or no table).
    Missing,
}

impl Holds {
    pub fn key(self) -> &'static str {
        match self {
            Holds::Current => "current",
            Holds::Previous => "previous",
            Holds::Other => "other",
            Holds::Missing => "missing",
        }
    }
}

pub struct Row {
    pub holds: Holds,
    /// The end of the last window the live table opens for it.
    pub until: Option<u64>,
    /// Sources its group allows now (IPv4 and IPv6).
    pub allowed: usize,
}

pub struct Report {
    pub installed: bool,
    pub rows: Vec<Row>,
    pub warnings: Vec<String>,
}

/// Name hash -> the end of the last window of a token door's installed
/// tokens, from the `tman` manifest, and of an `ahead` door's sequences,
/// from `cman`: what the live table holds, also when it was put back from
/// the copy (an hour of them).
fn installed_ends(nft: &Path, doors: &[Door]) -> Result<Vec<(u32, u64)>> {
    let mut out = Vec::new();
    // Name . content . last period; `cman` holds the first one too.
    for (set, has, len) in [
        ("tman", &|d: &Door| d.token_port.is_some(), 3),
        ("cman", &|d: &Door| d.ahead, 4),
    ] as [(&str, &dyn Fn(&Door) -> bool, usize); 2]
    {
        if !doors.iter().any(has) {
            continue;
        }
        let man = nft::tuples(&nft::set(nft, set)?, len);
        for d in doors.iter().filter(|d| has(d)) {
            let name = fnv(&[&d.name]);
            if let Some(t) = man.iter().find(|t| t[0] as u32 == name) {
                out.push((name, tokens::until(d.settings.period, t[len - 1])));
            }
        }
    }
    Ok(out)
}

pub fn report(nft: &Path, doors: &[Door], now: u64) -> Result<Report> {
    let live = nft::set(nft, "doors")?;
    let installed = live.is_some();
    // name hash -> (content hash, until)
    let lines = nft::triples(&live);
    let ends = match installed {
        true => installed_ends(nft, doors)?,
        false => Vec::new(),
    };
    let content = |slots: &[Slot], i: usize, d: &Door| {
        let mine: Vec<&Slot> = slots.iter().filter(|s| s.door == i).collect();
        manifest(d, &mine)
    };
    let (now_slots, _) = layout::slots(doors, now);
    let mut rows = Vec::new();
    let mut allowed: Vec<(String, usize)> = Vec::new();
    let mut full = Vec::new();
    for (i, d) in doors.iter().enumerate() {
        let name = fnv(&[&d.name]);
        let line = lines.iter().find(|l| l.0 == name);
        let text = |(_, c, u): (u32, u32, u64)| format!("0x{name:x} . 0x{c:x} . {u}");
        let (prev_slots, _) = layout::slots(
            std::slice::from_ref(d),
            now.saturating_sub(d.settings.period),
        );
        let holds = match line {
            None => Holds::Missing,
            Some(l) if text(*l) == content(&now_slots, i, d) => Holds::Current,
            Some(l) if text(*l) == content(&prev_slots, 0, d) => Holds::Previous,
            Some(_) => Holds::Other,
        };
        let g = group(d);
        let n = match allowed.iter().find(|(n, _)| *n == g) {
            Some((_, n)) => *n,
            None => {
                let mut n = 0;
                for f in ["a4_", "a6_"] {
                    let set = format!("{f}{g}");
                    let listed = nft::set(nft, &set)?;
                    let here = nft::elements(&listed).len();
                    if here >= SET_SIZE as usize {
                        full.push(format!(
                            "set {set} is full ({here} sources allowed): a new source's knock \
                             cannot open [{}] until some expire (open_for)",
                            String::from_utf8_lossy(&d.name)
                        ));
                    }
                    n += here;
                }
                allowed.push((g, n));
                n
            }
        };
        let ahead = ends.iter().filter(|e| e.0 == name).map(|e| e.1).max();
        rows.push(Row {
            holds,
            until: line.map(|l| l.2.max(ahead.unwrap_or(0))),
            allowed: n,
        });
    }
    let mut warnings = if installed {
        host_drops(nft, doors)?
    } else {
        Vec::new()
    };
    warnings.extend(full);
    warnings.extend(rates_full(nft)?);
    Ok(Report {
        installed,
        rows,
        warnings,
    })
}

/// Other tables whose input hook drops by default and that no rule of
/// which accepts a door's port: a knock would open nothing there. (A
/// rule that names the port and accepts counts as accepting it: this
/// only says what it can see.)
fn host_drops(nft: &Path, doors: &[Door]) -> Result<Vec<String>> {
    let Some(chains) = nft::list(nft, &["list", "chains"])? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for c in chains.get("nftables").map(Value::items).unwrap_or(&[]) {
        let Some(c) = c.get("chain") else { continue };
        let s = |k: &str| c.get(k).and_then(Value::str).unwrap_or("").to_string();
        let (family, table) = (s("family"), s("table"));
        if s("hook") != "input" || s("policy") != "drop" || table == "knock_rotator" {
            continue;
        }
        if seen.contains(&(family.clone(), table.clone())) {
            continue;
        }
        seen.push((family.clone(), table.clone()));
        let Some(t) = nft::list(nft, &["list", "table", &family, &table])? else {
            continue;
        };
        let rules: Vec<&Value> = t
            .get("nftables")
            .map(Value::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(|o| o.get("rule"))
            .collect();
        for d in doors {
            for k in &d.open {
                let accepted = rules.iter().any(|r| {
                    mentions(r, &|v| v.get("accept").is_some())
                        && mentions(r, &|v| v.num() == Some(i64::from(k.port)))
                });
                let w = format!(
                    "table {family} {table} drops input by default, and none of its rules \
                     accepts {}: a knock on [{}] would open nothing; accept it there",
                    knock(k).replace(" . ", " port "),
                    String::from_utf8_lossy(&d.name)
                );
                if !accepted && !out.contains(&w) {
                    out.push(w);
                }
            }
        }
    }
    Ok(out)
}

/// Whether `pred` holds for `v` or anything inside it.
fn mentions(v: &Value, pred: &dyn Fn(&Value) -> bool) -> bool {
    pred(v)
        || match v {
            Value::Arr(a) => a.iter().any(|x| mentions(x, pred)),
            Value::Obj(m) => m.iter().any(|(_, x)| mentions(x, pred)),
            _ => false,
        }
}

/// A full rate set (a flood, most likely) ignores new sources' knocks.
fn rates_full(nft: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for set in ["rate4", "rate6"] {
        let listed = nft::set(nft, set)?;
        let here = nft::elements(&listed).len();
        if here >= SET_SIZE as usize {
            out.push(format!(
                "set {set} is full ({here} sources knocking, a flood?): a new source's knocks \
                 are ignored until some have been quiet for {RATE_IDLE} s"
            ));
        }
    }
    Ok(out)
}
