//! `depends_on=` in the daemon: processes held back until their dependencies hold (autostart,
//! `start`, `update`), stops held until the dependents being stopped are down, and the
//! shutdown's dependency edges. The decisions are the pure `process::deps` resolver's; this
//! file only looks up the table and feeds the state machine (what is held is recorded in
//! `dep_gate::DepGate`). Tables without `depends_on` return at the first check and change
//! nothing.

use std::collections::HashMap;
use std::time::Instant;

use super::dep_gate::Held;
use super::process_table::ProcessTable;
use crate::config::dependencies::nodes;
use crate::process::deps::{Graph, Status, Verdict};
use crate::process::{Input, ProcessState};

impl ProcessTable {
    /// Recomputes whether anything depends on anything (after groups changed).
    pub(super) fn refresh_dependencies(&mut self) {
        self.deps.active = self
            .groups
            .iter()
            .flat_map(|g| &g.config.processes)
            .any(|p| !p.extensions.depends_on.is_empty());
    }

    /// The graph over the table's processes and the (group, process) index of each node.
    fn dep_graph(&self) -> (Graph, Vec<(usize, usize)>) {
        let configs: Vec<_> = self
            .groups
            .iter()
            .flat_map(|g| g.slots.iter().map(|s| &*s.process.config))
            .collect();
        let group_configs: Vec<_> = self.groups.iter().map(|g| &*g.config).collect();
        let index: Vec<(usize, usize)> = self
            .groups
            .iter()
            .enumerate()
            .flat_map(|(gi, g)| (0..g.slots.len()).map(move |pi| (gi, pi)))
            .collect();
        // The running groups' slots follow their configs' process lists one to one.
        let graph = Graph::build(&nodes(group_configs), &configs);
        (graph, index)
    }

    fn dep_statuses(&self) -> Vec<Status> {
        self.groups
            .iter()
            .flat_map(|g| g.slots.iter())
            .map(|s| {
                let p = &s.process;
                Status {
                    state: p.state,
                    exited_ok: p
                        .exitstatus
                        .is_some_and(|es| p.config.exitcodes.contains(&es)),
                    // Starting (no verdict yet) and Unhealthy both wait.
                    healthy: s
                        .health
                        .as_ref()
                        .map(|h| h.monitor.health == crate::process::health::Health::Healthy),
                    restarting: matches!(p.state, ProcessState::Exited | ProcessState::Backoff)
                        && p.next_deadline().is_some(),
                }
            })
            .collect()
    }

    fn node_of(index: &[(usize, usize)], gi: usize, pi: usize) -> Option<usize> {
        index.iter().position(|&x| x == (gi, pi))
    }

    fn names(&self, gi: usize, pi: usize) -> (String, String) {
        (
            self.groups[gi].config.name.clone(),
            self.groups[gi].slots[pi].process.name().to_string(),
        )
    }

    /// Autostart (start-up, `update`): at once when nothing is awaited, else held.
    pub fn autostart_one(&mut self, gi: usize, pi: usize, now: Instant) {
        if self.deps.active && self.state == crate::process::SupervisorState::Running {
            let p = &self.groups[gi].slots[pi].process;
            let would_start = p.state == ProcessState::Stopped
                && p.laststart.is_none()
                && p.config.autostart
                && !p.holding
                && !p.config.extensions.depends_on.is_empty();
            if would_start {
                let (graph, index) = self.dep_graph();
                if let Some(node) = Self::node_of(&index, gi, pi)
                    && graph.verdict(node, &self.dep_statuses()) != Verdict::Ready
                {
                    let (g, n) = self.names(gi, pi);
                    self.deps.hold(&g, &n, Input::AutoStart);
                    return;
                }
            }
        }
        self.feed(gi, pi, Input::AutoStart, now);
    }

