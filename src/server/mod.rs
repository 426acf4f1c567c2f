//! The server's side. What every backend shares: the doors file, periods
//! and what a rotation did (`backend`), the rotation lock, the atomic
//! write, and when to rotate (once, at every boundary, or at the next
//! boundary after a timer run). One folder per backend: `knockd/` edits
//! knockd.conf and makes knockd reload; `nftables/` has the kernel match
//! the sequences. The backends do not use each other (tests/structure.rs).

pub mod atomic_file;
pub mod backend;
pub mod boundary;
pub mod doors;
pub mod knockd;
pub mod lock;
pub mod nftables;
pub mod watch;
