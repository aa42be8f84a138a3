//! The web layer: the daemon's HTTP servers inside the one loop. Binds them, routes each request
//! (XML-RPC with held replies, the `/logtail` and `/mainlogtail` streams, the dashboard and its
//! live feed `/events`) and runs the servers' timers. It knows the daemon only as an
//! `rpc::Backend`, which the loop passes into every call with the pass's clock readings, and
//! learns of state changes from the events the daemon hands to `process_events`.

mod form;
mod live;
mod metrics;
mod page;
mod probes;
mod status;
mod tails;

use std::time::{Instant, SystemTime};

use mio::event::Event as MioEvent;
use mio::{Registry, Token};

use crate::config::model::Config;
use crate::events::Event;
use crate::http::{self, Probe, Request, RequestId, Response, Route};
use crate::rpc::{self, Backend, PendingCall, RpcOutcome};
use live::Live;
use tails::Tails;

/// Replies this large (getAllProcessInfo of a few hundred processes) leave a heap worth trimming.
const LARGE_REPLY: usize = 64 * 1024;

/// The servers and the requests still being answered.
pub struct Web {
    server: http::Server,
    /// XML-RPC calls waiting for process states (wait=true).
    pending: Vec<(RequestId, PendingCall)>,
    /// Status-page actions waiting the same way.
    pending_actions: Vec<(RequestId, status::PendingAction)>,
    tails: Tails,
    /// The dashboards' live feeds.
    live: Live,
    /// The token the tails' inotify descriptor wakes (set by `start`).
    tail_token: Option<Token>,
    /// An XML-RPC reply of at least `LARGE_REPLY` bytes was made since the last heap trim.
    large_reply: bool,
    /// What `/metrics` reads once and keeps (the daemon's start time).
    metrics: metrics::Metrics,
}

impl Web {
    /// Opens every configured server (before privileges are dropped). Err = usage error text.
    pub fn bind(config: &Config) -> Result<Web, String> {
        let server = http::Server::bind(
            &config.unix_http_servers,
            &config.inet_http_servers,
            http::Limits::default(),
        )
        .map_err(|e| e.to_string())?;
        Ok(Web {
            server,
            pending: Vec::new(),
            pending_actions: Vec::new(),
            tails: Tails::default(),
            live: Live::default(),
            tail_token: None,
            large_reply: false,
            metrics: metrics::Metrics::default(),
        })
    }

    /// Logs what the reference logs per server, and registers the listeners: the tails' watch
    /// under `tail_token`, listeners and connections from `http_token_base` up.
    pub fn start(
        &mut self,
        registry: &Registry,
        config: &Config,
        tail_token: Token,
        http_token_base: usize,
    ) -> std::io::Result<()> {
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
        for (section, protected) in self.server.exposed_sections() {
            if protected {
                log::error!(target: "crit", "Server '{section}' listens beyond loopback without a username/password: protected mode answers only loopback clients (others get 403); set [{section}] protected_mode = false to serve them");
            } else {
                log::error!(target: "crit", "Server '{section}' serves every client that can reach it without authentication ([{section}] protected_mode = false)");
            }
        }
        self.tails.start(registry, tail_token);
        self.tail_token = Some(tail_token);
        self.server.register(registry, http_token_base)
    }

