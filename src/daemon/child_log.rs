//! One output channel (stdout or stderr) of a process: its AUTO file (named with the group,
//! created soon after by the loop or at the first spawn or log read) and the
//! `logs::OutputChannel` opened at every spawn.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use crate::config::model::{LogLevel, LogTarget, ProcessConfig};
use crate::logs::{
    Channel, ChannelConfig, ChannelOutput, OutputChannel, Spliced, auto_log_name,
    create_auto_log_at,
};

pub struct ChildLog {
    pub channel: Channel,
    /// The resolved file (AUTO already named); None when the channel has no file.
    pub path: Option<Arc<Path>>,
    /// The AUTO file exists on disk (see `ensure_auto_file`).
    created: bool,
    output: Option<Box<OutputChannel>>,
}

impl ChildLog {
    /// Resolves the channel's target. An AUTO file is only named here: creating thousands of
    /// files before the control socket is served would delay it (the reference creates them with
    /// the group); `ensure_auto_file` creates it. A redirected stderr has no file.
    pub fn new(
        process: &ProcessConfig,
        channel: Channel,
        childlogdir: &Path,
        identifier: &str,
    ) -> ChildLog {
        let settings = match channel {
            Channel::Stdout => &process.stdout,
            Channel::Stderr => &process.stderr,
        };
        let redirected = channel == Channel::Stderr && process.redirect_stderr;
        let auto = matches!(settings.logfile, LogTarget::Auto) && !redirected;
        let path = match &settings.logfile {
            _ if redirected => None,
            LogTarget::Auto => Some(Arc::from(auto_log_name(
                childlogdir,
                &process.name,
                channel,
                identifier,
            ))),
            LogTarget::File(p) => Some(Arc::from(p.as_path())),
            LogTarget::None | LogTarget::Syslog => None,
        };
        ChildLog {
            channel,
            path,
            created: !auto,
            output: None,
        }
    }

    /// Whether the AUTO file still has to be created.
    pub fn needs_auto_file(&self) -> bool {
        !self.created
    }

    /// Creates the AUTO file if it does not exist yet (under a fresh name if the chosen one was
    /// taken meanwhile). On failure the channel writes nowhere, as when the reference cannot
    /// create it.
    pub fn ensure_auto_file(&mut self, process_name: &str, identifier: &str) {
        if self.created {
            return;
        }
        self.created = true;
        let Some(path) = self.path.take() else {
            return;
        };
        match create_auto_log_at(&path, process_name, self.channel, identifier) {
            Ok(created) if *created == *path => self.path = Some(path),
            Ok(created) => self.path = Some(Arc::from(created)),
            Err(e) => {
                log::error!(
                    "could not create the {} log of {process_name}: {e}",
                    self.channel.as_str()
                );
            }
        }
    }

    /// Opens the channel for a new spawn (fresh capture state; the file is appended to).
    pub fn open(
        &mut self,
        process: &ProcessConfig,
        strip_ansi: bool,
        loglevel: LogLevel,
        listener: bool,
    ) -> io::Result<()> {
        if self.channel == Channel::Stderr && process.redirect_stderr {
            self.output = None;
            return Ok(());
        }
        let config = ChannelConfig::from_process(
            process,
            self.channel,
            self.path.clone(),
            strip_ansi,
            loglevel,
            listener,
        );
        self.output = Some(Box::new(OutputChannel::new(config)?));
        Ok(())
    }

    /// One chunk read in the loop pass at `wall` (stamps prefixed lines).
    pub fn feed(&mut self, data: &[u8], wall: SystemTime) -> Vec<ChannelOutput> {
        match self.output.as_mut() {
            Some(o) => o.feed_at(data, wall),
            None => Vec::new(),
        }
    }

    /// Whether output can move pipe -> file by splice (see `OutputChannel::splice_ready`).
    pub fn splice_ready(&self) -> bool {
        self.output.as_ref().is_some_and(|o| o.splice_ready())
    }

    pub fn splice_from(&mut self, pipe: RawFd, want: usize) -> (Spliced, Option<ChannelOutput>) {
        match self.output.as_mut() {
            Some(o) => o.splice_from(pipe, want),
            None => (Spliced::Unsupported, None),
        }
    }

    /// The pipe closed: flush held-back bytes.
    pub fn finish(&mut self, wall: SystemTime) -> Vec<ChannelOutput> {
        match self.output.as_mut() {
            Some(o) => o.finish_at(wall),
            None => Vec::new(),
        }
    }

    pub fn has_pending(&self) -> bool {
        self.output.as_ref().is_some_and(|o| o.has_pending())
    }

    /// The log target's descriptor while bytes wait for it.
    pub fn pending_fd(&self) -> Option<std::os::fd::RawFd> {
        self.output.as_ref().and_then(|o| o.pending_fd())
    }

    pub fn flush_pending(&mut self) -> Vec<ChannelOutput> {
        self.output
            .as_mut()
            .and_then(|o| o.flush_pending())
            .map(ChannelOutput::WriteProblem)
            .into_iter()
            .collect()
    }

    pub fn reopen(&mut self) {
        if let Some(o) = self.output.as_mut()
            && let Err(e) = o.reopen()
        {
            log::warn!("could not reopen {}: {e}", self.describe());
        }
    }

    /// Deletes the file and starts it again empty (clearProcessLogs).
    pub fn clear(&mut self) -> io::Result<()> {
        if let Some(o) = self.output.as_mut() {
            return o.clear();
        }
        if let Some(p) = &self.path {
            match std::fs::remove_file(p) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(p)?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        self.path.as_ref().map_or_else(
            || self.channel.as_str().to_string(),
            |p| p.display().to_string(),
        )
    }
}
