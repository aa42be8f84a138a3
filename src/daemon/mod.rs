//! supervisord, the OS shell around the pure core (process/, events/): the loop and its owner
//! (event_loop.rs), the token map (tokens.rs), the process table (process_table.rs) with its child
//! pipes (child_io.rs) and event bus (event_bus.rs), spawning (the only fork), signals, setup.
//! `run` loads the config, sets up the process (rlimits, privileges, logs, daemonizing, pidfile)
//! and runs the loop until a shutdown; a restart request (SIGHUP) re-reads the config and goes
//! round again.

pub mod child_io;
pub mod child_log;
pub mod child_output;
pub mod command;
mod deadlines;
pub mod dep_gate;
pub mod dependencies;
pub mod event_bus;
pub mod event_loop;
pub mod fcgi;
pub mod health_checks;
mod health_table;
pub mod listeners;
pub mod notify;
mod pending_logs;
pub mod plan;
pub mod process_table;
pub mod rpc_backend;
pub mod setup;
pub mod signal_pipe;
pub mod spawn;
pub mod tokens;
pub mod write_waits;

use std::path::PathBuf;

use mio::Poll;

use crate::config::model::{Config, LogLevel, User};
use crate::logs::{MainLogConfig, MainLogHandle};
use crate::web;
use event_loop::{Daemon, Exit};
use notify::Notifier;
use process_table::ProcessTable;
use signal_pipe::SignalPipe;

/// Command-line values that override `[supervisord]` (re-applied after every config load).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// argv[0] as invoked (the config file search starts from it).
    pub argv0: String,
    pub configuration: Option<PathBuf>,
    pub nodaemon: bool,
    pub silent: bool,
    pub user: Option<String>,
    pub umask: Option<u32>,
    pub directory: Option<PathBuf>,
    pub logfile: Option<PathBuf>,
    pub logfile_maxbytes: Option<u64>,
    pub logfile_backups: Option<u32>,
    pub loglevel: Option<LogLevel>,
    pub pidfile: Option<PathBuf>,
    pub identifier: Option<String>,
    pub childlogdir: Option<PathBuf>,
    pub nocleanup: bool,
    pub minfds: Option<u64>,
    pub minprocs: Option<u64>,
    pub strip_ansi: bool,
}

fn resolve_user(v: &str) -> Result<User, String> {
    crate::config::users::lookup_user(v).map(|info| info.user)
}

impl Overrides {
    fn apply(&self, config: &mut Config) -> Result<(), String> {
        let s = &mut config.supervisord;
        let cwd = std::env::current_dir().unwrap_or_default();
        s.nodaemon |= self.nodaemon;
        s.silent |= self.silent;
        s.nocleanup |= self.nocleanup;
        s.strip_ansi |= self.strip_ansi;
        if let Some(u) = &self.user {
            s.user = Some(resolve_user(u)?);
        }
        if let Some(v) = self.umask {
            s.umask = v;
        }
        if let Some(v) = &self.directory {
            s.directory = Some(v.clone());
        }
        if let Some(v) = &self.logfile {
            s.logfile = cwd.join(v);
        }
        if let Some(v) = self.logfile_maxbytes {
            s.logfile_maxbytes = v;
        }
        if let Some(v) = self.logfile_backups {
            s.logfile_backups = v;
        }
        if let Some(v) = self.loglevel {
            s.loglevel = v;
        }
        if let Some(v) = &self.pidfile {
            s.pidfile = cwd.join(v);
        }
        if let Some(v) = &self.identifier {
            s.identifier = v.clone();
        }
        if let Some(v) = &self.childlogdir {
            s.childlogdir = v.clone();
        }
        if let Some(v) = self.minfds {
            s.minfds = v;
        }
        if let Some(v) = self.minprocs {
            s.minprocs = v;
        }
        Ok(())
    }
}

pub(crate) fn load_config(overrides: &Overrides) -> Result<Config, String> {
    let path = match &overrides.configuration {
        Some(p) => {
            if !p.exists() {
                return Err(format!("could not find config file {}", p.display()));
            }
            p.clone()
        }
        None => crate::config::find_config_file(&overrides.argv0)?,
    };
    let mut config = crate::config::load(&path).map_err(|errs| {
        errs.first()
            .map(|e| e.reference_message())
            .unwrap_or_else(|| "invalid configuration".to_string())
    })?;
    overrides.apply(&mut config)?;
    Ok(config)
}