    pub fn owns(&self, token: Token) -> bool {
        self.tail_token == Some(token) || self.server.owns(token)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        [self.tails.next_deadline(), self.server.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Readiness on one of the web's tokens.
    pub fn on_event(
        &mut self,
        backend: &mut dyn Backend,
        registry: &Registry,
        event: &MioEvent,
        now: Instant,
        wall: SystemTime,
    ) {
        if Some(event.token()) == self.tail_token {
            self.tails.wake(&mut self.server, now);
            return;
        }
        let requests = self.server.handle_event(registry, event, now);
        self.handle_requests(backend, requests, now, wall);
    }

    /// Once per loop pass: timers, held replies, log tails.
    pub fn after_pass(&mut self, backend: &mut dyn Backend, now: Instant, wall: SystemTime) {
        self.server.handle_timeout(now);
        self.poll_pending(backend, now, wall);
        self.tails.poll(&mut self.server, now);
        self.live.poll(&mut self.server, now);
    }

    /// Closes every connection and listener; removes the unix socket files we created.
    pub fn shutdown(&mut self, registry: &Registry) {
        self.pending.clear();
        self.pending_actions.clear();
        self.live.shutdown();
        self.tails.shutdown(registry);
        self.server.shutdown(registry);
    }

    /// The daemon's state transitions since the last call (the events it emitted, before they go
    /// to event listeners): the open dashboards get the rows that changed, or the whole table
    /// when groups came or went. Without open dashboards this only counts starts.
    pub fn process_events(
        &mut self,
        backend: &mut dyn Backend,
        events: &[Event],
        now: Instant,
        wall: SystemTime,
    ) {
        let changes = self.live.note(events);
        if changes.table {
            let table = self.table(backend, wall);
            self.live.send(&mut self.server, "table", &table, now);
            return;
        }
        for ns in changes.processes {
            // A process of a group being removed is gone already: the table event follows.
            if let Some(info) = status::info(backend, &ns, wall) {
                let row = page::row(&info, self.live.restarts(&ns), false);
                self.live.send(&mut self.server, "row", &row, now);
            }
        }
    }

    /// The dashboard's sections as the live feed sends them (the page applies its filter and
    /// sort itself).
    fn table(&self, backend: &mut dyn Backend, wall: SystemTime) -> String {
        let (infos, _) = status::all_infos(backend, wall);
        let live = &self.live;
        let view = page::TableView {
            restarts: &|ns| live.restarts(ns),
            filter: None,
            sort: None,
        };
        page::groups(&infos, &view)
    }

    fn handle_requests(
        &mut self,
        backend: &mut dyn Backend,
        requests: Vec<Request>,
        now: Instant,
        wall: SystemTime,
    ) {
        let mut queue = requests;
        while let Some(request) = queue.pop() {
            let more = self.handle_request(backend, request, now, wall);
            queue.extend(more);
        }
        if std::mem::take(&mut self.large_reply) {
            // A large reply's value tree (thousands of small allocations) is freed by now; give
            // its pages back instead of keeping the high-water mark resident.
            // SAFETY: malloc_trim only returns free heap pages to the kernel.
            unsafe { libc::malloc_trim(0) };
        }
    }

    /// Answers one request; returns requests that were pipelined behind it.
    fn handle_request(
        &mut self,
        backend: &mut dyn Backend,
        request: Request,
        now: Instant,
        wall: SystemTime,
    ) -> Vec<Request> {
        if reads_child_logs(&request.route, &request.body) {
            backend.create_auto_logs();
        }
        match &request.route {
            Route::Rpc => match rpc::handle_request(&request.body, backend, wall) {
                RpcOutcome::Reply(body) => {
                    self.large_reply |= body.len() >= LARGE_REPLY;
                    self.server.respond(request.id, Response::xml(body), now)
                }
                RpcOutcome::BadRequest => {
                    self.server.respond(request.id, Response::error(400), now)
                }
                RpcOutcome::Pending(call) => {
                    self.pending.push((request.id, call));
                    Vec::new()
                }
            },
            Route::LogTail { namespec, channel } => {
                let path = tails::log_path(backend, namespec, *channel);
                let offset = tails::offset(request.query.as_deref());
                self.tails
                    .open(&mut self.server, request.id, path, true, offset, now)
            }
            Route::MainLogTail => {
                let path = backend.main_log_path();
                let offset = tails::offset(request.query.as_deref());
                self.tails
                    .open(&mut self.server, request.id, path, false, offset, now)
            }
            Route::Ui { page } if page == "events" => {
                if request.method != "GET" {
                    return self.server.respond(request.id, live::refuse(), now);
                }
                let table = self.table(backend, wall);
                self.live.open(&mut self.server, request.id, &table, now);
                Vec::new()
            }
            Route::Ui { page } if page.starts_with("assets/") => {
                let response = page::asset(page).unwrap_or_else(|| Response::error(404));
                self.server.respond(request.id, response, now)
            }
            Route::Ui { page } => {
                let live = &self.live;
                let context = status::Context {
                    restarts: &|ns| live.restarts(ns),
                };
                match status::handle(backend, &request, page, &context, wall) {
                    status::Outcome::Respond(response) => {
                        self.server.respond(request.id, response, now)
                    }
                    status::Outcome::Wait(pending) => {
                        self.pending_actions.push((request.id, pending));
                        Vec::new()
                    }
                }
            }
            Route::Probe(probe) => self.answer_probe(backend, request.id, *probe, now, wall),
            Route::Ok => {
                self.server
                    .respond(request.id, Response::ok("text/plain", b"OK".to_vec()), now)
            }
            Route::Error(status) => self
                .server
                .respond(request.id, Response::error(*status), now),
        }
    }

    /// Answers `/healthz`, `/readyz` or `/metrics`; returns requests pipelined behind it.
    fn answer_probe(
        &mut self,
        backend: &mut dyn Backend,
        id: RequestId,
        probe: Probe,
        now: Instant,
        wall: SystemTime,
    ) -> Vec<Request> {
        let response = match probe {
            Probe::Healthz => probes::healthz(),
            Probe::Readyz => probes::readyz(backend.supervisor_state(), &backend.statuses()),
            Probe::Metrics => {
                // Rendered straight into the connection's buffer (~1 KB per process).
                let statuses = backend.statuses();
                let metrics = &mut self.metrics;
                let render = |out: &mut Vec<u8>| metrics.write(out, &statuses, wall);
                return self
                    .server
                    .respond_rendered(id, metrics::CONTENT_TYPE, render, now);
            }
        };
        self.server.respond(id, response, now)
    }

    /// Re-polls held replies; answers those that are complete (and requests pipelined behind).
    fn poll_pending(&mut self, backend: &mut dyn Backend, now: Instant, wall: SystemTime) {
        let mut responses: Vec<(RequestId, Response)> = Vec::new();
        let mut index = 0;
        while index < self.pending.len() {
            if !self.server.is_open(self.pending[index].0) {
                // The client went away: the processes keep starting/stopping, the reply is lost.
                self.pending.swap_remove(index);
                continue;
            }
            match rpc::poll(&mut self.pending[index].1, backend, wall) {
                Some(body) => {
                    let (id, _) = self.pending.swap_remove(index);
                    responses.push((id, Response::xml(body)));
                }
                None => index += 1,
            }
        }
        let mut index = 0;
        while index < self.pending_actions.len() {
            if !self.server.is_open(self.pending_actions[index].0) {
                self.pending_actions.swap_remove(index);
                continue;
            }
            match status::poll(&mut self.pending_actions[index].1, backend, wall) {
                Some(response) => {
                    let (id, _) = self.pending_actions.swap_remove(index);
                    responses.push((id, response));
                }
                None => index += 1,
            }
        }
        for (id, response) in responses {
            let more = self.server.respond(id, response, now);
            self.handle_requests(backend, more, now, wall);
        }
    }
}

/// Whether a request may read, tail or clear a child's log file: those need every AUTO file that
/// start-up has not created yet (all XML-RPC log methods have "Log" in their name; a plain byte
/// search also covers them inside system.multicall).
fn reads_child_logs(route: &Route, body: &[u8]) -> bool {
    match route {
        Route::Rpc => body.windows(3).any(|w| w == b"Log"),
        Route::LogTail { .. } | Route::Ui { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Channel;

    #[test]
    fn requests_that_read_child_logs_create_the_auto_files_first() {
        let tail = Route::LogTail {
            namespec: "web".into(),
            channel: Channel::Stderr,
        };
        let page = Route::Ui {
            page: "tail.html".into(),
        };
        let rpc = Route::Rpc;
        assert!(reads_child_logs(&tail, b""));
        assert!(reads_child_logs(&page, b""));
        assert!(reads_child_logs(
            &rpc,
            b"<methodName>supervisor.tailProcessStdoutLog"
        ));
        assert!(reads_child_logs(
            &rpc,
            b"<name>methodName</name><value>supervisor.clearLog"
        ));
        assert!(!reads_child_logs(&rpc, b"<methodName>supervisor.getState"));
        assert!(!reads_child_logs(&Route::MainLogTail, b"Log"));
        assert!(!reads_child_logs(&Route::Ok, b""));
        assert!(!reads_child_logs(&Route::Error(404), b"Log"));
    }
}
