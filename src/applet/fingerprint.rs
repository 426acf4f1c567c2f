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
Usage: knock-rotator fingerprint

Print a short fingerprint of the secret and of every setting that shapes
a sequence. Two devices with the same fingerprint compute the same
sequences; the secret itself is not shown (but, like an observed knock,
the fingerprint lets a guess of the secret be checked: use a long one).

Options:
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

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<()>> {
    match p.next()? {
        None => Ok(Parsed::Run(())),
        Some(Short('h') | Long("help")) => Ok(Parsed::Help),
        Some(Short('V') | Long("version")) => Ok(Parsed::Version),
        Some(arg) => Err(arg.unexpected().into()),
    }
}

fn run(ctx: &Ctx, (): ()) -> Result<()> {
    let s = Settings::load(&ctx.env)?;
    cli::out(&format!(
        "fingerprint {}\nsettings: algorithm {}, length {}, period {} s, proto modulo {}, ports {} ({:.0} bits a sequence)\n",
        fingerprint(&s),
        s.algorithm.name(),
        s.length,
        s.period,
        s.proto_modulo,
        s.ports.canonical(),
        s.bits()
    ))
}
