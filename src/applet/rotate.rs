//! `rotate`: rewrite the sequences of knockd's `[*_ROTATOR]` doors and make
//! knockd re-read them, once (for a timer) or at every boundary (`--watch`).
//! The work itself is the server side's (src/server/).

use std::io::IsTerminal;
use std::path::PathBuf;

use lexopt::prelude::*;

use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::clock;
use crate::error::{Error, Result};
use crate::server::backend::{Backend, Kind};
use crate::server::boundary::boundary_run;
use crate::server::doors::DoorsFile;
use crate::server::knockd::diff::diff;
use crate::server::knockd::job::Job;
use crate::server::knockd::reload::Choice;
use crate::server::knockd::rotation::{self, DEFAULT_CONFIG};
use crate::server::nftables::job as nft_job;
use crate::server::nftables::{door, nft};
use crate::server::watch::{info, set_quiet, watch};
use crate::settings::Settings;

pub const APPLET: Applet = Applet {
    name: "rotate",
    link: Some("knock-rotate"),
    summary: "rewrite the sequences of knockd's [*_ROTATOR] doors and reload it",
    usage: USAGE,
    main: |ctx, p| super::drive(ctx, p, USAGE, parse, run),
};

const USAGE: &str = "\
Usage: knock-rotator rotate [OPTIONS]
       knock-rotate [OPTIONS]

Rewrite the 'sequence' lines of every knockd door whose name ends in
_ROTATOR with the current period's sequence, changing nothing else in the
file, and make knockd re-read it (SIGHUP: pending stop_commands survive).
A file knockd would refuse is refused, with its line, and left untouched.

Options:
  -c, --config PATH       knockd's configuration (default /etc/knockd.conf)
      --doors-file PATH   per-door settings (default /etc/knock-rotator/doors,
                          if it exists); doors not in it use the environment
  -n, --dry-run           show what would change (a diff) and touch nothing
      --show-sequences    show sequences in --dry-run output (default: only
                          on a terminal)
      --at UNIX_SECONDS   rotate for the period holding this time
      --backend NAME      knockd (the default) or nftables: the kernel matches
                          the doors file's doors, no daemon (knock-rotate(8))
      --remove            nftables: delete our table, leave the rest alone
      --pidfile PATH      knockd's pid file (default: its PidFile option,
                          else /var/run/knockd.pid)
      --reload-command CMD  reload with this shell command instead
      --no-reload         write the file only
  -w, --watch             keep running: rotate now and within a second of
                          every period boundary; stop on SIGTERM
      --no-boundary-run   one-shot mode: do not stay behind to rotate again
                          at a boundary due before the next timer run
  -q, --quiet             print only warnings and errors (for cron and timers)
  -h, --help              show this help

Settings come from the doors file for the doors it lists, else from the
environment, as for 'generate'; see knock-rotate(8).
";

struct Options {
    job: Job,
    backend: Option<Kind>,
    /// The first knockd-only option given (refused with nftables).
    knockd_only: Option<&'static str>,
    remove: bool,
    doors_file: Option<PathBuf>,
    dry_run: bool,
    show: bool,
    at: Option<u64>,
    watch: bool,
    boundary_run: bool,
    quiet: bool,
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Options>> {
    let mut o = Options {
        job: Job {
            config: DEFAULT_CONFIG.into(),
            pidfile: None,
            reload: Choice::Auto,
            doors: DoorsFile::default(),
        },
        backend: None,
        knockd_only: None,
        remove: false,
        doors_file: None,
        dry_run: false,
        show: false,
        at: None,
        watch: false,
        boundary_run: true,
        quiet: false,
    };
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("backend") => {
                o.backend = Some(Kind::parse("--backend", &cli::text(p, "--backend")?)?)
            }
            Long("remove") => o.remove = true,
            Short('c') | Long("config") => {
                o.knockd_only.get_or_insert("--config");
                o.job.config = cli::path(p)?
            }
            Long("doors-file") => o.doors_file = Some(cli::path(p)?),
            Short('n') | Long("dry-run") => o.dry_run = true,
            Long("show-sequences") => o.show = true,
            Long("at") => o.at = Some(cli::unix_time(p, "--at")?),
            Long("pidfile") => {
                o.knockd_only.get_or_insert("--pidfile");
                o.job.pidfile = Some(cli::path(p)?)
            }
            Long("reload-command") => {
                let cmd = cli::text(p, "--reload-command")?;
                if cmd.trim().is_empty() {
                    return Err(Error::usage("--reload-command is empty"));
                }
                o.knockd_only.get_or_insert("--reload-command");
                o.job.reload = Choice::Command(cmd);
            }
            Long("no-reload") => {
                o.knockd_only.get_or_insert("--no-reload");
                o.job.reload = Choice::Off
            }
            Short('w') | Long("watch") => o.watch = true,
            Long("no-boundary-run") => o.boundary_run = false,
            Short('q') | Long("quiet") => o.quiet = true,
            arg => return Err(arg.unexpected().into()),
        }
    }
    if o.remove && (o.watch || o.dry_run || o.at.is_some()) {
        return Err(Error::usage(
            "--remove removes the table and does nothing else: drop --watch, --dry-run and --at",
        ));
    }
    if o.watch && (o.dry_run || o.at.is_some()) {
        return Err(Error::usage(
            "--watch rotates at real boundaries: drop --dry-run and --at",
        ));
    }
    Ok(Parsed::Run(o))
}

