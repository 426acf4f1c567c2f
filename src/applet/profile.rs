//! `profile DOOR --host HOST`: on the server, the client profile that
//! matches a rotator door, printed for copying to the phone. The secret is
//! in it only when asked for (`--with-secret`); otherwise the profile names
//! a secret file beside it, for the user to copy over.

use std::path::PathBuf;

use lexopt::prelude::*;

use super::fingerprint::fingerprint;
use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::derive::{ROTATOR_SUFFIX, rotator_name};
use crate::error::{Error, Result, quote};
use crate::server::doors::DoorsFile;
use crate::server::nftables::door::client_token_port;
use crate::settings::Settings;
use crate::settings_file::valid_name;

pub const APPLET: Applet = Applet {
    name: "profile",
    link: None,
    summary: "print the client profile for a rotator door of this server",
    usage: USAGE,
    main: |ctx, p| super::drive(ctx, p, USAGE, parse, run),
};

const USAGE: &str = "\
Usage: knock-rotator profile DOOR --host HOST [OPTIONS]

Print the client profile that knocks rotator door DOOR ('_ROTATOR'
optional) of this server at HOST, with the door's settings (from the
doors file, else the environment), ready to append to the device's
~/.config/knock-rotator/config. The secret is left out unless asked for.

Options:
      --host HOST          the name or address clients knock (required)
      --name NAME          the profile's name (default: DOOR without _ROTATOR)
      --with-secret        put the secret itself in the profile
      --doors-file PATH    per-door settings (default /etc/knock-rotator/doors)
  -h, --help               show this help
  -V, --version            show the version
";

#[derive(Default)]
struct Options {
    door: Option<String>,
    host: Option<String>,
    name: Option<String>,
    with_secret: bool,
    doors_file: Option<PathBuf>,
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Options>> {
    let mut o = Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("host") => o.host = Some(cli::text(p, "--host")?),
            Long("name") => o.name = Some(cli::text(p, "--name")?),
            Long("with-secret") => o.with_secret = true,
            Long("doors-file") => o.doors_file = Some(cli::path(p)?),
            Value(v) if o.door.is_none() => {
                o.door = Some(v.into_string().map_err(|v| {
                    Error::usage(format!(
                        "DOOR {} is not valid UTF-8",
                        quote(v.as_encoded_bytes())
                    ))
                })?)
            }
            arg => return Err(arg.unexpected().into()),
        }
    }
    if o.door.is_none() {
        return Err(Error::arg("missing DOOR"));
    }
    if o.host.as_deref().is_none_or(|h| h.trim().is_empty()) {
        return Err(Error::arg("missing --host HOST (what the clients knock)"));
    }
    Ok(Parsed::Run(o))
}

fn run(ctx: &Ctx, o: Options) -> Result<()> {
    let door = o.door.unwrap_or_default();
    let host = o.host.unwrap_or_default();
    let full = rotator_name(door.as_bytes()).into_owned();
    let service = String::from_utf8_lossy(&full[..full.len() - ROTATOR_SUFFIX.len()]).into_owned();
    let name = o.name.unwrap_or_else(|| service.clone());
    if !valid_name(&name) {
        return Err(Error::usage(format!(
            "--name: {} is not a profile name (no spaces or brackets)",
            quote(&name)
        )));
    }
    let doors_file = DoorsFile::new(&ctx.env, o.doors_file);
    let env = doors_file.env_settings(&ctx.env)?;
    let doors = doors_file.load(&env)?;
    let s = doors.for_door(&full)?;
    let mut out = format!(
        "# knock-rotator profile for door [{}] of {host}, settings from {}\n\
         # fingerprint {} ('knock-rotator fingerprint -p {name}' on the device shows the same)\n\
         [{name}]\nhost = {host}\nservice = {service}\n",
        String::from_utf8_lossy(&full),
        doors.source(&full),
        fingerprint(s),
    );
    out.push_str(&shape(s));
    let section = doors.listed().into_iter().find(|(n, _, _)| *n == &full[..]);
    if let Some(port) = section.and_then(|(_, sec, _)| client_token_port(sec)) {
        out.push_str(&format!("token_port = {port}\n"));
    }
    if o.with_secret {
        out.push_str(&format!("secret = {}\n", secret_line(s)?));
    } else {
        out.push_str(&format!(
            "# copy the door's secret to {name}.secret beside the config file (chmod 600)\n\
             secret_file = {name}.secret\n"
        ));
    }
    cli::out(&out)
}

/// Every setting that shapes the sequence, spelled out: a default that
/// changed one day must not change what the phone computes.
fn shape(s: &Settings) -> String {
    let mut out = format!(
        "algorithm = {}\nlength = {}\nperiod = {}\nproto_modulo = {}\nports = {}\n",
        s.algorithm.name(),
        s.length,
        s.period,
        s.proto_modulo,
        s.ports.canonical()
    );
    if s.allow_weak {
        out.push_str("allow_weak = 1\n");
    }
    out
}

/// The secret as a profile line can hold it: a value is trimmed and ends
/// at the line's end.
fn secret_line(s: &Settings) -> Result<&str> {
    let text = std::str::from_utf8(s.secret.expose()).unwrap_or_default();
    if text.trim() != text || text.contains(['\n', '\r']) {
        return Err(Error::usage(
            "the secret starts or ends with spaces or holds a line break, which a profile line \
             cannot carry; leave out --with-secret and copy the secret file instead",
        ));
    }
    Ok(text)
}
