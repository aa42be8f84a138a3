//! The wire vocabulary, defined once: fault codes and names, process / supervisor / listener
//! state codes and names, and the API and supervisor versions. The daemon, rpc, ctl and the web
//! page all read them from here; `tests.rs` pins them against the reference.
//!
//! A leaf: nothing here imports from the rest of the crate.

mod faults;
mod states;
mod versions;

#[cfg(test)]
mod tests;

pub use faults::FaultCode;
pub use states::{ListenerState, ProcessState, SupervisorState};
pub use versions::{API_VERSION, SUPERVISOR_VERSION};
