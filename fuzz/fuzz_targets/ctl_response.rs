//! Fuzz target `ctl_response`: the body is `supervisor::fuzz_bodies::ctl_response` (shared with the corpus replay test).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz_bodies::ctl_response(data));
