//! A minimal DNS stub resolver: A and AAAA over UDP (over TCP when an
//! answer is truncated), with timeouts and retries. Ours rather than the C
//! library's: Android has no /etc/resolv.conf for a static binary, and
//! musl's resolver costs 25 KB that a MIPS router cannot spare.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};
use rustix::net::{SocketFlags, SocketType, connect, recv, send, socket_with};

use super::dns_wire::{Answer, TYPE_A, TYPE_AAAA, build_query, parse_response};
use crate::error::{Error, Result, describe_io, quote};

/// Ask `servers` in turn for the addresses of the first of `names` that
/// has any, A and/or AAAA, each server getting `timeout` per round,
/// `rounds` rounds in all; `host` (what the user gave) names errors.
pub fn lookup(
    servers: &[SocketAddr],
    host: &str,
    names: &[String],
    want: (bool, bool),
    timeout: Duration,
    rounds: u32,
) -> Result<Vec<IpAddr>> {
    let mut qtypes = Vec::new();
    if want.0 {
        qtypes.push(TYPE_A);
    }
    if want.1 {
        qtypes.push(TYPE_AAAA);
    }
    let mut miss = "no such host name";
    'names: for name in names {
        let mut last_problem = String::from("no answer");
        for _ in 0..rounds {
            for server in servers {
                match ask(server, name, &qtypes, timeout) {
                    Ok(Some(addrs)) if !addrs.is_empty() => return Ok(addrs),
                    Ok(Some(_)) => miss = "the name has no address",
                    Ok(None) => {}
                    Err(problem) => {
                        last_problem = format!("{server}: {problem}");
                        continue;
                    }
                }
                continue 'names;
            }
        }
        return Err(Error::failure(format!(
            "{}: name servers did not answer ({last_problem})",
            quote(host)
        )));
    }
    Err(Error::failure(format!("{}: {miss}", quote(host))))
}

/// Which pending question `msg` answers, and its answer; when it answers
/// none, why not goes to `bad` (for the error if no good answer comes).
fn match_reply(
    msg: &[u8],
    pending: &[(u16, u16)],
    name: &str,
    bad: &mut Option<&'static str>,
) -> Option<(usize, Answer)> {
    for (k, &(id, qt)) in pending.iter().enumerate() {
        match parse_response(msg, id, name, qt) {
            Ok(a) => return Some((k, a)),
            Err(why) => *bad = Some(why),
        }
    }
    None
}

/// One exchange with one server: `Ok(None)` for NXDOMAIN, `Ok(Some(addrs))`
/// once every question is answered, `Err(why)` to try the next server.
fn ask(
    server: &SocketAddr,
    name: &str,
    qtypes: &[u16],
    timeout: Duration,
) -> std::result::Result<Option<Vec<IpAddr>>, String> {
    let fd = socket_with(
        super::route::family(server.ip()),
        SocketType::DGRAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| describe_io(&e.into()))?;
    // A connected socket only hears from this server.
    connect(&fd, server).map_err(|e| describe_io(&e.into()))?;
    let mut pending: Vec<(u16, u16)> = Vec::new();
    for &qt in qtypes {
        let id = crate::random::u16();
        let q = build_query(id, name, qt)?;
        send(&fd, &q, rustix::net::SendFlags::empty()).map_err(|e| describe_io(&e.into()))?;
        pending.push((id, qt));
    }
    let deadline = Instant::now() + timeout;
    let mut addrs = Vec::new();
    let mut refused = None;
    let mut bad = None;
    let mut buf = [0u8; 1500];
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(match bad {
                Some(why) => format!("timed out; it sent only {why}"),
                None => "timed out".into(),
            });
        }
        let ts = rustix::time::Timespec::try_from(left).unwrap_or(rustix::time::Timespec {
            tv_sec: 1,
            tv_nsec: 0,
        });
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match poll(&mut fds, Some(&ts)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(describe_io(&e.into())),
        }
        let n = match recv(&fd, &mut buf[..], rustix::net::RecvFlags::empty()) {
            Ok((n, _)) => n.min(buf.len()),
            Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(describe_io(&e.into())),
        };
        let Some((k, answer)) = match_reply(&buf[..n], &pending, name, &mut bad) else {
            continue;
        };
        let (_, qt) = pending.remove(k);
        let answer = match answer {
            // Too big for a datagram: the same question over TCP.
            Answer::Truncated => over_tcp(server, name, qt, deadline)?,
            a => a,
        };
        match answer {
            Answer::Addrs(a) => addrs.extend(a),
            Answer::NoSuchName => return Ok(None),
            // Some servers refuse one type (A of a v6-only name) and answer
            // the other: only when nothing came back is it a failure.
            Answer::Failed(rcode) => refused = Some(rcode),
            // Only from over_tcp: the server truncated its TCP answer too.
            Answer::Truncated => return Err("truncated even over TCP".into()),
        }
    }
    match refused {
        Some(rcode) if addrs.is_empty() => Err(match rcode {
            2 => "server failure".to_string(),
            5 => "query refused".to_string(),
            r => format!("error code {r}"),
        }),
        _ => Ok(Some(addrs)),
    }
}

/// The answer to one question over TCP, after a truncated one over UDP.
fn over_tcp(
    server: &SocketAddr,
    name: &str,
    qt: u16,
    deadline: Instant,
) -> std::result::Result<Answer, String> {
    let id = crate::random::u16();
    let query = build_query(id, name, qt)?;
    let reply = super::dns_tcp::exchange(server, &query, deadline)
        .map_err(|why| format!("truncated over UDP, and {why}"))?;
    parse_response(&reply, id, name, qt)
        .map_err(|why| format!("truncated over UDP, and over TCP it sent {why}"))
}
