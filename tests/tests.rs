//! The one integration-test binary: each module tests one area against the real binary.

mod capture_under_load;
mod cli;
mod compat_edge_cases;
mod config;
mod container;
mod ctl;
mod daemon;
mod dashboard;
mod dependencies;
mod events;
mod extensions;
mod faults;
mod guard;
mod hardening;
mod health;
mod http;
mod lifecycle;
mod listeners;
mod load;
mod logs;
mod probes;
mod reconfig;
mod rpc;
mod shell_pty;
mod systemd;
mod util;
