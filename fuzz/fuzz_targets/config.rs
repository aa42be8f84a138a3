//! Fuzz target `config`: the body is `supervisor::fuzz_bodies::config` (shared with the corpus replay test).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz_bodies::config(data));
