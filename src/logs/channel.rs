//! `OutputChannel`: what happens to the bytes read from one child pipe (stdout or stderr): ANSI
//! stripping, the channel's log file, syslog, capture mode, and the events and main-log copies the
//! daemon must emit (returned as data; this module never dispatches anything itself).

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use crate::config::model::{LogChannel, LogLevel, LogTarget, ProcessConfig};

use super::ansi::AnsiStripper;
use super::auto::Channel;
use super::lines::LinePrefixer;
use super::rotating::{RotatingFile, Spliced, WriteReport};
use super::syslog::SyslogSender;
use crate::python::{py_bytes_repr, py_repr};

pub const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
pub const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

/// Settings of one output channel, resolved by the daemon (AUTO already named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    pub process_name: String,
    pub channel: Channel,
    /// None = no file (`NONE`, or syslog only).
    pub logfile: Option<Arc<Path>>,
    pub logfile_maxbytes: u64,
    pub logfile_backups: u32,
    /// 0 disables capture mode (the tokens are then ordinary text).
    pub capture_maxbytes: u64,
    pub events_enabled: bool,
    pub syslog: bool,
    /// `[supervisord] strip_ansi`.
    pub strip_ansi: bool,
    /// Copy each chunk to the main log at DEBG (main loglevel <= debug).
    pub mainlog_debug: bool,
    /// An event listener's stdout: protocol bytes go to the file verbatim, the main-log copy shows
    /// them as a Python bytes repr, and there is no capture mode, syslog or PROCESS_LOG event.
    pub listener_protocol: bool,
    /// `log_prefix=` (expanded): written before each line in the file and syslog.
    pub log_prefix: Option<String>,
    /// `log_timestamps=`: an RFC 3339 UTC time before each line.
    pub log_timestamps: bool,
}

impl ChannelConfig {
    /// Builds the settings of `channel` of `process`. `path` is the channel's resolved file (the
    /// AUTO file named at group creation, or the configured one), shared with the caller;
    /// ignored for NONE and syslog.
    pub fn from_process(
        process: &ProcessConfig,
        channel: Channel,
        path: Option<Arc<Path>>,
        strip_ansi: bool,
        loglevel: LogLevel,
        listener: bool,
    ) -> ChannelConfig {
        let settings: &LogChannel = match channel {
            Channel::Stdout => &process.stdout,
            Channel::Stderr => &process.stderr,
        };
        let logfile = match &settings.logfile {
            LogTarget::Auto => path,
            LogTarget::None | LogTarget::Syslog => None,
            LogTarget::File(configured) => path.or_else(|| Some(Arc::from(configured.as_path()))),
        };
        let listener_protocol = listener && channel == Channel::Stdout;
        ChannelConfig {
            process_name: process.name.clone(),
            channel,
            logfile,
            logfile_maxbytes: settings.logfile_maxbytes,
            logfile_backups: settings.logfile_backups,
            capture_maxbytes: if listener_protocol {
                0
            } else {
                settings.capture_maxbytes
            },
            events_enabled: settings.events_enabled && !listener_protocol,
            syslog: (settings.syslog || settings.logfile == LogTarget::Syslog)
                && !listener_protocol,
            strip_ansi,
            mainlog_debug: loglevel <= LogLevel::Debug,
            listener_protocol,
            // An event listener's stdout is protocol, never prefixed.
            log_prefix: (!listener_protocol)
                .then(|| process.extensions.log_prefix.clone())
                .flatten(),
            log_timestamps: process.extensions.log_timestamps && !listener_protocol,
        }
    }
}

/// Something the daemon must do after a chunk was processed, in order.
#[derive(Debug)]
pub enum ChannelOutput {
    /// Emit PROCESS_LOG_STDOUT / PROCESS_LOG_STDERR with this data.
    LogEvent(Vec<u8>),
    /// Emit PROCESS_COMMUNICATION_STDOUT / _STDERR with this data (a capture block ended).
    CommEvent(Vec<u8>),
    /// Log this text at DEBG in the main log.
    MainLogDebug(String),
    /// The channel's log file started failing or recovered: log it once (WARN / INFO).
    WriteProblem(WriteReport),
}

