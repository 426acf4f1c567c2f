//! Property test of the knockd.conf editor over thousands of mutated files:
//! every input is either refused (and then, through the binary, left
//! untouched), or changed only in rotator doors' sequence values, and a
//! second rotation is a no-op.

mod common;

use std::path::Path;

use common::mutate::{Rng, mutate};
use common::{SECRET, TempDir, only_values_changed};
use knock_rotator::rotation;
use knock_rotator::{Env, Settings};

const SEEDS: [&str; 4] = ["tabs.conf", "crlf.conf", "latin1.conf", "names.conf"];

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus")
            .join(name),
    )
    .unwrap()
}

#[test]
fn editor_properties_hold_on_mutated_files() {
    let settings = Settings::load(&Env::from_pairs([("KNOCKD_ROTATOR_SECRET", SECRET)])).unwrap();
    let dir = TempDir::new("props");
    let file = dir.path().join("knockd.conf");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut accepted, mut refused) = (0, 0);
    for case in 0..3000 {
        let text = mutate(&corpus(SEEDS[case % SEEDS.len()]), &mut rng);
        std::fs::write(&file, &text).unwrap();
        let plan =
            rotation::load(&file).and_then(|l| rotation::plan(&settings, &l, 1_800_000_000, 0));
        let Ok(plan) = plan else {
            refused += 1;
            continue;
        };
        accepted += 1;
        assert!(
            only_values_changed(&text, &plan.new_text),
            "case {case}: more than values changed"
        );
        std::fs::write(&file, &plan.new_text).unwrap();
        let again =
            rotation::plan(&settings, &rotation::load(&file).unwrap(), 1_800_000_000, 0).unwrap();
        assert_eq!(
            again.new_text, plan.new_text,
            "case {case}: a second run is not a no-op"
        );
    }
    println!("{accepted} mutated files rotated, {refused} refused");
    assert!(
        accepted > 300 && refused > 300,
        "the mutations should exercise both sides"
    );
}

/// The same through the binary, which must leave refused files untouched.
#[test]
fn binary_leaves_refused_files_untouched() {
    let dir = TempDir::new("props-bin");
    let file = dir.path().join("knockd.conf");
    let mut rng = Rng(0x0dd_ba11);
    for case in 0..150 {
        let text = mutate(&corpus(SEEDS[case % SEEDS.len()]), &mut rng);
        std::fs::write(&file, &text).unwrap();
        let r = common::run(
            common::cmd(&[("KNOCKD_ROTATOR_SECRET", SECRET)])
                .args([
                    "rotate",
                    "--no-reload",
                    "--no-boundary-run",
                    "--at",
                    "1800000000",
                    "--config",
                ])
                .arg(&file),
        );
        let now = std::fs::read(&file).unwrap();
        if r.code == 0 {
            assert!(
                only_values_changed(&text, &now),
                "case {case}: more than values changed"
            );
        } else {
            assert_eq!(r.code, 2, "case {case}: {}", r.stderr);
            assert_eq!(r.stderr.lines().count(), 1, "case {case}: {}", r.stderr);
            assert_eq!(now, text, "case {case}: a refused file changed");
        }
    }
}
