//! knock-rotator: rotating port-knock sequences for knockd.
//!
//! The tree reads as the architecture: `derive/` is what both sides compute
//! (the sequence of a period), `client/` is the phone's side (resolving and
//! knocking), `server/` is knockd's side (its configuration, rotation,
//! reload and scheduling); `applet/` holds one file per subcommand, and
//! `dispatch` picks one from argv. Settings, the secret, the clock, the
//! command-line helpers and the error type sit at the top, used by all.
//!
//! Modules are private: only what the integration tests and benchmarks use
//! is re-exported below, so the compiler reports anything else left unused.

mod applet;
mod cli;
mod client;
mod clock;
mod derive;
mod dispatch;
mod error;
mod install;
mod number;
mod prog;
mod random;
mod secret;
mod server;
mod settings;

pub use dispatch::main;
pub use settings::{Env, Settings};

/// The knockd.conf reader, for the tests that compare it with knockd.
pub mod knockd_conf {
    pub use crate::server::knockd_conf::parse;
}

/// A rotation's plan, for the editor's property tests.
pub mod rotation {
    pub use crate::server::rotation::{load, plan};
}
