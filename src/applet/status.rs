//! `status`: the current period and whether knockd.conf holds the current
//! sequences, per door with its period and fingerprint; with a profile, the
//! profile's period. No sequence or secret is printed.

use std::path::PathBuf;

use lexopt::prelude::*;

use super::fingerprint::fingerprint;
use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::client::profile::Choice;
use crate::clock;
use crate::error::{Error, Result};
use crate::json;
use crate::server::backend::Kind;
use crate::server::doors::DoorsFile;
use crate::server::knockd::door_state::{Held, held};
use crate::server::knockd::rotation::{self, DEFAULT_CONFIG, DoorPlan};

pub const APPLET: Applet = Applet {
    name: "status",
    link: None,
    summary: "show the period and whether knockd.conf holds the current sequences",
    usage: USAGE,
    main: |ctx, p| super::drive(ctx, p, USAGE, parse, run),
};

const USAGE: &str = "\
Usage: knock-rotator status [OPTIONS]
       knock-rotator status -p PROFILE

Show the current period, the time to the next boundary, and for each
rotator door of knockd.conf its period, its settings' fingerprint and
whether it holds the current sequence. Exits 1 when a door does not.
With a profile, show that profile's period and fingerprint. No sequence
or secret is ever shown.

Options:
      --backend NAME     knockd (the default) or nftables: the live table's
                         view of the doors file's doors
  -c, --config PATH      knockd's configuration (default /etc/knockd.conf)
      --doors-file PATH  per-door settings (default /etc/knock-rotator/doors)
  -p, --profile NAME     a client profile instead of knockd.conf
      --config-file PATH the profiles (default ~/.config/knock-rotator/config)
      --at UNIX_SECONDS  as if the clock showed this time
      --json             one JSON object, for monitoring (schema in
                         knock-rotate(8)); exit status as without it
  -h, --help             show this help
  -V, --version          show the version
";

struct Options {
    backend: Option<Kind>,
    config: PathBuf,
    doors_file: Option<PathBuf>,
    profile: Choice,
    at: Option<u64>,
    json: bool,
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Options>> {
    let mut o = Options {
        backend: None,
        config: DEFAULT_CONFIG.into(),
        doors_file: None,
        profile: Choice::default(),
        at: None,
        json: false,
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("backend") => {
                o.backend = Some(Kind::parse("--backend", &cli::text(p, "--backend")?)?)
            }
            Short('c') | Long("config") => o.config = cli::path(p)?,
            Long("doors-file") => o.doors_file = Some(cli::path(p)?),
            Short('p') | Long("profile") => o.profile.name = Some(cli::text(p, "--profile")?),
            Long("config-file") => o.profile.file = Some(cli::path(p)?),
            Long("at") => o.at = Some(cli::unix_time(p, "--at")?),
            Long("json") => o.json = true,
            arg => return Err(arg.unexpected().into()),
        }
    }
    Ok(Parsed::Run(o))
}

fn run(ctx: &Ctx, o: Options) -> Result<()> {
    let now = clock::now_or(o.at)?;
    if o.profile.name.is_some() || o.profile.file.is_some() {
        return profile_status(ctx, &o.profile, now, o.json);
    }
    let doors_file = DoorsFile::new(&ctx.env, o.doors_file);
    let backend = match o.backend {
        Some(b) => b,
        None => Kind::from_env(&ctx.env)?,
    };
    if backend == Kind::Nftables {
        return super::status_nftables::run(ctx, &doors_file, now, o.json);
    }
    let env = doors_file.env_settings(&ctx.env)?;
    let doors = doors_file.load(&env)?;
    let loaded = rotation::load(&o.config)?;
    let current = rotation::plan(&doors, &loaded, now, 0)?;
    let previous = rotation::plan(&doors, &loaded, now, -1).ok();
    let next = rotation::plan(&doors, &loaded, now, 1).ok();
    let rows: Vec<Row> = current
        .doors
        .iter()
        .map(|d| Row {
            door: d,
            held: held(d, &previous, &next),
            fingerprint: doors.for_door(&d.name).ok().map(fingerprint),
            source: doors.source(&d.name),
        })
        .collect();
    let stale = rows.iter().filter(|r| r.held.stale()).count();
    let refused = rows.iter().filter(|r| r.held == Held::Refused).count();
    let names: Vec<&[u8]> = current.doors.iter().map(|d| &d.name[..]).collect();
    let warnings = doors.unmatched(&names);
    let config = o.config.as_os_str().as_encoded_bytes();
    if o.json {
        let ok = stale == 0 && refused == 0;
        cli::out(&status_json(now, config, ok, &rows, &warnings))?;
    } else {
        let mut out = String::new();
        if let (Some(start), Some(d)) = (current.period_start(), current.doors.first()) {
            out.push_str(&period_lines(d.period, start, now));
        }
        out.push_str(&format!("{}:\n", o.config.display()));
        for r in &rows {
            out.push_str(&door_lines(r, now));
        }
        for w in &warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        cli::out(&out)?;
    }
    verdict(stale, refused)
}

