//! Fuzz target `xmlrpc_call`: the body is `supervisor::fuzz_bodies::xmlrpc_call` (shared with the corpus replay test).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz_bodies::xmlrpc_call(data));
