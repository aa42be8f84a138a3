//! The daemon's main log: a `log::Log` that writes `asctime LEVL message` lines to a rotating file
//! or syslog (plus a non-blocking copy on stdout in the foreground, see `stdout_copy`), buffering
//! records logged before it is opened.
//!
//! Level mapping from the log crate: CRIT = `error!(target: "crit", ..)`, ERRO = `error!`,
//! WARN = `warn!`, INFO = `info!`, DEBG = `debug!`, TRAC = `trace!`,
//! BLAT = `trace!(target: "blather", ..)`.

use std::io;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::config::model::{LogLevel, SupervisordConfig};

use super::rotating::{RotatingFile, WriteReport};
use super::stdout_copy::{StdoutCopy, StdoutReport};
use super::syslog::SyslogSender;
use super::timefmt::asctime;
use crate::sys::init_timezone;

/// Records kept while the log is not open yet; beyond this the oldest are dropped.
const PENDING_LIMIT: usize = 10_000;

/// How often the exit flush retries a slow stdout.
const EXIT_FLUSH_RETRY: Duration = Duration::from_millis(5);

/// The log crate target that marks a CRIT record (`log::error!(target: "crit", ..)`).
pub const CRIT_TARGET: &str = "crit";
/// The log crate target that marks a BLAT record (`log::trace!(target: "blather", ..)`).
pub const BLATHER_TARGET: &str = "blather";

/// The four-letter tag written in the log line.
pub fn level_tag(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Critical => "CRIT",
        LogLevel::Error => "ERRO",
        LogLevel::Warn => "WARN",
        LogLevel::Info => "INFO",
        LogLevel::Debug => "DEBG",
        LogLevel::Trace => "TRAC",
        LogLevel::Blather => "BLAT",
    }
}

/// Our level for a log crate record (see the module comment for the mapping).
pub fn level_of(level: log::Level, target: &str) -> LogLevel {
    match level {
        log::Level::Error if target == CRIT_TARGET => LogLevel::Critical,
        log::Level::Error => LogLevel::Error,
        log::Level::Warn => LogLevel::Warn,
        log::Level::Info => LogLevel::Info,
        log::Level::Debug => LogLevel::Debug,
        log::Level::Trace if target == BLATHER_TARGET => LogLevel::Blather,
        log::Level::Trace => LogLevel::Trace,
    }
}

/// The coarsest log crate filter that still lets every record of `level` through.
fn max_level_filter(level: LogLevel) -> log::LevelFilter {
    match level {
        LogLevel::Critical | LogLevel::Error => log::LevelFilter::Error,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Trace | LogLevel::Blather => log::LevelFilter::Trace,
    }
}

/// Records from dependencies (mio, ...) carry their module path as target; the reference has no
/// such lines, so only our own modules and the two marker targets are logged.
fn is_our_target(target: &str) -> bool {
    target == CRIT_TARGET
        || target == BLATHER_TARGET
        || target == "supervisor"
        || target.starts_with("supervisor::")
        || !target.contains("::")
}

/// `2026-11-23 19:05:58,203 WARN message\n`.
pub fn format_line(level: LogLevel, message: &str, time: SystemTime) -> String {
    let asctime = asctime(time);
    format!("{asctime} {} {message}\n", level_tag(level))
}

/// Where the main log goes (`logfile=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MainLogDest {
    File(PathBuf),
    /// `logfile=syslog`.
    Syslog,
}

/// Everything the main log needs from `[supervisord]` and the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainLogConfig {
    pub dest: MainLogDest,
    pub maxbytes: u64,
    pub backups: u32,
    pub level: LogLevel,
    /// Copy every line to stdout (`nodaemon` and not `silent`).
    pub stdout_copy: bool,
}

impl MainLogConfig {
    pub fn from_supervisord(config: &SupervisordConfig) -> MainLogConfig {
        let dest = if config.logfile.as_os_str() == "syslog" {
            MainLogDest::Syslog
        } else {
            MainLogDest::File(config.logfile.clone())
        };
        MainLogConfig {
            dest,
            maxbytes: config.logfile_maxbytes,
            backups: config.logfile_backups,
            level: config.loglevel,
            stdout_copy: config.nodaemon && !config.silent,
        }
    }
}

