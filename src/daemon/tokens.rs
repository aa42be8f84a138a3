//! The daemon's whole mio token map: every readiness source of the one loop gets its token here,
//! so two sources can never share one by accident.
//!
//! | tokens | source | owner |
//! |---|---|---|
//! | 0 | the self-pipe of signals | `Daemon` (event_loop.rs) |
//! | 1 | the inotify watch that wakes log tails | the web side (given to it at start) |
//! | 2 | writability of full log targets | `WriteWaits` |
//! | `FIRST_PIPE`..`LAST_PIPE` | child stdin/stdout/stderr pipes | `ChildPipes` (child_io.rs) |
//! | `HTTP_BASE`.. | HTTP listeners, then their connections | `http::Server` (given at start) |
//! | `HEALTH_BASE`.. | sockets of http/tcp health checks in flight | `HealthChecks` (health_checks.rs) |

use mio::Token;

/// The signal self-pipe.
pub const SIGNALS: Token = Token(0);
/// The inotify descriptor that wakes `/logtail` and `/mainlogtail` streams.
pub const TAIL_WATCH: Token = Token(1);
/// Every writability wait of a full log target: a wake-up only means "retry the queues", which
/// the loop does on every pass anyway.
pub const LOG_WRITABLE: Token = Token(2);
/// Child pipe tokens start here; lower tokens belong to the loop itself.
pub const FIRST_PIPE: usize = 16;
/// Child pipe tokens stay below this (they wrap around to `FIRST_PIPE`).
pub const LAST_PIPE: usize = 1 << 30;
/// HTTP tokens start here: the listeners, then one per connection.
pub const HTTP_BASE: usize = LAST_PIPE;
/// Health-check socket tokens start here, far above any HTTP connection (the HTTP server's
/// tokens are its listeners plus its bounded connection slots).
pub const HEALTH_BASE: usize = HTTP_BASE + (1 << 30);