/// The reference's BoundIO: when a write would overflow, as many bytes as the write are dropped
/// from the front (so one write larger than the capacity is kept whole).
#[derive(Debug, Default)]
struct CaptureBuffer {
    maxbytes: usize,
    data: Vec<u8>,
}

impl CaptureBuffer {
    fn write(&mut self, bytes: &[u8]) {
        if self.data.len() + bytes.len() > self.maxbytes {
            let drop = bytes.len().min(self.data.len());
            self.data.drain(..drop);
        }
        self.data.extend_from_slice(bytes);
    }
}

/// Longest suffix of `data` that is a proper prefix of `token` (asynchat's find_prefix_at_end).
fn prefix_at_end(data: &[u8], token: &[u8]) -> usize {
    let mut l = token.len().saturating_sub(1).min(data.len());
    while l > 0 && !data.ends_with(&token[..l]) {
        l -= 1;
    }
    l
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One child pipe's output processing.
#[derive(Debug)]
pub struct OutputChannel {
    config: ChannelConfig,
    file: Option<RotatingFile>,
    // Boxed: rarely used, and every program has two channels.
    syslog: Option<Box<SyslogSender>>,
    stripper: AnsiStripper,
    capture: Option<Box<CaptureBuffer>>,
    capturing: bool,
    /// Bytes that may be the start of a token, held until the next read.
    held: Vec<u8>,
    /// Line assembly for `log_prefix=` / `log_timestamps=` (None: bytes go out as read).
    lines: Option<Box<LinePrefixer>>,
    /// The wall time of the loop pass that read the bytes being processed (line stamps).
    wall: SystemTime,
}

impl OutputChannel {
    /// Opens the channel's log file (append, never truncating). An error here is a spawn error
    /// in the reference (`unknown error making dispatchers for '<name>': <error>`).
    pub fn new(config: ChannelConfig) -> io::Result<OutputChannel> {
        let prefixed = config.log_prefix.is_some() || config.log_timestamps;
        let file = match &config.logfile {
            Some(path) => {
                let mut file = RotatingFile::open_shared(
                    Arc::clone(path),
                    config.logfile_maxbytes,
                    config.logfile_backups,
                )?;
                // Whole lines per write, so programs sharing a stream never interleave mid-line.
                file.set_whole_lines(prefixed);
                Some(file)
            }
            None => None,
        };
        let lines = prefixed.then(|| {
            Box::new(LinePrefixer::new(
                config.log_prefix.as_deref(),
                config.log_timestamps,
            ))
        });
        let syslog = config.syslog.then(|| Box::new(SyslogSender::new()));
        let capture = (config.capture_maxbytes > 0).then(|| {
            Box::new(CaptureBuffer {
                maxbytes: usize::try_from(config.capture_maxbytes).unwrap_or(usize::MAX),
                data: Vec::new(),
            })
        });
        Ok(OutputChannel {
            config,
            file,
            syslog,
            stripper: AnsiStripper::new(),
            capture,
            capturing: false,
            held: Vec::new(),
            lines,
            wall: SystemTime::UNIX_EPOCH,
        })
    }

    #[cfg(test)]
    pub fn logfile_path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path())
    }

    /// Processes one chunk read from the pipe (tests: lines stamped with the epoch).
    #[cfg(test)]
    pub fn feed(&mut self, data: &[u8]) -> Vec<ChannelOutput> {
        self.feed_at(data, SystemTime::UNIX_EPOCH)
    }

    /// Processes one chunk read from the pipe in the loop pass at `wall`.
    pub fn feed_at(&mut self, data: &[u8], wall: SystemTime) -> Vec<ChannelOutput> {
        self.wall = wall;
        let mut out = Vec::new();
        if self.config.listener_protocol {
            self.log_listener(data, &mut out);
            return out;
        }
        if self.capture.is_none() {
            self.log_piece(data, &mut out);
            return out;
        }
        let mut buffer = std::mem::take(&mut self.held);
        buffer.extend_from_slice(data);
        let mut rest: &[u8] = &buffer;
        loop {
            let token = if self.capturing {
                END_TOKEN
            } else {
                BEGIN_TOKEN
            };
            match find(rest, token) {
                Some(at) => {
                    self.log_piece(&rest[..at], &mut out);
                    self.toggle_capture(&mut out);
                    rest = &rest[at + token.len()..];
                }
                None => {
                    let keep = prefix_at_end(rest, token);
                    self.log_piece(&rest[..rest.len() - keep], &mut out);
                    self.held = rest[rest.len() - keep..].to_vec();
                    break;
                }
            }
        }
        out
    }

    /// Whether the bytes of this channel need nothing but the file (no ANSI stripping, capture
    /// mode, PROCESS_LOG events, syslog, main-log copy, listener protocol) and the file can take
    /// a splice: then `splice_from` may move them pipe -> file inside the kernel.
    pub fn splice_ready(&self) -> bool {
        let config = &self.config;
        !config.strip_ansi
            && self.capture.is_none()
            && !config.events_enabled
            && !config.syslog
            && !config.mainlog_debug
            && !config.listener_protocol
            && self.lines.is_none()
            && self.file.as_ref().is_some_and(RotatingFile::splice_ready)
    }

    /// Moves up to `want` bytes from `pipe` into the log file (only when `splice_ready`; else
    /// `Spliced::Unsupported`). A write problem or recovery comes back as `WriteProblem`.
    pub fn splice_from(&mut self, pipe: RawFd, want: usize) -> (Spliced, Option<ChannelOutput>) {
        if !self.splice_ready() {
            return (Spliced::Unsupported, None);
        }
        match self.file.as_mut() {
            Some(file) => {
                let (spliced, report) = file.splice_from(pipe, want);
                (spliced, report.map(ChannelOutput::WriteProblem))
            }
            None => (Spliced::Unsupported, None),
        }
    }

    /// End of the pipe (tests: a last line stamped with the epoch).
    #[cfg(test)]
    pub fn finish(&mut self) -> Vec<ChannelOutput> {
        self.finish_at(SystemTime::UNIX_EPOCH)
    }

    /// End of the pipe (the child closed it) in the loop pass at `wall`: held-back bytes are
    /// plain output, and a last line without a newline gets one.
    pub fn finish_at(&mut self, wall: SystemTime) -> Vec<ChannelOutput> {
        self.wall = wall;
        let mut out = Vec::new();
        let held = std::mem::take(&mut self.held);
        self.log_piece(&held, &mut out);
        let tail = self.stripper.finish();
        if !tail.is_empty() {
            self.write_normal(&tail, &mut out);
        }
        if let Some(lines) = self.lines.as_mut() {
            let mut last = Vec::new();
            lines.finish(wall, &mut last);
            self.write_targets(&last, &mut out);
        }
        out
    }

    fn toggle_capture(&mut self, out: &mut Vec<ChannelOutput>) {
        self.capturing = !self.capturing;
        if self.capturing {
            return;
        }
        let data = self
            .capture
            .as_mut()
            .map(|c| std::mem::take(&mut c.data))
            .unwrap_or_default();
        out.push(ChannelOutput::CommEvent(data));
        if self.config.mainlog_debug {
            out.push(ChannelOutput::MainLogDebug(format!(
                "{} {} emitted a comm event",
                py_repr(&self.config.process_name),
                self.config.channel.as_str()
            )));
        }
    }

    /// The reference's `_log`: one piece of output outside the token scanning.
    fn log_piece(&mut self, raw: &[u8], out: &mut Vec<ChannelOutput>) {
        if raw.is_empty() {
            return;
        }
        let data = if self.config.strip_ansi {
            self.stripper.strip(raw)
        } else {
            raw.to_vec()
        };
        if self.capturing {
            if let Some(capture) = self.capture.as_mut() {
                capture.write(&data);
            }
        } else {
            self.write_normal(&data, out);
        }
        if self.config.mainlog_debug {
            let text = match std::str::from_utf8(&data) {
                Ok(text) => text.to_string(),
                Err(_) => format!("Undecodable: {}", py_bytes_repr(&data)),
            };
            out.push(ChannelOutput::MainLogDebug(format!(
                "{} {} output:\n{}",
                py_repr(&self.config.process_name),
                self.config.channel.as_str(),
                text
            )));
        }
        if self.config.events_enabled {
            out.push(ChannelOutput::LogEvent(data));
        }
    }

    /// The normal (non-capture) destinations: file and syslog, through the line assembler
    /// when lines are prefixed.
    fn write_normal(&mut self, data: &[u8], out: &mut Vec<ChannelOutput>) {
        match self.lines.as_mut() {
            Some(lines) => {
                let mut complete = Vec::new();
                lines.feed(data, self.wall, &mut complete);
                self.write_targets(&complete, out);
            }
            None => self.write_targets(data, out),
        }
    }

    fn write_targets(&mut self, data: &[u8], out: &mut Vec<ChannelOutput>) {
        if data.is_empty() {
            return;
        }
        if let Some(report) = self.file.as_mut().and_then(|f| f.write(data)) {
            out.push(ChannelOutput::WriteProblem(report));
        }
        if let Some(syslog) = self.syslog.as_mut() {
            let text = String::from_utf8_lossy(data);
            for line in text.trim_end_matches('\n').split('\n') {
                syslog.send(&format!("{} {line}", self.config.process_name));
            }
        }
    }

    /// An event listener's stdout: main-log copy of the raw bytes, then the file.
    fn log_listener(&mut self, data: &[u8], out: &mut Vec<ChannelOutput>) {
        if data.is_empty() {
            return;
        }
        if self.config.mainlog_debug {
            out.push(ChannelOutput::MainLogDebug(format!(
                "{} {} output:\n{}",
                py_repr(&self.config.process_name),
                self.config.channel.as_str(),
                py_bytes_repr(data)
            )));
        }
        let data = if self.config.strip_ansi {
            self.stripper.strip(data)
        } else {
            data.to_vec()
        };
        if let Some(report) = self.file.as_mut().and_then(|f| f.write(&data)) {
            out.push(ChannelOutput::WriteProblem(report));
        }
    }

    /// Bytes wait for a full pipe/tty target (`stdout_logfile=/dev/stdout`): call `flush_pending`
    /// when `pending_fd` is writable, until this is false.
    pub fn has_pending(&self) -> bool {
        self.file.as_ref().is_some_and(RotatingFile::has_pending)
    }

    pub fn pending_fd(&self) -> Option<std::os::fd::RawFd> {
        self.file.as_ref().and_then(RotatingFile::pending_fd)
    }

    pub fn flush_pending(&mut self) -> Option<WriteReport> {
        self.file.as_mut().and_then(RotatingFile::flush_pending)
    }

    /// SIGUSR2: reopen the log file.
    pub fn reopen(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(file) => file.reopen(),
            None => Ok(()),
        }
    }

    /// clearProcessLogs: delete and reopen the file, and empty the capture buffer.
    pub fn clear(&mut self) -> io::Result<()> {
        if let Some(capture) = self.capture.as_mut() {
            capture.data.clear();
        }
        match self.file.as_mut() {
            Some(file) => file.clear(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "channel_tests.rs"]
mod tests;
