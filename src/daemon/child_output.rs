//! The process table's side of child pipes: readiness on a pipe, draining output into the
//! child logs and routing what a drain produced (events, listener replies, closes), stdin
//! writes, and queued log output. The pipes themselves are `child_io::ChildPipes`.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Instant;

use mio::Token;

use super::child_io::{DrainTarget, PipeOwner, READS_PER_EVENT, SMALL_DRAIN, StdinError, Stream};
use super::process_table::ProcessTable;
use crate::events::Event;
use crate::logs::{ChannelOutput, WriteReport};

impl ProcessTable {
    /// A child pipe is ready: read output until WouldBlock, or flush queued stdin. An output
    /// pipe inside its coalescing window is only marked; `service_coalesced` reads it later.
    pub fn on_pipe_event(&mut self, token: Token, now: Instant) {
        if self.pipes.ready_now(token, now) {
            self.read_pipe_now(token, now);
        }
    }

    fn read_pipe_now(&mut self, token: Token, now: Instant) {
        let Some(owner) = self.pipes.owner(token).cloned() else {
            return;
        };
        let Some((gi, pi)) = self.pipe_slot(&owner, token) else {
            return;
        };
        if owner.stream == Stream::Stdin {
            self.flush_stdin(gi, pi);
            return;
        }
        let (limited, bytes) = self.drain_pipe_counted(gi, pi, owner.stream, READS_PER_EVENT);
        if limited && !self.pipes.backlog.contains(&token) {
            self.pipes.backlog.push(token);
        }
        // An event listener's replies steer the protocol: never delay them.
        let is_listener = self.groups[gi].slots[pi].listener.is_some();
        let still_open = self.pipes.owns(token);
        if !limited && still_open && !is_listener && bytes > 0 && bytes < SMALL_DRAIN {
            self.pipes.coalesce(token, now);
        }
    }

    /// The process a pipe belongs to: where it was when the pipe was opened (it still owns the
    /// token there), or, after groups moved, wherever it is now (a search by name, only then:
    /// with a thousand programs a search per output event would cost more than the read).
    fn pipe_slot(&self, owner: &PipeOwner, token: Token) -> Option<(usize, usize)> {
        let (gi, pi) = owner.slot;
        let there = self
            .groups
            .get(gi)
            .and_then(|g| g.slots.get(pi))
            .and_then(|s| s.pipes.get(owner.stream))
            .is_some_and(|(_, t)| *t == token);
        if there {
            return Some((gi, pi));
        }
        self.find(&owner.group, &owner.process.name)
    }

    /// Reads the coalesced pipes whose window is over and that became readable meanwhile;
    /// forgets windows that passed quietly. Returns the earliest pending window end (the loop's
    /// deadline; none while no child is writing, so an idle daemon never wakes).
    pub fn service_coalesced(&mut self, now: Instant) -> Option<Instant> {
        for token in self.pipes.take_due(now) {
            self.read_pipe_now(token, now);
        }
        self.pipes.coalesce_deadline()
    }

    /// Pipes left readable by the per-event read limit get another turn (the poller is
    /// edge-triggered, so nothing else would wake us for them). Returns whether any remain.
    pub fn service_backlog(&mut self, now: Instant) -> bool {
        for token in std::mem::take(&mut self.pipes.backlog) {
            self.on_pipe_event(token, now);
        }
        !self.pipes.backlog.is_empty()
    }

    /// Drains an output pipe (see `ChildPipes::drain`) and routes the result; closes it on
    /// EOF. Returns true when the limit stopped it (more may be waiting).
    pub(super) fn drain_pipe(
        &mut self,
        gi: usize,
        pi: usize,
        stream: Stream,
        max_reads: usize,
    ) -> bool {
        self.drain_pipe_counted(gi, pi, stream, max_reads).0
    }

