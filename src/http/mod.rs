//! The HTTP/1.1 servers of the daemon ([unix_http_server], [inet_http_server]): sans-IO request
//! parsing with limits, Basic auth, routing, responses and streams, driven by the daemon's loop.

mod auth;
mod connection;
mod listener;
mod request;
mod response;
mod router;
mod server;
mod sha1;

// Re-exports are the daemon's API; it is wired in separately.
#[allow(unused_imports)]
pub use listener::BindError;
#[allow(unused_imports)]
pub use request::Limits;
#[allow(unused_imports)]
pub use response::{Response, Version, http_date};
#[allow(unused_imports)]
pub use router::{Channel, Route, route};
#[allow(unused_imports)]
pub use server::{Request, RequestId, Server};

#[cfg(test)]
mod io_tests;
