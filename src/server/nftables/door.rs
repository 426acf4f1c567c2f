//! A door of the nftables backend: a section of the doors file with its
//! sequence settings (as for knockd's doors) and what a knock opens.
//!
//! ```text
//! [ssh_alice]
//! secret_file = alice.secret
//! open = 22/tcp            # one or more PORT/tcp or PORT/udp, comma-separated
//! open_for = 30            # seconds a knocked source may start connections
//! seq_timeout = 15         # seconds for the whole sequence, from its first knock
//! grace = 60               # seconds the previous period's sequence still opens
//! policy = drop            # or reject: what strangers get on an open port
//! one_use = no             # yes: a period's sequence opens once, for the first source
//! knock = sequence         # token, or both: what opens it (token: the single-packet knock)
//! token_port = 4444        # the UDP port tokens go to (needed for token and both)
//! ahead = no               # yes: a day of sequences installed ahead (chained.rs)
//! ```

use super::open_list::parse_open;
use crate::derive::{Knock, Proto, proto_for};
use crate::error::{Error, Result, quote};
use crate::number::parse_number;
use crate::server::doors::Doors;
use crate::settings::Settings;
use crate::settings_file::{Section, SettingsFile};

pub const DEFAULT_OPEN_FOR: u64 = 30;
pub const DEFAULT_SEQ_TIMEOUT: u64 = 15;
pub const DEFAULT_GRACE: u64 = 60;

pub struct Door<'a> {
    /// With its `_ROTATOR` suffix, as the derivation takes it.
    pub name: Vec<u8>,
    pub line: usize,
    pub settings: &'a Settings,
    /// What a knock opens, sorted, without repeats.
    pub open: Vec<Knock>,
    pub open_for: u64,
    pub seq_timeout: u64,
    /// Seconds after a boundary during which the previous sequence opens.
    pub grace: u64,
    /// Strangers' new connections to `open` are rejected, not dropped.
    pub reject: bool,
    /// A period's sequence opens once: every later completion of it, from
    /// any source, is refused (a captured knock cannot be replayed).
    pub one_use: bool,
    /// The period's sequence opens it (`knock = sequence` or `both`).
    pub sequence: bool,
    /// Its token opens it, sent to this UDP port (`knock = token`, `both`).
    pub token_port: Option<u16>,
    /// A day of its sequences is installed ahead, checked by a hash chain
    /// of the knocks (chained.rs), not step by step.
    pub ahead: bool,
}

/// Doors with tokens (so pairs of them) a table can hold.
pub const MAX_PAIRS: usize = 4096;

/// Every door of the doors file, checked.
pub fn doors<'a>(doors: &'a Doors) -> Result<Vec<Door<'a>>> {
    let Some(file) = doors.file() else {
        return Err(Error::usage(
            "the nftables backend takes its doors from the doors file, and there is none: \
             give --doors-file or KNOCKD_ROTATOR_DOORS, or make /etc/knock-rotator/doors",
        ));
    };
    let listed = doors.listed();
    if listed.is_empty() {
        return Err(file.error(1, "no door in the doors file, so nothing to install"));
    }
    let mut out: Vec<Door> = Vec::with_capacity(listed.len());
    for (name, section, settings) in listed {
        let door = door(file, section, name, settings)?;
        // One policy per port: the gate for it is shared by its doors.
        for other in &out {
            if other.reject != door.reject && other.open.iter().any(|k| door.open.contains(k)) {
                return Err(file.error(
                    section.line,
                    &format!(
                        "[{}] and [{}] (line {}) open the same port with different policies; \
                         give them the same policy",
                        section.name,
                        String::from_utf8_lossy(&other.name),
                        other.line
                    ),
                ));
            }
        }
        out.push(door);
    }
    // A token's window key holds its door's pair (of class, group and
    // token port) in 12 bits (tokens.rs).
    if let Some(d) = out.iter().filter(|d| d.token_port.is_some()).nth(MAX_PAIRS) {
        return Err(file.error(
            d.line,
            &format!("more than {MAX_PAIRS} doors with tokens; at most {MAX_PAIRS} can have them"),
        ));
    }
    Ok(out)
}

