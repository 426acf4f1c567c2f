//! The rules, per family: the input hook, the period windows (`time4`,
//! `time6`), per class the walk over the slots that use the packet's port
//! (`scan`) and the step logic (`step`), the grants, and the gate of the
//! protected ports (`guard`).

use std::fmt::Write;

use super::door::Door;
use super::elements::Filled;
use super::layout::{Layout, RATE_IDLE, V6_PREFIX, key, knock, prio, rate};
use super::{chained_rules, tokens};
use crate::derive::{Knock, Proto};

const PORT: &str = "meta priority . meta l4proto . th dport";
/// The longest timeout a rule may give a set element (2^32 - 1 ms): a
/// one-use mark of a period longer than that lasts that long.
const MAX_TIMEOUT: u64 = 4_294_967;

/// The rule text of every chain, and how many rules.
#[derive(Default)]
pub struct Rules {
    pub text: String,
    pub count: usize,
}

impl Rules {
    fn chain(&mut self, name: &str, rules: &[String]) {
        let _ = writeln!(self.text, "\tchain {name} {{");
        if name == "input" {
            let _ = writeln!(
                self.text,
                "\t\ttype filter hook input priority -150; policy accept;"
            );
        }
        for rule in rules {
            let _ = writeln!(self.text, "\t\t{rule}");
        }
        let _ = writeln!(self.text, "\t}}");
        self.count += rules.len();
    }
}

pub fn rules(doors: &[Door], l: &Layout, filled: &Filled) -> Rules {
    let mut r = Rules::default();
    entry(&mut r, l);
    for (f, addr) in [("4", "ip saddr"), ("6", "ip6 saddr")] {
        let time: Vec<String> = filled
            .windows
            .iter()
            .map(|&(c, j)| {
                let class = &l.classes[c];
                format!(
                    "meta time >= {} meta time < {} meta priority set {} jump scan{f}_{c}",
                    j * class.period,
                    (j + 1) * class.period + class.grace,
                    prio(key(c, j))
                )
            })
            .collect();
        r.chain(&format!("time{f}"), &time);
        for (c, class) in l.classes.iter().enumerate() {
            if class.ahead {
                for (name, rules) in chained_rules::chains(f, addr, c, class.timeout) {
                    r.chain(&name, &rules);
                }
                continue;
            }
            // Each rule takes the next slot using this port; a miss ends
            // the walk (every later lookup misses too).
            let mut scan = vec![format!(
                "meta priority set {PORT} map @first jump step{f}_{c}"
            )];
            for _ in 1..filled.depth[c] {
                scan.push(format!(
                    "meta priority set {PORT} map @next jump step{f}_{c}"
                ));
            }
            r.chain(&format!("scan{f}_{c}"), &scan);
            r.chain(
                &format!("step{f}_{c}"),
                &steps(f, addr, c, class.len, class.timeout),
            );
        }
    }
    // A completion: a one-use slot that opened already opens nothing more
    // (for any source); one that had not is used now, until its window has
    // ended (less than the 4 periods after which its id comes back).
    // A chained slot is taken from the start of the period before its own
    // to a timeout after the end of the one after (chained.rs).
    for (c, class) in l.classes.iter().enumerate() {
        let mark = match class.ahead {
            true => 3 * class.period + class.timeout,
            false => class.period + class.grace,
        }
        .min(MAX_TIMEOUT);
        r.chain(
            &format!("done_{c}"),
            &[
                "meta priority @once meta priority @used return".into(),
                format!("meta priority @once add @used {{ meta priority timeout {mark}s }}"),
                "meta priority vmap @grant".into(),
            ],
        );
    }
    grants(&mut r, doors, l);
    r.chain("guard", &guard(doors, l));
    r
}

/// The way in: every new packet is looked at; one to a knock port, within
/// its source's limit, is an attempt (a token, or a step of a sequence).
fn entry(r: &mut Rules, l: &Layout) {
    // Knocks are new packets: a plain SYN or a UDP datagram. Every new
    // packet is looked at (`kp` is the filter); only new connections to
    // protected ports meet the gate.
    r.chain(
        "input",
        &[
            "ct state new jump knock".into(),
            "ct state new meta l4proto . th dport @prot jump guard".into(),
        ],
    );
    // Only packets to a port some slot or token uses are knocks; each
    // source's are limited (a full rate set lets no new source in: it
    // fails closed, for as long as its entries stay busy).
    let limit = |f: &str, key: &str| {
        format!(
            "meta nfproto ipv{f} update @rate{f} {{ {key} timeout {RATE_IDLE}s {} }} goto attempt",
            rate(l.longest)
        )
    };
    r.chain(
        "knock",
        &[
            "meta l4proto tcp tcp flags & (fin|syn|rst|ack) != syn return".into(),
            match l.chained {
                true => "meta l4proto . th dport != @kp meta l4proto . th dport != @ckp return",
                false => "meta l4proto . th dport != @kp return",
            }
            .into(),
            limit("4", "ip saddr"),
            limit("6", &format!("ip6 saddr & {V6_PREFIX}")),
        ],
    );
    let mut attempt = Vec::new();
    if l.tokens {
        attempt.push("udp dport @tports jump token".to_string());
    }
    attempt.push("meta nfproto ipv4 jump time4".into());
    attempt.push("meta nfproto ipv6 jump time6".into());
    for (c, class) in l.classes.iter().enumerate() {
        if class.ahead {
            attempt.push(format!("meta nfproto ipv4 jump cseq4_{c}"));
            attempt.push(format!("meta nfproto ipv6 jump cseq6_{c}"));
        }
    }
    r.chain("attempt", &attempt);
    if l.tokens {
        token_chains(r, l);
    }
}

