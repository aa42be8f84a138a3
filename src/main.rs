//! supervisor: one multicall binary that is supervisord, supervisorctl and a config checker.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::process::exit(supervisor::cmd::dispatch(args));
}
