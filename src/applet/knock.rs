//! `knock HOST SERVICE`: send the current sequence (and, near a period
//! boundary, the neighbouring one); `knock HOST PORT[:PROTO]...`: the
//! classic knockd client's form.

use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use lexopt::prelude::*;

use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::client::plan::{Plan, Tries};
use crate::client::profile::{Choice, Profile};
use crate::client::resolve::{self, Family};
use crate::client::route::first_routable;
use crate::client::schedule::{port_spec, rotator_sequences};
use crate::client::{rawtcp, relay};
use crate::clock;
use crate::derive::Knock;
use crate::error::{Error, Result, quote};
use crate::settings::Settings;

pub const APPLET: Applet = Applet {
    name: "knock",
    link: Some("knock"),
    summary: "send the current sequence of SERVICE to HOST",
    usage: USAGE,
    main: |ctx, p| super::drive(ctx, p, USAGE, parse, run),
};

/// Default pause between knocks. 0 ms (knockd's `knock`) lets packets
/// overtake each other on multi-path links, VPNs and busy Wi-Fi, and a
/// reordered sequence fails; 10 ms keeps them in order on such paths and
/// still sends 10 knocks in about 0.1 s, far inside any seq_timeout.
pub const DEFAULT_DELAY_MS: u64 = 10;
pub const DEFAULT_CHECK_TIMEOUT_MS: u64 = 3000;
pub const DEFAULT_RETRIES: u64 = 2;

const USAGE: &str = "\
Usage: knock-rotator knock [OPTIONS] HOST SERVICE
       knock [OPTIONS] HOST SERVICE
       knock [OPTIONS] PROFILE
       knock [-u] [-d MS] [-4|-6] [-v] HOST PORT[:tcp|:udp]...

Send the current knock sequence of SERVICE ('_ROTATOR' appended unless
present) to HOST, a name or an address. With one argument, knock the host
and service of that profile of the config file. When every argument after
HOST is a port, the ports are knocked as given, like knockd's own 'knock'.

Options:
  -p, --profile NAME       knock profile NAME (same as a lone PROFILE)
      --config-file PATH   the profiles (default ~/.config/knock-rotator/config)
  -4, -6                   use IPv4 only / IPv6 only
  -d, --delay MS           pause between knocks (default 10)
  -v, --verbose            print each knock
  -u, --udp                classic form: ports without ':proto' are udp
      --offset N           knock the sequence N periods away (no window)
      --at UNIX_SECONDS    compute as if the clock showed this time
      --window SECONDS     within this many seconds of a period boundary,
                           also send the neighbouring period's sequence
                           (default 120, at most a quarter period; 0: never)
      --check PORT         after knocking, connect to PORT; knock again if
                           it stays closed; exit 1 if it never opens
      --check-timeout MS   how long each check waits (default 3000)
      --retries N          knocks again after a failed check (default 2)
      --proxy PORT         check PORT, then relay stdin/stdout over that
                           connection (ssh's ProxyCommand knock NAME
                           --proxy %p); notes go to stderr
      --fdpass             with --proxy: hand the socket to ssh instead
                           (ProxyUseFdpass yes)
      --token PORT         send SERVICE's token for this period as one UDP
                           datagram to PORT instead of the sequence (a door
                           of the nftables backend with token_port = PORT)
      --raw                send TCP knocks as raw segments (needs CAP_NET_RAW)
      --tcpflags FLAGS     flags of raw TCP knocks, knockd syntax (default
                           syn; e.g. fin or syn,ack); implies --raw
  -h, --help               show this help
  -V, --version            show the version

Settings come from the profile, or else from the environment, as for
'generate'; options override the profile. See knock-rotator(1).
";

