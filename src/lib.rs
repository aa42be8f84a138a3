//! supervisor as a library: every layer of the multicall binary, so `src/main.rs` stays a thin
//! shell and fuzz targets and benchmarks can call the parsers directly.
//!
//! Layers, top down (imports only go down): `cmd` -> `daemon` / `ctl` -> `web` -> `rpc` -> `http`,
//! `process`, `events`, `logs` -> `config` -> leaves (`wire`, `getopt`, `xmlrpc`, `signals`,
//! `python`, `sys`, `sort`).

pub mod cmd;
pub mod config;
pub mod ctl;
pub mod daemon;
pub mod events;
pub mod fuzz_bodies;
pub mod getopt;
pub mod http;
pub mod logs;
pub mod process;
pub mod python;
pub mod rpc;
pub mod signals;
pub mod sort;
pub mod sys;
pub mod web;
pub mod wire;
pub mod xmlrpc;

#[cfg(test)]
mod testutil;
