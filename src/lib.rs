//! knock-rotator: rotating port-knock sequences for knockd.
//!
//! One concept per module; `dispatch` ties the applets together and
//! `main.rs` only calls it.

pub mod applet;
pub mod atomic_file;
pub mod cli;
pub mod clock;
pub mod dispatch;
pub mod dns;
pub mod error;
pub mod install;
pub mod keyed;
pub mod knock;
pub mod knockd_conf;
pub mod ports;
pub mod random;
pub mod rawtcp;
pub mod reload;
pub mod resolve;
pub mod rotation;
pub mod secret;
pub mod sequence;
pub mod settings;
