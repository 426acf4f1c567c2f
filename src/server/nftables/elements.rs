//! The static sets' elements: for every slot, its steps (`p_K`, `f_K`), its
//! place in the chain of slots that use each of its ports in its window
//! (`first`, `next`), the group its completion grants (`grant`); the
//! protected ports (`prot`) and each door's manifest line (`doors`).

use std::fmt::Write;

use super::door::Door;
use super::layout::{Layout, Slot, TABLE, content, fnv, group, key, knock, prio};
use super::{chained, chained_keys, tokens};

/// What the slots filled in, and what the rules need of it.
pub struct Filled {
    pub elements: Elements,
    /// (class, period number) of every window that has slots.
    pub windows: Vec<(usize, u64)>,
    /// Per class, the longest chain of slots sharing one port in a window.
    pub depth: Vec<usize>,
}

pub fn fill(doors: &[Door], l: &Layout, slots: &[Slot], now: u64) -> Filled {
    let mut e = Elements::default();
    let mut windows = Vec::new();
    let mut depth = vec![1; l.classes.len()];
    // (window key, (protocol, port), slot index, slot id) for each port a
    // slot uses; sorted, the slots sharing a port in a window are
    // consecutive, in slot order.
    let mut uses: Vec<(u32, (u8, u16), usize, u32)> = Vec::new();
    let mut token_ports: Vec<u16> = Vec::new();
    for (n, s) in slots.iter().enumerate() {
        let d = &doors[s.door];
        let c = l.class_of[s.door];
        let period = l.classes[c].period;
        let j = s.start / period;
        if let Some(port) = d.token_port {
            if !token_ports.contains(&port) {
                token_ports.push(port);
            }
        }
        e.add("grant", format!("{} : goto g_{}", prio(s.id), group(d)));
        if d.one_use {
            e.add("once", prio(s.id));
        }
        if !d.sequence {
            continue;
        }
        if !windows.contains(&(c, j)) {
            windows.push((c, j));
        }
        for (i, k) in s.seq.iter().enumerate() {
            let set = if i + 1 == s.seq.len() { "f" } else { "p" };
            e.add(
                &format!("{set}_{}", i + 1),
                format!("{} . {}", prio(s.id), knock(k)),
            );
            uses.push((key(c, j), (k.proto as u8, k.port), n, s.id));
        }
    }
    uses.sort_unstable();
    uses.dedup_by_key(|u| (u.0, u.1, u.2));
    candidates(&mut e, &uses, token_ports);
    let mut statics = tokens::statics(doors, l, now);
    chained::statics(l, now, &mut statics);
    for (set, element) in statics {
        e.add(&set, element);
    }
    ahead_ids(&mut e, doors, l);
    let mut run = 0;
    for (i, u) in uses.iter().enumerate() {
        let k = format!("{} . {}", if u.1.0 == 0 { "tcp" } else { "udp" }, u.1.1);
        match i.checked_sub(1).map(|p| &uses[p]) {
            Some(prev) if (prev.0, prev.1) == (u.0, u.1) => {
                e.add("next", format!("{} . {k} : {}", prio(prev.3), prio(u.3)));
                run += 1;
            }
            _ => {
                e.add("first", format!("{} . {k} : {}", prio(u.0), prio(u.3)));
                run = 1;
            }
        }
        let c = ((u.0 >> 2) & 0x3f_ffff) as usize;
        depth[c] = depth[c].max(run);
    }
    for (i, d) in doors.iter().enumerate() {
        for k in &d.open {
            e.add_once("prot", knock(k));
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

/// An `ahead` door's ids, one per period modulo 16 (chained.rs): what
/// each grants, and which are one-use.
fn ahead_ids(e: &mut Elements, doors: &[Door], l: &Layout) {
    for (i, d) in doors.iter().enumerate().filter(|(_, d)| d.ahead) {
        for id in chained_keys::ids(l.ids[i]) {
            e.add("grant", format!("{} : goto g_{}", prio(id), group(d)));
            if d.one_use {
                e.add("once", prio(id));
            }
        }
    }
}

/// Every port a slot or a token uses, once: the knock candidates (`kp`).
fn candidates(e: &mut Elements, uses: &[(u32, (u8, u16), usize, u32)], tokens: Vec<u16>) {
    let mut ports: Vec<(u8, u16)> = uses.iter().map(|u| u.1).collect();
    ports.sort_unstable();
    ports.dedup();
    for (proto, port) in ports {
        let k = format!("{} . {port}", if proto == 0 { "tcp" } else { "udp" });
        e.add("kp", k);
    }
    for port in tokens {
        e.add("tports", port.to_string());
        e.add_once("kp", format!("udp . {port}"));
    }
}

/// `doors`: name hash . content hash . the end of the last window, for
/// `status` to tell which doors the live table holds, and until when (a
/// token door's tokens: the `tman` manifest says).
pub fn manifest(d: &Door, mine: &[&Slot]) -> String {
    let last = mine.iter().map(|s| s.start).max().unwrap_or(0);
    let until = (last + d.settings.period + d.grace).min(u64::from(u32::MAX));
    format!("0x{:x} . 0x{:x} . {until}", fnv(&[&d.name]), content(mine))
}

/// Elements per set, in the order added.
#[derive(Default)]
pub struct Elements {
    sets: Vec<(String, Vec<String>)>,
}

impl Elements {
    fn list(&mut self, set: &str) -> &mut Vec<String> {
        let i = match self.sets.iter().position(|(n, _)| n == set) {
            Some(i) => i,
            None => {
                self.sets.push((set.to_string(), Vec::new()));
                self.sets.len() - 1
            }
        };
        &mut self.sets[i].1
    }

    fn add(&mut self, set: &str, element: String) {
        self.list(set).push(element);
    }

    /// For the few elements that several doors give (their open ports).
    fn add_once(&mut self, set: &str, element: String) {
        let list = self.list(set);
        if !list.contains(&element) {
            list.push(element);
        }
    }

    /// `add element` lines, or when `show` is false a count per set (a dry
    /// run's display: the elements are the sequences); the number of
    /// elements.
    pub fn write(&self, t: &mut String, show: bool) -> usize {
        let mut n = 0;
        for (set, list) in &self.sets {
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
