//! Fuzz target `event_listener`: the body is `supervisor::fuzz_bodies::event_listener` (shared with the corpus replay test).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz_bodies::event_listener(data));
