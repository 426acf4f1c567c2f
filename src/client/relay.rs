//! `knock --proxy`: the connection that proved the door open becomes ssh's
//! (its `ProxyCommand`), so the knock and the connection share one address
//! and family, and the server sees no probe connection.
//!
//! Bytes go both ways until both directions end. Each side's end of input
//! is passed on as a half-close: stdin's EOF shuts down the socket's
//! sending side, the socket's EOF closes stdout. ssh's SIGHUP ends us by
//! its default action.

use std::io::IoSlice;
use std::mem::MaybeUninit;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::{Errno, read, write};
use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, Shutdown};

use crate::error::{Error, Result, describe_io};

pub fn relay(sock: OwnedFd, peer: &str) -> Result<()> {
    let fail = |what: &str, e: Errno| Error::failure(format!("{what}: {}", describe_io(&e.into())));
    // Blocking from here: poll says when a read will not wait.
    rustix::io::ioctl_fionbio(&sock, false).map_err(|e| fail(peer, e))?;
    let stdin = rustix::stdio::stdin();
    let stdout = rustix::stdio::stdout();
    let mut buf = vec![0u8; 64 * 1024];
    let (mut up, mut down) = (true, true);
    while up || down {
        let mut fds = Vec::with_capacity(2);
        if up {
            fds.push(PollFd::new(&stdin, PollFlags::IN));
        }
        if down {
            fds.push(PollFd::new(&sock, PollFlags::IN));
        }
        match poll(&mut fds, None) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(fail("poll", e)),
        }
        let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
        drop(fds);
        let (up_ready, down_ready) = match (up, down) {
            (true, true) => (ready[0], ready[1]),
            (true, false) => (ready[0], false),
            _ => (false, ready[0]),
        };
        if up_ready && !pass(stdin, sock.as_fd(), &mut buf).map_err(|e| fail(peer, e))? {
            up = false;
            // The server sees our EOF and still answers.
            let _ = rustix::net::shutdown(&sock, Shutdown::Write);
        }
        if down_ready && !pass(sock.as_fd(), stdout, &mut buf).map_err(|e| fail(peer, e))? {
            down = false;
            // Our stdout closes (ssh sees EOF); stdin may still send.
            let null = rustix::fs::open(
                "/dev/null",
                rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(|e| fail("/dev/null", e))?;
            rustix::stdio::dup2_stdout(&null).map_err(|e| fail("stdout", e))?;
        }
    }
    Ok(())
}

/// Copy what `from` has to `to`; false at its end. A peer that went away
/// (reset, ssh closed its end) ends this direction too.
fn pass(from: BorrowedFd, to: BorrowedFd, buf: &mut [u8]) -> std::result::Result<bool, Errno> {
    let n = match read(from, &mut *buf) {
        Ok(0) | Err(Errno::CONNRESET) => return Ok(false),
        Ok(n) => n,
        Err(Errno::INTR | Errno::AGAIN) => return Ok(true),
        Err(e) => return Err(e),
    };
    let mut rest = &buf[..n];
    while !rest.is_empty() {
        match write(to, rest) {
            Ok(k) => rest = &rest[k..],
            Err(Errno::INTR) => {}
            Err(Errno::PIPE | Errno::CONNRESET) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// `ProxyUseFdpass yes`: hand the connected socket to ssh over stdout (one
/// byte with the descriptor attached), and let ssh talk to it directly.
pub fn pass_fd(sock: &OwnedFd) -> Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [sock.as_fd()];
    control.push(SendAncillaryMessage::ScmRights(&fds));
    rustix::net::sendmsg(
        rustix::stdio::stdout(),
        &[IoSlice::new(&[0])],
        &mut control,
        SendFlags::empty(),
    )
    .map(|_| ())
    .map_err(|e| {
        Error::failure(format!(
            "--fdpass: passing the socket on stdout: {} (ssh needs ProxyUseFdpass yes)",
            describe_io(&e.into())
        ))
    })
}