    /// `drain_pipe`, also returning how many bytes it read.
    fn drain_pipe_counted(
        &mut self,
        gi: usize,
        pi: usize,
        stream: Stream,
        max_reads: usize,
    ) -> (bool, usize) {
        let slot = &mut self.groups[gi].slots[pi];
        if slot.pipes.get(stream).is_none() || stream == Stream::Stdin {
            return (false, 0);
        }
        let target = DrainTarget {
            pipes: &slot.pipes,
            log: match stream {
                Stream::Stdout => &mut slot.stdout_log,
                _ => &mut slot.stderr_log,
            },
            listener: match stream {
                Stream::Stdout => slot.listener.as_deref_mut(),
                _ => None,
            },
        };
        let drained = self.pipes.drain(target, stream, max_reads, self.wall);
        // One add per drain (reads and splices alike) keeps the count free on the hot path.
        let channel = usize::from(stream != Stream::Stdout);
        slot.log_bytes[channel] = slot.log_bytes[channel].saturating_add(drained.bytes as u64);
        self.note_pending_log(gi, pi);
        self.handle_channel_outputs(gi, pi, stream, drained.outputs);
        let group = self.groups[gi].config.name.clone();
        self.apply_listener_actions(&group, drained.listener_actions);
        if drained.eof {
            self.close_pipe(gi, pi, stream);
        }
        (drained.limited, drained.bytes)
    }
    /// Carries out what an output channel asked for: events, main-log copies, write problems.
    pub(super) fn handle_channel_outputs(
        &mut self,
        gi: usize,
        pi: usize,
        stream: Stream,
        outputs: Vec<ChannelOutput>,
    ) {
        if outputs.is_empty() {
            return;
        }
        let group = self.groups[gi].config.name.clone();
        let process = &self.groups[gi].slots[pi].process;
        let (name, pid) = (process.name().to_string(), process.pid);
        let stderr = stream == Stream::Stderr;
        let text = |data: &[u8]| match std::str::from_utf8(data) {
            Ok(t) => t.to_string(),
            Err(_) => format!("Undecodable: {}", crate::python::py_bytes_repr(data)),
        };
        for output in outputs {
            match output {
                ChannelOutput::MainLogDebug(msg) => log::debug!("{msg}"),
                ChannelOutput::WriteProblem(report @ WriteReport::Failed { .. }) => {
                    log::warn!("{report}")
                }
                ChannelOutput::WriteProblem(report) => log::info!("{report}"),
                ChannelOutput::LogEvent(data) => self.bus.emit(Event::ProcessLog {
                    stderr,
                    process: name.clone(),
                    group: group.clone(),
                    pid,
                    data: text(&data),
                }),
                ChannelOutput::CommEvent(data) => self.bus.emit(Event::ProcessCommunication {
                    stderr,
                    process: name.clone(),
                    group: group.clone(),
                    pid,
                    data: text(&data),
                }),
            }
        }
    }

    pub(super) fn close_pipe(&mut self, gi: usize, pi: usize, stream: Stream) {
        let slot = &mut self.groups[gi].slots[pi];
        let entry = match stream {
            Stream::Stdout => slot.pipes.stdout.take(),
            Stream::Stderr => slot.pipes.stderr.take(),
            Stream::Stdin => {
                slot.stdin_buffer.clear();
                slot.pipes.stdin.take()
            }
        };
        let Some((fd, token)) = entry else {
            return;
        };
        self.pipes.forget(fd.as_raw_fd(), token);
        let outputs = match stream {
            Stream::Stdout => slot.stdout_log.finish(self.wall),
            Stream::Stderr => slot.stderr_log.finish(self.wall),
            Stream::Stdin => Vec::new(),
        };
        self.note_pending_log(gi, pi);
        self.handle_channel_outputs(gi, pi, stream, outputs);
    }

    /// Lists the process for retries if output was just written to its logs and some of it
    /// waits for a full target. Every write to a child log goes through a drain or a close,
    /// and both end here: nothing queued is left without a retry.
    fn note_pending_log(&mut self, gi: usize, pi: usize) {
        let slot = &self.groups[gi].slots[pi];
        let pending = slot.stdout_log.has_pending() || slot.stderr_log.has_pending();
        self.pending_logs.note(gi, pi, pending);
    }

