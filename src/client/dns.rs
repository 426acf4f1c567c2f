//! A minimal DNS stub resolver: A and AAAA over UDP, with timeouts and
//! retries. Used only when the system resolver has no name server to ask
//! (a static musl binary on Android, where /etc/resolv.conf does not exist).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};
use rustix::net::{SocketFlags, SocketType, connect, recv, send, socket_with};

use crate::error::{Error, Result, describe_io, quote};

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;

/// What one server said about one question.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Addrs(Vec<IpAddr>),
    /// The name does not exist (NXDOMAIN); asking others will not help.
    NoSuchName,
    /// SERVFAIL, REFUSED and the like: ask the next server.
    Failed(u8),
}

/// Encode a query for `name` (ASCII host name) with recursion desired.
pub fn build_query(id: u16, name: &str, qtype: u16) -> std::result::Result<Vec<u8>, String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err("is not a valid host name".into());
    }
    let mut q = Vec::with_capacity(18 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; 1 question
    for label in name.split('.') {
        if label.is_empty()
            || label.len() > 63
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("is not a valid host name (letters, digits, '-' and '.' only)".into());
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(q)
}

/// Decode a response to query `id`/`qtype`; `None` if it is not one (wrong
/// id, not a response, malformed), so the caller keeps waiting.
pub fn parse_response(buf: &[u8], id: u16, qtype: u16) -> Option<Answer> {
    let u16_at = |i: usize| buf.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    if u16_at(0)? != id || buf[2] & 0x80 == 0 {
        return None;
    }
    let rcode = buf[3] & 0x0f;
    let (qd, an) = (u16_at(4)?, u16_at(6)?);
    let mut i = 12;
    for _ in 0..qd {
        i = skip_name(buf, i)? + 4;
    }
    // The question must be ours: a stray answer to the other type is not.
    if qd != 1 || u16_at(i - 4)? != qtype {
        return None;
    }
    match rcode {
        0 => {}
        3 => return Some(Answer::NoSuchName),
        r => return Some(Answer::Failed(r)),
    }
    let mut addrs = Vec::new();
    for _ in 0..an {
        i = skip_name(buf, i)?;
        let (t, class, len) = (u16_at(i)?, u16_at(i + 2)?, usize::from(u16_at(i + 8)?));
        let data = buf.get(i + 10..i + 10 + len)?;
        i += 10 + len;
        match (t, class, len) {
            (TYPE_A, CLASS_IN, 4) if qtype == TYPE_A => addrs.push(IpAddr::V4(Ipv4Addr::new(
                data[0], data[1], data[2], data[3],
            ))),
            (TYPE_AAAA, CLASS_IN, 16) if qtype == TYPE_AAAA => {
                let b: [u8; 16] = data.try_into().ok()?;
                addrs.push(IpAddr::V6(Ipv6Addr::from(b)));
            }
            _ => {} // CNAMEs and the rest: the server already followed them
        }
    }
    Some(Answer::Addrs(addrs))
}

/// Skip a (possibly compressed) name starting at `i`; returns the index
/// after it.
fn skip_name(buf: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let len = *buf.get(i)?;
        match len {
            0 => return Some(i + 1),
            l if l & 0xc0 == 0xc0 => return Some(i + 2),
            l if l & 0xc0 == 0 => i += 1 + usize::from(l),
            _ => return None,
        }
    }
}

/// Ask `servers` in turn for the addresses of `name`, A and/or AAAA, each
/// server getting `timeout` per round, `rounds` rounds in all.
pub fn lookup(
    servers: &[SocketAddr],
    name: &str,
    want_v4: bool,
    want_v6: bool,
    timeout: Duration,
    rounds: u32,
) -> Result<Vec<IpAddr>> {
    let mut qtypes = Vec::new();
    if want_v4 {
        qtypes.push(TYPE_A);
    }
    if want_v6 {
        qtypes.push(TYPE_AAAA);
    }
    let mut last_problem = String::from("no answer");
    for _ in 0..rounds {
        for server in servers {
            match ask(server, name, &qtypes, timeout) {
                Ok(Some(addrs)) if !addrs.is_empty() => return Ok(addrs),
                Ok(Some(_)) => {
                    return Err(Error::failure(format!(
                        "{}: the name has no address",
                        quote(name)
                    )));
                }
                Ok(None) => {
                    return Err(Error::failure(format!(
                        "{}: no such host name",
                        quote(name)
                    )));
                }
                Err(problem) => last_problem = format!("{server}: {problem}"),
            }
        }
    }
    Err(Error::failure(format!(
        "{}: name servers did not answer ({last_problem})",
        quote(name)
    )))
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
    let mut buf = [0u8; 1500];
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("timed out".into());
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
        let msg = &buf[..n];
        let Some(pos) = pending
            .iter()
            .position(|&(id, qt)| parse_response(msg, id, qt).is_some())
        else {
            continue;
        };
        let (id, qt) = pending.remove(pos);
        match parse_response(msg, id, qt).expect("checked above") {
            Answer::Addrs(a) => addrs.extend(a),
            Answer::NoSuchName => return Ok(None),
            // Some servers refuse one type (A of a v6-only name) and answer
            // the other: only when nothing came back is it a failure.
            Answer::Failed(rcode) => refused = Some(rcode),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding() {
        let q = build_query(0x1234, "a.example.", TYPE_AAAA).unwrap();
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x01a\x07example\x00\x00\x1c\x00\x01");
        for bad in ["", "a..b", "bad host", "ünï.example", &"x".repeat(64)] {
            assert!(build_query(1, bad, TYPE_A).is_err(), "{bad}");
        }
    }

    #[test]
    fn response_decoding() {
        // Answer with a CNAME then an A record, names compressed.
        let mut r = build_query(7, "www.example", TYPE_A).unwrap();
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 2;
        r.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 16]);
        r.extend_from_slice(&[0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3]);
        assert_eq!(
            parse_response(&r, 7, TYPE_A),
            Some(Answer::Addrs(vec![IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))]))
        );
        assert_eq!(parse_response(&r, 8, TYPE_A), None, "wrong id");
        assert_eq!(parse_response(&r, 7, TYPE_AAAA), None, "wrong question");
        r[3] = 0x83;
        assert_eq!(parse_response(&r, 7, TYPE_A), Some(Answer::NoSuchName));
        assert_eq!(parse_response(&r[..20], 7, TYPE_A), None, "truncated");
    }
}
