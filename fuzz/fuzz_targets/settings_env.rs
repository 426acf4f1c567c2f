#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| knock_rotator::fuzzing::settings_env(data));
