//! The program's name and version line: a leaf, so that dispatch, every
//! applet and the server's forked runs can all use it.

pub const MAIN_NAME: &str = "knock-rotator";

/// Version line: version, git commit and target triple, stamped by build.rs.
pub fn version() -> String {
    format!(
        "{MAIN_NAME} {} (commit {}, {})\n",
        env!("CARGO_PKG_VERSION"),
        env!("KNOCK_ROTATOR_COMMIT"),
        env!("KNOCK_ROTATOR_TARGET")
    )
}
