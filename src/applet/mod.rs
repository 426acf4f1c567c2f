//! The applets, one file each, and the static table dispatch reads. Every
//! applet has the same shape: `parse` reads the command line into its
//! `Options` (or asks for help or the version), then `run` does the work.

use lexopt::Parser;

use crate::cli::{self, Parsed};
use crate::env::Env;
use crate::error::Result;
use crate::prog;

pub mod config;
pub mod fingerprint;
pub mod generate;
pub mod import;
pub mod knock;
pub mod new_secret;
pub mod profile;
pub mod rotate;
pub mod status;
pub mod status_nftables;

/// What an applet gets besides its arguments.
pub struct Ctx {
    /// Captured environment (the secret is no longer in the process's).
    pub env: Env,
    /// How the user called us, for messages: `knock`, `knock-rotator generate`.
    pub prog: String,
}

pub struct Applet {
    pub name: &'static str,
    /// Symlink name that runs this applet directly (`knock`).
    pub link: Option<&'static str>,
    pub summary: &'static str,
    pub usage: &'static str,
    pub main: fn(&Ctx, Parser) -> Result<()>,
}

pub static APPLETS: &[Applet] = &[
    generate::APPLET,
    knock::APPLET,
    rotate::APPLET,
    status::APPLET,
    fingerprint::APPLET,
    config::APPLET,
    new_secret::APPLET,
    profile::APPLET,
    import::APPLET,
];

#[cfg(feature = "fuzzing")]
thread_local! {
    /// For the fuzzer (src/fuzzing.rs): stop after parsing the arguments.
    pub static PARSE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Parse, then print the help or the version, or run.
fn drive<O>(
    ctx: &Ctx,
    mut p: Parser,
    usage: &str,
    parse: fn(&mut Parser) -> Result<Parsed<O>>,
    run: fn(&Ctx, O) -> Result<()>,
) -> Result<()> {
    #[cfg(feature = "fuzzing")]
    if PARSE_ONLY.with(std::cell::Cell::get) {
        return parse(&mut p).map(|_| ());
    }
    match parse(&mut p)? {
        Parsed::Run(o) => run(ctx, o),
        Parsed::Help => cli::out(usage),
        Parsed::Version => cli::out(&prog::version()),
    }
}
