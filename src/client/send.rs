//! Sending knocks, and checking that a door opened.
//!
//! A TCP knock is a non-blocking connect() whose socket is closed at once:
//! one SYN, never a retransmission (a retransmitted SYN would break the
//! sequence at knockd) and never a wait on a port that drops packets. A UDP
//! knock is one datagram of one byte, as knockd's own `knock` sends; a
//! token is one datagram of its 16 bytes.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{SendFlags, SocketFlags, SocketType, connect, sendto, socket_with};

use super::rawtcp::RawSender;
use super::route::family;
use crate::derive::{Knock, Proto};
use crate::error::{Error, Result, describe_io};

pub struct Knocker {
    dst: IpAddr,
    delay: Duration,
    raw: Option<RawSender>,
    verbose: bool,
    last: Option<Instant>,
}

impl Knocker {
    /// `raw_flags`: send TCP knocks as hand-built segments with these flags.
    pub fn new(dst: IpAddr, delay: Duration, raw_flags: Option<u8>, verbose: bool) -> Result<Self> {
        let raw = raw_flags.map(|f| RawSender::open(dst, f)).transpose()?;
        Ok(Knocker {
            dst,
            delay,
            raw,
            verbose,
            last: None,
        })
    }

    /// Send the knocks in order, `delay` apart (also from any knock this
    /// knocker sent before).
    pub fn send_all(&mut self, seq: &[Knock]) -> Result<()> {
        for &k in seq {
            self.send(k)?;
        }
        Ok(())
    }

    pub fn send(&mut self, k: Knock) -> Result<()> {
        if let Some(last) = self.last {
            let wait = self.delay.saturating_sub(last.elapsed());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
        let to = SocketAddr::new(self.dst, k.port);
        if self.verbose {
            crate::cli::note(&format!("hitting {} {to}\n", k.proto.as_str()))?;
        }
        let result = match (k.proto, &self.raw) {
            (Proto::Tcp, Some(raw)) => raw.send(k.port),
            (Proto::Tcp, None) => tcp_knock(to),
            (Proto::Udp, _) => udp_datagram(to, &[0]),
        };
        self.last = Some(Instant::now());
        result
    }

    /// The single-packet knock: `token` in one UDP datagram to `port`.
    pub fn send_token(&mut self, port: u16, token: &[u8]) -> Result<()> {
        let to = SocketAddr::new(self.dst, port);
        if self.verbose {
            crate::cli::note(&format!("sending the token to udp {to}\n"))?;
        }
        udp_datagram(to, token)
    }
}

fn send_error(proto: &str, to: SocketAddr, e: Errno) -> Error {
    Error::failure(format!("{proto} knock on {to}: {}", describe_io(&e.into())))
}

fn tcp_knock(to: SocketAddr) -> Result<()> {
    let fd = socket_with(
        family(to.ip()),
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| send_error("tcp", to, e))?;
    match connect(&fd, &to) {
        // In progress: the SYN is out. Refused/connected: an answer already
        // came back (an open or rejecting port on loopback); it went out too.
        Ok(()) | Err(Errno::INPROGRESS | Errno::CONNREFUSED | Errno::AGAIN) => Ok(()),
        Err(e) => Err(send_error("tcp", to, e)),
    }
    // `fd` closes here: no retransmission, no wait.
}

/// One datagram: a knock's one byte, or a token's 16.
pub fn udp_datagram(to: SocketAddr, payload: &[u8]) -> Result<()> {
    let fd = socket_with(
        family(to.ip()),
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| send_error("udp", to, e))?;
    sendto(&fd, payload, SendFlags::empty(), &to)
        .map(|_| ())
        .map_err(|e| send_error("udp", to, e))
}

/// The first TCP connection to `to` that succeeds within `timeout`. A new
/// attempt starts every 250 ms (a door's firewall rule may appear any
/// moment after the knock), earlier attempts stay pending; the others are
/// closed unanswered, so the server sees one connection. `peer`: ssh's end
/// of a proxy's stdout; when ssh has gone (it gave up: its ConnectTimeout),
/// so does the wait, even where its SIGHUP is ignored (nohup).
pub fn connect_within(
    to: SocketAddr,
    timeout: Duration,
    peer: Option<BorrowedFd<'_>>,
) -> std::result::Result<OwnedFd, Closed> {
    const EVERY: Duration = Duration::from_millis(250);
    let deadline = Instant::now() + timeout;
    let mut pending: Vec<OwnedFd> = Vec::new();
    let mut next_start = Instant::now();
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(Closed::Timeout);
        }
        if now >= next_start {
            next_start = now + EVERY;
            if let Ok(fd) = socket_with(
                family(to.ip()),
                SocketType::STREAM,
                SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
                None,
            ) {
                match connect(&fd, &to) {
                    Ok(()) => return Ok(fd),
                    Err(Errno::INPROGRESS | Errno::AGAIN) => pending.push(fd),
                    Err(_) => {}
                }
            }
        }
        let wait = next_start
            .min(deadline)
            .saturating_duration_since(Instant::now());
        let ts = rustix::time::Timespec::try_from(wait).unwrap_or_default();
        let mut fds: Vec<PollFd> = pending
            .iter()
            .map(|fd| PollFd::new(fd, PollFlags::OUT))
            .collect();
        // No events asked: poll still says when the reader of the pipe
        // (or the socket's peer) has gone.
        if let Some(peer) = &peer {
            fds.push(PollFd::new(peer, PollFlags::empty()));
        }
        if fds.is_empty() {
            std::thread::sleep(wait);
            continue;
        }
        if poll(&mut fds, Some(&ts)).unwrap_or(0) == 0 {
            continue;
        }
        let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
        drop(fds);
        if peer.is_some() && ready[pending.len()] {
            return Err(Closed::PeerGone);
        }
        let mut still = Vec::with_capacity(pending.len());
        for (fd, ready) in pending.drain(..).zip(ready) {
            if !ready {
                still.push(fd);
            } else if matches!(rustix::net::sockopt::socket_error(&fd), Ok(Ok(()))) {
                return Ok(fd);
            }
        }
        pending = still;
    }
}

/// Why `connect_within` has no connection.
pub enum Closed {
    Timeout,
    PeerGone,
}
