//! `import [FILE]`: on the phone, the other half of the server's `profile`:
//! its text (pasted on stdin, or a file) becomes a profile of the client
//! config, owner-only, with the secret moved into its own owner-only file.
//! Optionally a Termux:Widget shortcut that knocks, or runs `ssh NAME`.

use std::io::Read;
use std::path::{Path, PathBuf};

use lexopt::prelude::*;

use super::new_secret::make_dir;
use super::{Applet, Ctx};
use crate::cli::{self, Parsed};
use crate::client::profile::{KNOCK_KEYS, Profile, config_path};
use crate::client::profile_merge::merge;
use crate::error::{Error, Result, quote};
use crate::secret::Secret;
use crate::server::atomic_file::write_private;
use crate::settings::Settings;
use crate::settings_file::{
    Entry, Section, SectionSource, SettingsFile, parse as parse_text, valid_name,
};

pub const APPLET: Applet = Applet {
    name: "import",
    link: None,
    summary: "add a profile printed by 'profile' to this device's config",
    usage: USAGE,
    main: |ctx, p| super::drive(ctx, p, USAGE, parse, run),
};

const USAGE: &str = "\
Usage: knock-rotator import [FILE] [OPTIONS]

Add the profile that 'knock-rotator profile' printed on the server (read
from FILE, or pasted on stdin) to ~/.config/knock-rotator/config, readable
by its owner only. A secret in it moves to NAME.secret beside the config
(owner-only). An existing profile or file of that name stays unless
--replace.

Options:
      --name NAME          the profile's name (default: the one in the text)
      --replace            replace a profile (and files) of the same name
      --config-file PATH   the profiles (default ~/.config/knock-rotator/config)
      --shortcut knock|ssh also write the Termux:Widget shortcut
                           ~/.shortcuts/NAME, which knocks the profile, or
                           runs 'ssh NAME'
  -h, --help               show this help
  -V, --version            show the version
";

#[derive(Default)]
struct Options {
    from: Option<PathBuf>,
    name: Option<String>,
    replace: bool,
    config_file: Option<PathBuf>,
    shortcut: Option<String>,
}

fn parse(p: &mut lexopt::Parser) -> Result<Parsed<Options>> {
    let mut o = Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("name") => o.name = Some(cli::text(p, "--name")?),
            Long("replace") => o.replace = true,
            Long("config-file") => o.config_file = Some(cli::path(p)?),
            Long("shortcut") => match cli::text(p, "--shortcut")?.as_str() {
                s @ ("knock" | "ssh") => o.shortcut = Some(s.into()),
                s => {
                    return Err(Error::usage(format!(
                        "--shortcut: {} is neither knock nor ssh",
                        quote(s)
                    )));
                }
            },
            Value(v) if o.from.is_none() => o.from = Some(v.into()),
            arg => return Err(arg.unexpected().into()),
        }
    }
    Ok(Parsed::Run(o))
}

fn run(ctx: &Ctx, o: Options) -> Result<()> {
    let (shown, mut text) = read_input(o.from.as_deref())?;
    let config = config_path(&ctx.env, o.config_file.clone());
    let sections = parse_text(&shown, text.expose())?;
    let [section] = &sections[..] else {
        return Err(Error::usage(format!(
            "{shown}: holds {} profiles; import one at a time",
            sections.len()
        )));
    };
    let name = o.name.clone().unwrap_or_else(|| section.name.clone());
    if !valid_name(&name) {
        return Err(Error::usage(format!(
            "--name: {} is not a profile name",
            quote(&name)
        )));
    }
    check(&config, &shown, &sections)
        .map_err(|e| Error::usage(e.message().replace(&*config.display().to_string(), &shown)))?;
    let secret_name = format!("{name}.secret");
    // The section as it will be written: renamed, its secret moved out.
    let secret = section.get("secret").map(|e| {
        let mut s = Secret::new(e.value.expose().to_vec());
        s.buffer().push(b'\n');
        (e.line, s)
    });
    let mut imported = Secret::new(Vec::with_capacity(text.expose().len() + 64));
    for (i, line) in text.expose().split(|&b| b == b'\n').enumerate() {
        let line = match &secret {
            _ if i + 1 == section.line => format!("[{name}]").into_bytes(),
            Some((at, _)) if i + 1 == *at => format!("secret_file = {secret_name}").into_bytes(),
            _ => line.to_vec(),
        };
        if i > 0 {
            imported.buffer().push(b'\n');
        }
        imported.buffer().extend_from_slice(&line);
    }
    if !imported.expose().ends_with(b"\n") {
        imported.buffer().push(b'\n');
    }
    let secret = secret.map(|(_, s)| s);
    text = imported;
    let dir = config
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    make_dir(dir)?;
    let merged = merge(&config, text.expose(), &name, o.replace)?;
    // Everything that can be refused is, before anything is written.
    if o.shortcut.is_some() {
        refuse_existing(&shortcut_path(&name), o.replace)?;
    }
    if let Some(secret) = &secret {
        let path = dir.join(&secret_name);
        refuse_existing(&path, o.replace)?;
        write_private(&path, secret.expose())?;
    }
    write_private(&config, merged.expose())?;
    let mut out = format!("{}: profile [{name}] added", config.display());
    if secret.is_some() {
        out.push_str(&format!(
            ", its secret in {}",
            dir.join(&secret_name).display()
        ));
    }
    out.push_str(&format!("\ntry: knock -v {name}\n"));
    if let Some(kind) = &o.shortcut {
        out.push_str(&shortcut(&name, kind, o.replace)?);
    }
    cli::out(&out)
}

