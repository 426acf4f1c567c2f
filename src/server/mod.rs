//! The server's side: knockd.conf read as knockd reads it, the rotation
//! plan and its byte-preserving edit, the atomic write, making knockd
//! reload, and when to rotate (once, at every boundary, or at the next
//! boundary after a timer run).

pub mod atomic_file;
pub mod boundary;
pub mod diff;
pub mod door_state;
pub mod doors;
pub mod edit_contract;
pub mod job;
pub mod knockd_conf;
pub mod knockd_process;
pub mod knockd_syntax;
pub mod lock;
pub mod reload;
pub mod rotation;
pub mod watch;
