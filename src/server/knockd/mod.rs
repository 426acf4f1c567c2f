//! The knockd backend: knockd.conf read as knockd reads it, the rotation
//! plan and its byte-preserving edit, making knockd reload, and one
//! rotation of it as a job.

pub mod conf;
pub mod diff;
pub mod door_state;
pub mod edit_contract;
pub mod job;
pub mod process;
pub mod reload;
pub mod rotation;
pub mod syntax;
pub mod unique;
