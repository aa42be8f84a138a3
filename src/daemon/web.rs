//! The daemon's HTTP side: binding the servers, answering XML-RPC (held replies included), the
//! `/logtail` and `/mainlogtail` streams, and the servers' own timers, all inside the one loop.

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use mio::event::Event as MioEvent;
use mio::{Registry, Token};

use super::rpc_backend::DaemonBackend;
use super::supervisor::{LAST_PIPE_TOKEN, Supervisor};
use crate::config::model::Config;
use crate::http::{self, Channel, Request, RequestId, Response, Route};
use crate::logs::{Changes, FileFollower, LogWatch, MainLogHandle};
use crate::rpc::{self, PendingCall, RpcOutcome};

/// HTTP tokens start here (child pipes use the range below).
pub const HTTP_TOKEN_BASE: usize = LAST_PIPE_TOKEN;
/// Most bytes one tail poll sends (the rest follows on the next poll).
const TAIL_CHUNK: usize = 64 * 1024;
/// The inotify descriptor that wakes log tails (below the first child pipe token).
const TAIL_WATCH_TOKEN: Token = Token(1);

struct Tail {
    id: RequestId,
    follower: FileFollower,
}

/// The servers and the requests still being answered.
pub struct Web {
    server: http::Server,
    pending: Vec<(RequestId, PendingCall)>,
    pending_ui: Vec<(RequestId, super::ui::PendingUi)>,
    tails: Vec<Tail>,
    main_log: Option<MainLogHandle>,
    /// Watches the files tails follow; None when inotify is unavailable (tails then poll).
    watch: Option<LogWatch>,
    /// An XML-RPC reply of at least `LARGE_REPLY` bytes was made since the last heap trim.
    large_reply: bool,
}

/// Replies this large (getAllProcessInfo of a few hundred processes) leave a heap worth trimming.
const LARGE_REPLY: usize = 64 * 1024;

fn http_date(t: SystemTime) -> String {
    http::http_date(t)
}

impl Web {
    /// Opens every configured server (before privileges are dropped). Err = usage error text.
    pub fn bind(config: &Config, main_log: Option<MainLogHandle>) -> Result<Web, String> {
        let server = http::Server::bind(
            &config.unix_http_servers,
            &config.inet_http_servers,
            http::Limits::default(),
        )
        .map_err(|e| e.to_string())?;
        Ok(Web {
            server,
            pending: Vec::new(),
            pending_ui: Vec::new(),
            tails: Vec::new(),
            main_log,
            watch: None,
            large_reply: false,
        })
    }

    /// Logs what the reference logs per server, and registers the listeners.
    pub fn start(&mut self, registry: &Registry, config: &Config) -> std::io::Result<()> {
        let servers = config.unix_http_servers.len() + config.inet_http_servers.len();
        for _ in 0..servers {
            for interface in &config.rpcinterfaces {
                log::info!(
                    "RPC interface {} initialized",
                    crate::python::py_repr(&interface.name)
                );
            }
        }
        for section in self.server.unauthenticated_sections() {
            log::error!(target: "crit", "Server '{section}' running without any HTTP authentication checking");
        }
        self.watch = LogWatch::new()
            .and_then(|watch| {
                registry.register(
                    &mut mio::unix::SourceFd(&watch.fd()),
                    TAIL_WATCH_TOKEN,
                    mio::Interest::READABLE,
                )?;
                Ok(watch)
            })
            .map_err(|e| log::debug!("log tails will poll their files: no inotify ({e})"))
            .ok();
        self.server.register(registry, HTTP_TOKEN_BASE)
    }

    pub fn owns(&self, token: Token) -> bool {
        token == TAIL_WATCH_TOKEN || self.server.owns(token)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let tails = self.tails.iter().filter_map(|t| t.follower.next_deadline());
        tails.chain(self.server.next_deadline()).min()
    }

    /// Readiness on one of the server's tokens.
    pub fn on_event(
        &mut self,
        sup: &mut Supervisor,
        registry: &Registry,
        event: &MioEvent,
        now: Instant,
    ) {
        if event.token() == TAIL_WATCH_TOKEN {
            self.wake_tails(now);
            return;
        }
        let requests = self.server.handle_event(registry, event, now);
        self.handle_requests(sup, requests, now);
    }