    /// Queues bytes for a running child's stdin and writes what fits now.
    pub fn write_stdin(&mut self, gi: usize, pi: usize, data: &[u8]) -> Result<(), StdinError> {
        let slot = &mut self.groups[gi].slots[pi];
        if slot.process.pid == 0 || slot.process.killing || slot.pipes.stdin.is_none() {
            return Err(StdinError::Closed);
        }
        slot.stdin_buffer.extend_from_slice(data);
        match self.flush_stdin(gi, pi) {
            Some(e) if e.raw_os_error() == Some(libc::EPIPE) => Err(StdinError::Closed),
            Some(e) => Err(StdinError::Failed(e.to_string())),
            None => Ok(()),
        }
    }

    /// Writes queued stdin bytes until the pipe is full; closes stdin on EPIPE. Returns the
    /// error that stopped writing (other than WouldBlock).
    fn flush_stdin(&mut self, gi: usize, pi: usize) -> Option<io::Error> {
        let slot = &mut self.groups[gi].slots[pi];
        let fd = slot.pipes.stdin.as_ref()?.0.as_raw_fd();
        while !slot.stdin_buffer.is_empty() {
            match crate::sys::write(fd, &slot.stdin_buffer) {
                Ok(n) => {
                    slot.stdin_buffer.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) => {
                    if e.raw_os_error() == Some(libc::EPIPE) {
                        self.close_pipe(gi, pi, Stream::Stdin);
                    }
                    return Some(e);
                }
            }
        }
        None
    }

    /// Descriptors of child log targets that still hold queued bytes (to wait on for
    /// writability).
    pub fn pending_log_fds(&self, out: &mut Vec<RawFd>) {
        for (gi, pi) in self.pending_logs.iter() {
            let slot = &self.groups[gi].slots[pi];
            out.extend(slot.stdout_log.pending_fd());
            out.extend(slot.stderr_log.pending_fd());
        }
    }

    /// Log targets that are full pipes or ttys (`stdout_logfile=/dev/stdout`) keep bytes queued;
    /// retry them. Only the processes listed in `pending_logs` are visited (a pass costs what
    /// is queued, not the number of programs). Returns whether anything is still queued.
    pub fn flush_pending_logs(&mut self) -> bool {
        if self.pending_logs.is_empty() {
            return false;
        }
        for (gi, pi) in self.pending_logs.take() {
            for stream in [Stream::Stdout, Stream::Stderr] {
                let slot = &mut self.groups[gi].slots[pi];
                let log = match stream {
                    Stream::Stdout => &mut slot.stdout_log,
                    _ => &mut slot.stderr_log,
                };
                if !log.has_pending() {
                    continue;
                }
                let outputs = log.flush_pending();
                self.handle_channel_outputs(gi, pi, stream, outputs);
            }
            self.note_pending_log(gi, pi);
        }
        !self.pending_logs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe's process is found where it was spawned, and still found by name once an earlier
    /// group went away (its indexes moved).
    #[test]
    fn a_pipe_finds_its_process_before_and_after_groups_move() {
        let (mut table, _poll, _dir) = crate::daemon::process_table::tests::table(
            "pipe-slot",
            "[program:early]\ncommand=true\nautostart=false\npriority=1\n\n\
             [program:late]\ncommand=sleep 30\nautostart=false\npriority=999\n\
             stdout_logfile=NONE\nstderr_logfile=NONE\n",
        );
        table.start_process(1, 0, Instant::now()).unwrap();
        let pid = table.slot(1, 0).process.pid;
        assert!(pid > 0, "sleep did not start");
        let token = table.slot(1, 0).pipes.stdout.as_ref().unwrap().1;
        let owner = table.pipes.owner(token).cloned().unwrap();
        assert_eq!(owner.slot, (1, 0));
        assert_eq!(table.pipe_slot(&owner, token), Some((1, 0)));
        table.remove_group("early").unwrap();
        assert_eq!(table.pipe_slot(&owner, token), Some((0, 0)));
        // SAFETY: kill and reap the child this test started.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
            libc::waitpid(pid as i32, std::ptr::null_mut(), 0);
        }
    }
}
