//! supervisor: one multicall binary that is supervisord, supervisorctl and a config checker.

mod cmd;
mod config;
mod ctl;
mod daemon;
mod events;
mod http;
mod logs;
mod process;
mod pyrepr;
mod rpc;
mod signals;
mod xmlrpc;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::process::exit(cmd::dispatch(args));
}
