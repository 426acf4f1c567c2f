//! `config`: the effective settings of a profile, of a server door or of
//! the environment, with where each value came from. Never the secret.

use std::path::PathBuf;

use lexopt::prelude::*;

use super::fingerprint::fingerprint;
use super::knock::{DEFAULT_CHECK_TIMEOUT_MS, DEFAULT_DELAY_MS, DEFAULT_RETRIES};
use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::client::profile::{Choice, KNOCK_KEYS, Profile};
use crate::client::schedule::DEFAULT_WINDOW;
use crate::derive::rotator_name;
use crate::error::{Error, Result, quote};
use crate::origin::Origin;
use crate::server::doors::DoorsFile;
use crate::settings::Settings;

pub const APPLET: Applet = Applet {
    name: "config",
    link: None,
    summary: "show the effective settings and where each came from",
    usage: USAGE,
    main: |ctx, p| super::drive(ctx, p, USAGE, parse, run),
};

const USAGE: &str = "\
Usage: knock-rotator config [-p PROFILE] [--config-file PATH]
       knock-rotator config --door DOOR [--doors-file PATH]

Show the settings that 'generate' and 'knock' use (with a profile: that
profile's), or that 'rotate' uses for DOOR, one per line with where each
value came from: the environment, a file's line, or the
default. The secret is never shown, only where it is.

Options:
  -p, --profile NAME     a client profile
      --config-file PATH the profiles (default ~/.config/knock-rotator/config)
      --door NAME        a rotator door of the server ('_ROTATOR' optional)
      --doors-file PATH  per-door settings (default /etc/knock-rotator/doors)
  -h, --help             show this help
  -V, --version          show the version
";

#[derive(Default)]
struct Options {
    profile: Choice,
    door: Option<String>,
    doors_file: Option<PathBuf>,
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Options>> {
    let mut o = Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Short('p') | Long("profile") => o.profile.name = Some(cli::text(p, "--profile")?),
            Long("config-file") => o.profile.file = Some(cli::path(p)?),
            Long("door") => o.door = Some(cli::text(p, "--door")?),
            Long("doors-file") => o.doors_file = Some(cli::path(p)?),
            arg => return Err(arg.unexpected().into()),
        }
    }
    if o.door.is_some() && o.profile.name.is_some() {
        return Err(Error::arg("give --profile or --door, not both"));
    }
    Ok(Parsed::Run(o))
}

fn run(ctx: &Ctx, o: Options) -> Result<()> {
    let mut out = String::new();
    if let Some(door) = &o.door {
        let doors_file = DoorsFile::new(&ctx.env, o.doors_file);
        let env = doors_file.env_settings(&ctx.env)?;
        let doors = doors_file.load(&env)?;
        let name = rotator_name(door.as_bytes());
        let s = doors.for_door(&name)?;
        out.push_str(&format!(
            "door {}: settings from {}\n",
            quote(&name),
            doors.source(&name)
        ));
        out.push_str(&settings_rows(s));
        return cli::out(&out);
    }
    let (s, profile) = o.profile.settings(&ctx.env)?;
    if let Some(p) = &profile {
        out.push_str(&format!(
            "profile [{}] of {}\n",
            p.name,
            p.file.path.display()
        ));
    } else {
        out.push_str("settings from the environment (no profile named)\n");
    }
    out.push_str(&settings_rows(&s));
    if let Some(p) = &profile {
        out.push_str(&knock_rows(p));
        if !p.ignored_env.is_empty() {
            out.push_str(&format!(
                "note: the environment sets {}, which a profile does not read\n",
                p.ignored_env.join(", ")
            ));
        }
    }
    cli::out(&out)
}

fn row(key: &str, value: &str, origin: &Origin) -> String {
    format!("  {key:<14}{value:<24}{}\n", origin.describe())
}

/// What shapes the sequence, and the fingerprint.
fn settings_rows(s: &Settings) -> String {
    let values = [
        ("algorithm", s.algorithm.name().to_string()),
        ("length", s.length.to_string()),
        ("period", s.period.to_string()),
        ("proto_modulo", s.proto_modulo.to_string()),
        ("ports", s.ports.canonical()),
        ("allow_weak", if s.allow_weak { "1" } else { "0" }.into()),
        ("secret", "(not shown)".into()),
    ];
    let mut out: String = values
        .iter()
        .map(|(k, v)| row(k, v, &s.origin(k)))
        .collect();
    out.push_str(&format!("  {:<14}{}\n", "fingerprint", fingerprint(s)));
    out
}

/// What a knock takes from the profile, or its default.
fn knock_rows(p: &Profile) -> String {
    let default = |key: &str| -> String {
        match key {
            "delay" => DEFAULT_DELAY_MS.to_string(),
            "family" => "any".into(),
            "window" => DEFAULT_WINDOW.to_string(),
            "check" => "(none)".into(),
            "check_timeout" => DEFAULT_CHECK_TIMEOUT_MS.to_string(),
            "retries" => DEFAULT_RETRIES.to_string(),
            "raw" => "no".into(),
            "tcpflags" => "syn".into(),
            _ => "(none)".into(),
        }
    };
    KNOCK_KEYS
        .iter()
        .map(|k| match p.get(k) {
            Some((v, origin)) => row(k, v, &origin),
            None => row(k, &default(k), &Origin::Default),
        })
        .collect()
}
