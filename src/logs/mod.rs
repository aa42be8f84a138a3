//! Log files: the daemon's main log, child output capture (AUTO names, rotation, ANSI stripping,
//! capture mode), and reading/tailing logs for RPC and /logtail. Nothing here blocks or forks.

pub mod ansi;
pub mod auto;
pub mod channel;
pub mod follow;
pub mod mainlog;
pub mod pyrepr;
pub mod read;
pub mod rotating;
pub mod syslog;
pub mod timefmt;

#[cfg(test)]
mod testutil;

#[allow(unused_imports)] // re-exports for the daemon, rpc and http areas as they wire in
pub use ansi::{AnsiStripper, strip_ansi};
#[allow(unused_imports)] // re-exports for the daemon, rpc and http areas as they wire in
pub use auto::{Channel, cleanup_auto_logs, create_auto_log, is_auto_log_name};
#[allow(unused_imports)] // re-exports for the daemon, rpc and http areas as they wire in
pub use channel::{ChannelConfig, ChannelOutput, OutputChannel};
#[allow(unused_imports)] // re-exports for the daemon, rpc and http areas as they wire in
pub use follow::{FileFollower, TRUNCATED_NOTICE};
#[allow(unused_imports)] // re-exports for the daemon, rpc and http areas as they wire in
pub use mainlog::{
    InstallError, MainLogConfig, MainLogDest, MainLogHandle, install_buffering_main_log,
    install_main_log,
};
#[allow(unused_imports)] // re-exports for the daemon, rpc and http areas as they wire in
pub use pyrepr::{py_bytes_repr, py_str_repr};
#[allow(unused_imports)] // re-exports for the daemon, rpc and http areas as they wire in
pub use read::{ReadError, Tail, read_log, tail_log};
#[allow(unused_imports)] // re-exports for the daemon, rpc and http areas as they wire in
pub use rotating::{RotatingFile, WriteReport};
#[allow(unused_imports)] // re-exports for the daemon, rpc and http areas as they wire in
pub use syslog::SyslogSender;
