#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| knock_rotator::fuzzing::resolv_hosts(data));
