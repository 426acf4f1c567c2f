//! One rotation of a knockd.conf: read and check it as knockd would, work
//! out every rotator door's sequence for a period, and the new file's bytes
//! (or, for `--dry-run`, a diff). Writing and reloading are the caller's
//! (job.rs), so that `--dry-run` and `status` share everything else.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::Metadata;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::knockd_conf::{self, Conf, Door};
use super::knockd_syntax::{self, Port, lines, trimmed};
use crate::clock;
use crate::derive::{self, Knock, Proto};
use crate::error::{Error, Result};
use crate::settings::Settings;

/// Where knockd's configuration is unless told otherwise.
pub const DEFAULT_CONFIG: &str = "/etc/knockd.conf";

/// The configuration as read.
pub struct Loaded {
    /// The real file (symlinks resolved): the one to replace.
    pub path: PathBuf,
    pub text: Vec<u8>,
    pub meta: Metadata,
    pub conf: Conf,
}

impl Loaded {
    /// `[options]` PidFile, as the bytes knockd would open.
    pub fn pidfile(&self) -> Option<PathBuf> {
        self.conf.pidfile.as_deref().map(bytes_path)
    }

    /// `[options]` LogFile.
    pub fn logfile(&self) -> Option<PathBuf> {
        self.conf.logfile.as_deref().map(bytes_path)
    }
}

fn bytes_path(b: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(b))
}

pub struct DoorPlan {
    pub name: Vec<u8>,
    pub line: usize,
    pub new: Vec<Knock>,
    pub changed: bool,
}

pub struct Plan {
    pub period_start: u64,
    pub doors: Vec<DoorPlan>,
    pub new_text: Vec<u8>,
}

impl Plan {
    pub fn changed(&self) -> usize {
        self.doors.iter().filter(|d| d.changed).count()
    }
}

/// "PATH:LINE: message", the form editors and compilers use.
pub fn at_line(path: &Path, line: usize, msg: &str) -> Error {
    Error::usage(format!("{}:{line}: {msg}", path.display()))
}

pub fn load(path: &Path) -> Result<Loaded> {
    let real = std::fs::canonicalize(path).map_err(|e| Error::io(path.display(), e))?;
    let mut f = std::fs::File::open(&real).map_err(|e| Error::io(path.display(), e))?;
    let meta = f.metadata().map_err(|e| Error::io(path.display(), e))?;
    if !meta.is_file() {
        return Err(Error::usage(format!(
            "{}: not a regular file",
            path.display()
        )));
    }
    let mut text = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut text)
        .map_err(|e| Error::io(path.display(), e))?;
    let conf = knockd_conf::parse(&text, &one_time_sequences).map_err(|e| {
        at_line(
            path,
            e.line,
            &format!("{} (knockd would refuse this file)", e.msg),
        )
    })?;
    Ok(Loaded {
        path: real,
        text,
        meta,
        conf,
    })
}

/// knockd opens a one_time_sequences file read-write and takes its first
/// valid line; with none left it refuses the configuration.
fn one_time_sequences(path: &[u8]) -> std::result::Result<Vec<Port>, String> {
    let p = bytes_path(path);
    let mut text = Vec::new();
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(p)
        .and_then(|mut f| f.read_to_end(&mut text))
        .map_err(|e| crate::error::describe_io(&e))?;
    for (r, n) in lines(&text) {
        let line = trimmed(&text[r]);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        if let Ok(seq) = knockd_syntax::parse_sequence(line, b"one_time_sequences", n) {
            return Ok(seq);
        }
    }
    Err("no sequence left in it".into())
}

fn as_ports(seq: &[Knock]) -> Vec<Port> {
    seq.iter()
        .map(|k| Port {
            port: i64::from(k.port),
            udp: k.proto == Proto::Udp,
        })
        .collect()
}

/// Work out the rotation of `loaded` for the period holding `now` (+`offset`).
pub fn plan(settings: &Settings, loaded: &Loaded, now: u64, offset: i64) -> Result<Plan> {
    let path = &loaded.path;
    let conf = &loaded.conf;
    let period_start = derive::period_start(now, settings.period, offset).ok_or_else(|| {
        Error::usage(format!(
            "{}: the period {offset} away from the one holding {now} is outside the clock's range",
            path.display()
        ))
    })?;
    let mut doors = Vec::new();
    for door in conf.doors.iter().filter(|d| d.is_rotator()) {
        if let Some((line, _)) = &door.one_time {
            return Err(at_line(
                path,
                *line,
                &format!(
                    "rotator door {} takes its sequence from one_time_sequences; \
                     rotation would fight it, so remove one or the other",
                    door.display_name()
                ),
            ));
        }
        let new = settings.derive(period_start, &door.name);
        let changed = door.sequence.as_deref() != Some(&as_ports(&new)[..]);
        doors.push(DoorPlan {
            name: door.name.clone(),
            line: door.line,
            new,
            changed,
        });
    }
    if doors.is_empty() {
        return Err(Error::usage(format!(
            "{}: no door whose name ends in _ROTATOR, so nothing to rotate",
            path.display()
        )));
    }
    // By name; a door name used twice is refused by check_unique (same sequence).
    let by_name: HashMap<&[u8], &DoorPlan> = doors.iter().map(|d| (&d.name[..], d)).collect();
    check_unique(path, conf, &by_name)?;
    let values: HashMap<&[u8], Vec<u8>> = doors
        .iter()
        .map(|d| (&d.name[..], derive::join(&d.new, ",").into_bytes()))
        .collect();
    let new_text =
        knockd_conf::rewrite(&loaded.text, conf, &|d: &Door| values[&d.name[..]].clone());
    // Belt and braces: what we write must read back as intended.
    let check = knockd_conf::parse(&new_text, &one_time_sequences).map_err(|e| {
        at_line(
            path,
            e.line,
            &format!("rotation would produce a bad line: {}", e.msg),
        )
    })?;
    for d in check.doors.iter().filter(|d| d.is_rotator()) {
        let want = by_name.get(&d.name[..]).map(|p| as_ports(&p.new));
        if d.sequence != want {
            return Err(at_line(
                path,
                d.line,
                "rotation did not take (a bug): nothing written",
            ));
        }
    }
    drop(by_name);
    Ok(Plan {
        period_start,
        doors,
        new_text,
    })
}