    /// Once per loop pass: timers, held RPC replies, log tails.
    pub fn after_pass(&mut self, sup: &mut Supervisor, now: Instant) {
        self.server.handle_timeout(now);
        self.poll_pending(sup);
        self.poll_tails(now);
    }

    /// Closes every connection and listener; removes the unix socket files we created.
    pub fn shutdown(&mut self, registry: &Registry) {
        self.pending.clear();
        self.pending_ui.clear();
        self.tails.clear();
        if let Some(watch) = self.watch.take() {
            let _ = registry.deregister(&mut mio::unix::SourceFd(&watch.fd()));
        }
        self.server.shutdown(registry);
    }

    fn handle_requests(&mut self, sup: &mut Supervisor, requests: Vec<Request>, now: Instant) {
        let mut queue = requests;
        while let Some(request) = queue.pop() {
            let more = self.handle_request(sup, request, now);
            queue.extend(more);
        }
        if std::mem::take(&mut self.large_reply) {
            // A large reply's value tree (thousands of small allocations) is freed by now; give
            // its pages back instead of keeping the high-water mark resident.
            // SAFETY: malloc_trim only returns free heap pages to the kernel.
            unsafe { libc::malloc_trim(0) };
        }
    }

    fn clear_main_log(&self) -> impl FnMut() -> std::io::Result<()> + use<> {
        let handle = self.main_log;
        move || match handle {
            Some(h) => h.clear(),
            None => Ok(()),
        }
    }

    /// Answers one request; returns requests that were pipelined behind it.
    fn handle_request(
        &mut self,
        sup: &mut Supervisor,
        request: Request,
        now: Instant,
    ) -> Vec<Request> {
        if reads_child_logs(&request) {
            sup.create_all_auto_logs();
        }
        match &request.route {
            Route::Rpc => {
                let mut clear = self.clear_main_log();
                let outcome = {
                    let mut backend = DaemonBackend::new(sup, &mut clear);
                    rpc::handle_request(&request.body, &mut backend, SystemTime::now())
                };
                match outcome {
                    RpcOutcome::Reply(body) => {
                        self.large_reply |= body.len() >= LARGE_REPLY;
                        self.server.respond(request.id, Response::xml(body))
                    }
                    RpcOutcome::BadRequest => self.server.respond(request.id, Response::error(400)),
                    RpcOutcome::Pending(call) => {
                        self.pending.push((request.id, call));
                        Vec::new()
                    }
                }
            }
            Route::LogTail { namespec, channel } => {
                let path = tail_path(sup, namespec, *channel);
                self.start_tail(request.id, path, true, now)
            }
            Route::MainLogTail => {
                let path = Some(sup.config.supervisord.logfile.clone());
                self.start_tail(request.id, path, false, now)
            }
            Route::Ui { page } => match super::ui::handle(sup, &request, page) {
                super::ui::UiOutcome::Respond(response) => {
                    self.server.respond(request.id, response)
                }
                super::ui::UiOutcome::Wait(pending) => {
                    self.pending_ui.push((request.id, pending));
                    Vec::new()
                }
            },
            Route::Ok => self
                .server
                .respond(request.id, Response::ok("text/plain", b"OK".to_vec())),
            Route::Error(status) => self.server.respond(request.id, Response::error(*status)),
        }
    }

    fn start_tail(
        &mut self,
        id: RequestId,
        path: Option<PathBuf>,
        accel: bool,
        now: Instant,
    ) -> Vec<Request> {
        let follower = match path.as_deref().map(|p| FileFollower::open(p, now)) {
            Some(Ok(f)) => f,
            _ => return self.server.respond(id, Response::error(404)),
        };
        let mut headers = Vec::new();
        if let Some(modified) = follower.modified() {
            headers.push(("Last-Modified".to_string(), http_date(modified)));
        }
        headers.push((
            "Content-Type".to_string(),
            "text/plain;charset=utf-8".to_string(),
        ));
        if accel {
            headers.push(("X-Accel-Buffering".to_string(), "no".to_string()));
        }
        if self.server.start_stream(id, &headers) {
            let mut follower = follower;
            // Watched before the first poll, so no change after it is missed.
            if let Some(watch) = self.watch.as_mut()
                && watch.add(follower.path()).is_ok()
            {
                follower.set_watched();
            }
            self.tails.push(Tail { id, follower });
            self.poll_tails(now);
        }
        Vec::new()
    }