    /// `start x` with dependencies: whatever x needs is started first (or held in turn), and
    /// x is held until they hold. Returns false when nothing is awaited (start x as usual).
    pub(super) fn start_with_dependencies(&mut self, gi: usize, pi: usize, now: Instant) -> bool {
        if !self.deps.active {
            return false;
        }
        let (graph, index) = self.dep_graph();
        let Some(node) = Self::node_of(&index, gi, pi) else {
            return false;
        };
        let statuses = self.dep_statuses();
        if graph.verdict(node, &statuses) == Verdict::Ready {
            return false;
        }
        for t in graph.start_first(node, &statuses) {
            let (tgi, tpi) = index[t];
            let statuses = self.dep_statuses();
            let state = self.groups[tgi].slots[tpi].process.state;
            if state.is_running() || state == ProcessState::Unknown {
                continue;
            }
            if graph.verdict(t, &statuses) == Verdict::Ready {
                self.feed(tgi, tpi, Input::Start, now);
            } else {
                let (g, n) = self.names(tgi, tpi);
                self.deps.hold(&g, &n, Input::Start);
            }
        }
        let (g, n) = self.names(gi, pi);
        self.deps.hold(&g, &n, Input::Start);
        self.settle_dependencies(now);
        true
    }

    /// `stop x` of a held process cancels the hold; true when it was held.
    pub(super) fn cancel_hold(&mut self, gi: usize, pi: usize) -> bool {
        if !self.deps.active {
            return false;
        }
        let (g, n) = self.names(gi, pi);
        self.deps.release(&g, &n)
    }

    /// `stop all` / a group stop: drops a held start (not a held stop: that stop is wanted).
    pub(super) fn cancel_held_start(&mut self, gi: usize, pi: usize) {
        if self.deps.waiting.is_empty() {
            return;
        }
        let (g, n) = self.names(gi, pi);
        self.deps
            .waiting
            .retain(|(wg, wn, _)| !(*wg == g && *wn == n));
    }

    /// `stop all`: a dependency whose dependents are on their way down stops after them.
    /// Returns true when the stop was held.
    pub(super) fn hold_stop_for_dependents(&mut self, gi: usize, pi: usize) -> bool {
        if !self.deps.active {
            return false;
        }
        let (graph, index) = self.dep_graph();
        let Some(node) = Self::node_of(&index, gi, pi) else {
            return false;
        };
        if !self.dependents_going_down(&graph, &index, node) {
            return false;
        }
        let (g, n) = self.names(gi, pi);
        if !self.deps.pending_stops.contains(&(g.clone(), n.clone())) {
            self.deps.pending_stops.push((g, n));
        }
        true
    }

    fn dependents_going_down(&self, graph: &Graph, index: &[(usize, usize)], node: usize) -> bool {
        let dependents = graph.dependents();
        dependents.get(node).into_iter().flatten().any(|&d| {
            let (dgi, dpi) = index[d];
            let p = &self.groups[dgi].slots[dpi].process;
            let (g, n) = (&self.groups[dgi].config.name, p.name());
            p.state == ProcessState::Stopping
                || self
                    .deps
                    .pending_stops
                    .iter()
                    .any(|(pg, pn)| pg == g && pn == n)
        })
    }

    /// Feeds every held start whose dependencies now hold and every held stop whose dependents
    /// are down; runs each loop pass (nothing to do, and no cost, without holds).
    pub fn settle_dependencies(&mut self, now: Instant) {
        if self.deps.waiting.is_empty() && self.deps.pending_stops.is_empty() {
            return;
        }
        if self.state != crate::process::SupervisorState::Running {
            self.deps.waiting.clear();
            return;
        }
        loop {
            let (graph, index) = self.dep_graph();
            let mut progressed = false;
            for (g, n, input) in self.deps.waiting.clone() {
                let Some((gi, pi)) = self.find(&g, &n) else {
                    self.deps.release(&g, &n);
                    continue;
                };
                let state = self.groups[gi].slots[pi].process.state;
                if state.is_running() || state == ProcessState::Unknown {
                    // Started some other way meanwhile.
                    self.deps.release(&g, &n);
                    continue;
                }
                let Some(node) = Self::node_of(&index, gi, pi) else {
                    continue;
                };
                if graph.verdict(node, &self.dep_statuses()) == Verdict::Ready {
                    self.deps.release(&g, &n);
                    self.feed(gi, pi, input, now);
                    progressed = true;
                }
            }
            for (g, n) in self.deps.pending_stops.clone() {
                let Some((gi, pi)) = self.find(&g, &n) else {
                    self.deps.release(&g, &n);
                    continue;
                };
                if !self.groups[gi].slots[pi].process.state.is_running() {
                    self.deps.release(&g, &n);
                    continue;
                }
                let Some(node) = Self::node_of(&index, gi, pi) else {
                    continue;
                };
                self.deps
                    .pending_stops
                    .retain(|x| *x != (g.clone(), n.clone()));
                if self.dependents_going_down(&graph, &index, node) {
                    self.deps.pending_stops.push((g, n));
                } else {
                    self.feed(gi, pi, Input::Stop, now);
                    progressed = true;
                }
            }
            if !progressed {
                return;
            }
        }
    }

