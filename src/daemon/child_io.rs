//! Child pipes: `ChildPipes` owns the parent's side of every child's stdin/stdout/stderr (their
//! poller tokens, the read buffer, the staging pipe for splices, the per-event read backlog and
//! the coalescing windows) and drains an output pipe into its child log. The process table's
//! side (routing what a drain produced, stdin writes) is in `child_output.rs`, so this file
//! does not depend on the table.

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use super::tokens;
use crate::config::model::ProcessConfig;
use crate::events::listener::Listener;
use crate::events::listener::ListenerAction;
use crate::logs::{ChannelOutput, Spliced, StagingPipe};

use super::child_log::ChildLog;

/// Which of a child's standard streams a pipe carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
    Stdin,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Stdin => "stdin",
        }
    }
}

/// The parent's ends of a running child's pipes.
#[derive(Default)]
pub struct Pipes {
    pub stdin: Option<(OwnedFd, Token)>,
    pub stdout: Option<(OwnedFd, Token)>,
    pub stderr: Option<(OwnedFd, Token)>,
}

impl Pipes {
    pub fn get(&self, stream: Stream) -> Option<&(OwnedFd, Token)> {
        match stream {
            Stream::Stdout => self.stdout.as_ref(),
            Stream::Stderr => self.stderr.as_ref(),
            Stream::Stdin => self.stdin.as_ref(),
        }
    }
}

/// Which process and stream a pipe token belongs to.
#[derive(Debug, Clone)]
pub struct PipeOwner {
    /// The group's and the process's names, shared with the process (no copies per pipe).
    pub group: Rc<str>,
    pub process: Rc<ProcessConfig>,
    pub stream: Stream,
    /// (group index, slot index) of the process when the pipe was opened: found without a
    /// search by name unless groups moved since (see `ProcessTable::pipe_slot`).
    pub slot: (usize, usize),
    /// The pipe's descriptor (owned by the process's `Pipes`; valid while the token is owned).
    fd: RawFd,
}

/// Largest single read from a child pipe (the reference's 128 KiB).
const READ_CHUNK: usize = 128 * 1024;

/// Why bytes could not be queued for a child's stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdinError {
    /// No process running or its stdin is closed (EPIPE).
    Closed,
    Failed(String),
}

/// Reads (of up to 128 KiB) per readiness event before other work gets a turn.
pub(super) const READS_PER_EVENT: usize = 16;
/// Reads allowed when draining the pipes of a child that exited (output written just before
/// exit must reach the log; a grandchild that keeps writing must not hang the loop).
pub(super) const READS_AT_EXIT: usize = 256;

/// Pipe capacity given to a child's output pipe once it filled the default one (fewer, larger
/// reads). Only chatty children get it: grown pipes count against the user's pipe page budget.
pub(super) const GROWN_PIPE_SIZE: i32 = 1 << 20;
/// A drain that moved less than this is "small": the child writes in small pieces.
pub(super) const SMALL_DRAIN: usize = 16 * 1024;
/// How long readiness of a pipe that just had a small drain waits, letting output accumulate
/// (well under what `tail -f` users notice; at 1 M lines/s it fills well under a grown pipe).
const COALESCE_WINDOW: Duration = Duration::from_millis(5);

/// Bytes asked of one splice (pipe -> log file). More than a grown pipe holds, so one call
/// usually empties the pipe (fewer moved means it was empty), yet one call stays short.
const SPLICE_REQUEST: usize = 2 << 20;

/// Splices up to `want` bytes from a child's pipe into its log file through the staging pipe, so
/// the child's pipe is not locked while the file is written. Every staged byte reaches the log
/// (by splice, or through the read path when the file refuses a splice) before this returns, so
/// the staging pipe is empty for the next channel.
fn splice_staged(
    staging: &StagingPipe,
    child: RawFd,
    want: usize,
    log: &mut ChildLog,
    buf: &mut [u8],
    outputs: &mut Vec<ChannelOutput>,
    wall: SystemTime,
) -> (Spliced, Option<ChannelOutput>) {
    let asked = want.min(staging.capacity());
    let staged = match staging.fill_from(child, asked) {
        Ok(0) => return (Spliced::Eof, None),
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (Spliced::Empty, None),
        // Nothing moved: the caller reads the child's pipe instead.
        Err(_) => return (Spliced::Failed, None),
    };
    let mut left = staged;
    while left > 0 {
        let (spliced, report) = log.splice_from(staging.read_fd(), left);
        outputs.extend(report);
        match spliced {
            Spliced::Moved { bytes, .. } if bytes > 0 => left -= bytes.min(left),
            _ => break,
        }
    }
    // What the file did not take by splice goes through the read path (which writes it, or
    // reports and counts what it cannot write).
    if left > 0 {
        while let Ok(n) = crate::sys::read(staging.read_fd(), buf) {
            if n == 0 {
                break;
            }
            outputs.extend(log.feed(&buf[..n], wall));
        }
    }
    (
        Spliced::Moved {
            bytes: staged,
            emptied: staged < asked,
        },
        None,
    )
}

