//! knock-rotator: rotating port-knock sequences for knockd.
//!
//! One concept per module; `dispatch` ties the applets together and
//! `main.rs` only calls it.

pub mod applet;
pub mod cli;
pub mod clock;
pub mod dispatch;
pub mod error;
pub mod ports;
pub mod secret;
pub mod sequence;
pub mod settings;
