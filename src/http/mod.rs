//! The HTTP/1.1 servers of the daemon ([unix_http_server], [inet_http_server]): binding the
//! sockets, sans-IO request parsing with limits, Basic auth, routing, responses and streams, all
//! driven by the daemon's loop. What a request means (RPC, log tails, the web pages) is the
//! daemon's; this module only says which route it took.
//!
//! How the daemon drives it (all calls from the one loop thread; nothing here blocks):
//! * `Server::bind(..)` with the configured servers and `Limits::default()`, before dropping
//!   privileges; a `BindError` prints as `Error: {err}` (usage error, exit 2).
//! * `server.register(registry, base)`; tokens `base .. base + server.token_span()` are the
//!   server's (`server.owns(token)`). The start-up log lines are the daemon's.
//! * On readiness of an owned token: `server.handle_event(..)` returns complete, authorised
//!   requests. `/ok.html` and errors (400/401/404/411/413/...) are answered inside; the daemon
//!   sees `Route::Rpc`, `Route::LogTail`, `Route::MainLogTail`, `Route::Ui`.
//! * Answer each with `server.respond(id, response, now)`, which returns requests that were
//!   pipelined behind it (handle them the same way), or stream with
//!   `start_stream(id, headers, now)` then `push_chunk(id, bytes, now)` until it returns false
//!   (client gone or too slow). `now` is the loop pass's time: the server reads no clock.
//! * Poll timeout includes `server.next_deadline()`; call `server.handle_timeout(now)` each
//!   pass. `server.shutdown(registry)` closes everything and removes the unix socket files.

mod auth;
pub(crate) mod connection;
mod listener;
mod policy;
mod ratelimit;
pub(crate) mod request;
mod response;
pub(crate) mod router;
mod server;
mod sha1;

// Re-exports: the API the daemon's web layer uses.
pub use request::Limits;
pub use response::{Response, ctime, http_date};
pub use router::{Channel, Probe, Route};
pub use server::{Request, RequestId, Server};

#[cfg(test)]
mod io_tests;
