//! The dependency gate's record: starts held back until their dependencies hold and stops held
//! until the dependents being stopped are down, by name. The process table consults and feeds
//! it in `dependencies.rs`.

use crate::process::Input;

/// Processes waiting on dependencies and stops waiting on dependents, by (group, process) name
/// (indexes shift when groups are added or removed).
#[derive(Debug, Default)]
pub struct DepGate {
    /// Some process of the table has `depends_on` (recomputed when groups change).
    pub active: bool,
    /// Held starts, in the order they were asked for, with the input to feed once ready.
    pub(super) waiting: Vec<(String, String, Input)>,
    /// Held stops (`stop all`): fed once no dependent is on its way down.
    pub(super) pending_stops: Vec<(String, String)>,
}

/// Why a process shows a description of ours instead of the reference's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// Waiting for its dependencies (`waiting for ...`).
    Waiting(String),
    /// A dependency cannot come up by itself (`blocked: ...`).
    Blocked(String),
}

impl DepGate {
    pub(super) fn hold(&mut self, group: &str, name: &str, input: Input) {
        if !self.waiting.iter().any(|(g, n, _)| g == group && n == name) {
            self.waiting
                .push((group.to_string(), name.to_string(), input));
        }
    }

    pub(super) fn release(&mut self, group: &str, name: &str) -> bool {
        let before = self.waiting.len() + self.pending_stops.len();
        self.waiting.retain(|(g, n, _)| !(g == group && n == name));
        self.pending_stops
            .retain(|(g, n)| !(g == group && n == name));
        before != self.waiting.len() + self.pending_stops.len()
    }
}
