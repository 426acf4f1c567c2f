#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| knock_rotator::fuzzing::ports(data));