struct Pending {
    level: LogLevel,
    message: String,
    time: SystemTime,
}

/// The state behind the global logger; also usable directly (tests, or a non-global log).
pub struct MainLogCore {
    level: LogLevel,
    open: bool,
    file: Option<RotatingFile>,
    syslog: Option<SyslogSender>,
    stdout_copy: bool,
    /// fd 1 as looked at once (before privileges are dropped); kept across reloads so queued
    /// bytes keep their order.
    stdout: Option<StdoutCopy>,
    pending: Vec<Pending>,
    pending_dropped: u64,
    report: Option<WriteReport>,
}

impl Default for MainLogCore {
    fn default() -> Self {
        MainLogCore::new()
    }
}

impl MainLogCore {
    /// A closed log that buffers every record until `open`.
    pub fn new() -> MainLogCore {
        MainLogCore {
            level: LogLevel::Blather,
            open: false,
            file: None,
            syslog: None,
            stdout_copy: false,
            stdout: None,
            pending: Vec::new(),
            pending_dropped: 0,
            report: None,
        }
    }

    pub fn level(&self) -> LogLevel {
        self.level
    }

    #[cfg(test)]
    pub fn set_level(&mut self, level: LogLevel) {
        self.level = level;
    }

    #[cfg(test)]
    pub fn is_open(&self) -> bool {
        self.open
    }

    #[cfg(test)]
    pub fn path(&self) -> Option<&std::path::Path> {
        self.file.as_ref().map(|f| f.path())
    }

    /// Opens the destinations of `config` (replacing earlier ones, e.g. on reload) and writes the
    /// buffered records that pass the configured level.
    pub fn open(&mut self, config: &MainLogConfig) -> io::Result<()> {
        let (file, syslog) = match &config.dest {
            MainLogDest::File(path) => (
                Some(RotatingFile::open(path, config.maxbytes, config.backups)?),
                None,
            ),
            MainLogDest::Syslog => (None, Some(SyslogSender::new())),
        };
        self.file = file;
        self.syslog = syslog;
        self.stdout_copy = config.stdout_copy;
        self.prepare_stdout(config.stdout_copy);
        self.level = config.level;
        self.open = true;
        if self.pending_dropped > 0 {
            let dropped = std::mem::take(&mut self.pending_dropped);
            let message = format!("{dropped} early log messages were dropped");
            self.emit(LogLevel::Warn, &message, SystemTime::now());
        }
        for record in std::mem::take(&mut self.pending) {
            self.emit(record.level, &record.message, record.time);
        }
        Ok(())
    }

    /// Writes one record if its level passes (or buffers it while not open).
    pub fn emit(&mut self, level: LogLevel, message: &str, time: SystemTime) {
        if !self.open {
            if self.pending.len() >= PENDING_LIMIT {
                self.pending.remove(0);
                self.pending_dropped += 1;
            }
            self.pending.push(Pending {
                level,
                message: message.to_string(),
                time,
            });
            return;
        }
        if level < self.level {
            return;
        }
        let line = format_line(level, message, time);
        if self.stdout_copy
            && let Some(stdout) = self.stdout.as_mut()
        {
            stdout.write(line.as_bytes());
        }
        if let Some(report) = self.file.as_mut().and_then(|f| f.write(line.as_bytes())) {
            self.report = Some(report);
        }
        if let Some(syslog) = self.syslog.as_mut() {
            // Like the reference: each line of the message separately, with asctime and level.
            let asctime = asctime(time);
            for part in message.trim_end_matches('\n').split('\n') {
                syslog.send(&format!("{asctime} {} {part}\n", level_tag(level)));
            }
        }
    }

