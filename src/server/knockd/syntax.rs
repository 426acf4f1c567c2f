//! knockd 0.8's lexical rules, as its C code applies them: lines, C white
//! space, atoi() ports and `port[:proto]` sequences. The grammar built on
//! them is conf.rs.

use std::ops::Range;

use crate::error::quote;

/// knockd's SEQ_MAX.
pub const MAX_PORTS: usize = 32;

/// An error at a line of the file (1-based), with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    pub line: usize,
    pub msg: String,
}

pub fn err<T>(line: usize, msg: impl Into<String>) -> Result<T, ConfError> {
    Err(ConfError {
        line,
        msg: msg.into(),
    })
}

/// One knock as knockd parses it: atoi() of the port, and a protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Port {
    pub port: i64,
    pub udp: bool,
}

/// C's isspace() in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Range of `s[r]` without leading and trailing C white space.
pub fn trim(s: &[u8], r: Range<usize>) -> Range<usize> {
    let mut a = r.start;
    let mut b = r.end;
    while a < b && is_space(s[a]) {
        a += 1;
    }
    while b > a && is_space(s[b - 1]) {
        b -= 1;
    }
    a..b
}

/// `line` without leading and trailing C white space, as knockd trims it.
pub fn trimmed(line: &[u8]) -> &[u8] {
    &line[trim(line, 0..line.len())]
}

/// The lines of `text` as (content range without the "\n", 1-based number).
pub fn lines(text: &[u8]) -> impl Iterator<Item = (Range<usize>, usize)> + '_ {
    let mut start = 0;
    let mut n = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        n += 1;
        let end = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| start + i);
        let r = start..end;
        start = end + 1;
        Some((r, n))
    })
}

/// C's atoi(): white space, a sign, digits; anything after is ignored.
fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add(i64::from(s[i] - b'0'));
        i += 1;
    }
    if neg { -v } else { v }
}

/// knockd's parse_port_sequence(): `port[:proto],...`.
pub fn parse_sequence(value: &[u8], door: &[u8], line: usize) -> Result<Vec<Port>, ConfError> {
    let name = String::from_utf8_lossy(door);
    let mut out =
        Vec::with_capacity(1 + value.iter().filter(|&&b| b == b',').count().min(MAX_PORTS));
    for item in value.split(|&b| b == b',') {
        if out.len() >= MAX_PORTS {
            return err(
                line,
                format!("door [{name}] has more than {MAX_PORTS} ports in its sequence"),
            );
        }
        let mut parts = item.split(|&b| b == b':');
        let port_text = parts.next().unwrap_or_default();
        let port = atoi(port_text);
        if port > 65535 {
            return err(
                line,
                format!("door [{name}]: port {} is over 65535", quote(port_text)),
            );
        }
        let udp = match parts.next() {
            None => false,
            Some(p) => match trimmed(p).to_ascii_uppercase().as_slice() {
                b"TCP" => false,
                b"UDP" => true,
                _ => {
                    return err(
                        line,
                        format!(
                            "door [{name}]: protocol {} is neither tcp nor udp",
                            quote(p)
                        ),
                    );
                }
            },
        };
        out.push(Port { port, udp });
    }
    Ok(out)
}

const TCP_FLAGS: [&[u8]; 12] = [
    b"FIN", b"!FIN", b"SYN", b"!SYN", b"RST", b"!RST", b"PSH", b"!PSH", b"ACK", b"!ACK", b"URG",
    b"!URG",
];

/// A `tcpflags` value: knockd knows these names, upper or lower case, and
/// no white space between them.
pub fn check_tcpflags(value: &[u8], line: usize) -> Result<(), ConfError> {
    for flag in value.to_ascii_uppercase().split(|&b| b == b',') {
        if !TCP_FLAGS.contains(&flag) {
            return err(
                line,
                format!(
                    "unknown TCP flag {} (knockd wants e.g. syn,ack)",
                    quote(flag)
                ),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_is_c_atoi() {
        assert_eq!(atoi(b" 12a"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"+5"), 5);
        assert_eq!(atoi(b"0x10"), 0);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn lines_and_trimming() {
        let text = b"a\r\n\n \x0b b \t";
        let got: Vec<_> = lines(text).map(|(r, n)| (trimmed(&text[r]), n)).collect();
        assert_eq!(got, [(&b"a"[..], 1), (&b""[..], 2), (&b"b"[..], 3)]);
    }
}