/// Two doors with one sequence: one knock would open both (or knockd would
/// only ever match the first). Refused, naming both.
fn check_unique(path: &Path, conf: &Conf, plans: &HashMap<&[u8], &DoorPlan>) -> Result<()> {
    let mut seen: HashMap<Vec<Port>, &Door> = HashMap::new();
    for door in conf.doors.iter().filter(|d| d.one_time.is_none()) {
        let seq = match plans.get(&door.name[..]).filter(|_| door.is_rotator()) {
            Some(p) => as_ports(&p.new),
            None => door.sequence.clone().unwrap_or_default(),
        };
        if let Some(other) = seen.insert(seq, door) {
            return Err(at_line(
                path,
                door.line,
                &format!(
                    "doors {} (line {}) and {} would have the same sequence; rename or remove one",
                    other.display_name(),
                    other.line,
                    door.display_name()
                ),
            ));
        }
    }
    Ok(())
}

/// A unified-style diff of the lines that would change. Sequences are
/// shown only when asked for (or on a terminal): logs keep none.
pub fn diff(loaded: &Loaded, plan: &Plan, show: bool) -> String {
    let path = loaded.path.display();
    let mut out = format!(
        "--- {path}\n+++ {path} (period starting {})\n",
        clock::utc(plan.period_start)
    );
    let new_lines: Vec<_> = lines(&plan.new_text).collect();
    let mut any = false;
    let mut door = String::new();
    for ((or, n), (nr, _)) in lines(&loaded.text).zip(&new_lines) {
        let (old, new) = (&loaded.text[or], &plan.new_text[nr.clone()]);
        let t = trimmed(old);
        if t.starts_with(b"[") && t.ends_with(b"]") {
            door = String::from_utf8_lossy(t).into_owned();
        }
        if old == new {
            continue;
        }
        any = true;
        out.push_str(&format!(
            "@@ line {n} {door} @@\n-{}\n+{}\n",
            diff_line(old, show),
            diff_line(new, show)
        ));
    }
    if !any {
        out.push_str("(no change: every rotator door holds the current sequence)\n");
    }
    out
}

/// A changed line for the diff: its value hidden unless `show`.
fn diff_line(l: &[u8], show: bool) -> String {
    let text = String::from_utf8_lossy(l)
        .trim_end_matches('\r')
        .to_string();
    if show {
        return text;
    }
    match text.split_once('=') {
        Some((k, _)) => format!("{k}= (hidden; --show-sequences shows it)"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Env;

    fn loaded(text: &[u8]) -> Loaded {
        let dir = std::env::temp_dir();
        Loaded {
            path: dir.join("knockd.conf"),
            text: text.to_vec(),
            meta: std::fs::metadata(&dir).unwrap(),
            conf: knockd_conf::parse(text, &|_| Err("none".into())).unwrap(),
        }
    }

    #[test]
    fn diff_hides_values_unless_asked() {
        let env = Env::from_pairs([("KNOCKD_ROTATOR_SECRET", "diff test secret")]);
        let settings = Settings::load(&env).unwrap();
        let l = loaded(b"[options]\r\n  logfile = /x\r\n[ssh_ROTATOR]\r\n  sequence = 1\r\n");
        let plan = plan(&settings, &l, 1_800_000_000, 0).unwrap();
        let hidden = diff(&l, &plan, false);
        let lines: Vec<&str> = hidden.lines().collect();
        assert!(
            lines[1].ends_with("(period starting 2027-01-15 06:00:00 UTC)"),
            "{hidden}"
        );
        assert_eq!(
            &lines[2..],
            [
                "@@ line 4 [ssh_ROTATOR] @@",
                "-  sequence = (hidden; --show-sequences shows it)",
                "+  sequence = (hidden; --show-sequences shows it)",
            ]
        );
        let shown = diff(&l, &plan, true);
        let want = derive::join(&plan.doors[0].new, ",");
        assert!(
            shown.contains(&format!("\n+  sequence = {want}\n")),
            "{shown}"
        );
        assert!(shown.contains("\n-  sequence = 1\n"), "{shown}");
        let same = loaded(&plan.new_text);
        let none = diff(&same, &plan, true);
        assert!(none.ends_with("(no change: every rotator door holds the current sequence)\n"));
    }
}
