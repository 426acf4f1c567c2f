//! `knock HOST SERVICE`: send the current sequence (and, near a period
//! boundary, the neighbouring one); `knock HOST PORT[:PROTO]...`: the
//! classic knockd client's form.

use std::net::{IpAddr, SocketAddr};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use lexopt::prelude::*;

use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::client::rawtcp;
use crate::client::resolve::{self, Family};
use crate::client::route::first_routable;
use crate::client::send::{Knocker, port_open};
use crate::clock;
use crate::derive::{self, Knock, Proto, rotator_name};
use crate::error::{Error, Result, quote};
use crate::number::parse_number;
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
/// Default boundary window (seconds), capped at a quarter period.
pub const DEFAULT_WINDOW: u64 = 120;
pub const DEFAULT_CHECK_TIMEOUT_MS: u64 = 3000;
pub const DEFAULT_RETRIES: u64 = 2;

const USAGE: &str = "\
Usage: knock-rotator knock [OPTIONS] HOST SERVICE
       knock [OPTIONS] HOST SERVICE
       knock [-u] [-d MS] [-4|-6] [-v] HOST PORT[:tcp|:udp]...

Send the current knock sequence of SERVICE ('_ROTATOR' appended unless
present) to HOST, a name or an address. When every argument after HOST is
a port, the ports are knocked as given, like knockd's own 'knock'.

Options:
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
      --raw                send TCP knocks as raw segments (needs CAP_NET_RAW)
      --tcpflags FLAGS     flags of raw TCP knocks, knockd syntax (default
                           syn; e.g. fin or syn,ack); implies --raw
  -h, --help               show this help
  -V, --version            show the version

Settings come from the environment, as for 'generate'. See knock-rotator(1).
";

struct Options {
    family: Family,
    delay: Duration,
    verbose: bool,
    udp_default: bool,
    offset: Option<i64>,
    at: Option<u64>,
    window: Option<u64>,
    check: Option<u16>,
    check_timeout: Duration,
    retries: u64,
    raw_flags: Option<u8>,
    positional: Vec<Vec<u8>>,
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Options>> {
    let mut o = Options {
        family: Family::Any,
        delay: Duration::from_millis(DEFAULT_DELAY_MS),
        verbose: false,
        udp_default: false,
        offset: None,
        at: None,
        window: None,
        check: None,
        check_timeout: Duration::from_millis(DEFAULT_CHECK_TIMEOUT_MS),
        retries: DEFAULT_RETRIES,
        raw_flags: None,
        positional: Vec::new(),
    };
    let ms = Duration::from_millis;
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Short('4') => o.family = Family::V4,
            Short('6') => o.family = Family::V6,
            Short('v') | Long("verbose") => o.verbose = true,
            Short('u') | Long("udp") => o.udp_default = true,
            Short('d') | Long("delay") => o.delay = ms(cli::number(p, "--delay", 0, 60_000)?),
            Long("offset") => o.offset = Some(cli::offset(p, "--offset")?),
            Long("at") => o.at = Some(cli::unix_time(p, "--at")?),
            Long("window") => o.window = Some(cli::number(p, "--window", 0, u32::MAX.into())?),
            Long("check") => o.check = Some(cli::number(p, "--check", 1, 65535)? as u16),
            Long("check-timeout") => {
                o.check_timeout = ms(cli::number(p, "--check-timeout", 1, 600_000)?)
            }
            Long("retries") => o.retries = cli::number(p, "--retries", 0, 100)?,
            Long("raw") => o.raw_flags = o.raw_flags.or(Some(rawtcp::SYN)),
            Long("tcpflags") => {
                let text = cli::text(p, "--tcpflags")?;
                o.raw_flags = Some(rawtcp::parse_flags("--tcpflags", &text)?);
            }
            Value(v) => o.positional.push(v.as_bytes().to_vec()),
            arg => return Err(arg.unexpected().into()),
        }
    }
    Ok(Parsed::Run(o))
}

/// `PORT[:tcp|:udp]`, protocol case-insensitive as in knockd.
fn port_spec(arg: &[u8], udp_default: bool) -> Option<Knock> {
    let s = std::str::from_utf8(arg).ok()?;
    let (port, proto) = match s.split_once(':') {
        Some((p, proto)) if proto.eq_ignore_ascii_case("tcp") => (p, Proto::Tcp),
        Some((p, proto)) if proto.eq_ignore_ascii_case("udp") => (p, Proto::Udp),
        Some(_) => return None,
        None => (s, if udp_default { Proto::Udp } else { Proto::Tcp }),
    };
    let port = parse_number(port, 1, 65535).ok()? as u16;
    Some(Knock { port, proto })
}

fn run(ctx: &Ctx, o: Options) -> Result<()> {
    let (host, sequences) = sequences(ctx, &o)?;
    let addrs = resolve::resolve(host, o.family)?;
    let dst = first_routable(host, &addrs)?;
    knock_until_open(host, dst, &sequences, &o)
}

