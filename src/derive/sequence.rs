//! The sequence type: knocks (`port:proto`), and how they are written.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Knock {
    pub port: u16,
    pub proto: Proto,
}

impl fmt::Display for Knock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.port, self.proto.as_str())
    }
}

/// Protocol selector: 0 = all tcp; else tcp iff `port % modulo == 0`.
pub fn proto_for(port: u16, modulo: u64) -> Proto {
    if modulo == 0 || u64::from(port) % modulo == 0 {
        Proto::Tcp
    } else {
        Proto::Udp
    }
}

/// Knocks joined by `sep`: `" "` for `generate`, `","` for knockd.conf.
pub fn join(seq: &[Knock], sep: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(seq.len() * 10);
    for (i, k) in seq.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        let _ = write!(out, "{k}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols() {
        assert_eq!(proto_for(12345, 0), Proto::Tcp);
        assert_eq!(proto_for(12345, 1), Proto::Tcp);
        assert_eq!(proto_for(12345, 2), Proto::Udp);
        assert_eq!(proto_for(12346, 2), Proto::Tcp);
    }

    #[test]
    fn joined() {
        let k = |port, proto| Knock { port, proto };
        let seq = [k(2000, Proto::Tcp), k(65535, Proto::Udp)];
        assert_eq!(join(&seq, " "), "2000:tcp 65535:udp");
        assert_eq!(join(&seq, ","), "2000:tcp,65535:udp");
        assert_eq!(join(&[], ","), "");
    }
}