/// Asks for a larger pipe; refusal (pipe-max-size, the user's pipe budget) is harmless.
fn grow_pipe(fd: RawFd) {
    // SAFETY: fcntl on a descriptor we own; failure leaves the pipe as it was.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, GROWN_PIPE_SIZE);
    }
}

/// What one drain of an output pipe did; the process table routes the rest.
pub(super) struct Drained {
    /// The read limit stopped it: more may be waiting.
    pub limited: bool,
    pub bytes: usize,
    /// The child closed the pipe.
    pub eof: bool,
    pub outputs: Vec<ChannelOutput>,
    /// An event listener's protocol reactions to what it wrote on stdout.
    pub listener_actions: Vec<ListenerAction>,
}

/// The parent's side of every child pipe.
/// What one drain reads into: a process's pipes, the log of the stream being drained and, for
/// an event listener's stdout, its protocol reader. Borrowed from the process table's slot, so
/// the pipes need not know the table.
pub(super) struct DrainTarget<'a> {
    pub pipes: &'a Pipes,
    pub log: &'a mut ChildLog,
    pub listener: Option<&'a mut Listener>,
}

pub struct ChildPipes {
    registry: Registry,
    owners: HashMap<Token, PipeOwner>,
    next_token: usize,
    buf: Vec<u8>,
    /// Between child pipes and log files for spliced output (see `logs::StagingPipe`); None
    /// when it could not be created (output is then spliced straight from the child's pipe).
    staging: Option<StagingPipe>,
    /// Output pipes that still had data when their read limit was reached.
    pub(super) backlog: Vec<Token>,
    /// Output pipes drained by a small read: their next readiness is acted on at the deadline
    /// (true once an event arrived meanwhile), so a child writing many small pieces costs one
    /// read per window instead of one per write.
    coalescing: HashMap<Token, (Instant, bool)>,
    /// Output pipes already grown to `GROWN_PIPE_SIZE`.
    grown: HashSet<Token>,
}

