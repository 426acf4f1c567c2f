//! The phone's side: resolving a host, sending knocks (plain sockets or raw
//! TCP segments) and checking that the door opened.

pub mod dns;
pub mod dns_tcp;
pub mod dns_wire;
pub mod plan;
pub mod profile;
pub mod profile_merge;
pub mod rawtcp;
pub mod relay;
pub mod resolve;
pub mod route;
pub mod schedule;
pub mod send;
