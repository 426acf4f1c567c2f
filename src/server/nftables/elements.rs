//! The static sets' elements: for every slot, its steps (`p_K`, `f_K`), its
//! place in the chain of slots that use each of its ports in its window
//! (`first`, `next`), the group its completion grants (`grant`); the
//! protected ports (`prot`) and each door's manifest line (`doors`).

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use super::door::Door;
use super::layout::{Layout, Slot, TABLE, content, fnv, group, key, knock, prio};
use crate::derive::Knock;

/// What the slots filled in, and what the rules need of it.
pub struct Filled {
    pub elements: Elements,
    /// (class, period number) of every window that has slots.
    pub windows: Vec<(usize, u64)>,
    /// Per class, the longest chain of slots sharing one port in a window.
    pub depth: Vec<usize>,
}

pub fn fill(doors: &[Door], l: &Layout, slots: &[Slot]) -> Filled {
    let mut e = Elements::default();
    let mut windows = Vec::new();
    let mut depth = vec![1; l.classes.len()];
    // The last slot of each (window key or slot, port) chain.
    let mut after: HashMap<(u32, Knock), u32> = HashMap::new();
    for s in slots {
        let c = l.class_of[s.door];
        let j = s.start / l.classes[c].period;
        if !windows.contains(&(c, j)) {
            windows.push((c, j));
        }
        let window = key(c, j);
        let mut seen = HashSet::new();
        for (i, k) in s.seq.iter().enumerate() {
            let set = if i + 1 == s.seq.len() { "f" } else { "p" };
            e.add(
                &format!("{set}_{}", i + 1),
                format!("{} . {}", prio(s.id), knock(k)),
            );
            if !seen.insert(*k) {
                continue;
            }
            let (mut at, mut n) = ((window, *k), 1);
            while let Some(next) = after.get(&at) {
                at = (*next, *k);
                n += 1;
            }
            let map = if at.0 == window { "first" } else { "next" };
            e.add(
                map,
                format!("{} . {} : {}", prio(at.0), knock(k), prio(s.id)),
            );
            after.insert(at, s.id);
            depth[c] = depth[c].max(n);
        }
        e.add(
            "grant",
            format!("{} : goto g_{}", prio(s.id), group(&doors[s.door])),
        );
    }
    for (i, d) in doors.iter().enumerate() {
        for k in &d.open {
            e.add("prot", knock(k));
        }
        let mine: Vec<&Slot> = slots.iter().filter(|s| s.door == i).collect();
        e.add("doors", manifest(d, &mine));
    }
    Filled {
        elements: e,
        windows,
        depth,
    }
}

/// `doors`: name hash . content hash . the end of the last window, for
/// `status` to tell which doors the live table holds, and until when.
pub fn manifest(d: &Door, mine: &[&Slot]) -> String {
    let until = mine
        .iter()
        .map(|s| s.start + d.settings.period + d.grace)
        .max()
        .unwrap_or(0)
        .min(u64::from(u32::MAX));
    format!("0x{:x} . 0x{:x} . {until}", fnv(&[&d.name]), content(mine))
}

/// Elements per set, in the order first added, without repeats.
#[derive(Default)]
pub struct Elements {
    sets: Vec<(String, Vec<String>, HashSet<String>)>,
}

impl Elements {
    fn add(&mut self, set: &str, element: String) {
        let i = match self.sets.iter().position(|(n, _, _)| n == set) {
            Some(i) => i,
            None => {
                self.sets
                    .push((set.to_string(), Vec::new(), HashSet::new()));
                self.sets.len() - 1
            }
        };
        let (_, list, seen) = &mut self.sets[i];
        if seen.insert(element.clone()) {
            list.push(element);
        }
    }

    /// `add element` lines, or when `show` is false a count per set (a dry
    /// run's display: the elements are the sequences); the number of
    /// elements.
    pub fn write(&self, t: &mut String, show: bool) -> usize {
        let mut n = 0;
        for (set, list, _) in &self.sets {
            n += list.len();
            if !show {
                let _ = writeln!(
                    t,
                    "# {set}: {} elements (--show-sequences shows them)",
                    list.len()
                );
                continue;
            }
            let _ = writeln!(t, "add element {TABLE} {set} {{");
            for chunk in list.chunks(8) {
                let _ = writeln!(t, "\t{},", chunk.join(", "));
            }
            let _ = writeln!(t, "}}");
        }
        n
    }
}
