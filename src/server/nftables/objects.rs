//! The table's objects, declared so that applying creates what is missing
//! and keeps what exists (a set declared again with the same type is left
//! as it is); then the rules and the static sets are flushed, to be filled
//! again. The dynamic sets (knock progress, allowed sources) are never
//! flushed: a rotation or a re-apply keeps every source's state.

use std::fmt::Write;

use super::layout::{Layout, SET_SIZE, TABLE};
use super::{chained_keys, chained_rules, tokens};

/// The declaring part of the text, and what it declares.
pub struct Declared {
    pub text: String,
    pub sets: usize,
    pub chains: usize,
}

const PORT: &str = "meta priority . meta l4proto . th dport";

/// The static sets (kind, name, type), flushed and filled at each apply,
/// and the dynamic ones (name, type), never flushed.
type Sets = (Vec<(&'static str, String, String)>, Vec<(String, String)>);

fn sets(l: &Layout) -> Sets {
    let mut statics: Vec<(&'static str, String, String)> = vec![
        ("set", "prot".into(), "meta l4proto . th dport".into()),
        ("map", "first".into(), format!("{PORT} : meta priority")),
        ("map", "next".into(), format!("{PORT} : meta priority")),
        ("map", "grant".into(), "meta priority : verdict".into()),
        (
            "set",
            "doors".into(),
            "meta mark . meta mark . meta mark".into(),
        ),
        ("set", "once".into(), "meta priority".into()),
        ("set", "kp".into(), "meta l4proto . th dport".into()),
    ];
    if l.tokens {
        statics.push(("set", "tports".into(), "udp dport".into()));
        statics.push((
            "set",
            "tman".into(),
            "meta mark . meta mark . meta mark".into(),
        ));
        for q in 0..l.token_pairs.len() {
            for (map, _) in tokens::maps(q) {
                statics.push((
                    "map",
                    map,
                    "meta time : meta priority; flags interval".into(),
                ));
            }
        }
    }
    for (c, class) in l.classes.iter().enumerate() {
        if class.ahead {
            for (map, _) in chained_keys::maps(c) {
                statics.push((
                    "map",
                    map,
                    "meta time : meta priority; flags interval".into(),
                ));
            }
        }
    }
    for k in 1..=l.max_len {
        statics.push(("set", format!("p_{k}"), PORT.into()));
        statics.push(("set", format!("f_{k}"), PORT.into()));
    }
    // The slots of one-use doors that opened: never flushed, so a
    // rotation or a re-apply keeps them used.
    let mut dynamic = vec![
        ("used".to_string(), "meta priority".to_string()),
        ("rate4".into(), "ip saddr".into()),
        ("rate6".into(), "ip6 saddr".into()),
    ];
    if l.tokens {
        // The tokens used: never flushed, so a token opens once.
        dynamic.push(("tused".into(), "@ih,0,128".into()));
    }
    for (f, addr) in [("4", "ip saddr"), ("6", "ip6 saddr")] {
        dynamic.push((format!("t{f}"), format!("{addr} . meta priority")));
        for k in 1..l.max_len {
            dynamic.push((format!("s{f}_{k}"), format!("{addr} . meta priority")));
        }
        for (g, _) in &l.groups {
            dynamic.push((format!("a{f}_{g}"), addr.to_string()));
        }
    }
    (statics, dynamic)
}

pub fn declare(l: &Layout) -> Declared {
    let (statics, dynamic) = sets(l);
    let mut chains = vec!["knock".to_string(), "attempt".into(), "guard".into()];
    if l.tokens {
        chains.push("token".into());
        chains.extend(l.token_groups.iter().map(|g| format!("tg_{g}")));
    }
    for (c, class) in l.classes.iter().enumerate() {
        chains.push(format!("done_{c}"));
        if class.ahead {
            for f in ["4", "6"] {
                for (name, _) in chained_rules::chains(f, "", c, 1) {
                    chains.push(name);
                }
            }
        }
    }
    for (g, _) in &l.groups {
        chains.push(format!("g_{g}"));
    }
    for f in ["4", "6"] {
        chains.push(format!("time{f}"));
        for (c, _) in l.classes.iter().enumerate().filter(|(_, c)| !c.ahead) {
            chains.push(format!("scan{f}_{c}"));
            chains.push(format!("step{f}_{c}"));
        }
    }
    let mut t = format!("table {TABLE} {{\n");
    for (kind, name, ty) in &statics {
        let _ = writeln!(t, "\t{kind} {name} {{ typeof {ty}; }}");
    }
    for (name, ty) in &dynamic {
        let _ = writeln!(
            t,
            "\tset {name} {{ typeof {ty}; flags dynamic,timeout; size {SET_SIZE}; }}"
        );
    }
    if l.tokens {
        // Added to, never flushed by an apply (see tokens.rs).
        let _ = writeln!(t, "\t{}", super::tokens::DECLARE);
    }
    let mut chained_sets = 0;
    for (c, class) in l.classes.iter().enumerate() {
        if class.ahead {
            for (kind, name, ty, size) in chained_rules::dynamic(c) {
                let _ = writeln!(
                    t,
                    "\t{kind} {name} {{ typeof {ty}; flags dynamic,timeout; size {size}; }}"
                );
                chained_sets += 1;
            }
        }
    }
    if l.chained {
        // Added to, never flushed by an apply (see chained.rs).
        t.push_str(&chained_rules::declare(l));
        chained_sets += chained_rules::DECLARED;
    }
    let _ = writeln!(
        t,
        "\tchain input {{ type filter hook input priority -150; policy accept; }}"
    );
    for c in &chains {
        let _ = writeln!(t, "\tchain {c} {{ }}");
    }
    let _ = writeln!(t, "}}\nflush table {TABLE}");
    for (kind, name, _) in &statics {
        let _ = writeln!(t, "flush {kind} {TABLE} {name}");
    }
    Declared {
        text: t,
        sets: statics.len() + dynamic.len() + usize::from(l.tokens) + chained_sets,
        chains: chains.len() + 1,
    }
}
