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

/// Before a boundary: a server whose clock leads ours by this much, or our
/// own packets late on the way, has already rotated.
pub const ROTATION_MARGIN_MS: u64 = 250;
/// After a boundary: the time a server takes to rotate (its timer, the
/// rewrite, knockd's re-read, which drops every attempt in progress).
pub const ROTATION_LAG_MS: u64 = 500;

/// How long to wait before knocks that take `cost_ms`, so that none of them
/// falls on a rotation: zero when they are done before the next boundary's
/// margin, else until the rotation after the boundary is done. At most
/// `cost_ms + ROTATION_MARGIN_MS + ROTATION_LAG_MS`, and only near a boundary.
pub fn clear_of_rotation(now_ms: u64, period: u64, cost_ms: u64) -> u64 {
    let p = period.saturating_mul(1000);
    let since = now_ms % p;
    let next = now_ms - since + p;
    if since < ROTATION_LAG_MS {
        ROTATION_LAG_MS - since
    } else if now_ms + cost_ms + ROTATION_MARGIN_MS > next {
        next + ROTATION_LAG_MS - now_ms
    } else {
        0
    }
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
    fn knocks_wait_for_the_rotation_only_near_a_boundary() {
        let b = 1_800_000_000_000; // a boundary of a 60 s period, in ms
        // Mid-period: no wait.
        assert_eq!(clear_of_rotation(b + 30_000, 60, 200), 0);
        // Done 250 ms before the boundary: no wait; 1 ms later: wait.
        assert_eq!(clear_of_rotation(b - 450, 60, 200), 0);
        assert_eq!(clear_of_rotation(b - 449, 60, 200), 949);
        // Just after it: until the rotation is done.
        assert_eq!(clear_of_rotation(b, 60, 200), 500);
        assert_eq!(clear_of_rotation(b + 499, 60, 200), 1);
        assert_eq!(clear_of_rotation(b + 500, 60, 200), 0);
    }

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
