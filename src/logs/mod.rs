//! Log files: the daemon's main log, child output capture (AUTO names, rotation, ANSI stripping,
//! capture mode), and reading/tailing logs for RPC and /logtail. Nothing here blocks or forks.

pub mod ansi;
pub mod auto;
pub mod channel;
pub mod follow;
pub mod lines;
pub mod mainlog;
pub mod read;
pub mod rotating;
pub mod splice;
pub mod stdout_copy;
pub mod syslog;
pub mod timefmt;
pub mod watch;

#[cfg(test)]
mod testutil;

pub use auto::{Channel, auto_log_name, cleanup_auto_logs, create_auto_log_at};
pub use channel::{ChannelConfig, ChannelOutput, OutputChannel};
pub use follow::FileFollower;
pub use mainlog::{MainLogConfig, MainLogHandle, install_buffering_main_log, log_at};
pub use read::{ReadError, read_log, tail_log};
pub use rotating::{Spliced, WriteReport};
pub use splice::StagingPipe;
pub use watch::{Changes, LogWatch};
