//! knockd.conf, read the way knockd 0.8 reads it, and a byte-preserving
//! editor for the `sequence` values of rotator doors.
//!
//! knockd's grammar (checked against Debian's knockd 0.8, see
//! tests/e2e/knockd_agrees.sh): lines of at most 4095 bytes, trimmed of C
//! white space; empty lines and `#` lines are skipped; `[name]` opens a
//! section (`options` is the global one, anything else a door); a directive
//! is `key = value` with a case-insensitive key, or a bare `UseSyslog`.
//! Unknown keys, directives outside a section, a bad protocol, a port over
//! 65535, more than 32 ports, a door without a sequence: knockd refuses the
//! file, and on a reload it exits. We refuse the same files, naming the line.

use std::ops::Range;

use super::syntax::{ConfError, Port, check_tcpflags, err, lines, parse_sequence, trim};
use crate::derive::ROTATOR_SUFFIX;
use crate::error::quote;

/// knockd reads lines with fgets(line, 4096): 4095 bytes with the newline.
pub const MAX_LINE: usize = 4094;
const SECTION_MAX: usize = 254;

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

/// Reads a `one_time_sequences` file: its first usable sequence, or why not.
pub type OneTimeReader<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<Port>, String>;

/// Where the parser is.
#[derive(Clone, Copy)]
enum Section {
    None,
    Options,
    Door(usize),
}

/// One `key = value` line: the key upper-cased (as knockd compares it), as
/// written (for messages), and the value's range in the whole file.
struct Directive<'a> {
    key: &'a [u8],
    written: &'a [u8],
    value: &'a [u8],
    range: Range<usize>,
    line: usize,
}

/// Parse and check `text` as knockd would. `one_time_file` tells whether a
/// `one_time_sequences` file holds a usable sequence (knockd exits if not).
pub fn parse(text: &[u8], one_time_file: OneTimeReader) -> Result<Conf, ConfError> {
    let mut conf = Conf::default();
    let mut section = Section::None;
    // Upper-cased keys go to a stack buffer: no allocation per directive.
    let mut key_buf = [0u8; 24];
    for (r, n) in lines(text) {
        check_line(&text[r.clone()], n)?;
        let t = trim(text, r);
        let line = &text[t.clone()];
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        if let Some(name) = header(line, n)? {
            section = if name == b"options" {
                Section::Options
            } else {
                conf.doors.push(Door {
                    name: name.to_vec(),
                    line: n,
                    sequence_lines: Vec::new(),
                    sequence: None,
                    one_time: None,
                });
                Section::Door(conf.doors.len() - 1)
            };
            continue;
        }
        let door = match section {
            Section::None => {
                return err(
                    n,
                    "directive outside any section (knockd wants '[options]' or a door first)",
                );
            }
            Section::Options => None,
            Section::Door(i) => Some(i),
        };
        let Some(d) = directive(text, t, n, &mut key_buf)? else {
            continue; // a bare UseSyslog
        };
        match door {
            None => options_key(&mut conf, &d)?,
            Some(i) => door_key(&mut conf.doors[i], &d, one_time_file)?,
        }
    }
    match conf.doors.iter().find(|d| d.sequence.is_none()) {
        Some(door) => err(
            door.line,
            format!("door {} has no sequence", door.display_name()),
        ),
        None => Ok(conf),
    }
}

/// What knockd cannot read at all.
fn check_line(raw: &[u8], n: usize) -> Result<(), ConfError> {
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
    Ok(())
}

/// The name of a `[name]` line; `None` for any other line.
fn header(line: &[u8], n: usize) -> Result<Option<&[u8]>, ConfError> {
    if !(line.len() >= 2 && line[0] == b'[' && line[line.len() - 1] == b']') {
        return Ok(None);
    }
    let name = &line[1..line.len() - 1];
    if name.is_empty() {
        return err(n, "empty section name '[]'");
    }
    if name.len() > SECTION_MAX {
        return err(n, format!("section name longer than {SECTION_MAX} bytes"));
    }
    Ok(Some(name))
}