/// The command line; the knock's options stay `None` unless given, so that
/// a profile can fill them (see [`Options::with_profile`]).
#[derive(Default)]
struct Options {
    profile: Choice,
    family: Option<Family>,
    delay: Option<u64>,
    verbose: bool,
    udp_default: bool,
    offset: Option<i64>,
    at: Option<u64>,
    window: Option<u64>,
    check: Option<u16>,
    check_timeout: Option<u64>,
    retries: Option<u64>,
    raw_flags: Option<u8>,
    proxy: Option<u16>,
    fdpass: bool,
    token: Option<u16>,
    positional: Vec<Vec<u8>>,
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Options>> {
    let mut o = Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Short('p') | Long("profile") => o.profile.name = Some(cli::text(p, "--profile")?),
            Long("config-file") => o.profile.file = Some(cli::path(p)?),
            Short('4') => o.family = Some(Family::V4),
            Short('6') => o.family = Some(Family::V6),
            Short('v') | Long("verbose") => o.verbose = true,
            Short('u') | Long("udp") => o.udp_default = true,
            Short('d') | Long("delay") => o.delay = Some(cli::number(p, "--delay", 0, 60_000)?),
            Long("offset") => o.offset = Some(cli::offset(p, "--offset")?),
            Long("at") => o.at = Some(cli::unix_time(p, "--at")?),
            Long("window") => o.window = Some(cli::number(p, "--window", 0, u32::MAX.into())?),
            Long("check") => o.check = Some(cli::number(p, "--check", 1, 65535)? as u16),
            Long("check-timeout") => {
                o.check_timeout = Some(cli::number(p, "--check-timeout", 1, 600_000)?)
            }
            Long("retries") => o.retries = Some(cli::number(p, "--retries", 0, 100)?),
            Long("proxy") => o.proxy = Some(cli::number(p, "--proxy", 1, 65535)? as u16),
            Long("fdpass") => o.fdpass = true,
            Long("token") => o.token = Some(cli::number(p, "--token", 1, 65535)? as u16),
            Long("raw") => o.raw_flags = o.raw_flags.or(Some(rawtcp::SYN)),
            Long("tcpflags") => {
                let text = cli::text(p, "--tcpflags")?;
                o.raw_flags = Some(rawtcp::parse_flags("--tcpflags", &text)?);
            }
            Value(v) => o.positional.push(v.as_bytes().to_vec()),
            arg => return Err(arg.unexpected().into()),
        }
    }
    if o.fdpass && o.proxy.is_none() {
        return Err(Error::arg("--fdpass needs --proxy PORT"));
    }
    // `knock NAME`: a lone argument is a profile.
    if o.profile.name.is_none() && o.positional.len() == 1 {
        let name = o.positional.pop().unwrap_or_default();
        let name = String::from_utf8(name).map_err(|e| {
            Error::usage(format!(
                "PROFILE {} is not valid UTF-8",
                quote(e.as_bytes())
            ))
        })?;
        o.profile.name = Some(name);
        o.profile.hint = "a lone argument names a PROFILE; else give HOST and SERVICE (or PORTs)";
    } else if o.profile.name.is_none() && o.profile.file.is_some() {
        return Err(Error::arg("--config-file needs --profile NAME"));
    } else if o.profile.name.is_some() && !o.positional.is_empty() {
        return Err(Error::arg(format!(
            "unexpected argument {}: a profile names its host and service",
            quote(&o.positional[0])
        )));
    }
    Ok(Parsed::Run(o))
}

impl Options {
    /// Fill what the command line left unset from the profile, and take
    /// its host and service.
    fn with_profile(mut self, profile: &Profile) -> Result<Options> {
        let p = profile.prefs()?;
        let missing = |key: &str| {
            Error::usage(format!(
                "{}: profile [{}] has no {key}, which a knock needs",
                profile.file.path.display(),
                profile.name
            ))
        };
        let host = p.host.ok_or_else(|| missing("host"))?;
        let service = p.service.ok_or_else(|| missing("service"))?;
        self.positional = vec![host.into_bytes(), service];
        self.family = self.family.or(p.family);
        self.delay = self.delay.or(p.delay);
        self.window = self.window.or(p.window);
        self.check = self.check.or(p.check);
        self.check_timeout = self.check_timeout.or(p.check_timeout);
        self.retries = self.retries.or(p.retries);
        self.raw_flags = self.raw_flags.or(p.raw_flags);
        self.token = self.token.or(p.token_port);
        Ok(self)
    }
}

