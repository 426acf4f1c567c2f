//! knockd.conf, read the way knockd 0.8 reads it, and a byte-preserving
//! editor for the `sequence` values of rotator doors.
//!
//! knockd's grammar (checked against Debian's knockd 0.8, see
//! tests/e2e/knockd_accepts.sh): lines of at most 4095 bytes, trimmed of C
//! white space; empty lines and `#` lines are skipped; `[name]` opens a
//! section (`options` is the global one, anything else a door); a directive
//! is `key = value` with a case-insensitive key, or a bare `UseSyslog`.
//! Unknown keys, directives outside a section, a bad protocol, a port over
//! 65535, more than 32 ports, a door without a sequence: knockd refuses the
//! file, and on a reload it exits. We refuse the same files, naming the line.

use std::ops::Range;

use crate::error::quote;

/// knockd reads lines with fgets(line, 4096): 4095 bytes with the newline.
pub const MAX_LINE: usize = 4094;
/// knockd's SEQ_MAX.
pub const MAX_PORTS: usize = 32;
const SECTION_MAX: usize = 254;
pub const ROTATOR_SUFFIX: &[u8] = b"_ROTATOR";

/// An error at a line of the file (1-based), with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    pub line: usize,
    pub msg: String,
}

fn err<T>(line: usize, msg: impl Into<String>) -> Result<T, ConfError> {
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

#[derive(Debug, Clone)]
pub struct Door {
    /// Section name exactly as knockd takes it (inside the brackets).
    pub name: Vec<u8>,
    /// Line of the `[name]` header.
    pub line: usize,
    /// Every `sequence` line: (line number, byte range of the value in the
    /// file). knockd uses the last one.
    pub sequence_lines: Vec<(usize, Range<usize>)>,
    /// The sequence knockd would use (from the last `sequence` line).
    pub sequence: Option<Vec<Port>>,
    /// Line of a `one_time_sequences` directive, and its file.
    pub one_time: Option<(usize, Vec<u8>)>,
}

impl Door {
    pub fn is_rotator(&self) -> bool {
        self.name.ends_with(ROTATOR_SUFFIX)
    }

    pub fn display_name(&self) -> String {
        format!("[{}]", String::from_utf8_lossy(&self.name))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Conf {
    pub doors: Vec<Door>,
    /// `[options]` PidFile and LogFile, if set.
    pub pidfile: Option<Vec<u8>>,
    pub logfile: Option<Vec<u8>>,
}

/// C's isspace() in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Range of `s[r]` without leading and trailing C white space.
fn trim(s: &[u8], r: Range<usize>) -> Range<usize> {
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
            Some(p) => {
                let t = trim(p, 0..p.len());
                match p[t].to_ascii_uppercase().as_slice() {
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
                }
            }
        };
        out.push(Port { port, udp });
    }
    Ok(out)
}

const TCP_FLAGS: [&[u8]; 12] = [
    b"FIN", b"!FIN", b"SYN", b"!SYN", b"RST", b"!RST", b"PSH", b"!PSH", b"ACK", b"!ACK", b"URG",
    b"!URG",
];

/// Reads a `one_time_sequences` file: its first usable sequence, or why not.
pub type OneTimeReader<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<Port>, String>;

/// Parse and check `text` as knockd would. `one_time_file` tells whether a
/// `one_time_sequences` file holds a usable sequence (knockd exits if not).
pub fn parse(text: &[u8], one_time_file: OneTimeReader) -> Result<Conf, ConfError> {
    let mut conf = Conf::default();
    // None: before any section; Some(None): [options]; Some(Some(i)): door i.
    let mut section: Option<Option<usize>> = None;
    for (r, n) in lines(text) {
        let raw = &text[r.clone()];
        if raw.contains(&0) {
            return err(n, "contains a NUL byte, which knockd cannot read");
        }
        if raw.len() > MAX_LINE {
            return err(
                n,
                format!(
                    "is {} bytes long; knockd reads at most {MAX_LINE}",
                    raw.len()
                ),
            );
        }
        let t = trim(text, r.clone());
        let line = &text[t.clone()];
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        if line[0] == b'[' && line[line.len() - 1] == b']' && line.len() >= 2 {
            let name = &line[1..line.len() - 1];
            if name.is_empty() {
                return err(n, "empty section name '[]'");
            }
            if name.len() > SECTION_MAX {
                return err(n, format!("section name longer than {SECTION_MAX} bytes"));
            }
            if name == b"options" {
                section = Some(None);
            } else {
                conf.doors.push(Door {
                    name: name.to_vec(),
                    line: n,
                    sequence_lines: Vec::new(),
                    sequence: None,
                    one_time: None,
                });
                section = Some(Some(conf.doors.len() - 1));
            }
            continue;
        }
        let Some(section) = section else {
            return err(
                n,
                "directive outside any section (knockd wants '[options]' or a door first)",
            );
        };
        let eq = line.iter().position(|&b| b == b'=');
        let key_end = eq.unwrap_or(line.len());
        let key_r = trim(line, 0..key_end);
        // Upper-cased into a stack buffer: no allocation per directive. A
        // key longer than any knockd knows is unknown anyway.
        let raw_key = &line[key_r];
        let mut buf = [0u8; 24];
        let key: &[u8] = if raw_key.len() <= buf.len() {
            buf[..raw_key.len()].copy_from_slice(raw_key);
            buf[..raw_key.len()].make_ascii_uppercase();
            &buf[..raw_key.len()]
        } else {
            b"(long)"
        };
        let Some(eq) = eq else {
            if key == b"USESYSLOG" {
                continue;
            }
            return err(n, format!("{} has no '='", quote(line)));
        };
        // The value's range in the whole file, for the editor.
        let vr = trim(text, t.start + eq + 1..t.end);
        let value = &text[vr.clone()];
        let key_text = || String::from_utf8_lossy(raw_key).to_lowercase();
        match section {
            None => match key {
                b"LOGFILE" => conf.logfile = Some(value.to_vec()),
                b"PIDFILE" => conf.pidfile = Some(value.to_vec()),
                b"INTERFACE" => {}
                _ => return err(n, format!("unknown key {} in [options]", quote(key_text()))),
            },
            Some(i) => {
                let door = &mut conf.doors[i];
                match key {
                    b"SEQUENCE" => {
                        door.sequence = Some(parse_sequence(value, &door.name, n)?);
                        door.sequence_lines.push((n, vr));
                    }
                    b"ONE_TIME_SEQUENCES" => {
                        let seq = one_time_file(value).map_err(|why| ConfError {
                            line: n,
                            msg: format!("one_time_sequences {}: {why}", quote(value)),
                        })?;
                        door.sequence = Some(seq);
                        door.one_time = Some((n, value.to_vec()));
                    }
                    b"TCPFLAGS" => {
                        for flag in value.to_ascii_uppercase().split(|&b| b == b',') {
                            if !TCP_FLAGS.contains(&flag) {
                                return err(
                                    n,
                                    format!(
                                        "unknown TCP flag {} (knockd wants e.g. syn,ack)",
                                        quote(flag)
                                    ),
                                );
                            }
                        }
                    }
                    b"TARGET" => {
                        // knockd puts it in a pcap filter: a name that does
                        // not resolve, or junk, makes knockd exit.
                        let ip = std::str::from_utf8(value)
                            .ok()
                            .and_then(|v| v.parse::<std::net::IpAddr>().ok());
                        if ip.is_none() {
                            return err(n, format!("target {} is not an IP address", quote(value)));
                        }
                    }
                    b"SEQ_TIMEOUT" | b"TIMEOUT" | b"START_COMMAND" | b"COMMAND"
                    | b"START_COMMAND_6" | b"COMMAND_6" | b"CMD_TIMEOUT" | b"STOP_COMMAND"
                    | b"STOP_COMMAND_6" => {}
                    _ => {
                        return err(
                            n,
                            format!(
                                "unknown key {} in door {}",
                                quote(key_text()),
                                door.display_name()
                            ),
                        );
                    }
                }
            }
        }
    }
    for door in &conf.doors {
        if door.sequence.is_none() {
            return err(
                door.line,
                format!("door {} has no sequence", door.display_name()),
            );
        }
    }
    Ok(conf)
}

/// Replace the value of every `sequence` line of every rotator door with
/// `new_value(door name)`; every other byte stays as it was.
pub fn rewrite(text: &[u8], conf: &Conf, new_value: &dyn Fn(&Door) -> Vec<u8>) -> Vec<u8> {
    let mut edits: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
    for door in conf.doors.iter().filter(|d| d.is_rotator()) {
        let v = new_value(door);
        for (_, r) in &door.sequence_lines {
            edits.push((r.clone(), v.clone()));
        }
    }
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = Vec::with_capacity(text.len() + edits.len() * 64);
    let mut at = 0;
    for (r, v) in edits {
        out.extend_from_slice(&text[at..r.start]);
        out.extend_from_slice(&v);
        at = r.end;
    }
    out.extend_from_slice(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_ots(_: &[u8]) -> Result<Vec<Port>, String> {
        Err("not here".into())
    }

    fn p(text: &str) -> Result<Conf, ConfError> {
        parse(text.as_bytes(), &no_ots)
    }

    #[test]
    fn knockd_lenience_is_kept() {
        for ok in [
            "[d]\nsequence = abc\n",
            "[d]\nsequence = 1,,2\n",
            "[d]\nsequence = -1\n",
            "[d]\nsequence = 1:tcp:x\n",
            "[d]\nsequence = 1: udp\n",
            "[d]\nsequence =\n",
            "[d]\nSequence=1\nUseSyslog\n",
            "[d]\nsequence = 1\ntimeout = 5\ncommand = true\ncommand_6 = true\ntarget = 127.0.0.1\n",
            "[ a b ]\r\nsequence = 1\r\n",
            "# c\n[options]\n  LogFile = /x\n[d]\nsequence = 1\n[options]\npidfile=/y\n",
        ] {
            assert!(p(ok).is_ok(), "{ok:?}: {:?}", p(ok));
        }
    }

    #[test]
    fn knockd_refusals_are_kept() {
        for (bad, line) in [
            ("[d]\nsequence = 65536\n", 2),
            ("[d]\nsequence = 1:\n", 2),
            ("[d]\nsequence 1\n", 2),
            ("[d]\nsequence = 1\ntcpflags = syn, ack\n", 3),
            ("[d]\nsequence = 1\nfoo = 1\n", 3),
            ("[options]\nfoo = 1\n", 2),
            ("[options]\nsequence = 1\n", 2),
            ("[options]\nUseSyslog = yes\n", 2),
            ("sequence = 1\n", 1),
            ("[d]\nseq_timeout = 5\n", 1),
            ("[]\nsequence = 1\n", 1),
            ("[d\nsequence = 1\n", 1),
            ("[Options]\nLogFile = /x\n", 2),
            ("[d]\nsequence = 1\none_time_sequences = /nonexistent\n", 3),
            ("[d]\nsequence = 1\n=x\n", 3),
            ("[d]\nsequence = 1\n [x] \n", 3),
            (
                "[d]\nsequence = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33\n",
                2,
            ),
            ("[d]\nsequence = 1\ntarget = a b\n", 3),
            ("[d]\nsequence = 1\ntarget = no-such-host.invalid\n", 3),
        ] {
            let e = p(bad).expect_err(bad);
            assert_eq!(e.line, line, "{bad:?}: {e:?}");
        }
    }

    #[test]
    fn rewrite_touches_only_rotator_values() {
        let text = b"[options]\r\n\tlogfile = /x\r\n[ssh_ROTATOR]\r\n  Sequence\t=  1:tcp,2:udp  \r\n# sequence = 9\r\n[web]\nsequence=3\n[w_ROTATOR]\nSEQUENCE =\nsequence= 5";
        let conf = parse(text, &no_ots).unwrap();
        let out = rewrite(text, &conf, &|d| {
            format!("<{}>", String::from_utf8_lossy(&d.name)).into_bytes()
        });
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[options]\r\n\tlogfile = /x\r\n[ssh_ROTATOR]\r\n  Sequence\t=  <ssh_ROTATOR>  \r\n# sequence = 9\r\n[web]\nsequence=3\n[w_ROTATOR]\nSEQUENCE =<w_ROTATOR>\nsequence= <w_ROTATOR>"
        );
    }

    #[test]
    fn atoi_is_c_atoi() {
        assert_eq!(atoi(b" 12a"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"+5"), 5);
        assert_eq!(atoi(b"0x10"), 0);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"99999999999999999999999"), i64::MAX);
    }
}