/// Split the trimmed line `text[t]` into a directive; `None` for the one
/// key knockd takes without a value. The key is upper-cased into `buf`; a
/// key longer than any knockd knows is unknown anyway.
fn directive<'a>(
    text: &'a [u8],
    t: Range<usize>,
    n: usize,
    buf: &'a mut [u8; 24],
) -> Result<Option<Directive<'a>>, ConfError> {
    let line = &text[t.clone()];
    let eq = line.iter().position(|&b| b == b'=');
    let written = &line[trim(line, 0..eq.unwrap_or(line.len()))];
    let key: &[u8] = if written.len() <= buf.len() {
        let k = &mut buf[..written.len()];
        k.copy_from_slice(written);
        k.make_ascii_uppercase();
        k
    } else {
        b"(long)"
    };
    let Some(eq) = eq else {
        if key == b"USESYSLOG" {
            return Ok(None);
        }
        return err(n, format!("{} has no '='", quote(line)));
    };
    let range = trim(text, t.start + eq + 1..t.end);
    Ok(Some(Directive {
        key,
        written,
        value: &text[range.clone()],
        range,
        line: n,
    }))
}

impl Directive<'_> {
    fn unknown(&self, place: &str) -> ConfError {
        // ASCII only: knockd's keys are, and full case mapping costs 7 KB of
        // tables on mips.
        let key = String::from_utf8_lossy(self.written).to_ascii_lowercase();
        ConfError {
            line: self.line,
            msg: format!("unknown key {} in {place}", quote(key)),
        }
    }
}

fn options_key(conf: &mut Conf, d: &Directive) -> Result<(), ConfError> {
    match d.key {
        b"LOGFILE" => conf.logfile = Some(d.value.to_vec()),
        b"PIDFILE" => conf.pidfile = Some(d.value.to_vec()),
        b"INTERFACE" => {}
        _ => return Err(d.unknown("[options]")),
    }
    Ok(())
}

fn door_key(door: &mut Door, d: &Directive, one_time_file: OneTimeReader) -> Result<(), ConfError> {
    let n = d.line;
    match d.key {
        b"SEQUENCE" => {
            door.sequence = Some(parse_sequence(d.value, &door.name, n)?);
            door.sequence_lines.push((n, d.range.clone()));
        }
        b"ONE_TIME_SEQUENCES" => {
            let seq = one_time_file(d.value).map_err(|why| ConfError {
                line: n,
                msg: format!("one_time_sequences {}: {why}", quote(d.value)),
            })?;
            door.sequence = Some(seq);
            door.one_time = Some((n, d.value.to_vec()));
        }
        b"TCPFLAGS" => check_tcpflags(d.value, n)?,
        b"TARGET" => {
            // knockd puts it in a pcap filter: a name that does not
            // resolve, or junk, makes knockd exit.
            let ip = std::str::from_utf8(d.value)
                .ok()
                .and_then(|v| v.parse::<std::net::IpAddr>().ok());
            if ip.is_none() {
                return err(n, format!("target {} is not an IP address", quote(d.value)));
            }
        }
        b"SEQ_TIMEOUT" | b"TIMEOUT" | b"START_COMMAND" | b"COMMAND" | b"START_COMMAND_6"
        | b"COMMAND_6" | b"CMD_TIMEOUT" | b"STOP_COMMAND" | b"STOP_COMMAND_6" => {}
        _ => return Err(d.unknown(&format!("door {}", door.display_name()))),
    }
    Ok(())
}

/// Replace the value of every `sequence` line of every rotator door with
/// `new_value(door)` (`None`: leave that door as it is); every other byte
/// stays as it was.
pub fn rewrite(text: &[u8], conf: &Conf, new_value: &dyn Fn(&Door) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut edits: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
    for door in conf.doors.iter().filter(|d| d.is_rotator()) {
        let Some(v) = new_value(door) else {
            continue;
        };
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
            ("UseSyslog\n[d]\nsequence = 1\n", 1),
            ("junk\n[d]\nsequence = 1\n", 1),
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
            Some(format!("<{}>", String::from_utf8_lossy(&d.name)).into_bytes())
        });
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[options]\r\n\tlogfile = /x\r\n[ssh_ROTATOR]\r\n  Sequence\t=  <ssh_ROTATOR>  \r\n# sequence = 9\r\n[web]\nsequence=3\n[w_ROTATOR]\nSEQUENCE =<w_ROTATOR>\nsequence= <w_ROTATOR>"
        );
    }
}