/// The token chain, and its grants.
fn token_chains(r: &mut Rules, l: &Layout) {
    // A used token opens nothing; else the packet's windows (the period
    // before, of and after its time) are looked up with its token, for
    // each pair of class, group and port that its port has.
    let mut token = vec!["@ih,0,128 @tused return".to_string()];
    for (q, pair) in l.token_pairs.iter().enumerate() {
        for (map, _) in tokens::maps(q) {
            token.push(format!(
                "udp dport {} meta priority set meta time map @{map} \
                 @ih,0,128 . meta priority @tok goto tg_{}",
                pair.port, pair.group
            ));
        }
    }
    r.chain("token", &token);
    // Its use is kept (past its life; tokens never repeat) in a set
    // that no rotation flushes.
    let mark = l
        .classes
        .iter()
        .map(|c| 3 * c.period)
        .max()
        .unwrap_or(1)
        .min(MAX_TIMEOUT);
    for g in &l.token_groups {
        r.chain(
            &format!("tg_{g}"),
            &[
                format!("add @tused {{ @ih,0,128 timeout {mark}s }}"),
                format!("goto g_{g}"),
            ],
        );
    }
}

/// Per door group: a completion allows the source for `open_for`.
fn grants(r: &mut Rules, doors: &[Door], l: &Layout) {
    for (g, i) in &l.groups {
        let allow = |f: &str, addr: &str| {
            format!(
                "update @a{f}_{g} {{ {addr} timeout {}s }}",
                doors[*i].open_for
            )
        };
        r.chain(
            &format!("g_{g}"),
            &[allow("4", "ip saddr"), allow("6", "ip6 saddr")],
        );
    }
}

/// One class's step chain for one family: move on, finish, ignore a
/// repeat, else reset (and restart at step 1).
fn steps(f: &str, addr: &str, c: usize, len: usize, timeout: u64) -> Vec<String> {
    let key = format!("{addr} . meta priority");
    let here = PORT;
    let add = |set: String| format!("add @{set} {{ {key} timeout {timeout}s }}");
    let del = |set: String| format!("delete @{set} {{ {key} }}");
    let mut out = Vec::new();
    for k in 1..len.saturating_sub(1) {
        out.push(format!(
            "{key} @t{f} {key} @s{f}_{k} {here} @p_{} {} {} return",
            k + 1,
            del(format!("s{f}_{k}")),
            add(format!("s{f}_{}", k + 1))
        ));
    }
    for k in 1..len {
        out.push(format!(
            "{key} @t{f} {key} @s{f}_{k} {here} @f_{} {} {} jump done_{c}",
            k + 1,
            del(format!("s{f}_{k}")),
            del(format!("t{f}"))
        ));
    }
    for k in 1..len {
        out.push(format!("{key} @s{f}_{k} {here} @p_{k} return"));
    }
    let mut reset = vec![del(format!("t{f}"))];
    reset.extend((1..len).map(|k| del(format!("s{f}_{k}"))));
    out.push(reset.join(" "));
    if len > 1 {
        out.push(format!(
            "{here} @p_1 {} {} return",
            add(format!("t{f}")),
            add(format!("s{f}_1"))
        ));
    }
    out.push(format!("{here} @f_1 jump done_{c}"));
    out
}

/// New connections to protected ports: a source its group allowed goes
/// on; everyone else is dropped, or rejected where the doors say so.
fn guard(doors: &[Door], l: &Layout) -> Vec<String> {
    let groups: Vec<(&String, &Door)> = l.groups.iter().map(|(g, i)| (g, &doors[*i])).collect();
    let list = |ks: &mut dyn Iterator<Item = &Knock>| {
        let v: Vec<String> = ks.map(knock).collect();
        v.join(", ")
    };
    let mut out = Vec::new();
    for (g, d) in &groups {
        let ports = list(&mut d.open.iter());
        out.push(format!(
            "meta l4proto . th dport {{ {ports} }} ip saddr @a4_{g} return"
        ));
        out.push(format!(
            "meta l4proto . th dport {{ {ports} }} ip6 saddr @a6_{g} return"
        ));
    }
    let mut reject: Vec<&Knock> = Vec::new();
    for k in groups
        .iter()
        .filter(|(_, d)| d.reject)
        .flat_map(|(_, d)| &d.open)
    {
        if !reject.contains(&k) {
            reject.push(k);
        }
    }
    for (proto, how) in [
        (Proto::Tcp, "reject with tcp reset"),
        (Proto::Udp, "reject"),
    ] {
        let ports = list(&mut reject.iter().copied().filter(|k| k.proto == proto));
        if !ports.is_empty() {
            out.push(format!("meta l4proto . th dport {{ {ports} }} {how}"));
        }
    }
    out.push("drop".into());
    out
}
