//! Which sequences a knock sends: the current period's, the neighbour's
//! near a boundary, and on a retry the knocks that clear a half-finished
//! attempt at knockd.

use crate::cli;
use crate::derive::{self, Knock, Proto, rotator_name};
use crate::error::Result;
use crate::number::parse_number;
use crate::settings::Settings;

/// Default boundary window (seconds), capped at a quarter period.
pub const DEFAULT_WINDOW: u64 = 120;

/// The sequences to send for SERVICE: the current period's, and within the
/// window around a boundary also the neighbour's, current first.
///
/// Past a boundary a server may not have rotated yet (or its clock lags):
/// the previous sequence follows. Just before one, the server may already
/// have rotated (or its clock leads): the next sequence follows. knockd
/// tracks each attempt per door, so the sequence it does not hold only
/// costs a few packets.
///
/// `offset` picks one period instead (no window); `window` is in seconds,
/// capped at a quarter period.
pub fn rotator_sequences(
    settings: &Settings,
    service: &[u8],
    now: u64,
    offset: Option<i64>,
    window: Option<u64>,
) -> Result<Vec<Vec<Knock>>> {
    let name = rotator_name(service);
    let period = settings.period;
    if let Some(offset) = offset {
        let start = derive::period_start(now, period, offset)
            .ok_or_else(|| cli::offset_out_of_range(offset))?;
        return Ok(vec![settings.derive(start, &name)?]);
    }
    let window = window.unwrap_or(DEFAULT_WINDOW).min(period / 4);
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
pub fn flush_knock(seq: &[Knock]) -> Option<Knock> {
    seq.iter().skip(1).copied().find(|k| *k != seq[0])
}

/// `PORT[:tcp|:udp]`, protocol case-insensitive as in knockd.
pub fn port_spec(arg: &[u8], udp_default: bool) -> Option<Knock> {
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
