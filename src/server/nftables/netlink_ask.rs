//! What nf_tables says, asked over netlink: whether our table exists, a
//! set's flags and size, news of our table deleted. (`nft list` would
//! read every set's elements first: 1.7 s with a day of tokens for 100
//! doors.)

use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::{RecvFlags, SendFlags, SocketFlags, bind, recv, send};

use super::netlink::{
    ACK, DELTABLE, GETSET, GETTABLE, NESTED, NFPROTO_INET, REQUEST, answers, attr, end, message,
    socket, wait,
};

/// A set's flag: its elements may carry timeouts.
pub const SET_TIMEOUT: u32 = 0x10;

/// The flags and the size (0: none) of `set` of the inet table `table`;
/// None when there is no such set (or table).
pub fn shape(table: &str, set: &str) -> Result<Option<(u32, u32)>, Errno> {
    let fd = socket(SocketFlags::empty())?;
    let mut buf = Vec::new();
    let m = message(&mut buf, GETSET, REQUEST | ACK, NFPROTO_INET);
    attr(&mut buf, 1, format!("{table}\0").as_bytes());
    attr(&mut buf, 2, format!("{set}\0").as_bytes());
    end(&mut buf, m);
    send(&fd, &buf, SendFlags::empty())?;
    let mut shape = None;
    // NEWSET: NFTA_SET_FLAGS (3) and NFTA_SET_DESC (9), which nests
    // NFTA_SET_DESC_SIZE (1).
    let be = |v: Option<&[u8]>| {
        v.and_then(|v| v.get(..4))
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    match answers(&fd, &mut |msg| {
        let size = be(find(msg, 9).and_then(|d| find(d, 1)));
        shape = Some((be(find(msg, 3)), size));
    }) {
        Ok(()) => Ok(shape),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The payload of the attribute (or nest) `kind` among `buf`'s.
fn find(mut buf: &[u8], kind: u16) -> Option<&[u8]> {
    while buf.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([buf[0], buf[1]])).clamp(4, buf.len());
        if u16::from_ne_bytes([buf[2], buf[3]]) & !NESTED == kind {
            return Some(&buf[4..len]);
        }
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
    }
    None
}

/// A socket that hears nf_tables' changes (the group `nft monitor`
/// joins), from the moment this returns.
pub fn listen() -> Result<OwnedFd, Errno> {
    let fd = socket(SocketFlags::NONBLOCK)?;
    // NFNLGRP_NFTABLES is group 7.
    bind(&fd, &SocketAddrNetlink::new(0, 1 << 6))?;
    Ok(fd)
}

/// Whether `listen`'s socket heard the inet table `table` deleted, reading
/// all it holds. Err(NOBUFS): news was lost.
pub fn deleted(fd: &OwnedFd, table: &str) -> Result<bool, Errno> {
    let name = format!("{table}\0");
    let mut buf = [0u8; 8192];
    let mut gone = false;
    loop {
        let n = match recv(fd.as_fd(), &mut buf[..], RecvFlags::DONTWAIT) {
            Err(Errno::AGAIN) => return Ok(gone),
            Err(Errno::INTR) => continue,
            r => r?.0,
        };
        let mut at = 0;
        while at + 20 <= n {
            let len = u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap_or_default()) as usize;
            let end = (at + len).min(n);
            // DELTABLE of family inet, whose first attribute is its name.
            gone |= buf[at + 4..at + 6] == DELTABLE.to_ne_bytes()
                && buf[at + 16] == NFPROTO_INET
                && buf[(at + 24).min(end)..end].starts_with(name.as_bytes());
            at += len.next_multiple_of(4).max(16);
        }
    }
}

/// Whether the inet table `table` exists.
pub fn exists(table: &str) -> Result<bool, Errno> {
    let fd = socket(SocketFlags::empty())?;
    let mut buf = Vec::new();
    let m = message(&mut buf, GETTABLE, REQUEST | ACK, NFPROTO_INET);
    attr(&mut buf, 1, format!("{table}\0").as_bytes());
    end(&mut buf, m);
    send(&fd, &buf, SendFlags::empty())?;
    match wait(&fd) {
        Err(Errno::NOENT) => Ok(false),
        r => r.map(|()| true),
    }
}
