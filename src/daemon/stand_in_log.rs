//! A minimal main log used until `logs::MainLog` lands: the reference's line format, a file plus
//! stdout in the foreground, early records buffered until opened. Deleted when logs lands.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::model::{LogLevel, SupervisordConfig};

pub struct MainLogConfig {
    pub path: PathBuf,
    pub level: LogLevel,
    pub stdout_copy: bool,
}

impl MainLogConfig {
    pub fn from_supervisord(c: &SupervisordConfig) -> MainLogConfig {
        MainLogConfig {
            path: c.logfile.clone(),
            level: c.loglevel,
            stdout_copy: c.nodaemon && !c.silent,
        }
    }
}

struct Core {
    file: Option<File>,
    path: Option<PathBuf>,
    level: LogLevel,
    stdout_copy: bool,
    open: bool,
    pending: Vec<(LogLevel, String, SystemTime)>,
}

struct StandInLog {
    core: Mutex<Core>,
}

static LOG: OnceLock<&'static StandInLog> = OnceLock::new();

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

pub fn level_of(level: log::Level, target: &str) -> LogLevel {
    match (level, target) {
        (log::Level::Error, "crit") => LogLevel::Critical,
        (log::Level::Error, _) => LogLevel::Error,
        (log::Level::Warn, _) => LogLevel::Warn,
        (log::Level::Info, _) => LogLevel::Info,
        (log::Level::Debug, _) => LogLevel::Debug,
        (log::Level::Trace, "blather") => LogLevel::Blather,
        (log::Level::Trace, _) => LogLevel::Trace,
    }
}

fn asctime(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as libc::time_t;
    // SAFETY: localtime_r writes into the provided struct only.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        d.subsec_millis()
    )
}

impl Core {
    fn write(&mut self, level: LogLevel, msg: &str, t: SystemTime) {
        let line = format!("{} {} {}\n", asctime(t), level_tag(level), msg);
        if let Some(f) = &mut self.file {
            let _ = f.write_all(line.as_bytes());
        }
        if self.stdout_copy {
            let _ = io::stdout().write_all(line.as_bytes());
            let _ = io::stdout().flush();
        }
    }
}

impl log::Log for StandInLog {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        let level = level_of(record.level(), record.target());
        let mut core = self.core.lock().unwrap_or_else(|e| e.into_inner());
        let msg = record.args().to_string();
        if !core.open {
            core.pending.push((level, msg, SystemTime::now()));
        } else if level >= core.level {
            core.write(level, &msg, SystemTime::now());
        }
    }

    fn flush(&self) {}
}

#[derive(Clone, Copy)]
pub struct MainLogHandle {
    log: &'static StandInLog,
}

pub fn install_buffering_main_log() -> MainLogHandle {
    if let Some(log) = LOG.get() {
        return MainLogHandle { log };
    }
    let log: &'static StandInLog = Box::leak(Box::new(StandInLog {
        core: Mutex::new(Core {
            file: None,
            path: None,
            level: LogLevel::Info,
            stdout_copy: false,
            open: false,
            pending: Vec::new(),
        }),
    }));
    let _ = log::set_logger(log);
    log::set_max_level(log::LevelFilter::Trace);
    let _ = LOG.set(log);
    MainLogHandle { log }
}

fn open_append(path: &PathBuf) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
}

impl MainLogHandle {
    pub fn open(&self, config: &MainLogConfig) -> io::Result<()> {
        let mut core = self.log.core.lock().unwrap_or_else(|e| e.into_inner());
        core.file = Some(open_append(&config.path)?);
        core.path = Some(config.path.clone());
        core.level = config.level;
        core.stdout_copy = config.stdout_copy;
        core.open = true;
        for (level, msg, t) in std::mem::take(&mut core.pending) {
            if level >= core.level {
                core.write(level, &msg, t);
            }
        }
        Ok(())
    }

    pub fn reopen(&self) -> io::Result<()> {
        let mut core = self.log.core.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(path) = core.path.clone() {
            core.file = Some(open_append(&path)?);
        }
        Ok(())
    }

    /// Writes buffered early records to stderr (the log could not be opened).
    pub fn flush_pending_to_stderr(&self) {
        let mut core = self.log.core.lock().unwrap_or_else(|e| e.into_inner());
        for (level, msg, t) in std::mem::take(&mut core.pending) {
            eprintln!("{} {} {}", asctime(t), level_tag(level), msg);
        }
    }
}
