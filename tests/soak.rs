//! The soak (tests/e2e/soak.sh): watch mode rotates 100 doors every 5 s for
//! three minutes against a real knockd while a client knocks, with the
//! shipped executable. A test binary of its own, so that cargo runs it
//! alone: other tests' load would make knockd's capture drop packets.

mod common;

#[test]
#[ignore = "needs root and the tools tests/run installs; tests/run runs it"]
fn soak_100_doors_every_5_seconds() {
    let exe = common::dist().join("knock-rotator-x86_64-unknown-linux-musl");
    common::e2e("soak", &[], &[("STATIC", exe.as_os_str())]);
}