fn run(ctx: &Ctx, mut o: Options) -> Result<()> {
    o.job.doors = DoorsFile::new(&ctx.env, o.doors_file.take());
    set_quiet(o.quiet);
    let backend = match o.backend {
        Some(b) => b,
        None => Kind::from_env(&ctx.env)?,
    };
    if backend == Kind::Nftables {
        return run_nftables(ctx, o);
    }
    if o.remove {
        return Err(Error::usage(
            "--remove is for the nftables backend (knockd's doors live in knockd.conf)",
        ));
    }
    let env = o.job.doors.env_settings(&ctx.env)?;
    if o.dry_run {
        let loaded = rotation::load(&o.job.config)?;
        let doors = o.job.doors.load(&env)?;
        let plan = rotation::plan(&doors, &loaded, clock::now_or(o.at)?, 0)?;
        let show = o.show || std::io::stdout().is_terminal();
        if plan.doors.iter().any(|d| d.refused.is_none()) {
            cli::out(&diff(&loaded, &plan, show))?;
        }
        return plan.refusal().map_or(Ok(()), Err);
    }
    if o.watch {
        return watch(&env, &o.job);
    }
    let done = o.job.once(&env, o.at)?;
    for w in &done.warnings {
        crate::cli::err(&format!("{}: warning: {w}\n", ctx.prog));
    }
    for line in &done.lines {
        info(line);
    }
    if o.boundary_run && o.at.is_none() {
        let interval = ctx.env.server_interval()?;
        boundary_run(&ctx.prog, interval, &env, &done.periods, &o.job, done.at)?;
    }
    done.refused.map_or(Ok(()), Err)
}

/// `rotate --backend nftables`: the doors file's doors, in the kernel.
fn run_nftables(ctx: &Ctx, o: Options) -> Result<()> {
    if let Some(flag) = o.knockd_only {
        return Err(Error::usage(format!(
            "{flag} is for the knockd backend; the nftables backend has no knockd.conf"
        )));
    }
    // Every door is listed with its own settings; the environment's are
    // only a fallback the doors file never needs.
    let env = Settings::load(&ctx.env);
    let doors = o.job.doors.clone();
    if o.dry_run {
        let loaded = doors.load(&env)?;
        let list = door::doors(&loaded)?;
        let show = o.show || std::io::stdout().is_terminal();
        let (rs, refused) = nft_job::display(&list, clock::now_or(o.at)?, show);
        cli::out(&rs.text)?;
        return refused.map_or(Ok(()), Err);
    }
    let job = nft_job::Job {
        doors,
        nft: nft::find(&ctx.env)?,
        include: nft_job::include_path(),
    };
    if o.remove {
        info(&job.remove()?);
        return Ok(());
    }
    if o.watch {
        return watch(&env, &job);
    }
    let done = job.once(&env, o.at)?;
    for line in &done.lines {
        info(line);
    }
    if o.boundary_run && o.at.is_none() {
        let interval = ctx.env.server_interval()?;
        boundary_run(&ctx.prog, interval, &env, &done.periods, &job, done.at)?;
    }
    done.refused.map_or(Ok(()), Err)
}
