//! Which way a packet to an address would go: its socket family, and the
//! routing table's answer, asked with a UDP connect() that sends nothing.

use std::net::{IpAddr, SocketAddr};

use rustix::net::{AddressFamily, SocketFlags, SocketType, connect, getsockname, socket_with};

use crate::error::{Error, Result, describe_io, quote};

/// The socket address family of `ip`.
pub fn family(ip: IpAddr) -> AddressFamily {
    if ip.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    }
}

/// The local address the kernel would send from to reach `dst`; an error
/// when it has no route there.
pub fn source_for(dst: IpAddr) -> std::result::Result<IpAddr, std::io::Error> {
    let fd = socket_with(family(dst), SocketType::DGRAM, SocketFlags::CLOEXEC, None)?;
    connect(&fd, &SocketAddr::new(dst, 9))?;
    SocketAddr::try_from(getsockname(&fd)?)
        .map(|a| a.ip())
        .map_err(|_| std::io::Error::other("not an IP socket address"))
}

/// The first of `addrs` (the addresses of `host`) this machine has a route to.
pub fn first_routable(host: &str, addrs: &[IpAddr]) -> Result<IpAddr> {
    let mut last = None;
    for &ip in addrs {
        match source_for(ip) {
            Ok(_) => return Ok(ip),
            Err(e) => last = Some((ip, e)),
        }
    }
    match last {
        Some((ip, e)) => Err(Error::failure(format!(
            "{} ({ip}): {}",
            quote(host),
            describe_io(&e)
        ))),
        None => Err(Error::failure(format!("{}: no address", quote(host)))),
    }
}
