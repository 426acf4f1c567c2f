//! One rotation of a knockd.conf: read and check it as knockd would, work
//! out every rotator door's sequence for a period, and the new file's bytes
//! (or, for `--dry-run`, a diff). Writing and reloading are the caller's
//! (job.rs), so that `--dry-run` and `status` share everything else.

use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::conf::{self, Conf, Door};
use super::edit_contract;
use super::syntax::{self, Port, lines, trimmed};
use super::unique;
use crate::derive::{self, Knock, Proto};
use crate::error::{Error, Result};
use crate::index::Index;
use crate::safe_read;
use crate::server::doors::Doors;

/// A knockd.conf (or one_time_sequences file) larger than this is not one:
/// 5000 doors take about 1 MB.
const MAX_CONF_BYTES: u64 = 64 << 20;

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
    /// This door's period length, and the start of the planned one.
    pub period: u64,
    pub period_start: u64,
    /// The period's sequence (empty when refused).
    pub new: Vec<Knock>,
    pub changed: bool,
    /// Why this door cannot be rotated in this period (its sequence draws
    /// v3's port 65536): it keeps what it holds, and the run fails.
    pub refused: Option<String>,
}

pub struct Plan {
    pub doors: Vec<DoorPlan>,
    pub new_text: Vec<u8>,
}

impl Plan {
    /// The planned period's start, when every door has the same period.
    pub fn period_start(&self) -> Option<u64> {
        let first = self.doors.first()?.period_start;
        self.doors
            .iter()
            .all(|d| d.period_start == first)
            .then_some(first)
    }

    /// The distinct period lengths of the doors.
    pub fn periods(&self) -> Vec<u64> {
        let mut p: Vec<u64> = self.doors.iter().map(|d| d.period).collect();
        p.sort_unstable();
        p.dedup();
        p
    }

    pub fn changed(&self) -> usize {
        self.doors.iter().filter(|d| d.changed).count()
    }

    /// The error for the doors that cannot be rotated in this period, if any.
    pub fn refusal(&self) -> Option<Error> {
        let mut refused = self.doors.iter().filter_map(|d| d.refused.as_deref());
        let first = refused.next()?;
        let more = refused.count();
        Some(Error::failure(match more {
            0 => first.to_string(),
            n => format!(
                "{first} (and {n} more door{} this period)",
                if n == 1 { "" } else { "s" }
            ),
        }))
    }
}

/// "PATH:LINE: message", the form editors and compilers use.
pub fn at_line(path: &Path, line: usize, msg: &str) -> Error {
    Error::usage(format!("{}:{line}: {msg}", path.display()))
}

pub fn load(path: &Path) -> Result<Loaded> {
    let real = std::fs::canonicalize(path).map_err(|e| Error::io(path.display(), e))?;
    let mut text = Vec::new();
    let shown = path.display().to_string();
    let meta = safe_read::regular(&real, &shown, MAX_CONF_BYTES, &mut text)?;
    let conf = conf::parse(&text, &one_time_sequences).map_err(|e| {
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
    // Read-only: knockd (root) is the one that consumes lines from it.
    // No origin: the caller's message names the file.
    safe_read::regular(&p, "", MAX_CONF_BYTES, &mut text).map_err(|e| e.message().to_string())?;
    for (r, n) in lines(&text) {
        let line = trimmed(&text[r]);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        if let Ok(seq) = syntax::parse_sequence(line, b"one_time_sequences", n) {
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

/// Work out the rotation of `loaded` for the period holding `now` (+`offset`)
/// of each door.
pub fn plan(settings: &Doors, loaded: &Loaded, now: u64, offset: i64) -> Result<Plan> {
    let path = &loaded.path;
    let conf = &loaded.conf;
    let doors = door_plans(settings, loaded, now, offset)?;
    if doors.is_empty() {
        return Err(Error::usage(format!(
            "{}: no door whose name ends in _ROTATOR, so nothing to rotate",
            path.display()
        )));
    }
    // What each rotator door holds afterwards: its new sequence, or (when
    // refused) what it holds now. By name; a door name used twice is
    // refused by check_unique (same sequence).
    let by_name = Index::new(doors.iter().map(|d| &d.name[..]));
    let plan_of = |name: &[u8]| {
        by_name
            .find(name, |i| &doors[i].name[..])
            .map(|i| &doors[i])
    };
    let after = |door: &Door| match plan_of(&door.name) {
        Some(p) if p.refused.is_none() => Some(as_ports(&p.new)),
        _ => door.sequence.clone(),
    };
    unique::check_unique(path, conf, &after)?;
    let new_text = conf::rewrite(&loaded.text, conf, &|d: &Door| {
        plan_of(&d.name)
            .filter(|p| p.refused.is_none())
            .map(|p| derive::join(&p.new, ",").into_bytes())
    });
    // Belt and braces: nothing but rotator values changed, and what we
    // write reads back as intended.
    if !edit_contract::only_values_changed(&loaded.text, conf, &new_text) {
        return Err(at_line(
            path,
            1,
            "rotation would change more than sequence values (a bug): nothing written",
        ));
    }
    let check = conf::parse(&new_text, &one_time_sequences).map_err(|e| {
        at_line(
            path,
            e.line,
            &format!("rotation would produce a bad line (a bug): {}", e.msg),
        )
    })?;
    if check.doors.len() != conf.doors.len() {
        return Err(at_line(
            path,
            1,
            "rotation did not take (a bug): nothing written",
        ));
    }
    let old = conf.doors.iter().filter(|d| d.is_rotator());
    for (d, was) in check.doors.iter().filter(|d| d.is_rotator()).zip(old) {
        if d.sequence != after(was) {
            return Err(at_line(
                path,
                d.line,
                "rotation did not take (a bug): nothing written",
            ));
        }
    }
    drop(by_name);
    Ok(Plan { doors, new_text })
}

/// Each rotator door's sequence for its period holding `now` (+`offset`).
fn door_plans(settings: &Doors, loaded: &Loaded, now: u64, offset: i64) -> Result<Vec<DoorPlan>> {
    let (path, conf) = (&loaded.path, &loaded.conf);
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
        let s = settings.for_door(&door.name)?;
        let period_start = derive::period_start(now, s.period, offset).ok_or_else(|| {
            Error::usage(format!(
                "{}: door {}: the period {offset} away from the one holding {now} is outside \
                 the clock's range",
                path.display(),
                door.display_name()
            ))
        })?;
        let (new, refused) = match s.derive(period_start, &door.name) {
            Ok(new) => (new, None),
            Err(e) => (Vec::new(), Some(e.message().to_string())),
        };
        let changed = refused.is_none() && door.sequence.as_deref() != Some(&as_ports(&new)[..]);
        doors.push(DoorPlan {
            name: door.name.clone(),
            line: door.line,
            period: s.period,
            period_start,
            new,
            changed,
            refused,
        });
    }
    Ok(doors)
}
