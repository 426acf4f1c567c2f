//! Client profiles: one section per server in
//! `~/.config/knock-rotator/config`, holding everything a knock needs.
//!
//! A profile is self-contained: when one is named, the environment's
//! settings and secret are not read at all, so a `KNOCKD_ROTATOR_SECRET`
//! exported for another server can never replace the profile's. Options on
//! the command line override the profile; what neither gives is the
//! built-in default.

use std::path::PathBuf;

use super::rawtcp;
use super::resolve::Family;
use crate::env::Env;
use crate::error::{Error, Result, quote};
use crate::number::parse_number;
use crate::origin::Origin;
use crate::settings::Settings;
use crate::settings_file::{SectionSource, SettingsFile};

/// The profile file, when not the default.
pub const CONFIG_VAR: &str = "KNOCKD_ROTATOR_CONFIG";

/// What a knock takes besides the settings, in the order `config` shows.
pub const KNOCK_KEYS: [&str; 11] = [
    "host",
    "service",
    "token_port",
    "delay",
    "family",
    "window",
    "check",
    "check_timeout",
    "retries",
    "raw",
    "tcpflags",
];

/// `-p NAME` and `--config-file PATH`, as given.
#[derive(Default)]
pub struct Choice {
    pub name: Option<String>,
    pub file: Option<PathBuf>,
    /// Said after "no such profile" (`knock`: what else a lone argument
    /// could have meant).
    pub hint: &'static str,
}

impl Choice {
    /// The named profile's settings, or else the environment's.
    pub fn settings(&self, env: &Env) -> Result<(Settings, Option<Profile>)> {
        match (&self.name, &self.file) {
            (Some(name), _) => {
                let (profile, settings) = Profile::load(env, self.file.clone(), name, self.hint)?;
                Ok((settings, Some(profile)))
            }
            (None, Some(_)) => Err(Error::arg("--config-file needs --profile NAME")),
            (None, None) => Ok((Settings::load(env)?, None)),
        }
    }
}

/// The profile file: `--config-file`, else `$KNOCKD_ROTATOR_CONFIG`, else
/// `$XDG_CONFIG_HOME/knock-rotator/config`, else
/// `~/.config/knock-rotator/config` (also right on Termux).
pub fn config_path(env: &Env, flag: Option<PathBuf>) -> PathBuf {
    if let Some(p) = flag.or_else(|| env.get(CONFIG_VAR).map(PathBuf::from)) {
        return p;
    }
    let xdg = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty());
    let base = xdg.map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".config")
    });
    base.join("knock-rotator").join("config")
}

pub struct Profile {
    pub name: String,
    pub file: SettingsFile,
    /// Our variables set in the environment, which the profile ignores.
    pub ignored_env: Vec<String>,
}

impl Profile {
    /// Profile `name` of the file `flag` names (or the default); `hint`
    /// follows the message when there is no such profile.
    pub fn load(
        env: &Env,
        flag: Option<PathBuf>,
        name: &str,
        hint: &str,
    ) -> Result<(Profile, Settings)> {
        // A missing profile is a usage mistake: with a hint, point at --help.
        let not_found = |msg: String| match hint {
            "" => Error::usage(msg),
            _ => Error::arg(format!("{msg}; {hint}")),
        };
        let path = config_path(env, flag);
        let file = SettingsFile::read(&path).map_err(|e| {
            let msg = format!("profile {}: {}", quote(name), e.message());
            match std::fs::symlink_metadata(&path) {
                Err(_) => not_found(format!("no {msg}")),
                Ok(_) => Error::usage(msg),
            }
        })?;
        let Some(section) = file.section(name) else {
            let names: Vec<&str> = file.sections.iter().map(|s| s.name.as_str()).collect();
            let names = if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            };
            return Err(not_found(format!(
                "{}: no profile [{name}] (it has: {names})",
                path.display()
            )));
        };
        file.check_keys(section, &KNOCK_KEYS, "a client profile")?;
        let settings = Settings::load(&SectionSource {
            file: &file,
            section,
        })?;
        let ignored_env = env
            .names()
            .filter(|n| *n != CONFIG_VAR)
            .map(String::from)
            .collect();
        let profile = Profile {
            name: name.to_string(),
            file,
            ignored_env,
        };
        // Check every knock key now, so `generate` reports a bad one too.
        profile.prefs()?;
        Ok((profile, settings))
    }

    /// The text of `key` in this profile, and where it is.
    pub fn get(&self, key: &str) -> Option<(&str, Origin)> {
        let section = self.file.section(&self.name)?;
        let e = section.get(key)?;
        Some((e.text(), self.file.origin(e)))
    }

    /// A whole number in `min..=max`.
    fn number(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>> {
        let Some((text, origin)) = self.get(key) else {
            return Ok(None);
        };
        parse_number(text, min, max)
            .map(Some)
            .map_err(|why| Error::usage(format!("{}: {why}", origin.label(key))))
    }

    /// The knock's options this profile gives.
    pub fn prefs(&self) -> Result<Prefs> {
        let raw = match self.get("raw") {
            None => None,
            Some(("yes", _)) => Some(true),
            Some(("no", _)) => Some(false),
            Some((v, o)) => {
                return Err(Error::usage(format!(
                    "{}: {} is neither 'yes' nor 'no'",
                    o.label("raw"),
                    quote(v)
                )));
            }
        };
        let tcpflags = match self.get("tcpflags") {
            None => None,
            Some((v, o)) => Some(rawtcp::parse_flags(&o.label("tcpflags"), v)?),
        };
        let family = match self.get("family") {
            None => None,
            Some(("4", _)) => Some(Family::V4),
            Some(("6", _)) => Some(Family::V6),
            Some(("any", _)) => Some(Family::Any),
            Some((v, o)) => {
                return Err(Error::usage(format!(
                    "{}: {} is not 4, 6 or any",
                    o.label("family"),
                    quote(v)
                )));
            }
        };
        Ok(Prefs {
            host: self.get("host").map(|(h, _)| h.to_string()),
            service: self.get("service").map(|(s, _)| s.as_bytes().to_vec()),
            delay: self.number("delay", 0, 60_000)?,
            family,
            window: self.number("window", 0, u32::MAX.into())?,
            check: self.number("check", 1, 65535)?.map(|p| p as u16),
            check_timeout: self.number("check_timeout", 1, 600_000)?,
            retries: self.number("retries", 0, 100)?,
            raw_flags: tcpflags.or(raw.and_then(|r| r.then_some(rawtcp::SYN))),
            token_port: self.number("token_port", 1, 65535)?.map(|p| p as u16),
        })
    }
}

/// A profile's knock options (`None`: not in the profile).
pub struct Prefs {
    pub host: Option<String>,
    pub service: Option<Vec<u8>>,
    pub delay: Option<u64>,
    pub family: Option<Family>,
    pub window: Option<u64>,
    pub check: Option<u16>,
    pub check_timeout: Option<u64>,
    pub retries: Option<u64>,
    pub raw_flags: Option<u8>,
    /// Send the period's token to this UDP port instead of the sequence.
    pub token_port: Option<u16>,
}
