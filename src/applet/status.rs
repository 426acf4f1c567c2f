//! `status`: the current period and whether knockd.conf holds the current
//! sequences; no sequence or secret is printed.

use std::path::PathBuf;

use lexopt::prelude::*;

use super::{Applet, Ctx};
use crate::error::{Error, Result};
use crate::rotation;
use crate::settings::Settings;
use crate::{cli, clock};

pub const APPLET: Applet = Applet {
    name: "status",
    link: None,
    summary: "show the period and whether knockd.conf holds the current sequences",
    usage: USAGE,
    run,
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
";

fn run(ctx: &Ctx, mut p: lexopt::Parser) -> Result<()> {
    let mut config = PathBuf::from(super::rotate::DEFAULT_CONFIG);
    let mut at = None;
    let err = |e| cli::arg_error(&ctx.prog, e);
    while let Some(arg) = p.next().map_err(err)? {
        match arg {
            Short('h') | Long("help") => return cli::out(USAGE),
            Short('c') | Long("config") => config = p.value().map_err(err)?.into(),
            Long("at") => at = Some(cli::unix_time("--at", p.value().map_err(err)?)?),
            arg => return Err(err(arg.unexpected())),
        }
    }
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
    let mut stale = 0;
    for door in &current.doors {
        // `changed` means the file does not hold that period's sequence.
        let holds = |plan: &Option<rotation::Plan>| {
            plan.as_ref()
                .and_then(|p| p.doors.iter().find(|d| d.name == door.name))
                .is_some_and(|d| !d.changed)
        };
        let state = if !door.changed {
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
    if stale > 0 {
        return Err(Error::failure(format!(
            "{stale} rotator door{} not current; run 'knock-rotator rotate'",
            if stale == 1 { " is" } else { "s are" }
        )));
    }
    Ok(())
}