    fn poll_tails(&mut self, now: Instant) {
        let server = &mut self.server;
        self.tails.retain_mut(|tail| {
            if !server.is_open(tail.id) {
                return false;
            }
            if tail.follower.next_deadline().is_none_or(|due| due > now) {
                return true;
            }
            let data = tail.follower.poll(now, TAIL_CHUNK);
            data.is_empty() || server.push_chunk(tail.id, &data)
        });
        if self.tails.is_empty()
            && let Some(watch) = self.watch.as_mut()
            && watch.watch_count() > 0
        {
            watch.clear();
        }
    }

    /// A watched file or directory changed: every tail looks at its file now (after a rename or
    /// a new file, each path is watched again, so a rotated-in file is followed).
    fn wake_tails(&mut self, now: Instant) {
        let Some(watch) = self.watch.as_mut() else {
            return;
        };
        let changes = watch.drain();
        if changes == Changes::None {
            return;
        }
        for tail in &mut self.tails {
            // Only after a rename or a new file: the path may name a new inode to watch.
            if changes == Changes::Files {
                let _ = watch.add(tail.follower.path());
            }
            tail.follower.wake(now);
        }
        self.poll_tails(now);
    }

    fn poll_pending(&mut self, sup: &mut Supervisor) {
        let mut done = Vec::new();
        let mut clear = self.clear_main_log();
        let mut index = 0;
        while index < self.pending.len() {
            if !self.server.is_open(self.pending[index].0) {
                // The client went away: the processes keep starting/stopping, the reply is lost.
                self.pending.swap_remove(index);
                continue;
            }
            let reply = {
                let mut backend = DaemonBackend::new(sup, &mut clear);
                rpc::poll(&mut self.pending[index].1, &mut backend, SystemTime::now())
            };
            match reply {
                Some(body) => {
                    let (id, _) = self.pending.swap_remove(index);
                    done.push((id, body));
                }
                None => index += 1,
            }
        }
        let mut responses: Vec<(RequestId, Response)> = done
            .into_iter()
            .map(|(id, body)| (id, Response::xml(body)))
            .collect();
        let mut index = 0;
        while index < self.pending_ui.len() {
            if !self.server.is_open(self.pending_ui[index].0) {
                self.pending_ui.swap_remove(index);
                continue;
            }
            match super::ui::poll(&mut self.pending_ui[index].1, sup) {
                Some(response) => {
                    let (id, _) = self.pending_ui.swap_remove(index);
                    responses.push((id, response));
                }
                None => index += 1,
            }
        }
        for (id, response) in responses {
            let more = self.server.respond(id, response);
            self.handle_requests(sup, more, Instant::now());
        }
    }
}

/// Whether a request may read, tail or clear a child's log file: those need every AUTO file that
/// start-up has not created yet (all XML-RPC log methods have "Log" in their name; a plain byte
/// search also covers them inside system.multicall).
fn reads_child_logs(request: &Request) -> bool {
    match &request.route {
        Route::Rpc => request.body.windows(3).any(|w| w == b"Log"),
        Route::LogTail { .. } | Route::Ui { .. } => true,
        _ => false,
    }
}

/// The log file a `/logtail/<namespec>[/<channel>]` request names, if it exists.
fn tail_path(sup: &Supervisor, namespec: &str, channel: Channel) -> Option<PathBuf> {
    let (group, name) = match namespec.split_once(':') {
        Some((g, n)) => (g, n),
        None => (namespec, namespec),
    };
    let (gi, pi) = sup.find(group, name)?;
    let slot = sup.slot(gi, pi);
    let path = match channel {
        Channel::Stdout => slot.stdout_log.path.clone(),
        Channel::Stderr => slot.stderr_log.path.clone(),
    }?;
    path.exists().then(|| path.to_path_buf())
}
