//! Hand-built TCP segments on a raw socket (`knock --raw`), for doors whose
//! `tcpflags` ask for flags that no connect() can produce (`fin`, `syn,ack`).
//! Needs CAP_NET_RAW.

use std::net::{IpAddr, SocketAddr};

use rustix::fd::OwnedFd;
use rustix::net::{SendFlags, SocketFlags, SocketType, ipproto, sendto, socket_with};

use super::route;

use crate::error::{Error, Result, describe_io, quote};

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const URG: u8 = 0x20;

const NAMES: [(&str, u8); 6] = [
    ("fin", FIN),
    ("syn", SYN),
    ("rst", RST),
    ("psh", PSH),
    ("ack", ACK),
    ("urg", URG),
];

/// knockd's `tcpflags` syntax: `syn,ack`, with `!flag` for "must not be
/// set" (which a sender satisfies by not setting it).
pub fn parse_flags(flag: &str, text: &str) -> Result<u8> {
    let mut mask = 0;
    for item in text.split(',') {
        let item = item.trim();
        let (negated, name) = match item.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, item),
        };
        let bit = NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, b)| b)
            .ok_or_else(|| {
                Error::usage(format!(
                    "{flag}: {} is not a TCP flag (fin, syn, rst, psh, ack, urg)",
                    quote(item)
                ))
            })?;
        if !negated {
            mask |= bit;
        }
    }
    if mask == 0 {
        return Err(Error::usage(format!(
            "{flag}: {} sets no flag",
            quote(text)
        )));
    }
    Ok(mask)
}

/// A raw socket to one destination, with the source address the kernel
/// will use (needed for the checksum's pseudo-header).
pub struct RawSender {
    fd: OwnedFd,
    src: IpAddr,
    dst: IpAddr,
    flags: u8,
    src_port: u16,
}

impl RawSender {
    pub fn open(dst: IpAddr, flags: u8) -> Result<Self> {
        let fd = socket_with(
            route::family(dst),
            SocketType::RAW,
            SocketFlags::CLOEXEC,
            Some(ipproto::TCP),
        )
        .map_err(|e| {
            if matches!(e, rustix::io::Errno::PERM | rustix::io::Errno::ACCESS) {
                Error::failure(
                    "--raw needs CAP_NET_RAW: run as root, or grant it with \
                     'setcap cap_net_raw+ep' on the executable",
                )
            } else {
                Error::failure(format!("--raw: raw socket: {}", describe_io(&e.into())))
            }
        })?;
        let src = route::source_for(dst)
            .map_err(|e| Error::failure(format!("{dst}: {}", describe_io(&e))))?;
        // One source port for the whole run, as one client would use.
        let src_port = 32768 + (crate::random::u32() % 28232) as u16;
        Ok(RawSender {
            fd,
            src,
            dst,
            flags,
            src_port,
        })
    }

    pub fn send(&self, port: u16) -> Result<()> {
        let seg = segment(
            self.src,
            self.dst,
            self.src_port,
            port,
            crate::random::u32(),
            self.flags,
        );
        sendto(
            &self.fd,
            &seg,
            SendFlags::empty(),
            &SocketAddr::new(self.dst, 0),
        )
        .map(|_| ())
        .map_err(|e| {
            Error::failure(format!(
                "raw tcp knock on {}: {}",
                SocketAddr::new(self.dst, port),
                describe_io(&e.into())
            ))
        })
    }
}

/// A 20-byte TCP header with a valid checksum and no payload.
pub fn segment(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, seq: u32, flags: u8) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..8].copy_from_slice(&seq.to_be_bytes());
    if flags & ACK != 0 {
        h[8..12].copy_from_slice(&seq.rotate_left(13).to_be_bytes());
    }
    h[12] = 5 << 4; // data offset: 5 words
    h[13] = flags;
    h[14..16].copy_from_slice(&64240u16.to_be_bytes());
    let sum = checksum(src, dst, &h);
    h[16..18].copy_from_slice(&sum.to_be_bytes());
    h
}

/// RFC 793 / RFC 8200 checksum over the pseudo-header and the segment.
fn checksum(src: IpAddr, dst: IpAddr, seg: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            let lo = pair.get(1).copied().map(u32::from).unwrap_or(0);
            sum += hi | lo;
        }
    };
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            add(&s.octets());
            add(&d.octets());
            add(&[0, 6]);
            add(&(seg.len() as u16).to_be_bytes());
        }
        (s, d) => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            add(&v6(s));
            add(&v6(d));
            add(&(seg.len() as u32).to_be_bytes());
            add(&[0, 0, 0, 6]);
        }
    }
    add(seg);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        assert_eq!(parse_flags("--tcpflags", "syn").unwrap(), SYN);
        assert_eq!(parse_flags("--tcpflags", "SYN,ack").unwrap(), SYN | ACK);
        assert_eq!(parse_flags("--tcpflags", "fin,!ack").unwrap(), FIN);
        assert!(parse_flags("--tcpflags", "!ack").is_err());
        assert!(parse_flags("--tcpflags", "syn,foo").is_err());
    }

    #[test]
    fn checksum_verifies() {
        // A segment whose checksum is right sums (with its pseudo-header)
        // to 0xffff, i.e. recomputing over it gives zero.
        for (s, d) in [("10.0.0.1", "10.0.0.2"), ("::1", "2001:db8::7")] {
            let (s, d): (IpAddr, IpAddr) = (s.parse().unwrap(), d.parse().unwrap());
            let seg = segment(s, d, 40000, 12345, 0xdeadbeef, SYN | ACK);
            assert_eq!(checksum(s, d, &seg), 0, "{s} -> {d}");
            assert_eq!(seg[13], SYN | ACK);
        }
    }
}