/// The profile's text, at most 64 KiB, wiped when dropped.
fn read_input(from: Option<&Path>) -> Result<(String, Secret)> {
    let mut text = Secret::new(Vec::new());
    let shown = match from {
        Some(p) if p != Path::new("-") => {
            let shown = p.display().to_string();
            crate::safe_read::regular(p, &shown, 64 * 1024, text.buffer())?;
            shown
        }
        _ => {
            std::io::stdin()
                .take(64 * 1024)
                .read_to_end(text.buffer())
                .map_err(|e| Error::io("stdin", e))?;
            "stdin".into()
        }
    };
    Ok((shown, text))
}

/// The imported text must make a whole profile, as `knock` will read it
/// from `config`: every key known, host and service given, the settings and
/// the secret (or its file, which must be there already) valid.
fn check(config: &Path, shown: &str, sections: &[Section]) -> Result<()> {
    let text_of = |s: &Section| Section {
        name: s.name.clone(),
        line: s.line,
        entries: s
            .entries
            .iter()
            .map(|e| Entry {
                key: e.key.clone(),
                value: Secret::new(e.value.expose().to_vec()),
                line: e.line,
            })
            .collect(),
    };
    let file = SettingsFile {
        path: config.to_path_buf(),
        sections: sections.iter().map(text_of).collect(),
    };
    let section = &file.sections[0];
    let name = section.name.clone();
    file.check_keys(section, &KNOCK_KEYS, "a client profile")?;
    if section.get("secret").is_none() && section.get("secret_file").is_none() {
        return Err(Error::usage(format!(
            "{shown}: [{}] has no secret (print it with 'profile --with-secret')",
            section.name
        )));
    }
    Settings::load(&SectionSource {
        file: &file,
        section,
    })?;
    let profile = Profile {
        name: name.clone(),
        file,
        ignored_env: Vec::new(),
    };
    let p = profile.prefs()?;
    if p.host.is_none() || p.service.is_none() {
        return Err(Error::usage(format!(
            "{shown}: [{name}] needs both host and service"
        )));
    }
    Ok(())
}

fn refuse_existing(path: &Path, replace: bool) -> Result<()> {
    if !replace && std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::usage(format!(
            "{}: already exists; --replace to overwrite it",
            path.display()
        )));
    }
    Ok(())
}

/// `~/.shortcuts/NAME`, which Termux:Widget runs with one tap; the
/// directory must be owner-only.
fn shortcut_path(name: &str) -> PathBuf {
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    home.join(".shortcuts").join(name)
}

fn shortcut(name: &str, kind: &str, replace: bool) -> Result<String> {
    let path = shortcut_path(name);
    make_dir(path.parent().unwrap_or(Path::new(".")))?;
    refuse_existing(&path, replace)?;
    let sh = std::env::var_os("PREFIX").map_or("/bin/sh".into(), |p| {
        Path::new(&p).join("bin/sh").display().to_string()
    });
    let exe = std::env::current_exe().map_err(|e| Error::io("this executable's path", e))?;
    let exe = exe.display().to_string().replace('\'', r"'\''");
    let run = match kind {
        "ssh" => format!("exec ssh {name}"),
        _ => format!("exec '{exe}' knock -v {name}"),
    };
    let script = format!("#!{sh}\n# Termux:Widget shortcut made by knock-rotator import\n{run}\n");
    write_private(&path, script.as_bytes())?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .map_err(|e| Error::io(path.display(), e))?;
    Ok(format!("{}: the shortcut ({kind})\n", path.display()))
}
