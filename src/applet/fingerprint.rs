//! `fingerprint`: a short keyed fingerprint of the secret and the settings,
//! so that two devices can check they share one configuration without
//! showing the secret.
//!
//! `key = BLAKE3-derive_key("knock-rotator 2026-11 fingerprint v1", secret)`,
//! `fp = BLAKE3-keyed(key, canonical settings)[0..8]`, shown as 4 groups of
//! 4 hex digits. Like one observed knock sequence, it lets someone test
//! guesses of the secret offline: use a long random secret.

use lexopt::prelude::*;

use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::client::profile::Choice;
use crate::error::Result;
use crate::settings::Settings;

pub const APPLET: Applet = Applet {
    name: "fingerprint",
    link: None,
    summary: "print a keyed fingerprint of the secret and settings, to compare devices",
    usage: USAGE,
    main: |ctx, p| super::drive(ctx, p, USAGE, parse, run),
};

const CONTEXT: &str = "knock-rotator 2026-11 fingerprint v1";

const USAGE: &str = "\
Usage: knock-rotator fingerprint [-p PROFILE]

Print a short fingerprint of the secret and of every setting that shapes
a sequence. Two devices with the same fingerprint compute the same
sequences; the secret itself is not shown (but, like an observed knock,
the fingerprint lets a guess of the secret be checked: use a long one).
On a server, 'status' shows each door's fingerprint.

Options:
  -p, --profile NAME   the settings of profile NAME, not the environment's
  --config-file PATH   the profiles (default ~/.config/knock-rotator/config)
  -h, --help     show this help
  -V, --version  show the version
";

/// The settings that shape a sequence, one canonical line each.
pub fn canonical(s: &Settings) -> String {
    format!(
        "algorithm={}\nlength={}\nperiod={}\nproto_modulo={}\nports={}\n",
        s.algorithm.name(),
        s.length,
        s.period,
        s.proto_modulo,
        s.ports.canonical()
    )
}

pub fn fingerprint(s: &Settings) -> String {
    let mut key = blake3::derive_key(CONTEXT, s.secret.expose());
    let hash = blake3::keyed_hash(&key, canonical(s).as_bytes());
    crate::secret::wipe(&mut key);
    let b = hash.as_bytes();
    format!(
        "{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
    )
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Choice>> {
    let mut profile = Choice::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Short('p') | Long("profile") => profile.name = Some(cli::text(p, "--profile")?),
            Long("config-file") => profile.file = Some(cli::path(p)?),
            arg => return Err(arg.unexpected().into()),
        }
    }
    Ok(Parsed::Run(profile))
}

fn run(ctx: &Ctx, profile: Choice) -> Result<()> {
    let (s, _) = profile.settings(&ctx.env)?;
    cli::out(&format!(
        "fingerprint {}\nsettings: algorithm {}, length {}, period {} s, proto modulo {}, ports {} ({} bits a sequence)\n",
        fingerprint(&s),
        s.algorithm.name(),
        s.length,
        s.period,
        s.proto_modulo,
        s.ports.canonical(),
        crate::number::rounded(s.bits(), false)
    ))
}
