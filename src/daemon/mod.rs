//! supervisord: the only code that touches the OS for the daemon. `run` loads the config, sets up
//! the process (rlimits, privileges, logs, daemonizing, pidfile) and runs the loop until a
//! shutdown; a restart request (SIGHUP) re-reads the config and goes round again.

pub mod child_io;
pub mod child_log;
pub mod command;
pub mod event_loop;
pub mod fcgi;
pub mod listeners;
pub mod plan;
pub mod rpc_backend;
pub mod setup;
pub mod signal_pipe;
pub mod spawn;
pub mod supervisor;
pub mod write_waits;

use std::path::PathBuf;

use mio::Poll;

use crate::config::model::{Config, LogLevel, User};
use crate::logs::{MainLogConfig, MainLogHandle};
use crate::web;
use event_loop::Exit;
use rpc_backend::DaemonBackend;
use signal_pipe::SignalPipe;
use supervisor::{LAST_PIPE_TOKEN, Supervisor};

/// The inotify descriptor that wakes the web's log tails (below the first child pipe token).
const TAIL_WATCH_TOKEN: mio::Token = mio::Token(1);
/// HTTP listeners and connections start here (child pipes use the range below).
const HTTP_TOKEN_BASE: usize = LAST_PIPE_TOKEN;

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

struct LogHooks {
    log: MainLogHandle,
    web: Option<web::Web>,
}

impl event_loop::Hooks for LogHooks {
    fn reopen_main_log(&mut self) {
        log::info!("supervisord logreopen");
        if let Err(e) = self.log.reopen() {
            log::error!("could not reopen the main log: {e}");
        }
    }

    fn owns(&self, token: mio::Token) -> bool {
        self.web.as_ref().is_some_and(|w| w.owns(token))
    }

    fn on_event(
        &mut self,
        sup: &mut Supervisor,
        registry: &mio::Registry,
        event: &mio::event::Event,
        now: std::time::Instant,
    ) {
        if let Some(web) = self.web.as_mut() {
            let log = self.log;
            let mut clear = move || log.clear();
            let mut backend = DaemonBackend::new(sup, &mut clear);
            web.on_event(
                &mut backend,
                registry,
                event,
                now,
                std::time::SystemTime::now(),
            );
        }
    }

    fn next_deadline(&self) -> Option<std::time::Instant> {
        self.web.as_ref().and_then(web::Web::next_deadline)
    }

    fn flush_main_log(&mut self) -> bool {
        let pending = self.log.flush_stdout();
        // Logged right away: with the queue drained the loop may sleep for long.
        let stdout_report = self.log.take_stdout_report();
        if let Some(report) = &stdout_report {
            log::warn!("{report}");
        }
        if report_main_log_health(&self.log) || stdout_report.is_some() {
            return self.log.flush_stdout();
        }
        pending
    }

    fn main_log_pending_fds(&self, out: &mut Vec<std::os::fd::RawFd>) {
        self.log.pending_fds(out);
    }

    fn before_poll(&mut self, sup: &mut Supervisor, now: std::time::Instant) {
        if let Some(web) = self.web.as_mut() {
            let log = self.log;
            let mut clear = move || log.clear();
            let mut backend = DaemonBackend::new(sup, &mut clear);
            web.after_pass(&mut backend, now, std::time::SystemTime::now());
        }
        report_main_log_health(&self.log);
    }
}

/// A failing (or recovered) main log file is reported once, on stderr as well (never waiting
/// for a stderr nobody reads). Returns whether there was something to report.
fn report_main_log_health(log: &MainLogHandle) -> bool {
    let Some(report) = log.take_report() else {
        return false;
    };
    crate::logs::stdout_copy::write_stderr(&format!("supervisord: {report}\n"));
    log::warn!("{report}");
    true
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
        let mut poll = match Poll::new() {
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
        let mut sup = Supervisor::new(config, registry, overrides.clone(), event_serial);
        sup.child_nofile = child_nofile;
        if let Err(e) = web.start(
            poll.registry(),
            &sup.config,
            TAIL_WATCH_TOKEN,
            HTTP_TOKEN_BASE,
        ) {
            log::error!(target: "crit", "cannot watch the HTTP servers: {e}");
            return 1;
        }
        if first && !sd.nodaemon {
            setup::daemonize(sd.umask, sd.directory.as_deref());
        }
        let pidfile_written = setup::write_pidfile(&sd.pidfile);
        let mut hooks = LogHooks {
            log,
            web: Some(web),
        };
        let exit = event_loop::run(&mut sup, &mut poll, &signals, &mut hooks);
        if let Some(mut web) = hooks.web.take() {
            web.shutdown(poll.registry());
        }
        if pidfile_written {
            let _ = std::fs::remove_file(&sd.pidfile);
        }
        sup.close_sockets();
        event_serial = sup.event_serial;
        drop(sup);
        if exit == Exit::Shutdown {
            log.flush_stdout_before_exit(EXIT_STDOUT_GRACE);
            return 0;
        }
        first = false;
    }
}