/// HOST, and what to send it: the classic form's ports, or SERVICE's
/// sequences.
fn sequences<'a>(ctx: &Ctx, o: &'a Options) -> Result<(&'a str, Vec<Vec<Knock>>)> {
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
            [service] => Ok((host, rotator_sequences(ctx, o, service)?)),
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
    Ok((host, vec![knocks]))
}

/// Knock, and with `--check` look whether the port opened; knock again
/// (up to `--retries` times) while it stays closed.
fn knock_until_open(host: &str, dst: IpAddr, sequences: &[Vec<Knock>], o: &Options) -> Result<()> {
    let mut knocker = Knocker::new(dst, o.delay, o.raw_flags, o.verbose)?;
    let rounds = if o.check.is_some() { o.retries + 1 } else { 1 };
    for round in 1..=rounds {
        for seq in sequences {
            if round > 1 {
                if let Some(k) = flush_knock(seq) {
                    knocker.send(k)?;
                    knocker.send(k)?;
                }
            }
            knocker.send_all(seq)?;
        }
        let Some(port) = o.check else {
            return Ok(());
        };
        let to = SocketAddr::new(dst, port);
        if port_open(to, o.check_timeout) {
            if o.verbose {
                cli::out(&format!("{to} is open\n"))?;
            }
            return Ok(());
        }
        if o.verbose && round < rounds {
            cli::out(&format!(
                "{to} still closed; knocking again ({}/{rounds})\n",
                round + 1
            ))?;
        }
    }
    Err(Error::failure(format!(
        "{} port {} still closed after {rounds} knock{}",
        quote(host),
        o.check.unwrap_or_default(),
        if rounds == 1 { "" } else { "s" }
    )))
}

/// The sequences to send for SERVICE: the current period's, and within the
/// window around a boundary also the neighbour's, current first.
///
/// Past a boundary a server may not have rotated yet (or its clock lags):
/// the previous sequence follows. Just before one, the server may already
/// have rotated (or its clock leads): the next sequence follows. knockd
/// tracks each attempt per door, so the sequence it does not hold only
/// costs a few packets.
fn rotator_sequences(ctx: &Ctx, o: &Options, service: &[u8]) -> Result<Vec<Vec<Knock>>> {
    let settings = Settings::load(&ctx.env)?;
    let name = rotator_name(service);
    let now = clock::now_or(o.at)?;
    let period = settings.period;
    if let Some(offset) = o.offset {
        let start = derive::period_start(now, period, offset)
            .ok_or_else(|| cli::offset_out_of_range(offset))?;
        return Ok(vec![settings.derive(start, &name)?]);
    }
    let window = o.window.unwrap_or(DEFAULT_WINDOW).min(period / 4);
    let start = now / period * period;
    let mut seqs = vec![settings.derive(start, &name)?];
    let neighbour = if now - start < window {
        Some(-1)
    } else if start + period - now <= window {
        Some(1)
    } else {
        None
    };
    if let Some(off) = neighbour {
        // The period before 1970 does not exist, and one whose sequence
        // draws v3's port 65536 was never rotated in: nothing to add then.
        if let Some(seq) =
            derive::period_start(now, period, off).and_then(|s| settings.derive(s, &name).ok())
        {
            seqs.push(seq);
        }
    }
    Ok(seqs)
}

/// Two knocks on this port before a sequence clear a half-finished
/// attempt at knockd (a lost packet, an earlier run within seq_timeout),
/// which would otherwise swallow the sequence's first knock.
///
/// knockd only sees ports of its doors' sequences. A knock on a door's port
/// that does not continue the attempt in progress marks it failed, and the
/// next knock removes it and starts nothing (unless it is the first port).
/// The second port of the sequence, sent twice, does exactly that whatever
/// stage the attempt reached, and starts nothing when there is none, so the
/// sequence then starts afresh. Only retries get them: a first round is
/// exactly the sequence, as fast as knockd's `knock`, and a failed first
/// round leaves an attempt stuck only when one of its last knocks was lost.
fn flush_knock(seq: &[Knock]) -> Option<Knock> {
    seq.iter().skip(1).copied().find(|k| *k != seq[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs() {
        assert_eq!(
            port_spec(b"22", false),
            Some(Knock {
                port: 22,
                proto: Proto::Tcp
            })
        );
        assert_eq!(
            port_spec(b"22", true),
            Some(Knock {
                port: 22,
                proto: Proto::Udp
            })
        );
        assert_eq!(
            port_spec(b"22:UDP", false),
            Some(Knock {
                port: 22,
                proto: Proto::Udp
            })
        );
        assert_eq!(
            port_spec(b"53:tcp", true),
            Some(Knock {
                port: 53,
                proto: Proto::Tcp
            })
        );
        for bad in [&b"ssh"[..], b"0", b"65536", b"22:icmp", b"", b"22:"] {
            assert_eq!(port_spec(bad, false), None, "{bad:?}");
        }
    }
}
