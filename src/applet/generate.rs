//! `generate SERVICE`: print the current sequence, exactly as the original.

use std::os::unix::ffi::OsStringExt;

use lexopt::prelude::*;

use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::client::profile::Choice;
use crate::clock;
use crate::derive::{self, rotator_name, token};
use crate::error::{Error, Result, quote};

pub const APPLET: Applet = Applet {
    name: "generate",
    link: None,
    summary: "print the current knock sequence for SERVICE",
    usage: USAGE,
    main: |ctx, p| super::drive(ctx, p, USAGE, parse, run),
};

const USAGE: &str = "\
Usage: knock-rotator generate [OPTIONS] SERVICE
       knock-rotator generate -p PROFILE [SERVICE]

Print the knock sequence of SERVICE for the current period, as
'port:proto' items joined by spaces. '_ROTATOR' is appended to SERVICE
unless it already ends with it.

Options:
  -p, --profile NAME   settings (and SERVICE) from profile NAME
  --config-file PATH   the profiles (default ~/.config/knock-rotator/config)
  --offset N         N periods later (negative: earlier); default 0
  --at UNIX_SECONDS  compute as if the clock showed this time
  --format FORMAT    'plain' (default, space-separated), 'knockd'
                     (comma-separated, for a knockd.conf sequence line) or
                     'token' (the single-packet knock's 16 bytes, in hex)
  -h, --help         show this help
  -V, --version      show the version

Without a profile, settings come from the environment: KNOCKD_ROTATOR_SECRET (or
KNOCKD_ROTATOR_SECRET_FILE), KNOCKD_ROTATOR_LENGTH,
KNOCKD_ROTATOR_PERIOD_MODULO, KNOCKD_ROTATOR_PROTO_MODULO,
KNOCKD_ROTATOR_PORTS. See knock-rotator(1).
";

#[derive(Clone, Copy)]
enum Format {
    Plain,
    Knockd,
    Token,
}

struct Options {
    profile: Choice,
    service: Option<Vec<u8>>,
    offset: i64,
    at: Option<u64>,
    format: Format,
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Options>> {
    let mut service: Option<Vec<u8>> = None;
    let mut offset = 0i64;
    let mut at = None;
    let mut format = Format::Plain;
    let mut profile = Choice::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Short('p') | Long("profile") => profile.name = Some(cli::text(p, "--profile")?),
            Long("config-file") => profile.file = Some(cli::path(p)?),
            Long("offset") => offset = cli::offset(p, "--offset")?,
            Long("at") => at = Some(cli::unix_time(p, "--at")?),
            Long("format") => {
                format = match cli::text(p, "--format")?.as_str() {
                    "plain" => Format::Plain,
                    "knockd" => Format::Knockd,
                    "token" => Format::Token,
                    other => {
                        return Err(Error::usage(format!(
                            "--format: {} is not 'plain', 'knockd' or 'token'",
                            quote(other)
                        )));
                    }
                }
            }
            Value(v) if service.is_none() => service = Some(v.into_vec()),
            arg => return Err(arg.unexpected().into()),
        }
    }
    match &service {
        Some(s) if s.is_empty() => return Err(Error::usage("SERVICE is empty")),
        None if profile.name.is_none() => return Err(Error::arg("missing SERVICE")),
        _ => {}
    }
    Ok(Parsed::Run(Options {
        profile,
        service,
        offset,
        at,
        format,
    }))
}

fn run(ctx: &Ctx, o: Options) -> Result<()> {
    let (settings, profile) = o.profile.settings(&ctx.env)?;
    let service = match (o.service, &profile) {
        (Some(s), _) => s,
        (None, Some(p)) => p.prefs()?.service.ok_or_else(|| {
            Error::usage(format!(
                "{}: profile [{}] has no service; give SERVICE",
                p.file.path.display(),
                p.name
            ))
        })?,
        (None, None) => return Err(Error::arg("missing SERVICE")),
    };
    let start = derive::period_start(clock::now_or(o.at)?, settings.period, o.offset)
        .ok_or_else(|| cli::offset_out_of_range(o.offset))?;
    let name = rotator_name(&service);
    let sep = match o.format {
        Format::Plain => " ",
        Format::Knockd => ",",
        Format::Token => {
            return cli::out(&(token::hex(&settings.token_key().token(start, &name)) + "\n"));
        }
    };
    let seq = settings.derive(start, &name)?;
    cli::out(&(derive::join(&seq, sep) + "\n"))
}
