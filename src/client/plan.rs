//! What each round of a knock sends: fixed knocks, or the sequences of the
//! period the round falls in, timed so that no sequence straddles a
//! rotation (knockd's re-read drops every attempt in progress).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rustix::fd::{BorrowedFd, OwnedFd};

use super::schedule::{clear_of_rotation, flush_knock, rotator_sequences};
use super::send::{Closed, Knocker, connect_within};
use crate::cli;
use crate::clock;
use crate::derive::{self, Knock, token};
use crate::error::{Error, Result, quote};
use crate::settings::Settings;

/// How a knock is sent and checked.
pub struct Tries {
    pub delay: Duration,
    pub raw_flags: Option<u8>,
    pub verbose: bool,
    /// Knocks again after a failed check.
    pub retries: u64,
    /// The port that must open (`--check`, `--proxy`).
    pub check: Option<u16>,
    pub check_timeout: Duration,
    /// A proxy's ssh: waiting ends when it has gone.
    pub peer: Option<BorrowedFd<'static>>,
}

pub enum Plan {
    /// The classic form's ports, or one chosen period (`--offset`, `--at`).
    Fixed(Vec<Vec<Knock>>),
    /// SERVICE's sequences for the clock at each round.
    Rotating {
        settings: Box<Settings>,
        service: Vec<u8>,
        window: Option<u64>,
    },
    /// The single-packet knock: SERVICE's token for the period of the
    /// clock at each round (or of `at`, `offset` periods away), in one UDP
    /// datagram to `port`. The server takes the previous, current and next
    /// periods' tokens, so no round waits for a boundary.
    Token {
        settings: Box<Settings>,
        service: Vec<u8>,
        port: u16,
        at: Option<u64>,
        offset: Option<i64>,
    },
}

impl Plan {
    /// The sequences of a round that sends `extra` knocks besides them,
    /// `delay` apart, and how long it waited for a rotation first.
    pub fn round(&self, delay: Duration, extra: usize) -> Result<(Vec<Vec<Knock>>, u64)> {
        let (settings, service, window) = match self {
            Plan::Fixed(seqs) => return Ok((seqs.clone(), 0)),
            Plan::Token { .. } => return Ok((Vec::new(), 0)),
            Plan::Rotating {
                settings,
                service,
                window,
            } => (settings, service, window),
        };
        let at = |ms: u64| rotator_sequences(settings, service, ms / 1000, None, *window);
        let now = clock::now_ms()?;
        let seqs = at(now)?;
        let knocks = seqs.iter().map(Vec::len).sum::<usize>() + extra;
        let cost = (knocks as u64).saturating_mul(delay.as_millis() as u64);
        let wait = clear_of_rotation(now, settings.period, cost);
        if wait == 0 {
            return Ok((seqs, 0));
        }
        std::thread::sleep(Duration::from_millis(wait));
        Ok((at(clock::now_ms()?)?, wait))
    }

    /// The token a `Token` plan sends in round `round`: the period's, then
    /// (a retry: the first may have been used, by us or by someone who
    /// raced it) the next period's, then the previous one's; the server
    /// takes each of the three once.
    fn token(&self, round: u64) -> Result<[u8; token::LEN]> {
        let Plan::Token {
            settings,
            service,
            at,
            offset,
            ..
        } = self
        else {
            return Ok([0; token::LEN]);
        };
        let shift = match round {
            1 => 0,
            2 => 1,
            _ => -1,
        };
        let offset = offset.unwrap_or(0).saturating_add(shift);
        let start = derive::period_start(clock::now_or(*at)?, settings.period, offset)
            .ok_or_else(|| cli::offset_out_of_range(offset))?;
        Ok(settings
            .token_key()
            .token(start, &derive::rotator_name(service)))
    }

    /// Knock, and with `--check` (or `--proxy`) look whether the port opened;
    /// knock again (up to `--retries` times) while it stays closed. The
    /// connection that found it open, if any.
    pub fn knock(&self, host: &str, dst: IpAddr, o: &Tries) -> Result<Option<OwnedFd>> {
        let mut knocker = Knocker::new(dst, o.delay, o.raw_flags, o.verbose)?;
        let rounds = if o.check.is_some() { o.retries + 1 } else { 1 };
        for round in 1..=rounds {
            // A retry sends two flush knocks before each of (up to) two sequences.
            let flush = if round > 1 { 4 } else { 0 };
            if let Plan::Token { port, .. } = self {
                knocker.send_token(*port, &self.token(round)?)?;
            }
            let (sequences, waited) = self.round(o.delay, flush)?;
            if waited > 0 && o.verbose {
                cli::note(&format!(
                    "waited {waited} ms for the rotation at the boundary\n"
                ))?;
            }
            for seq in &sequences {
                if round > 1 {
                    if let Some(k) = flush_knock(seq) {
                        knocker.send(k)?;
                        knocker.send(k)?;
                    }
                }
                knocker.send_all(seq)?;
            }
            let Some(port) = o.check else {
                return Ok(None);
            };
            let to = SocketAddr::new(dst, port);
            match connect_within(to, o.check_timeout, o.peer) {
                Ok(fd) => {
                    if o.verbose {
                        cli::note(&format!("{to} is open\n"))?;
                    }
                    return Ok(Some(fd));
                }
                Err(Closed::PeerGone) => {
                    return Err(Error::failure(format!(
                        "ssh went away before {} port {port} opened",
                        quote(host)
                    )));
                }
                Err(Closed::Timeout) => {}
            }
            if o.verbose && round < rounds {
                cli::note(&format!(
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
}
