//! Watch mode's ear on the ruleset: a netlink socket in nf_tables' group
//! (what `nft monitor` hears). A `delete table` of ours (a host
//! firewall's `flush ruleset` on reload or stop, `fw4 flush`, a hand)
//! makes watch mode put the table back at once.
//!
//! Not `nft monitor` itself: every element of a day of tokens comes as an
//! event, and nft kept 110 MiB after reading those of 100 doors. Watch
//! mode drops this ear while it applies (the kernel then sends no events:
//! a day of tokens goes in twice as fast), and a new one looks whether the
//! table is there.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::io::Errno;

use super::layout::NAME;
use super::netlink_ask;
use crate::server::backend::Changes;

pub struct Monitor {
    fd: OwnedFd,
    /// The table was missing when this ear started.
    missing: bool,
}

impl Monitor {
    pub fn start() -> Option<Monitor> {
        let fd = netlink_ask::listen().ok()?;
        // Listening first: a deletion after the look is heard.
        let missing = !netlink_ask::exists(NAME).ok()?;
        Some(Monitor { fd, missing })
    }
}

impl Changes for Monitor {
    fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn undone(&mut self) -> Option<bool> {
        if std::mem::take(&mut self.missing) {
            return Some(true);
        }
        match netlink_ask::deleted(&self.fd, NAME) {
            Ok(gone) => Some(gone),
            // News was lost (another's big transaction): look instead.
            Err(Errno::NOBUFS) => netlink_ask::exists(NAME).ok().map(|e| !e),
            Err(_) => None,
        }
    }
}
