//! DNS over TCP, for an answer the server truncated over UDP (the TC bit):
//! one query, its two-byte length first (RFC 1035 4.2.2), one reply, all
//! within the caller's deadline. Non-blocking throughout: a server that
//! accepts and then says nothing costs no more than the deadline.

use std::net::SocketAddr;
use std::time::Instant;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::io::Errno;
use rustix::net::{
    RecvFlags, SendFlags, SocketFlags, SocketType, connect, recv, send, socket_with,
};

use crate::error::describe_io;

/// Send `query` to `server` over TCP and return the reply's bytes, or why
/// not (for the error line).
pub fn exchange(server: &SocketAddr, query: &[u8], deadline: Instant) -> Result<Vec<u8>, String> {
    let io = |e: Errno| format!("over TCP: {}", describe_io(&e.into()));
    let fd = socket_with(
        super::route::family(server.ip()),
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )
    .map_err(io)?;
    match connect(&fd, server) {
        Ok(()) | Err(Errno::INPROGRESS) => {}
        Err(e) => return Err(io(e)),
    }
    wait(&fd, PollFlags::OUT, deadline)?;
    rustix::net::sockopt::socket_error(&fd)
        .map_err(io)?
        .map_err(io)?;
    let len = u16::try_from(query.len()).map_err(|_| "a query too long for TCP".to_string())?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(query);
    let mut sent = 0;
    while sent < out.len() {
        match send(&fd, &out[sent..], SendFlags::NOSIGNAL) {
            Ok(n) => sent += n,
            Err(Errno::AGAIN | Errno::INTR) => wait(&fd, PollFlags::OUT, deadline)?,
            Err(e) => return Err(io(e)),
        }
    }
    let mut head = [0u8; 2];
    read_exact(&fd, &mut head, deadline)?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(head))];
    read_exact(&fd, &mut reply, deadline)?;
    Ok(reply)
}

fn read_exact(fd: &rustix::fd::OwnedFd, buf: &mut [u8], deadline: Instant) -> Result<(), String> {
    let mut got = 0;
    while got < buf.len() {
        match recv(fd, &mut buf[got..], RecvFlags::empty()) {
            Ok((0, _)) => return Err("the TCP connection closed before an answer".into()),
            Ok((n, _)) => got += n,
            Err(Errno::AGAIN | Errno::INTR) => wait(fd, PollFlags::IN, deadline)?,
            Err(e) => return Err(format!("over TCP: {}", describe_io(&e.into()))),
        }
    }
    Ok(())
}

/// Until `fd` is ready for `what`, or the deadline passes.
fn wait(fd: &rustix::fd::OwnedFd, what: PollFlags, deadline: Instant) -> Result<(), String> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("timed out over TCP".into());
        }
        let ts = rustix::time::Timespec::try_from(left).unwrap_or(rustix::time::Timespec {
            tv_sec: 1,
            tv_nsec: 0,
        });
        let mut fds = [PollFd::new(fd, what)];
        match poll(&mut fds, Some(&ts)) {
            Ok(0) | Err(Errno::INTR) => continue,
            Ok(_) => return Ok(()),
            Err(e) => return Err(format!("over TCP: {}", describe_io(&e.into()))),
        }
    }
}
