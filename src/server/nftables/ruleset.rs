//! The whole table as one idempotent nft text, the way OpenWrt's fw4 renders
//! its ruleset: declare everything (creating what is missing), flush the
//! rules and the static sets, fill them again. One `nft -f` applies it as
//! one transaction. Dynamic sets (knock progress, allowed sources) keep
//! their elements and timeouts across it: `flush table` leaves sets alone.
//!
//! The shape is table-driven, so that neither the objects nor a packet's
//! work grow with the doors; only elements do. A slot is one door's
//! sequence for one period, named by a 32-bit id (`meta priority` carries
//! it per packet: `meta mark` is left to policy routing). For a knock
//! packet (a plain SYN or a UDP datagram to a port some slot or token uses,
//! `kp`, within its source's rate limit, `rate4`/`rate6`):
//! - `time4`/`time6` give, per class of doors (same period, grace and
//!   timeout), the key of each period whose window holds `meta time`; the
//!   kernel switches at the boundary by itself, and the previous period
//!   stays valid for the grace window;
//! - `first` maps key . port to the first slot using that port, `next` one
//!   slot to the following one (ports collide across doors and periods);
//! - per slot, `p_K` holds its non-final step K, `f_K` its final one, and
//!   the sources' progress sits in `t` (since the first knock, never
//!   refreshed: seq_timeout) and `s_K` (completed K steps): a step moves a
//!   source on, a repeat of the step just made is ignored, anything else
//!   resets it (or restarts it, at step 1), as knockd does;
//! - a datagram to a token port (`tports`) whose first 16 bytes are a
//!   token of `tok` (previous, current and next periods, each element
//!   expiring with its window) and not in `tused` marks it used and
//!   grants, as a completion does;
//! - a completion adds the source to its door group's allow set for
//!   `open_for`; new connections to a protected port from a source in no
//!   allow set of it are dropped (or rejected). Established ones never are.
//!
//! Knock packets get no verdict here: the host firewall treats them as it
//! treats any closed port. This table can only narrow access.

use std::fmt::Write;

use super::door::Door;
use super::layout::{Layout, Slot, TABLE, layout};
use super::{chains, elements, objects};

/// What `render` made of the doors for one time.
pub struct Ruleset {
    pub text: String,
    pub elements: usize,
    /// What the tokens (added apart, see tokens.rs) are rendered from.
    pub layout: Layout,
}

/// The table for the periods around `now`: each door's previous, current
/// and next slots (a period whose sequence cannot be had, v3's 65536, is
/// left out; the caller says so). `show`: element values in the text
/// (false for a dry run's display).
pub fn render(doors: &[Door], slots: &[Slot], now: u64, show: bool) -> Ruleset {
    let l = layout(doors, slots);
    let mut text = format!(
        "# knock-rotator's table (rotate --backend nftables rewrites it; do not edit)\n\
         # the periods around {now}; replaced whole, in one transaction\n"
    );
    let decl = objects::declare(&l);
    text.push_str(&decl.text);
    let filled = elements::fill(doors, &l, slots, now);
    let rules = chains::rules(doors, &l, &filled);
    let _ = write!(text, "table {TABLE} {{\n{}}}\n", rules.text);
    let elements = filled.elements.write(&mut text, show);
    let _ = writeln!(
        text,
        "# {} doors, {} slots: {} sets, {} chains, {} rules, {elements} elements",
        doors.len(),
        slots.len(),
        decl.sets,
        decl.chains,
        rules.count
    );
    Ruleset {
        text,
        elements,
        layout: l,
    }
}