impl ChildPipes {
    /// The loop's registry (health checks clone it when they first need it).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn new(registry: Registry) -> ChildPipes {
        ChildPipes {
            registry,
            owners: HashMap::new(),
            next_token: tokens::FIRST_PIPE,
            buf: vec![0; READ_CHUNK],
            staging: StagingPipe::new(GROWN_PIPE_SIZE as usize).ok(),
            backlog: Vec::new(),
            coalescing: HashMap::new(),
            grown: HashSet::new(),
        }
    }

    /// Watches a new pipe of `process` (of `group`); None if the poller refused it.
    pub(super) fn register(
        &mut self,
        fd: OwnedFd,
        (group, process): &(Rc<str>, Rc<ProcessConfig>),
        slot: (usize, usize),
        stream: Stream,
    ) -> Option<(OwnedFd, Token)> {
        let token = self.allocate_token();
        let interest = if stream == Stream::Stdin {
            Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let raw = fd.as_raw_fd();
        match self.registry.register(&mut SourceFd(&raw), token, interest) {
            Ok(()) => {
                let owner = PipeOwner {
                    group: group.clone(),
                    process: process.clone(),
                    stream,
                    slot,
                    fd: raw,
                };
                self.owners.insert(token, owner);
                Some((fd, token))
            }
            Err(e) => {
                log::error!("could not watch {} of {}: {e}", stream.name(), process.name);
                None
            }
        }
    }

    fn allocate_token(&mut self) -> Token {
        loop {
            let t = self.next_token;
            self.next_token = if t + 1 >= tokens::LAST_PIPE {
                tokens::FIRST_PIPE
            } else {
                t + 1
            };
            if !self.owners.contains_key(&Token(t)) {
                return Token(t);
            }
        }
    }

    pub fn owns(&self, token: Token) -> bool {
        self.owners.contains_key(&token)
    }

    pub fn owner(&self, token: Token) -> Option<&PipeOwner> {
        self.owners.get(&token)
    }

    /// Readiness of a pipe: whether to act on it now. An output pipe inside its coalescing
    /// window is only marked (and unwatched until the window ends: the edge-triggered poller
    /// would otherwise wake us for every further write of the child).
    pub(super) fn ready_now(&mut self, token: Token, now: Instant) -> bool {
        let Some((until, pending)) = self.coalescing.get_mut(&token) else {
            return true;
        };
        if now < *until {
            if !*pending {
                *pending = true;
                if let Some(owner) = self.owners.get(&token) {
                    let _ = self.registry.deregister(&mut SourceFd(&owner.fd));
                }
            }
            return false;
        }
        self.coalescing.remove(&token);
        true
    }

    /// Opens a coalescing window for a pipe a small drain just emptied.
    pub(super) fn coalesce(&mut self, token: Token, now: Instant) {
        self.coalescing
            .insert(token, (now + COALESCE_WINDOW, false));
    }

    /// The coalesced pipes whose window is over and that became readable meanwhile (watched
    /// again, to be read now); windows that passed quietly are forgotten.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<Token> {
        if self.coalescing.is_empty() {
            return Vec::new();
        }
        let due: Vec<Token> = self
            .coalescing
            .iter()
            .filter(|(_, (until, pending))| *pending && *until <= now)
            .map(|(token, _)| *token)
            .collect();
        self.coalescing.retain(|_, (until, _)| *until > now);
        for &token in &due {
            let watched = self.owners.get(&token).map(|owner| {
                self.registry
                    .register(&mut SourceFd(&owner.fd), token, Interest::READABLE)
            });
            if let Some(Err(e)) = watched {
                log::error!("could not watch a child pipe again: {e}");
            }
        }
        due
    }

    /// The earliest end of a window a pipe waits for (none while no child is writing, so an
    /// idle daemon never wakes).
    pub(super) fn coalesce_deadline(&self) -> Option<Instant> {
        self.coalescing
            .values()
            .filter(|(_, pending)| *pending)
            .map(|(until, _)| *until)
            .min()
    }

    /// Reads a pipe of `slot` until it is empty (a short read) or WouldBlock (at most
    /// `max_reads` chunks, so one chatty child cannot starve the loop), handing each chunk to the
    /// channel, or splicing it straight into the log file when the channel needs nothing else.
    pub(super) fn drain(
        &mut self,
        target: DrainTarget<'_>,
        stream: Stream,
        max_reads: usize,
        wall: SystemTime,
    ) -> Drained {
        let DrainTarget {
            pipes,
            log,
            mut listener,
        } = target;
        let mut drained = Drained {
            limited: false,
            bytes: 0,
            eof: false,
            outputs: Vec::new(),
            listener_actions: Vec::new(),
        };
        let Some((fd, token)) = pipes.get(stream).filter(|_| stream != Stream::Stdin) else {
            return drained;
        };
        let (fd, token) = (fd.as_raw_fd(), *token);
        let buf = &mut self.buf;
        let mut total = 0;
        let mut eof = false;
        let mut limited = true;
        let outputs = &mut drained.outputs;
        let listener_actions = &mut drained.listener_actions;
        let byte_budget = max_reads.saturating_mul(buf.len());
        for _ in 0..max_reads {
            if log.splice_ready() {
                // The same bytes per turn as the reads would move, so a chatty child gets no
                // longer turns than before.
                let want = SPLICE_REQUEST.min(byte_budget.saturating_sub(total));
                if want == 0 {
                    break;
                }
                let (spliced, report) = match self.staging.as_ref() {
                    Some(staging) => splice_staged(staging, fd, want, log, buf, outputs, wall),
                    None => log.splice_from(fd, want),
                };
                outputs.extend(report);
                match spliced {
                    Spliced::Moved { bytes, emptied } => {
                        total += bytes;
                        if emptied {
                            limited = false;
                            break;
                        }
                        continue;
                    }
                    Spliced::Empty => {
                        limited = false;
                        break;
                    }
                    Spliced::Eof => {
                        eof = true;
                        limited = false;
                        break;
                    }
                    // Nothing moved: this chunk takes the read path, which writes it (or
                    // reports and counts what it cannot write, keeping the child going).
                    Spliced::Unsupported | Spliced::Failed => {}
                }
            }
            match crate::sys::read(fd, buf) {
                Ok(0) => {
                    eof = true;
                    limited = false;
                    break;
                }
                Ok(n) => {
                    total += n;
                    let data = &buf[..n];
                    outputs.extend(log.feed(data, wall));
                    if let Some(listener) = listener.as_mut() {
                        listener_actions.extend(listener.feed(data));
                    }
                    // A short read emptied the pipe, so the child's next write wakes the
                    // poller again; reading on would only chase a writer line by line.
                    if n < buf.len() {
                        limited = false;
                        break;
                    }
                }
                Err(_) => {
                    limited = false;
                    break;
                }
            }
        }
        // A drain that (nearly) filled the default 64 KiB pipe (small writes leave page tails
        // unused): this child is chatty, give it room.
        if total >= 32 * 1024 && !eof && self.grown.insert(token) {
            grow_pipe(fd);
        }
        drained.limited = limited;
        drained.bytes = total;
        drained.eof = eof;
        drained
    }

    /// Stops watching a pipe that is being closed and forgets its token.
    pub(super) fn forget(&mut self, fd: RawFd, token: Token) {
        let _ = self.registry.deregister(&mut SourceFd(&fd));
        self.owners.remove(&token);
        self.coalescing.remove(&token);
        self.grown.remove(&token);
    }
}
