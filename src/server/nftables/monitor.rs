//! Watch mode's ear on the ruleset: `nft monitor tables` as a child, which
//! prints a line for every table added or deleted. A `delete table` of
//! ours (a host firewall's `flush ruleset` on reload or stop, `fw4 flush`,
//! a hand) makes watch mode put the table back at once.

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};

use super::layout::TABLE;
use crate::server::backend::Changes;

pub struct Monitor {
    child: Child,
    out: ChildStdout,
    /// A line cut by a read, kept for the next one.
    partial: Vec<u8>,
}

impl Monitor {
    pub fn start(nft: &Path) -> Option<Monitor> {
        let mut child = super::nft::command(nft, &["monitor", "tables"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let out = child.stdout.take()?;
        Some(Monitor {
            child,
            out,
            partial: Vec::new(),
        })
    }
}

impl Changes for Monitor {
    fn fd(&self) -> BorrowedFd<'_> {
        self.out.as_fd()
    }

    fn undone(&mut self) -> Option<bool> {
        let mut buf = [0u8; 4096];
        let n = self.out.read(&mut buf).ok().filter(|n| *n > 0)?;
        self.partial.extend_from_slice(&buf[..n]);
        let gone = format!("delete table {TABLE}");
        let mut undone = false;
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            undone |= String::from_utf8_lossy(&line).trim() == gone;
        }
        Some(undone)
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
