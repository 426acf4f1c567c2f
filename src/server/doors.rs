//! Per-door settings: `/etc/knock-rotator/doors` holds a section per
//! rotator door (`[ssh_alice]` or `[ssh_alice_ROTATOR]`) with its own
//! secret and, if wanted, its own algorithm, length, period and ports. A
//! door not listed takes the environment's settings, as before the file
//! existed. A section is self-contained: what it does not set is the
//! built-in default, never the environment's value, so that no variable
//! meant for other doors can change a listed door.
//!
//! The file is read at every rotation, so a door added or revoked takes
//! effect at the next one without a restart.

use std::path::PathBuf;

use crate::derive::rotator_name;
use crate::env::Env;
use crate::error::{Error, Result, quote};
use crate::settings::Settings;
use crate::settings_file::{Section, SectionSource, SettingsFile};

pub const DOORS_VAR: &str = "KNOCKD_ROTATOR_DOORS";

/// What the nftables backend reads from a door's section besides its
/// sequence settings (src/server/nftables/door.rs). Accepted in every
/// door, so that one doors file serves `profile`, `config` and both
/// backends; knockd's doors have these in knockd.conf instead, and ignore
/// them.
pub const NFTABLES_KEYS: [&str; 9] = [
    "open",
    "open_for",
    "seq_timeout",
    "grace",
    "policy",
    "one_use",
    "knock",
    "token_port",
    "ahead",
];
pub const DEFAULT_DOORS: &str = "/etc/knock-rotator/doors";

/// Where the doors file is: `--doors-file` or `$KNOCKD_ROTATOR_DOORS`
/// (which must exist), else the default path if a file is there.
#[derive(Clone, Debug)]
pub struct DoorsFile {
    path: PathBuf,
    required: bool,
}

impl Default for DoorsFile {
    fn default() -> Self {
        DoorsFile {
            path: DEFAULT_DOORS.into(),
            required: false,
        }
    }
}

impl DoorsFile {
    pub fn new(env: &Env, flag: Option<PathBuf>) -> DoorsFile {
        match flag.or_else(|| env.get(DOORS_VAR).map(PathBuf::from)) {
            Some(path) => DoorsFile {
                path,
                required: true,
            },
            None => DoorsFile {
                path: DEFAULT_DOORS.into(),
                required: false,
            },
        }
    }

    /// Whether there is a file to read.
    pub fn in_use(&self) -> bool {
        self.required || std::fs::symlink_metadata(&self.path).is_ok()
    }

    /// The environment's settings: an error at once when there is no doors
    /// file (every door needs them), else kept for the doors that the file
    /// does not list.
    pub fn env_settings(&self, env: &Env) -> Result<Result<Settings>> {
        match Settings::load(env) {
            Err(e) if !self.in_use() => Err(e),
            settings => Ok(settings),
        }
    }

    /// Read the file (if in use) and every listed door's settings, with
    /// `env` (the environment's settings) for the doors not listed.
    pub fn load<'a>(&self, env: &'a Result<Settings>) -> Result<Doors<'a>> {
        let mut doors = Doors {
            env: env.as_ref(),
            file: None,
            listed: Vec::new(),
        };
        if !self.in_use() {
            return Ok(doors);
        }
        let file = SettingsFile::read(&self.path)?;
        for section in &file.sections {
            file.check_keys(section, &NFTABLES_KEYS, "a door")?;
            let name = rotator_name(section.name.as_bytes()).into_owned();
            if let Some((_, line, _)) = doors.listed.iter().find(|(n, _, _)| *n == name) {
                return Err(file.error(
                    section.line,
                    &format!(
                        "[{}] is door {} again (first at line {line})",
                        section.name,
                        quote(&name)
                    ),
                ));
            }
            let s = Settings::load(&SectionSource {
                file: &file,
                section,
            })?;
            doors.listed.push((name, section.line, s));
        }
        doors.file = Some(file);
        Ok(doors)
    }
}

/// The settings of every door, for one rotation.
pub struct Doors<'a> {
    env: std::result::Result<&'a Settings, &'a Error>,
    file: Option<SettingsFile>,
    /// Door name (with its suffix), section line, settings.
    listed: Vec<(Vec<u8>, usize, Settings)>,
}

impl Doors<'_> {
    /// Every door takes these settings (tests, benches).
    pub fn uniform(settings: &Settings) -> Doors<'_> {
        Doors {
            env: Ok(settings),
            file: None,
            listed: Vec::new(),
        }
    }

    /// The settings of door `name` (with its suffix).
    pub fn for_door(&self, name: &[u8]) -> Result<&Settings> {
        if let Some((_, _, s)) = self.listed.iter().find(|(n, _, _)| n == name) {
            return Ok(s);
        }
        match (self.env, &self.file) {
            (Ok(s), _) => Ok(s),
            (Err(e), None) => Err((*e).clone()),
            (Err(e), Some(f)) => Err(Error::usage(format!(
                "door {} is not in {}, so it takes the environment's settings, but {e}",
                quote(name),
                f.path.display()
            ))),
        }
    }

    /// Every door the file lists, in its order: name (with its suffix), its
    /// section and settings.
    pub fn listed(&self) -> Vec<(&[u8], &Section, &Settings)> {
        let Some(f) = &self.file else {
            return Vec::new();
        };
        self.listed
            .iter()
            .zip(&f.sections)
            .map(|((n, _, s), sec)| (&n[..], sec, s))
            .collect()
    }

    /// The doors file, when one was read.
    pub fn file(&self) -> Option<&SettingsFile> {
        self.file.as_ref()
    }

    /// Where door `name`'s settings come from, for `status`.
    pub fn source(&self, name: &[u8]) -> String {
        match (&self.file, self.listed.iter().find(|(n, _, _)| n == name)) {
            (Some(f), Some((_, line, _))) => format!("{}:{line}", f.path.display()),
            _ => "the environment".into(),
        }
    }

    /// Sections that name no rotator door among `doors`: a typo, or a door
    /// removed from knockd.conf but not from here.
    pub fn unmatched(&self, doors: &[&[u8]]) -> Vec<String> {
        let Some(f) = &self.file else {
            return Vec::new();
        };
        self.listed
            .iter()
            .filter(|(n, _, _)| !doors.contains(&n.as_slice()))
            .map(|(n, line, _)| {
                format!(
                    "{}:{line}: [{}] matches no rotator door",
                    f.path.display(),
                    String::from_utf8_lossy(n)
                )
            })
            .collect()
    }
}