    /// SIGUSR2: reopen the file (no-op for syslog).
    pub fn reopen(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(file) => file.reopen(),
            None => Ok(()),
        }
    }

    /// clearLog: delete the file, log INFO `reopening log file` once per handler (file, plus
    /// stdout in the foreground) and reopen. As in the reference the notice goes to the deleted
    /// file (and stdout), so the new file starts empty; callers must not log it themselves.
    pub fn clear(&mut self) -> io::Result<()> {
        let Some(path) = self.file.as_ref().map(|f| f.path().to_path_buf()) else {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        };
        std::fs::remove_file(&path)?;
        let handlers = 1 + usize::from(self.stdout_copy);
        for _ in 0..handlers {
            self.emit(LogLevel::Info, "reopening log file", SystemTime::now());
        }
        self.reopen()
    }

    /// Looks at fd 1 for the foreground copy (once), or forgets it when there is no copy.
    pub fn prepare_stdout(&mut self, stdout_copy: bool) {
        if !stdout_copy {
            self.stdout = None;
        } else if self.stdout.is_none() {
            self.stdout = Some(StdoutCopy::open());
        }
    }

    /// Retries bytes a stalled reader did not take (the stdout copy, and the file itself when it
    /// is a pipe or tty such as `logfile=/dev/stdout`); returns whether some still wait.
    pub fn flush_stdout(&mut self) -> bool {
        let mut pending = false;
        if let Some(file) = self.file.as_mut() {
            if let Some(report) = file.flush_pending() {
                self.report = Some(report);
            }
            pending |= file.has_pending();
        }
        if let Some(stdout) = self.stdout.as_mut() {
            stdout.flush();
            pending |= stdout.has_pending();
        }
        pending
    }

    /// Descriptors that hold queued bytes (the stdout copy's target, a pipe/tty log file): the
    /// loop waits on them for writability and then calls `flush_stdout`.
    pub fn pending_fds(&self, out: &mut Vec<std::os::fd::RawFd>) {
        out.extend(self.file.as_ref().and_then(|f| f.pending_fd()));
        out.extend(self.stdout.as_ref().and_then(|s| s.pending_fd()));
    }

    /// At exit (the loop is over, waiting is fine): gives a slow reader up to `timeout` to take
    /// what is queued for stdout or a pipe/tty log file.
    pub fn flush_stdout_before_exit(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.flush_stdout() && Instant::now() < deadline {
            std::thread::sleep(EXIT_FLUSH_RETRY);
        }
    }

    /// A change in the stdout copy (records started being dropped, or it works again and this
    /// many bytes were lost) as the message to log, once.
    pub fn take_stdout_report(&mut self) -> Option<String> {
        let report = self.stdout.as_mut()?.take_report()?;
        // Only claimed when true: not for a log file that is itself a pipe (`/dev/stdout`) or
        // that fails to write.
        let kept_in = match (&self.file, &self.syslog) {
            (Some(file), _) if file.is_regular() && !file.is_failing() => {
                format!(" (the log file {} has every record)", file.path().display())
            }
            (None, Some(_)) => " (syslog has every record)".to_string(),
            _ => String::new(),
        };
        Some(match report {
            StdoutReport::Dropping => format!(
                "stdout is not being read: main log records for stdout are dropped until it is{kept_in}"
            ),
            StdoutReport::Recovered { dropped_bytes } => format!(
                "{dropped_bytes} bytes of main log output to stdout were dropped while it was not being read{kept_in}"
            ),
        })
    }

    /// The last change in the file's health (failure or recovery), once.
    pub fn take_report(&mut self) -> Option<WriteReport> {
        self.report.take()
    }

    /// Records logged before `open` (e.g. to print them to stderr when startup fails).
    pub fn take_pending(&mut self) -> Vec<String> {
        std::mem::take(&mut self.pending)
            .into_iter()
            .map(|p| format_line(p.level, &p.message, p.time))
            .collect()
    }
}

/// The global logger registered with the log crate.
pub struct MainLog {
    core: Mutex<MainLogCore>,
}

impl MainLog {
    fn lock(&self) -> MutexGuard<'_, MainLogCore> {
        // One thread uses this; a poisoned lock only means an earlier panic mid-write.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl log::Log for MainLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        if !is_our_target(metadata.target()) {
            return false;
        }
        let core = self.lock();
        !core.open || level_of(metadata.level(), metadata.target()) >= core.level
    }

    fn log(&self, record: &log::Record) {
        if !is_our_target(record.target()) {
            return;
        }
        let level = level_of(record.level(), record.target());
        let message = record.args().to_string();
        self.lock().emit(level, &message, SystemTime::now());
    }

    fn flush(&self) {}
}

