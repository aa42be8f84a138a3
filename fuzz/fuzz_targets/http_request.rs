//! Fuzz target `http_request`: the body is `supervisor::fuzz_bodies::http_request` (shared with the corpus replay test).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz_bodies::http_request(data));
