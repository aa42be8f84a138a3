//! The one integration-test binary: each module tests one area against the real binary.

mod audit;
mod cli;
mod completions;
mod config;
mod config_checks;
mod ctl;
mod daemon;
mod dashboard;
mod events;
mod http;
mod lifecycle;
mod listeners;
mod logs;
mod packaging;
mod perf;
mod pidproxy;
mod reconfig;
mod rpc;
mod util;
