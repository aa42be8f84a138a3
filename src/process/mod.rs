//! Processes, purely: the per-process state machine, wait-status text and group ordering (the
//! state names and codes are wire vocabulary, in `crate::wire`). Nothing here makes a syscall or
//! reads a clock (the daemon passes `now` in).

pub mod deps;
pub mod health;
pub mod machine;
pub mod order;
pub mod outcome;
pub mod restart;
pub mod wait_status;

pub use crate::wire::{ProcessState, SupervisorState};
pub use machine::{Action, Input, Process};

/// A default `[program:x]` process config, as the reference's defaults, for tests.
#[cfg(test)]
pub fn test_config(name: &str) -> crate::config::model::ProcessConfig {
    use crate::config::model::*;
    let channel = LogChannel {
        logfile: LogTarget::None,
        logfile_maxbytes: 50 * 1024 * 1024,
        logfile_backups: 10,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog: false,
    };
    ProcessConfig {
        name: name.to_string(),
        section: format!("program:{name}"),
        program_name: name.to_string(),
        process_num: 0,
        command: "/bin/true".to_string(),
        priority: 999,
        autostart: true,
        startsecs: 1,
        startretries: 3,
        autorestart: AutoRestart::Unexpected,
        exitcodes: vec![0],
        stopsignal: 15,
        stopwaitsecs: 10,
        stopasgroup: false,
        killasgroup: false,
        user: None,
        redirect_stderr: false,
        stdout: channel.clone(),
        stderr: channel,
        environment: Default::default(),
        directory: None,
        umask: None,
        serverurl: None,
        extensions: Default::default(),
    }
}