fn period_lines(period: u64, start: u64, now: u64) -> String {
    let end = start + period;
    format!(
        "period: {period} s, current one started {}\nnext boundary: {} (in {})\n",
        clock::utc(start),
        clock::utc(end),
        clock::span(end - now),
    )
}

/// One rotator door of knockd.conf, as `status` reports it.
struct Row<'a> {
    door: &'a DoorPlan,
    held: Held,
    /// `None` when the door's settings are in error.
    fingerprint: Option<String>,
    source: String,
}

/// The door's state line, then its period, fingerprint and settings' source.
fn door_lines(r: &Row, now: u64) -> String {
    let d = r.door;
    let name = String::from_utf8_lossy(&d.name);
    let mut out = format!("  [{name}] (line {}): {}\n", d.line, r.held.text());
    if let Some(fp) = &r.fingerprint {
        let end = d.period_start + d.period;
        out.push_str(&format!(
            "    period {} s, next boundary {} (in {}), fingerprint {fp}, settings from {}\n",
            d.period,
            clock::utc(end),
            clock::span(end - now),
            r.source
        ));
    }
    out
}

/// `status --json`: schema 1, documented in knock-rotate(8) (STATUS).
fn status_json(now: u64, config: &[u8], ok: bool, rows: &[Row], warnings: &[String]) -> String {
    let doors: Vec<String> = rows
        .iter()
        .map(|r| {
            let d = r.door;
            format!(
                "{{\"name\":{},\"line\":{},\"holds\":\"{}\",\"period\":{},\"period_start\":{},\
                 \"next_boundary\":{},\"fingerprint\":{},\"settings_from\":{}}}",
                json::string(&d.name),
                d.line,
                r.held.key(),
                d.period,
                d.period_start,
                d.period_start + d.period,
                json::opt_string(r.fingerprint.as_deref().map(str::as_bytes)),
                json::string(r.source.as_bytes()),
            )
        })
        .collect();
    let warnings: Vec<String> = warnings
        .iter()
        .map(|w| json::string(w.as_bytes()))
        .collect();
    format!(
        "{{\"schema\":1,\"now\":{now},\"config\":{},\"ok\":{ok},\"doors\":[{}],\"warnings\":[{}]}}\n",
        json::string(config),
        doors.join(","),
        warnings.join(",")
    )
}

fn verdict(stale: usize, refused: usize) -> Result<()> {
    let doors = |n| if n == 1 { "door is" } else { "doors are" };
    if refused > 0 {
        let also = match stale {
            0 => String::new(),
            n => format!("; {n} {} not current", doors(n)),
        };
        return Err(Error::failure(format!(
            "{refused} rotator {} refused for this period (its sequence draws port 65536; \
             see 'knock-rotator generate'){also}",
            doors(refused)
        )));
    }
    if stale > 0 {
        return Err(Error::failure(format!(
            "{stale} rotator {} not current; run 'knock-rotator rotate'",
            doors(stale)
        )));
    }
    Ok(())
}

/// `status -p NAME`: the profile's period and fingerprint.
fn profile_status(ctx: &Ctx, choice: &Choice, now: u64, json: bool) -> Result<()> {
    let (s, profile) = choice.settings(&ctx.env)?;
    let start = now / s.period * s.period;
    let fp = fingerprint(&s);
    if json {
        let name = profile.as_ref().map(|p| p.name.as_bytes());
        let file = profile
            .as_ref()
            .map(|p| p.file.path.as_os_str().as_encoded_bytes());
        return cli::out(&format!(
            "{{\"schema\":1,\"now\":{now},\"profile\":{},\"file\":{},\"period\":{},\
             \"period_start\":{start},\"next_boundary\":{},\"fingerprint\":\"{fp}\"}}\n",
            json::opt_string(name),
            json::opt_string(file),
            s.period,
            start + s.period,
        ));
    }
    let mut out = String::new();
    if let Some(p) = &profile {
        out.push_str(&format!(
            "profile [{}] of {}\n",
            p.name,
            p.file.path.display()
        ));
    }
    out.push_str(&period_lines(s.period, start, now));
    out.push_str(&format!("fingerprint {fp}\n"));
    cli::out(&out)
}