fn run(ctx: &Ctx, o: Options) -> Result<()> {
    if o.proxy.is_some() {
        cli::notes_to_stderr();
    }
    let (settings, profile) = match o.profile.name {
        Some(_) => {
            let (s, p) = o.profile.settings(&ctx.env)?;
            (Some(s), p)
        }
        None => (None, None),
    };
    let o = match &profile {
        Some(p) => o.with_profile(p)?,
        None => o,
    };
    let (host, plan) = plan(ctx, settings, &o)?;
    let addrs = resolve::resolve(host, o.family.unwrap_or(Family::Any))?;
    let dst = first_routable(host, &addrs)?;
    let tries = Tries {
        delay: Duration::from_millis(o.delay.unwrap_or(DEFAULT_DELAY_MS)),
        raw_flags: o.raw_flags,
        verbose: o.verbose,
        retries: o.retries.unwrap_or(DEFAULT_RETRIES),
        check: o.proxy.or(o.check),
        check_timeout: Duration::from_millis(o.check_timeout.unwrap_or(DEFAULT_CHECK_TIMEOUT_MS)),
        peer: o.proxy.map(|_| rustix::stdio::stdout()),
    };
    let conn = plan.knock(host, dst, &tries)?;
    match (o.proxy, conn) {
        (Some(_), Some(fd)) if o.fdpass => relay::pass_fd(&fd),
        (Some(port), Some(fd)) => relay::relay(fd, &SocketAddr::new(dst, port).to_string()),
        _ => Ok(()),
    }
}

/// HOST, and what to send it: the classic form's ports, or SERVICE's
/// sequences.
fn plan<'a>(ctx: &Ctx, settings: Option<Settings>, o: &'a Options) -> Result<(&'a str, Plan)> {
    let (host, rest) = match o.positional.split_first() {
        Some((h, rest)) if !rest.is_empty() => (h, rest),
        _ => return Err(Error::arg("missing HOST and SERVICE (or PORTs)")),
    };
    let host = std::str::from_utf8(host)
        .map_err(|_| Error::usage(format!("HOST {} is not valid UTF-8", quote(host))))?;
    // Arguments that start with a digit are ports (the classic form); a
    // SERVICE made of digits only needs its suffix: `22_ROTATOR`.
    if !rest
        .iter()
        .any(|a| a.first().is_some_and(u8::is_ascii_digit))
    {
        return match rest {
            [service] => {
                let settings = match settings {
                    Some(s) => s,
                    None => Settings::load(&ctx.env)?,
                };
                if let Some(port) = o.token {
                    let plan = Plan::Token {
                        settings: Box::new(settings),
                        service: service.clone(),
                        port,
                        at: o.at,
                        offset: o.offset,
                    };
                    return Ok((host, plan));
                }
                if o.at.is_none() && o.offset.is_none() {
                    let plan = Plan::Rotating {
                        settings: Box::new(settings),
                        service: service.clone(),
                        window: o.window,
                    };
                    return Ok((host, plan));
                }
                let now = clock::now_or(o.at)?;
                let seqs = rotator_sequences(&settings, service, now, o.offset, o.window)?;
                Ok((host, Plan::Fixed(seqs)))
            }
            _ => Err(Error::usage(format!(
                "unexpected argument {}: give one SERVICE, or only ports",
                quote(&rest[1])
            ))),
        };
    }
    for (flag, set) in [
        ("--offset", o.offset.is_some()),
        ("--window", o.window.is_some()),
        ("--at", o.at.is_some()),
        ("--token", o.token.is_some()),
    ] {
        if set {
            return Err(Error::usage(format!(
                "{flag} needs a SERVICE, not a list of ports"
            )));
        }
    }
    let knocks = rest
        .iter()
        .map(|a| {
            port_spec(a, o.udp_default).ok_or_else(|| {
                Error::usage(format!(
                    "{} is not a PORT[:tcp|:udp] from 1 to 65535",
                    quote(a)
                ))
            })
        })
        .collect::<Result<Vec<Knock>>>()?;
    Ok((host, Plan::Fixed(vec![knocks])))
}
