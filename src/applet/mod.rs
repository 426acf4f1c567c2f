//! The applets, one file each, and the static table dispatch reads.

use crate::error::Result;
use crate::settings::Env;

pub mod fingerprint;
pub mod generate;
pub mod knock;
pub mod rotate;
pub mod status;

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
    pub run: fn(&Ctx, lexopt::Parser) -> Result<()>,
}

pub static APPLETS: &[Applet] = &[
    generate::APPLET,
    knock::APPLET,
    rotate::APPLET,
    status::APPLET,
    fingerprint::APPLET,
];
