//! What the process does to itself before it reads any secret: no core
//! file (a crash would write the secret to disk) and not dumpable (other
//! processes of the same user cannot ptrace it or read its memory, and
//! /proc/PID/environ becomes root's to read).

use rustix::process::{DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit};

/// Best effort: an old kernel without these only loses the protection.
pub fn process() {
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
}
