//! `generate SERVICE`: print the current sequence, exactly as the original.

use std::os::unix::ffi::OsStringExt;

use lexopt::prelude::*;

use super::{Applet, Ctx};
use crate::cli;
use crate::clock;
use crate::error::{Error, Result, quote};
use crate::sequence::{self, rotator_name};
use crate::settings::Settings;

pub const APPLET: Applet = Applet {
    name: "generate",
    link: None,
    summary: "print the current knock sequence for SERVICE",
    usage: USAGE,
    run,
};

const USAGE: &str = "\
Usage: knock-rotator generate [OPTIONS] SERVICE

Print the knock sequence of SERVICE for the current period, as
'port:proto' items joined by spaces. '_ROTATOR' is appended to SERVICE
unless it already ends with it.

Options:
  --offset N         N periods later (negative: earlier); default 0
  --at UNIX_SECONDS  compute as if the clock showed this time
  --format FORMAT    'plain' (default, space-separated) or 'knockd'
                     (comma-separated, for a knockd.conf sequence line)
  -h, --help         show this help

Settings come from the environment: KNOCKD_ROTATOR_SECRET (or
KNOCKD_ROTATOR_SECRET_FILE), KNOCKD_ROTATOR_LENGTH,
KNOCKD_ROTATOR_PERIOD_MODULO, KNOCKD_ROTATOR_PROTO_MODULO,
KNOCKD_ROTATOR_PORTS. See knock-rotator(1).
";

#[derive(Clone, Copy)]
enum Format {
    Plain,
    Knockd,
}

fn run(ctx: &Ctx, mut p: lexopt::Parser) -> Result<()> {
    let mut service: Option<Vec<u8>> = None;
    let mut offset = 0i64;
    let mut at = None;
    let mut format = Format::Plain;
    let err = |e| cli::arg_error(&ctx.prog, e);
    while let Some(arg) = p.next().map_err(err)? {
        match arg {
            Short('h') | Long("help") => return cli::out(USAGE),
            Long("offset") => offset = cli::offset("--offset", p.value().map_err(err)?)?,
            Long("at") => at = Some(cli::unix_time("--at", p.value().map_err(err)?)?),
            Long("format") => {
                format = match cli::text("--format", p.value().map_err(err)?)?.as_str() {
                    "plain" => Format::Plain,
                    "knockd" => Format::Knockd,
                    other => {
                        return Err(Error::usage(format!(
                            "--format: {} is neither 'plain' nor 'knockd'",
                            quote(other)
                        )));
                    }
                }
            }
            Value(v) if service.is_none() => service = Some(v.into_vec()),
            arg => return Err(err(arg.unexpected())),
        }
    }
    let service = match service {
        Some(s) if !s.is_empty() => s,
        Some(_) => return Err(Error::usage("SERVICE is empty")),
        None => {
            return Err(Error::usage(format!(
                "missing SERVICE (see '{} --help')",
                ctx.prog
            )));
        }
    };
    let settings = Settings::load(&ctx.env)?;
    let start = sequence::period_start(clock::now_or(at)?, settings.period, offset)?;
    let seq = sequence::derive(&settings, start, &rotator_name(&service));
    let sep = match format {
        Format::Plain => " ",
        Format::Knockd => ",",
    };
    cli::out(&(sequence::join(&seq, sep) + "\n"))
}