    /// Descriptions of held processes, by (group, process) name.
    pub fn held_processes(&self) -> HashMap<(String, String), Held> {
        let mut out = HashMap::new();
        if self.deps.waiting.is_empty() {
            return out;
        }
        let (graph, index) = self.dep_graph();
        let statuses = self.dep_statuses();
        for (g, n, _) in &self.deps.waiting {
            let Some((gi, pi)) = self.find(g, n) else {
                continue;
            };
            let Some(node) = Self::node_of(&index, gi, pi) else {
                continue;
            };
            let held = match graph.verdict(node, &statuses) {
                Verdict::Ready => continue,
                Verdict::Waiting(text) => Held::Waiting(text),
                Verdict::Blocked(text) => Held::Blocked(text),
            };
            out.insert((g.clone(), n.clone()), held);
        }
        out
    }

    /// Shutdown: (a, b) pairs of `remaining` indices, group a depends on group b.
    pub(super) fn group_stop_edges(&self, remaining: &[String]) -> Vec<(usize, usize)> {
        if !self.deps.active {
            return Vec::new();
        }
        let (graph, index) = self.dep_graph();
        let pos = |gi: usize| {
            let name = &self.groups[gi].config.name;
            remaining.iter().position(|r| r == name)
        };
        let mut out = Vec::new();
        for (from, edges) in graph.edges.iter().enumerate() {
            for &t in edges.iter().flat_map(|e| &e.targets) {
                let (Some(a), Some(b)) = (pos(index[from].0), pos(index[t].0)) else {
                    continue;
                };
                if a != b && !out.contains(&(a, b)) {
                    out.push((a, b));
                }
            }
        }
        out
    }

    /// Shutdown: whether a process of the batch still has a dependent in the batch's groups
    /// that has not stopped.
    pub(super) fn has_unstopped_dependents(&self, gi: usize, pi: usize, batch: &[usize]) -> bool {
        if !self.deps.active {
            return false;
        }
        let (graph, index) = self.dep_graph();
        let Some(node) = Self::node_of(&index, gi, pi) else {
            return false;
        };
        graph.dependents()[node].iter().any(|&d| {
            let (dgi, dpi) = index[d];
            batch.contains(&dgi) && !self.groups[dgi].slots[dpi].process.state.is_stopped()
        })
    }

    /// Ids of `ids` in an order that stops dependents before their dependencies.
    pub fn dependency_stop_order(&self, ids: Vec<(String, String)>) -> Vec<(String, String)> {
        if !self.deps.active {
            return ids;
        }
        let (graph, index) = self.dep_graph();
        let nodes: Vec<usize> = ids
            .iter()
            .filter_map(|(g, n)| {
                let (gi, pi) = self.find(g, n)?;
                Self::node_of(&index, gi, pi)
            })
            .collect();
        if nodes.len() != ids.len() {
            return ids;
        }
        graph
            .stop_order(&nodes)
            .into_iter()
            .map(|node| {
                let (gi, pi) = index[node];
                self.names(gi, pi)
            })
            .collect()
    }

    /// Whether a start of the process is held until its dependencies hold (`exit_when_idle`
    /// counts it as work still to come unless it is blocked).
    pub(super) fn is_held(&self, gi: usize, pi: usize) -> bool {
        if self.deps.waiting.is_empty() {
            return false;
        }
        let (g, n) = self.names(gi, pi);
        self.deps
            .waiting
            .iter()
            .any(|(wg, wn, _)| *wg == g && *wn == n)
    }

    /// Whether a process can never start because a dependency cannot come up by itself.
    pub fn blocked_by_dependency(&self, gi: usize, pi: usize) -> bool {
        if self.deps.waiting.is_empty() {
            return false;
        }
        let (g, n) = self.names(gi, pi);
        matches!(self.held_processes().get(&(g, n)), Some(Held::Blocked(_)))
    }
}
