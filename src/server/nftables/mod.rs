//! The nftables backend: no daemon; the kernel matches the sequences. The
//! doors file lists the doors (`door`); the whole table is rendered as one
//! text (`ruleset`, from the model in `layout`; its parts in `objects`,
//! `elements`, `chains`) and applied by the `nft` binary (`nft`) in one
//! transaction (`job`, `apply`), which keeps the one-use marks (`used`) and
//! adds the tokens a day ahead (`tokens`; most of a day's over `netlink`),
//! and the sequences of `ahead` doors (`chained`).

pub mod apply;
pub mod chain_hash;
pub mod chained;
pub mod chained_elems;
pub mod chained_feed;
pub mod chained_keys;
pub mod chained_rules;
pub mod chained_sets;
pub mod chains;
pub mod door;
pub mod elements;
pub mod job;
pub mod layout;
pub mod monitor;
pub mod netlink;
pub mod netlink_ask;
pub mod nft;
pub mod objects;
pub mod open_list;
pub mod ruleset;
pub mod status;
pub mod tokens;
pub mod used;
pub mod windows;