static MAIN_LOG: OnceLock<&'static MainLog> = OnceLock::new();

/// Handle to the installed main log: reopen, clear, level changes, reports.
#[derive(Clone, Copy)]
pub struct MainLogHandle {
    log: &'static MainLog,
}

/// Installs the main log as the log crate's logger, buffering until `MainLogHandle::open`.
/// Idempotent: later calls return the same handle. Errors if another logger was installed first.
pub fn install_buffering_main_log() -> Result<MainLogHandle, log::SetLoggerError> {
    if let Some(log) = MAIN_LOG.get() {
        return Ok(MainLogHandle { log });
    }
    init_timezone();
    let log: &'static MainLog = Box::leak(Box::new(MainLog {
        core: Mutex::new(MainLogCore::new()),
    }));
    log::set_logger(log)?;
    log::set_max_level(log::LevelFilter::Trace);
    let _ = MAIN_LOG.set(log);
    Ok(MainLogHandle { log })
}

impl MainLogHandle {
    /// The installed handle, if any.
    pub fn get() -> Option<MainLogHandle> {
        MAIN_LOG.get().map(|log| MainLogHandle { log })
    }

    /// Opens (or on reload re-opens with new settings) the destinations.
    pub fn open(&self, config: &MainLogConfig) -> io::Result<()> {
        let mut core = self.log.lock();
        core.open(config)?;
        log::set_max_level(max_level_filter(core.level()));
        Ok(())
    }

    pub fn reopen(&self) -> io::Result<()> {
        self.log.lock().reopen()
    }

    pub fn clear(&self) -> io::Result<()> {
        self.log.lock().clear()
    }

    #[cfg(test)]
    pub fn set_level(&self, level: LogLevel) {
        let mut core = self.log.lock();
        core.set_level(level);
        if core.is_open() {
            log::set_max_level(max_level_filter(level));
        }
    }

    #[cfg(test)]
    pub fn path(&self) -> Option<PathBuf> {
        self.log.lock().path().map(std::path::Path::to_path_buf)
    }

    /// Call before dropping privileges: the stdout copy may reopen fd 1's pipe or tty.
    pub fn prepare_stdout(&self, stdout_copy: bool) {
        self.log.lock().prepare_stdout(stdout_copy);
    }

    /// Retries queued stdout bytes; returns whether some still wait (see `pending_fds`).
    pub fn flush_stdout(&self) -> bool {
        self.log.lock().flush_stdout()
    }

    pub fn pending_fds(&self, out: &mut Vec<std::os::fd::RawFd>) {
        self.log.lock().pending_fds(out);
    }

    pub fn flush_stdout_before_exit(&self, timeout: Duration) {
        self.log.lock().flush_stdout_before_exit(timeout);
    }

    /// A change in the stdout copy's health to log, once.
    pub fn take_stdout_report(&self) -> Option<String> {
        self.log.lock().take_stdout_report()
    }

    /// A change in the log file's health to report (once) through the log itself or stderr.
    pub fn take_report(&self) -> Option<WriteReport> {
        self.log.lock().take_report()
    }

    /// Formatted records still buffered because the log was never opened.
    pub fn take_pending(&self) -> Vec<String> {
        self.log.lock().take_pending()
    }
}

/// Logs `msg` at a configured level (the state machine's and listeners' log actions carry one).
pub fn log_at(level: LogLevel, msg: &str) {
    match level {
        LogLevel::Critical => log::error!(target: "crit", "{msg}"),
        LogLevel::Error => log::error!("{msg}"),
        LogLevel::Warn => log::warn!("{msg}"),
        LogLevel::Info => log::info!("{msg}"),
        LogLevel::Debug => log::debug!("{msg}"),
        LogLevel::Trace => log::trace!("{msg}"),
        LogLevel::Blather => log::trace!(target: "blather", "{msg}"),
    }
}

#[cfg(test)]
#[path = "mainlog_tests.rs"]
mod tests;