/// How long a slow stdout reader gets at exit to take the queued main-log copy.
const EXIT_STDOUT_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Early records that could not reach a log file go to stderr.
fn flush_pending_to_stderr(log: &MainLogHandle) {
    for line in log.take_pending() {
        eprint!("{line}");
    }
}

/// Runs supervisord; returns the process exit code.
pub fn run(argv0: &str, overrides: Overrides) -> i32 {
    let usage = |msg: &str| crate::getopt::usage_error(argv0, msg);
    let log = match crate::logs::install_buffering_main_log() {
        Ok(log) => log,
        Err(e) => {
            eprintln!("Error: cannot install the main log: {e}");
            return 1;
        }
    };
    setup::tune_allocator();
    let mut first = true;
    let mut event_serial = 0;
    let mut child_nofile = None;
    let signals = match SignalPipe::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Error: cannot install signal handlers: {e}");
            return 1;
        }
    };
    let notifier = Notifier::from_env();
    loop {
        let config = match load_config(&overrides) {
            Ok(c) => c,
            Err(msg) => {
                flush_pending_to_stderr(&log);
                return usage(&msg);
            }
        };
        let sd = config.supervisord.clone();
        // Bound before privileges are dropped, so privileged ports and root-owned socket
        // directories keep working with `user=`.
        let mut web = match web::Web::bind(&config) {
            Ok(web) => web,
            Err(msg) => return usage(&msg),
        };
        // Before privileges are dropped: the foreground copy may reopen fd 1's pipe or tty.
        log.prepare_stdout(sd.nodaemon && !sd.silent);
        match &sd.user {
            None => {
                // SAFETY: getuid never fails.
                if unsafe { libc::getuid() } == 0 {
                    log::error!(target: "crit", "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.");
                }
            }
            Some(user) => match setup::drop_privileges(user) {
                Ok(()) => log::info!("Set uid to user {} succeeded", user.uid),
                Err(msg) => return usage(&msg),
            },
        }
        if first {
            match setup::set_rlimits(sd.minfds, sd.minprocs) {
                Ok(infos) => infos.iter().for_each(|m| log::info!("{m}")),
                Err(msg) => return usage(&msg),
            }
            child_nofile = setup::raise_own_nofile();
        }
        for w in &config.warnings {
            log::warn!("{}", w.message);
        }
        for i in &config.infos {
            log::info!("{i}");
        }
        if let Err(e) = log.open(&MainLogConfig::from_supervisord(&sd)) {
            flush_pending_to_stderr(&log);
            return usage(&format!(
                "could not open log file {}: {e}",
                sd.logfile.display()
            ));
        }
        if !sd.nocleanup {
            for warning in crate::logs::cleanup_auto_logs(&sd.childlogdir, &sd.identifier) {
                log::warn!("{warning}");
            }
        }
        let poll = match Poll::new() {
            Ok(p) => p,
            Err(e) => {
                log::error!(target: "crit", "cannot create poller: {e}");
                return 1;
            }
        };
        let registry = match poll.registry().try_clone() {
            Ok(r) => r,
            Err(e) => {
                log::error!(target: "crit", "cannot clone poll registry: {e}");
                return 1;
            }
        };
        if let Err(e) = event_loop::register_signals(&poll, &signals) {
            log::error!(target: "crit", "cannot watch signals: {e}");
            return 1;
        }
        let mut table = ProcessTable::new(config, registry, overrides.clone(), event_serial);
        table.child_nofile = child_nofile;
        if let Err(e) = web.start(
            poll.registry(),
            &table.config,
            tokens::TAIL_WATCH,
            tokens::HTTP_BASE,
        ) {
            log::error!(target: "crit", "cannot watch the HTTP servers: {e}");
            return 1;
        }
        if first && !sd.nodaemon {
            setup::daemonize(sd.umask, sd.directory.as_deref());
        }
        let pidfile_written = setup::write_pidfile(&sd.pidfile);
        let mut daemon = Daemon::new(poll, &signals, &notifier, table, web, log);
        let exit = daemon.run();
        daemon.close_web();
        if pidfile_written {
            let _ = std::fs::remove_file(&sd.pidfile);
        }
        event_serial = daemon.finish();
        if let Exit::Shutdown(status) = exit {
            log.flush_stdout_before_exit(EXIT_STDOUT_GRACE);
            return status;
        }
        first = false;
    }
}
