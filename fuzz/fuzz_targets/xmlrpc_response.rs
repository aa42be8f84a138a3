//! Fuzz target `xmlrpc_response`: the body is `supervisor::fuzz_bodies::xmlrpc_response` (shared with the corpus replay test).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz_bodies::xmlrpc_response(data));
