//! `fingerprint`: equal configurations agree, any difference shows, the
//! secret never does.

mod common;

use common::{SECRET, run};

fn fp(env: &[(&str, &str)]) -> String {
    let mut e = vec![("KNOCKD_ROTATOR_SECRET", SECRET)];
    e.extend_from_slice(env);
    let r = run(common::cmd(&e).arg("fingerprint"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(SECRET));
    r.stdout.lines().next().unwrap().to_string()
}

#[test]
fn known_answer() {
    assert_eq!(fp(&[]), "fingerprint c6f1-b85a-6e6b-2a77");
}

#[test]
fn same_settings_written_differently_agree() {
    let base = fp(&[]);
    assert_eq!(
        fp(&[("KNOCKD_ROTATOR_PORTS", "2000-30000,30001-65535")]),
        base
    );
    assert_eq!(
        fp(&[
            ("KNOCKD_ROTATOR_PORT_MODULO", "0"),
            ("KNOCKD_ROTATOR_LENGTH", "10")
        ]),
        base
    );
    assert_eq!(fp(&[("KNOCKD_ROTATOR_ALGORITHM", "legacy")]), base);
}

#[test]
fn every_setting_shows() {
    let base = fp(&[]);
    for (k, v) in [
        ("KNOCKD_ROTATOR_LENGTH", "11"),
        ("KNOCKD_ROTATOR_PERIOD_MODULO", "21601"),
        ("KNOCKD_ROTATOR_PROTO_MODULO", "2"),
        ("KNOCKD_ROTATOR_PORTS", "2001-65535"),
        ("KNOCKD_ROTATOR_ALGORITHM", "hmac-sha256"),
    ] {
        assert_ne!(fp(&[(k, v)]), base, "{k}={v}");
    }
    let other = run(
        common::cmd(&[("KNOCKD_ROTATOR_SECRET", "correct horse battery stapl3")])
            .arg("fingerprint"),
    );
    assert_ne!(other.stdout.lines().next().unwrap(), base);
}
