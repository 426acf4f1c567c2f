//! Busybox-style dispatch: the applet comes from the basename of argv[0]
//! (`knock`, `knock-rotate`) or, for `knock-rotator`, from the first
//! argument, where any unambiguous prefix works (`gen`, `gene`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::applet::{APPLETS, Applet, Ctx};
use crate::cli;
use crate::env::Env;
use crate::error::{Error, Result, quote};
use crate::prog::{MAIN_NAME, version};

/// The whole program: returns the exit status.
pub fn main() -> i32 {
    // Before any secret is read: no core file, no ptrace by others.
    crate::harden::process();
    // SAFETY: the first thing main does; no thread exists yet.
    let env = unsafe { Env::capture() };
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    let name = basename(&argv0);
    let rest: Vec<OsString> = args.collect();
    let applet = APPLETS.iter().find(|a| a.link == Some(name.as_str()));
    let prog = applet.map_or(MAIN_NAME.to_string(), |_| name.clone());
    let result = env.check_unique().and_then(|()| match applet {
        Some(applet) => run_applet(applet, name.clone(), env, rest),
        None => run_main(env, rest),
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            crate::cli::err(&format!("{}\n", e.report(&prog)));
            e.code()
        }
    }
}

fn basename(argv0: &OsString) -> String {
    let bytes = argv0.as_bytes();
    let base = bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes);
    String::from_utf8_lossy(base).into_owned()
}

fn run_applet(applet: &Applet, prog: String, env: Env, args: Vec<OsString>) -> Result<()> {
    let ctx = Ctx { env, prog };
    (applet.main)(&ctx, lexopt::Parser::from_args(args))
}

fn run_main(env: Env, args: Vec<OsString>) -> Result<()> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        crate::cli::err(&usage());
        return Err(Error::usage("no applet given"));
    };
    let first_text = first.to_string_lossy();
    match first_text.as_ref() {
        "-h" | "--help" => return cli::out(&usage()),
        "-V" | "--version" => return cli::out(&version()),
        "--install" => {
            let dir = args.next().map(PathBuf::from);
            if let Some(extra) = args.next() {
                return Err(Error::usage(format!(
                    "--install takes one DIR; unexpected {}",
                    quote(extra.as_encoded_bytes())
                )));
            }
            return cli::out(&crate::install::install(dir)?);
        }
        "help" => {
            return match args.next() {
                None => cli::out(&usage()),
                Some(name) => cli::out(find(&name.to_string_lossy())?.usage),
            };
        }
        s if s.starts_with('-') => {
            return Err(Error::usage(format!(
                "unknown option {}; an applet comes first (see '{MAIN_NAME} --help')",
                quote(s)
            )));
        }
        _ => {}
    }
    let applet = find(&first_text)?;
    run_applet(
        applet,
        format!("{MAIN_NAME} {}", applet.name),
        env,
        args.collect(),
    )
}

/// The applet named `name` or uniquely prefixed by it.
fn find(name: &str) -> Result<&'static Applet> {
    if let Some(a) = APPLETS.iter().find(|a| a.name == name) {
        return Ok(a);
    }
    let matches: Vec<&Applet> = if name.is_empty() {
        Vec::new()
    } else {
        APPLETS
            .iter()
            .filter(|a| a.name.starts_with(name))
            .collect()
    };
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::usage(format!(
            "unknown applet {}; applets: {}",
            quote(name),
            names()
        ))),
        many => Err(Error::usage(format!(
            "{} is ambiguous: {}",
            quote(name),
            many.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn names() -> String {
    APPLETS
        .iter()
        .map(|a| a.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn usage() -> String {
    let mut s = format!(
        "Usage: {MAIN_NAME} APPLET [ARGS...]\n       {MAIN_NAME} --install [DIR]\n       \
         {MAIN_NAME} --help | --version\n\n\
         Rotating port-knock sequences for knockd.\n\nApplets:\n"
    );
    for a in APPLETS {
        s.push_str(&format!("  {:<10} {}\n", a.name, a.summary));
    }
    s.push_str(&format!(
        "\nAny unambiguous prefix of an applet works. Run '{MAIN_NAME} APPLET --help' for its options.\n"
    ));
    let links: Vec<String> = APPLETS
        .iter()
        .filter_map(|a| a.link.map(|l| format!("'{l}' runs {}", a.name)))
        .collect();
    if !links.is_empty() {
        s.push_str(&format!(
            "Installed under another name: {}.\n",
            links.join(", ")
        ));
    }
    s
}
