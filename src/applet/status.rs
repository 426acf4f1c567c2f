//! `status`: the current period and whether knockd.conf holds the current
//! sequences; no sequence or secret is printed.

use std::path::PathBuf;

use lexopt::prelude::*;

use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::clock;
use crate::error::{Error, Result};
use crate::server::rotation::{self, DEFAULT_CONFIG};
use crate::settings::Settings;

pub const APPLET: Applet = Applet {
    name: "status",
    link: None,
    summary: "show the period and whether knockd.conf holds the current sequences",
    usage: USAGE,
    main: |ctx, p| super::drive(ctx, p, USAGE, parse, run),
};

const USAGE: &str = "\
Usage: knock-rotator status [OPTIONS]

Show the current period, the time to the next boundary, and for each
rotator door of knockd.conf whether it holds the current sequence. Exits 1
when a door does not.

Options:
  -c, --config PATH      knockd's configuration (default /etc/knockd.conf)
      --at UNIX_SECONDS  as if the clock showed this time
  -h, --help             show this help
  -V, --version          show the version
";

struct Options {
    config: PathBuf,
    at: Option<u64>,
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Options>> {
    let mut o = Options {
        config: DEFAULT_CONFIG.into(),
        at: None,
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Short('c') | Long("config") => o.config = cli::path(p)?,
            Long("at") => o.at = Some(cli::unix_time(p, "--at")?),
            arg => return Err(arg.unexpected().into()),
        }
    }
    Ok(Parsed::Run(o))
}

fn run(ctx: &Ctx, Options { config, at }: Options) -> Result<()> {
    let settings = Settings::load(&ctx.env)?;
    let now = clock::now_or(at)?;
    let loaded = rotation::load(&config)?;
    let current = rotation::plan(&settings, &loaded, now, 0)?;
    let previous = rotation::plan(&settings, &loaded, now, -1).ok();
    let next = rotation::plan(&settings, &loaded, now, 1).ok();
    let end = current.period_start + settings.period;
    let mut out = format!(
        "period: {} s, current one started {}\nnext boundary: {} (in {})\n{}:\n",
        settings.period,
        clock::utc(current.period_start),
        clock::utc(end),
        clock::span(end - now),
        config.display()
    );
    let (mut stale, mut refused) = (0, 0);
    for door in &current.doors {
        // `changed` means the file does not hold that period's sequence.
        let holds = |plan: &Option<rotation::Plan>| {
            plan.as_ref()
                .and_then(|p| p.doors.iter().find(|d| d.name == door.name))
                .is_some_and(|d| !d.changed && d.refused.is_none())
        };
        let state = if door.refused.is_some() {
            refused += 1;
            "refused: this period's sequence draws port 65536 (v3's list), which no packet \
             can carry; the door keeps an older sequence"
        } else if !door.changed {
            "current"
        } else if holds(&previous) {
            "stale: holds the previous period's sequence"
        } else if holds(&next) {
            "ahead: holds the next period's sequence"
        } else {
            "stale: holds none of this, the previous or the next period's sequences"
        };
        if door.changed {
            stale += 1;
        }
        out.push_str(&format!(
            "  [{}] (line {}): {state}\n",
            String::from_utf8_lossy(&door.name),
            door.line
        ));
    }
    cli::out(&out)?;
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