fn door<'a>(
    file: &SettingsFile,
    section: &Section,
    name: &[u8],
    settings: &'a Settings,
) -> Result<Door<'a>> {
    let at = |key: &str| {
        section
            .get(key)
            .map(|e| (e.text().trim().to_string(), e.line))
    };
    let bad = |line: usize, key: &str, why: &str| {
        file.error(line, &format!("[{}] {key}: {why}", section.name))
    };
    let number = |key: &str, default: u64, min: u64, max: u64| match at(key) {
        None => Ok(default),
        Some((v, line)) => parse_number(&v, min, max).map_err(|why| bad(line, key, &why)),
    };
    let Some((open_text, open_line)) = at("open") else {
        return Err(file.error(
            section.line,
            &format!(
                "[{}] has no open (what a knock opens, such as 'open = 22/tcp')",
                section.name
            ),
        ));
    };
    let open = parse_open(&open_text).map_err(|why| bad(open_line, "open", &why))?;
    for k in &open {
        if drawn(settings, k) {
            return Err(bad(
                open_line,
                "open",
                &format!(
                    "{}/{} is one of the ports this door's knocks are drawn from; \
                     a knock would open it for everyone: pick another port list or port",
                    k.port,
                    k.proto.as_str()
                ),
            ));
        }
    }
    let max_grace = settings.period / 4;
    let reject = match at("policy") {
        None => false,
        Some((v, _)) if v == "drop" => false,
        Some((v, _)) if v == "reject" => true,
        Some((v, line)) => {
            return Err(bad(
                line,
                "policy",
                &format!("{} is neither drop nor reject", quote(&v)),
            ));
        }
    };
    let one_use = match at("one_use") {
        None => false,
        Some((v, line)) => yes_no(&v).ok_or_else(|| bad(line, "one_use", &yes_no_error(&v)))?,
    };
    let (sequence, token_port) = knock(&at, &bad, settings, &open)?;
    let seq_timeout = number("seq_timeout", DEFAULT_SEQ_TIMEOUT, 1, 3600)?;
    let ahead = ahead(&at, &bad, settings.period, seq_timeout, sequence)?;
    Ok(Door {
        name: name.to_vec(),
        line: section.line,
        settings,
        open,
        open_for: number("open_for", DEFAULT_OPEN_FOR, 1, 86_400)?,
        seq_timeout,
        grace: number("grace", DEFAULT_GRACE.min(max_grace), 0, max_grace)?,
        reject,
        one_use,
        sequence,
        token_port,
        ahead,
    })
}

type At<'f> = dyn Fn(&str) -> Option<(String, usize)> + 'f;
type Bad<'f> = dyn Fn(usize, &str, &str) -> Error + 'f;

/// `ahead`, for a door whose sequence opens it. A chained slot's id comes
/// back after 16 periods (chained.rs): its one-use mark, 3 periods and a
/// seq_timeout long, must be gone by then, so seq_timeout is at most the
/// period.
fn ahead(at: &At, bad: &Bad, period: u64, seq_timeout: u64, sequence: bool) -> Result<bool> {
    let Some((v, line)) = at("ahead") else {
        return Ok(false);
    };
    let ahead = yes_no(&v).ok_or_else(|| bad(line, "ahead", &yes_no_error(&v)))?;
    if ahead && !sequence {
        return Err(bad(
            line,
            "ahead",
            "a token door's tokens are installed a day ahead already (ahead is for its sequence: knock = sequence or both)",
        ));
    }
    if ahead && seq_timeout > period {
        let line = at("seq_timeout").map_or(line, |(_, l)| l);
        return Err(bad(
            line,
            "seq_timeout",
            "with ahead = yes, it can be at most the period",
        ));
    }
    Ok(ahead)
}

/// `knock` and `token_port`: whether the sequence opens the door, and the
/// token's port. A token port must not be a UDP knock of the door's list
/// (a token would count as a knock) nor a port it opens.
fn knock(at: &At, bad: &Bad, settings: &Settings, open: &[Knock]) -> Result<(bool, Option<u16>)> {
    let (sequence, token) = match at("knock") {
        None => (true, at("token_port").is_some()),
        Some((v, _)) if v == "sequence" => (true, false),
        Some((v, _)) if v == "token" => (false, true),
        Some((v, _)) if v == "both" => (true, true),
        Some((v, line)) => {
            return Err(bad(
                line,
                "knock",
                &format!("{} is not sequence, token or both", quote(&v)),
            ));
        }
    };
    let port = match at("token_port") {
        None if token => {
            let line = at("knock").map_or(0, |(_, l)| l);
            return Err(bad(
                line,
                "knock",
                "a token needs token_port, the UDP port tokens are sent to (such as 'token_port = 4444')",
            ));
        }
        None => return Ok((sequence, None)),
        Some((v, line)) => {
            let p = parse_number(&v, 1, 65535).map_err(|why| bad(line, "token_port", &why))? as u16;
            let knock = Knock {
                port: p,
                proto: Proto::Udp,
            };
            if drawn(settings, &knock) {
                return Err(bad(
                    line,
                    "token_port",
                    &format!(
                        "{p} is one of the UDP ports this door's knocks are drawn from; pick a port outside the list"
                    ),
                ));
            }
            if open.contains(&knock) {
                return Err(bad(
                    line,
                    "token_port",
                    &format!("{p}/udp is a port this door opens"),
                ));
            }
            p
        }
    };
    Ok((sequence, token.then_some(port)))
}

/// The token port a door's client profile names (`profile`): the door's
/// `token_port`, unless its knock is the sequence only. Checked by the
/// backend, not here.
pub fn client_token_port(section: &Section) -> Option<String> {
    let knock = section.get("knock").map(|e| e.text().trim().to_string());
    let port = section.get("token_port")?.text().trim().to_string();
    (knock.as_deref() != Some("sequence")).then_some(port)
}

/// A knock of the door's own sequences could be `k`.
fn drawn(settings: &Settings, k: &Knock) -> bool {
    settings.ports.contains(u32::from(k.port))
        && proto_for(k.port, settings.proto_modulo) == k.proto
}

fn yes_no(v: &str) -> Option<bool> {
    match v {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

fn yes_no_error(v: &str) -> String {
    format!("{} is neither yes nor no", quote(v))
}
