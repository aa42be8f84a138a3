//! supervisord: the only code that touches the OS for the daemon. `run` loads the config, sets up
//! the process (rlimits, privileges, logs, daemonizing, pidfile) and runs the loop until a
//! shutdown; a restart request (SIGHUP) re-reads the config and goes round again.

pub mod child_io;
pub mod child_log;
pub mod command;
pub mod event_loop;
pub mod listeners;
pub mod plan;
pub mod setup;
pub mod signal_pipe;
pub mod spawn;
pub mod stand_in_config;
pub mod stand_in_log;
pub mod supervisor;

use std::path::PathBuf;

use mio::Poll;

use crate::config::model::{Config, LogLevel, User};
use event_loop::Exit;
use signal_pipe::SignalPipe;
use stand_in_log::{MainLogConfig, MainLogHandle};
use supervisor::Supervisor;

/// Command-line values that override `[supervisord]` (re-applied after every config load).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
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
    let found = match nix::unistd::User::from_name(v).ok().flatten() {
        Some(u) => Some(u),
        None => match v.parse::<u32>() {
            Ok(uid) => {
                return nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                    .ok()
                    .flatten()
                    .map(|u| User {
                        name: Some(u.name),
                        uid,
                        gid: Some(u.gid.as_raw()),
                    })
                    .ok_or_else(|| format!("Invalid user id {v}"));
            }
            Err(_) => None,
        },
    };
    found
        .map(|u| User {
            name: Some(u.name),
            uid: u.uid.as_raw(),
            gid: Some(u.gid.as_raw()),
        })
        .ok_or_else(|| format!("Invalid user name {v}"))
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
        None => find_config_file()?,
    };
    let mut config = stand_in_config::load(&path).map_err(|errs| errs.join("\n"))?;
    overrides.apply(&mut config)?;
    Ok(config)
}

/// The reference's search order (until `config::find_config_file` lands).
fn find_config_file() -> Result<PathBuf, String> {
    let exe = std::env::args().next().unwrap_or_default();
    let here = PathBuf::from(&exe);
    let parent = here
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    let candidates = [
        parent.join("etc/supervisord.conf"),
        parent.join("supervisord.conf"),
        PathBuf::from("supervisord.conf"),
        PathBuf::from("etc/supervisord.conf"),
        PathBuf::from("/etc/supervisord.conf"),
        PathBuf::from("/etc/supervisor/supervisord.conf"),
    ];
    candidates.iter().find(|c| c.exists()).cloned().ok_or_else(|| {
        let list: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
        format!(
            "No config file found at default paths ({}); use the -c option to specify a config file at a different path",
            list.join(", ")
        )
    })
}

struct LogHooks {
    log: MainLogHandle,
}

impl event_loop::Hooks for LogHooks {
    fn reopen_main_log(&mut self) {
        log::info!("supervisord logreopen");
        if let Err(e) = self.log.reopen() {
            log::error!("could not reopen the main log: {e}");
        }
    }
}

/// Removes AUTO child logs of earlier runs (stand-in for `logs::cleanup_auto_logs`).
fn cleanup_auto_logs(config: &Config) {
    let sd = &config.supervisord;
    let marker = format!("---{}-", sd.identifier);
    let Ok(entries) = std::fs::read_dir(&sd.childlogdir) else {
        log::warn!("Could not clear childlog dir");
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pos) = name.find(&marker)
            && pos > 0
            && name[pos..].contains(".log")
            && std::fs::remove_file(entry.path()).is_err()
        {
            log::warn!("Failed to clean up '{}'", entry.path().display());
        }
    }
}

/// Runs supervisord; returns the process exit code.
pub fn run(argv0: &str, overrides: Overrides) -> i32 {
    let usage = |msg: &str| crate::cmd::supervisord::usage_error(argv0, msg);
    let log = stand_in_log::install_buffering_main_log();
    let mut first = true;
    let mut event_serial = 0;
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
                log.flush_pending_to_stderr();
                return usage(&msg);
            }
        };
        let sd = config.supervisord.clone();
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
        }
        for w in &config.warnings {
            log::warn!("{}", w.message);
        }
        for i in &config.infos {
            log::info!("{i}");
        }
        if let Err(e) = log.open(&MainLogConfig::from_supervisord(&sd)) {
            log.flush_pending_to_stderr();
            return usage(&format!(
                "could not open log file {}: {e}",
                sd.logfile.display()
            ));
        }
        if !sd.nocleanup {
            cleanup_auto_logs(&config);
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
        if first && !sd.nodaemon {
            setup::daemonize(sd.umask, sd.directory.as_deref());
        }
        let pidfile_written = setup::write_pidfile(&sd.pidfile);
        let mut hooks = LogHooks { log };
        let exit = event_loop::run(&mut sup, &mut poll, &signals, &mut hooks);
        for server in &sup.config.unix_http_servers {
            let _ = std::fs::remove_file(&server.file);
        }
        if pidfile_written {
            let _ = std::fs::remove_file(&sd.pidfile);
        }
        event_serial = sup.event_serial;
        drop(sup);
        if exit == Exit::Shutdown {
            return 0;
        }
        first = false;
    }
}
