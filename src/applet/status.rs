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
use crate::server::doors::{Doors, DoorsFile};
use crate::server::rotation::{self, DEFAULT_CONFIG, DoorPlan, Plan};

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
With a profile, show that profile's period and fingerprint.

Options:
  -c, --config PATH      knockd's configuration (default /etc/knockd.conf)
      --doors-file PATH  per-door settings (default /etc/knock-rotator/doors)
  -p, --profile NAME     a client profile instead of knockd.conf
      --config-file PATH the profiles (default ~/.config/knock-rotator/config)
      --at UNIX_SECONDS  as if the clock showed this time
  -h, --help             show this help
  -V, --version          show the version
";

struct Options {
    config: PathBuf,
    doors_file: Option<PathBuf>,
    profile: Choice,
    at: Option<u64>,
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Options>> {
    let mut o = Options {
        config: DEFAULT_CONFIG.into(),
        doors_file: None,
        profile: Choice::default(),
        at: None,
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Short('c') | Long("config") => o.config = cli::path(p)?,
            Long("doors-file") => o.doors_file = Some(cli::path(p)?),
            Short('p') | Long("profile") => o.profile.name = Some(cli::text(p, "--profile")?),
            Long("config-file") => o.profile.file = Some(cli::path(p)?),
            Long("at") => o.at = Some(cli::unix_time(p, "--at")?),
            arg => return Err(arg.unexpected().into()),
        }
    }
    Ok(Parsed::Run(o))
}

fn run(ctx: &Ctx, o: Options) -> Result<()> {
    let now = clock::now_or(o.at)?;
    if o.profile.name.is_some() || o.profile.file.is_some() {
        return profile_status(ctx, &o.profile, now);
    }
    let doors_file = DoorsFile::new(&ctx.env, o.doors_file);
    let env = doors_file.env_settings(&ctx.env)?;
    let doors = doors_file.load(&env)?;
    let loaded = rotation::load(&o.config)?;
    let current = rotation::plan(&doors, &loaded, now, 0)?;
    let previous = rotation::plan(&doors, &loaded, now, -1).ok();
    let next = rotation::plan(&doors, &loaded, now, 1).ok();
    let mut out = String::new();
    if let (Some(start), Some(d)) = (current.period_start(), current.doors.first()) {
        out.push_str(&period_lines(d.period, start, now));
    }
    out.push_str(&format!("{}:\n", o.config.display()));
    let (mut stale, mut refused) = (0, 0);
    for door in &current.doors {
        let state = state(door, &previous, &next);
        refused += usize::from(door.refused.is_some());
        stale += usize::from(door.changed);
        out.push_str(&door_lines(door, state, &doors, now));
    }
    let names: Vec<&[u8]> = current.doors.iter().map(|d| &d.name[..]).collect();
    for w in doors.unmatched(&names) {
        out.push_str(&format!("warning: {w}\n"));
    }
    cli::out(&out)?;
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

/// Whether the door holds this period's sequence, or which other.
fn state(door: &DoorPlan, previous: &Option<Plan>, next: &Option<Plan>) -> &'static str {
    // `changed` means the file does not hold that period's sequence.
    let holds = |plan: &Option<Plan>| {
        plan.as_ref()
            .and_then(|p| p.doors.iter().find(|d| d.name == door.name))
            .is_some_and(|d| !d.changed && d.refused.is_none())
    };
    if door.refused.is_some() {
        "refused: this period's sequence draws port 65536 (v3's list), which no packet \
         can carry; the door keeps an older sequence"
    } else if !door.changed {
        "current"
    } else if holds(previous) {
        "stale: holds the previous period's sequence"
    } else if holds(next) {
        "ahead: holds the next period's sequence"
    } else {
        "stale: holds none of this, the previous or the next period's sequences"
    }
}

/// The door's state line, then its period, fingerprint and settings' source.
fn door_lines(door: &DoorPlan, state: &str, doors: &Doors, now: u64) -> String {
    let name = String::from_utf8_lossy(&door.name);
    let mut out = format!("  [{name}] (line {}): {state}\n", door.line);
    if let Ok(s) = doors.for_door(&door.name) {
        let end = door.period_start + door.period;
        out.push_str(&format!(
            "    period {} s, next boundary {} (in {}), fingerprint {}, settings from {}\n",
            door.period,
            clock::utc(end),
            clock::span(end - now),
            fingerprint(s),
            doors.source(&door.name)
        ));
    }
    out
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
fn profile_status(ctx: &Ctx, choice: &Choice, now: u64) -> Result<()> {
    let (s, profile) = choice.settings(&ctx.env)?;
    let start = now / s.period * s.period;
    let mut out = String::new();
    if let Some(p) = &profile {
        out.push_str(&format!(
            "profile [{}] of {}\n",
            p.name,
            p.file.path.display()
        ));
    }
    out.push_str(&period_lines(s.period, start, now));
    out.push_str(&format!("fingerprint {}\n", fingerprint(&s)));
    cli::out(&out)
}
