//! The soaks, with the shipped executable: watch mode rotates 100 doors
//! every 5 s for three minutes while a client knocks, against a real
//! knockd (tests/e2e/soak.sh) and with the nftables backend
//! (tests/e2e/nft_soak.sh). A test binary of their own, and one at a time:
//! other tests' load would make knockd's capture drop packets. And the
//! ahead doors' script with the shipped executable (built without Debug's
//! output, and with musl's allocator and memcmp).

mod common;

use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn soak_100_doors_every_5_seconds() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let exe = common::dist().join("knock-rotator-x86_64-unknown-linux-musl");
    common::e2e("soak", &[], &[("STATIC", exe.as_os_str())]);
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn soak_100_nftables_doors_every_5_seconds() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let exe = common::dist().join("knock-rotator-x86_64-unknown-linux-musl");
    common::e2e(
        "nft_soak",
        &["nft", "python3"],
        &[("STATIC", exe.as_os_str())],
    );
}

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn nftables_ahead_doors_with_the_shipped_executable() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let exe = common::dist().join("knock-rotator-x86_64-unknown-linux-musl");
    common::e2e(
        "nft_ahead",
        &["nft", "python3"],
        &[("BIN", exe.as_os_str())],
    );
}
