//! Host name to address, once per run.
//!
//! An address literal is used as it is. Otherwise /etc/hosts is read, then
//! the name servers of /etc/resolv.conf are asked (with its search
//! domains), as the C library would; when it names none (Android: a static
//! binary finds no /etc/resolv.conf), those of Termux's
//! `$PREFIX/etc/resolv.conf`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::dns;
use crate::error::{Error, Result, quote};

const SYSTEM_RESOLV_CONF: &str = "/etc/resolv.conf";
const HOSTS: &str = "/etc/hosts";
/// Termux's prefix when `$PREFIX` is not set (a login shell sets it).
const TERMUX_PREFIX: &str = "/data/data/com.termux/files/usr";
const DNS_TIMEOUT: Duration = Duration::from_millis(1500);
const DNS_ROUNDS: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

impl Family {
    fn accepts(self, a: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => a.is_ipv4(),
            Family::V6 => a.is_ipv6(),
        }
    }
}

/// Addresses of `host` of the wanted family, in preference order.
pub fn resolve(host: &str, family: Family) -> Result<Vec<IpAddr>> {
    if host.is_empty() {
        return Err(Error::usage("HOST is empty"));
    }
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        if !family.accepts(&ip) {
            let flag = if family == Family::V4 { "-4" } else { "-6" };
            return Err(Error::usage(format!(
                "HOST {} is not an address of the family {flag} asks for",
                quote(host)
            )));
        }
        return Ok(vec![ip]);
    }
    if let Some(found) = hosts_lookup(Path::new(HOSTS), host) {
        return only(host, found, family);
    }
    let mut conf = PathBuf::from(SYSTEM_RESOLV_CONF);
    let mut text = read_small(&conf).unwrap_or_default();
    if nameservers_in(&text).is_empty() {
        conf = termux_resolv_conf();
        text = read_small(&conf).unwrap_or_default();
    }
    let servers = nameservers_in(&text);
    if servers.is_empty() {
        return Err(Error::failure(format!(
            "{}: cannot resolve: no name server in {SYSTEM_RESOLV_CONF} or {}",
            quote(host),
            conf.display()
        )));
    }
    let want = (family != Family::V6, family != Family::V4);
    let names = search_names(host, &text);
    let addrs = dns::lookup(&servers, host, &names, want, DNS_TIMEOUT, DNS_ROUNDS)?;
    only(host, addrs, family)
}

/// The addresses of `family` among `addrs`, or why there are none.
fn only(host: &str, addrs: Vec<IpAddr>, family: Family) -> Result<Vec<IpAddr>> {
    let addrs: Vec<IpAddr> = addrs.into_iter().filter(|a| family.accepts(a)).collect();
    if addrs.is_empty() {
        let which = if family == Family::V4 { "IPv4" } else { "IPv6" };
        return Err(Error::failure(format!(
            "{}: the name has no {which} address",
            quote(host)
        )));
    }
    Ok(addrs)
}

fn termux_resolv_conf() -> PathBuf {
    let prefix = std::env::var_os("PREFIX")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| TERMUX_PREFIX.into());
    Path::new(&prefix).join("etc/resolv.conf")
}

/// A system file, as text; `None` when missing, unreadable, not a regular
/// file or implausibly large (a FIFO must not hang a knock).
fn read_small(path: &Path) -> Option<String> {
    let mut buf = Vec::new();
    crate::safe_read::regular(path, "", 1 << 20, &mut buf).ok()?;
    String::from_utf8(buf).ok()
}

/// The servers a resolv.conf's text names.
pub fn nameservers_in(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == "nameserver").then_some(())?;
            // Drop an IPv6 zone (`fe80::1%wlan0`): rare, and std cannot parse it.
            let addr = w.next()?.split('%').next()?;
            Some(SocketAddr::new(addr.parse().ok()?, 53))
        })
        .collect()
}

/// `/etc/hosts`: `ADDRESS NAME [ALIAS...]`, `#` comments.
fn hosts_lookup(path: &Path, host: &str) -> Option<Vec<IpAddr>> {
    let found = hosts_in(&read_small(path)?, host);
    (!found.is_empty()).then_some(found)
}

