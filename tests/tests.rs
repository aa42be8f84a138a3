//! The one integration-test binary: each module tests one area against the real binary.

mod audit;
mod cli;
mod config;
mod ctl;
mod daemon;
mod dashboard;
mod events;
mod http;
mod lifecycle;
mod listeners;
mod logs;
mod perf;
mod probes;
mod reconfig;
mod rpc;
mod util;
