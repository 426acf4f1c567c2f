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
mod env;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod harden;
mod index;
mod install;
mod json;
mod number;
mod origin;
mod prog;
mod random;
mod safe_read;
mod secret;
mod server;
mod settings;
mod settings_file;

pub use dispatch::main;
pub use env::Env;
pub use settings::Settings;

/// The knockd.conf reader, for the tests that compare it with knockd.
pub mod knockd_conf {
    pub use crate::server::knockd::conf::parse;

    /// Outside the rotator doors' sequence values, `old` and `new` are
    /// identical, and the new values hold only `port:proto` items.
    pub fn only_values_changed(old: &[u8], new: &[u8]) -> bool {
        parse(old, &|_| Err("none".into()))
            .is_ok_and(|c| crate::server::knockd::edit_contract::only_values_changed(old, &c, new))
    }
}

/// A rotation's plan, for the editor's property tests.
pub mod rotation {
    use crate::error::Result;
    use crate::server::doors::Doors;
    pub use crate::server::knockd::rotation::load;
    use crate::server::knockd::rotation::{Loaded, Plan};

    /// The plan with `settings` for every door.
    pub fn plan(
        settings: &crate::Settings,
        loaded: &Loaded,
        now: u64,
        offset: i64,
    ) -> Result<Plan> {
        crate::server::knockd::rotation::plan(&Doors::uniform(settings), loaded, now, offset)
    }
}

/// nf_tables set elements added over netlink, for the benchmark of a day of
/// sequences' floor.
#[doc(hidden)]
pub mod nft_netlink {
    pub use crate::server::nftables::netlink::add;
}