/// The addresses a hosts file's text gives `host`, in its order.
pub fn hosts_in(text: &str, host: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|l| {
            let l = l.split('#').next()?;
            let mut w = l.split_whitespace();
            let addr: IpAddr = w.next()?.parse().ok()?;
            w.any(|n| n.eq_ignore_ascii_case(host)).then_some(addr)
        })
        .collect()
}

/// The names to ask for `host`, as the C libraries try them: with fewer
/// dots than `ndots` (1 unless `options ndots:N`), each `search` (or
/// `domain`) suffix first and the name itself last; otherwise the name
/// first. A name ending in a dot is only itself.
pub fn search_names(host: &str, resolv_conf: &str) -> Vec<String> {
    if let Some(abs) = host.strip_suffix('.') {
        return vec![abs.to_string()];
    }
    let (mut ndots, mut search) = (1, Vec::new());
    for l in resolv_conf.lines() {
        let mut w = l.split_whitespace();
        match w.next() {
            Some("search" | "domain") => search = w.map(String::from).collect(),
            Some("options") => {
                for o in w {
                    if let Some(n) = o.strip_prefix("ndots:").and_then(|n| n.parse().ok()) {
                        ndots = std::cmp::min(n, 15);
                    }
                }
            }
            _ => {}
        }
    }
    let suffixed = search
        .iter()
        .map(|d| format!("{host}.{}", d.trim_end_matches('.')));
    if host.matches('.').count() >= ndots {
        std::iter::once(host.to_string()).chain(suffixed).collect()
    } else {
        suffixed.chain(std::iter::once(host.to_string())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_domains_as_the_c_library_tries_them() {
        let conf = "nameserver 10.0.0.1\nsearch lan example.org.\n";
        assert_eq!(
            search_names("nas", conf),
            ["nas.lan", "nas.example.org", "nas"]
        );
        assert_eq!(
            search_names("nas.lan", conf),
            ["nas.lan", "nas.lan.lan", "nas.lan.example.org"]
        );
        assert_eq!(search_names("nas.", conf), ["nas"]);
        assert_eq!(
            search_names("nas", "domain home\nsearch lan\n"),
            ["nas.lan", "nas"]
        );
        let ndots = "search lan\noptions edns0 ndots:2\n";
        assert_eq!(search_names("a.b", ndots), ["a.b.lan", "a.b"]);
        assert_eq!(search_names("a.b", ""), ["a.b"]);
    }

    #[test]
    fn literals() {
        assert_eq!(
            resolve("127.0.0.1", Family::Any).unwrap(),
            vec!["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            resolve("[::1]", Family::V6).unwrap(),
            vec!["::1".parse::<IpAddr>().unwrap()]
        );
        assert!(resolve("::1", Family::V4).is_err());
        assert!(resolve("", Family::Any).is_err());
    }

    #[test]
    fn resolv_conf_and_hosts() {
        let dir = std::env::temp_dir().join(format!("kr-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("resolv.conf");
        std::fs::write(
            &conf,
            "# c\nsearch lan\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nnameserver junk\n",
        )
        .unwrap();
        assert_eq!(
            nameservers_in(&read_small(&conf).unwrap()),
            vec![
                "127.0.0.53:53".parse().unwrap(),
                "[fe80::1]:53".parse().unwrap()
            ]
        );
        assert!(read_small(&dir.join("missing")).is_none());
        let hosts = dir.join("hosts");
        std::fs::write(
            &hosts,
            "127.0.0.1 localhost\n10.0.0.7 Box box.lan # home\n::7 box\n",
        )
        .unwrap();
        assert_eq!(
            hosts_lookup(&hosts, "box").unwrap(),
            vec![
                "10.0.0.7".parse::<IpAddr>().unwrap(),
                "::7".parse().unwrap()
            ]
        );
        assert_eq!(hosts_lookup(&hosts, "home"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
