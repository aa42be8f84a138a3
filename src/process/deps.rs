//! The dependency resolver (`depends_on=`), purely: the graph over the process list, whether a
//! waiting process may start given everyone's state, what `start x` must start first, and the
//! stop order (dependents before their dependencies). The daemon carries out the answers.

use crate::config::dependencies::{Node, targets};
use crate::config::model::{DepCondition, ProcessConfig};
use crate::wire::ProcessState;

/// One `depends_on` entry resolved to the processes it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The NAME as written.
    pub label: String,
    pub condition: DepCondition,
    pub targets: Vec<usize>,
}

/// Dependencies of every process (node numbering: the process list the graph was built from).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    pub edges: Vec<Vec<Edge>>,
}

/// What the resolver needs to know of a process right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub state: ProcessState,
    /// The last exit had an expected exit code.
    pub exited_ok: bool,
    /// Its health check passes (None: no health information; `healthy` then means RUNNING).
    pub healthy: Option<bool>,
    /// An automatic restart is pending (EXITED/BACKOFF will become STARTING by itself).
    pub restarting: bool,
}

impl Status {
    pub fn of(state: ProcessState) -> Status {
        Status {
            state,
            exited_ok: false,
            healthy: None,
            restarting: false,
        }
    }
}

/// May a process start now?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ready,
    /// `waiting for db (healthy), migrate (exited)`: the entries that do not hold yet.
    Waiting(String),
    /// A dependency can no longer come up by itself (FATAL, or a one-shot that failed).
    Blocked(String),
}

impl Graph {
    /// Resolves every process's `depends_on` against `nodes` (unknown names resolve to nothing:
    /// the config check reports them).
    pub fn build(nodes: &[Node], configs: &[&ProcessConfig]) -> Graph {
        let edges = configs
            .iter()
            .map(|c| {
                c.extensions
                    .depends_on
                    .iter()
                    .map(|d| Edge {
                        label: d.label.clone(),
                        condition: d.condition,
                        targets: targets(nodes, &d.target),
                    })
                    .collect()
            })
            .collect();
        Graph { edges }
    }

    pub fn is_empty(&self) -> bool {
        self.edges.iter().all(Vec::is_empty)
    }

    /// Whether `node` may start given `status` of every node.
    pub fn verdict(&self, node: usize, status: &[Status]) -> Verdict {
        let Some(edges) = self.edges.get(node) else {
            return Verdict::Ready;
        };
        let mut waiting = Vec::new();
        for edge in edges {
            let unmet: Vec<usize> = edge
                .targets
                .iter()
                .copied()
                .filter(|&t| !status.get(t).is_some_and(|s| holds(edge.condition, s)))
                .collect();
            if unmet.is_empty() {
                continue;
            }
            if let Some(why) = unmet
                .iter()
                .find_map(|&t| status.get(t).and_then(|s| hopeless(edge.condition, s)))
            {
                return Verdict::Blocked(format!(
                    "blocked: {} ({}) {why}",
                    edge.label,
                    edge.condition.name()
                ));
            }
            waiting.push(format!("{} ({})", edge.label, edge.condition.name()));
        }
        if waiting.is_empty() {
            Verdict::Ready
        } else {
            Verdict::Waiting(format!("waiting for {}", waiting.join(", ")))
        }
    }

    /// `start x`: the dependencies (transitively) that do not hold and are not on their way,
    /// dependencies before dependents, each once; `node` itself is not included.
    pub fn start_first(&self, node: usize, status: &[Status]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.edges.len()];
        self.visit(node, status, &mut seen, &mut out);
        out.retain(|&n| n != node);
        out
    }

    fn visit(&self, node: usize, status: &[Status], seen: &mut [bool], out: &mut Vec<usize>) {
        if seen.get(node).copied().unwrap_or(true) {
            return;
        }
        seen[node] = true;
        for edge in self.edges.get(node).into_iter().flatten() {
            for &t in &edge.targets {
                let Some(s) = status.get(t) else { continue };
                if holds(edge.condition, s) || on_its_way(s) {
                    continue;
                }
                self.visit(t, status, seen, out);
            }
        }
        out.push(node);
    }

    /// For each node, the nodes that depend on it.
    pub fn dependents(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.edges.len()];
        for (from, edges) in self.edges.iter().enumerate() {
            for &t in edges.iter().flat_map(|e| &e.targets) {
                if let Some(list) = out.get_mut(t)
                    && !list.contains(&from)
                {
                    list.push(from);
                }
            }
        }
        out
    }

    /// `nodes` reordered so that dependents come before their dependencies; otherwise the given
    /// order is kept (stable). A cycle (refused by the config check) keeps its given order.
    pub fn stop_order(&self, nodes: &[usize]) -> Vec<usize> {
        let dependents = self.dependents();
        let mut placed = vec![false; self.edges.len()];
        let mut out = Vec::with_capacity(nodes.len());
        let mut rest: Vec<usize> = nodes.to_vec();
        while !rest.is_empty() {
            // The first node none of whose (listed, unplaced) dependents is still waiting.
            let ready = rest.iter().position(|&n| {
                dependents.get(n).into_iter().flatten().all(|d| {
                    placed.get(*d).copied().unwrap_or(true) || !rest.contains(d) || *d == n
                })
            });
            let i = ready.unwrap_or(0);
            let n = rest.remove(i);
            if let Some(p) = placed.get_mut(n) {
                *p = true;
            }
            out.push(n);
        }
        out
    }
}

/// Whether a condition holds for a target in `s`.
pub fn holds(condition: DepCondition, s: &Status) -> bool {
    match condition {
        DepCondition::Started => matches!(
            s.state,
            ProcessState::Starting | ProcessState::Running | ProcessState::Exited
        ),
        DepCondition::Running => s.state == ProcessState::Running,
        DepCondition::Healthy => s.state == ProcessState::Running && s.healthy != Some(false),
        DepCondition::Exited => s.state == ProcessState::Exited && s.exited_ok,
    }
}

/// Why a target cannot come to satisfy `condition` by itself, if it cannot.
fn hopeless(condition: DepCondition, s: &Status) -> Option<&'static str> {
    match s.state {
        ProcessState::Fatal => Some("is FATAL"),
        ProcessState::Exited
            if condition == DepCondition::Exited && !s.exited_ok && !s.restarting =>
        {
            Some("exited unexpectedly")
        }
        _ => None,
    }
}

/// Starting (or about to restart by itself): `start x` need not start it again.
fn on_its_way(s: &Status) -> bool {
    matches!(s.state, ProcessState::Starting | ProcessState::Running) || s.restarting
}

#[cfg(test)]
mod tests {
    use super::*;
    use DepCondition as C;
    use ProcessState::*;

    fn edge(label: &str, condition: DepCondition, targets: &[usize]) -> Edge {
        Edge {
            label: label.into(),
            condition,
            targets: targets.to_vec(),
        }
    }

    /// 0 db, 1 migrate, 2 web (db:healthy, migrate:exited), 3 worker (web)
    fn web_graph() -> Graph {
        Graph {
            edges: vec![
                vec![],
                vec![edge("db", C::Running, &[0])],
                vec![
                    edge("db", C::Healthy, &[0]),
                    edge("migrate", C::Exited, &[1]),
                ],
                vec![edge("web", C::Running, &[2])],
            ],
        }
    }

    fn st(state: ProcessState) -> Status {
        Status::of(state)
    }

    #[test]
    fn conditions() {
        let exited_ok = Status {
            exited_ok: true,
            ..st(Exited)
        };
        let unhealthy = Status {
            healthy: Some(false),
            ..st(Running)
        };
        let healthy = Status {
            healthy: Some(true),
            ..st(Running)
        };
        let table = [
            (C::Started, st(Stopped), false),
            (C::Started, st(Starting), true),
            (C::Started, st(Running), true),
            (C::Started, exited_ok, true),
            (C::Started, st(Backoff), false),
            (C::Running, st(Starting), false),
            (C::Running, st(Running), true),
            (C::Running, st(Stopping), false),
            (C::Healthy, st(Running), true),
            (C::Healthy, healthy, true),
            (C::Healthy, unhealthy, false),
            (C::Healthy, st(Starting), false),
            (C::Exited, st(Running), false),
            (C::Exited, st(Exited), false),
            (C::Exited, exited_ok, true),
        ];
        for (c, s, want) in table {
            assert_eq!(holds(c, &s), want, "{c:?} {s:?}");
        }
    }

    #[test]
    fn waiting_descriptions_name_what_does_not_hold() {
        let g = web_graph();
        let mut s = vec![st(Stopped); 4];
        assert_eq!(g.verdict(0, &s), Verdict::Ready);
        assert_eq!(
            g.verdict(2, &s),
            Verdict::Waiting("waiting for db (healthy), migrate (exited)".into())
        );
        s[0] = Status {
            healthy: Some(true),
            ..st(Running)
        };
        assert_eq!(
            g.verdict(2, &s),
            Verdict::Waiting("waiting for migrate (exited)".into())
        );
        assert_eq!(g.verdict(1, &s), Verdict::Ready);
        s[1] = Status {
            exited_ok: true,
            ..st(Exited)
        };
        assert_eq!(g.verdict(2, &s), Verdict::Ready);
        // Still waiting when the dependency is only starting.
        assert_eq!(
            g.verdict(3, &s),
            Verdict::Waiting("waiting for web (running)".into())
        );
    }

    #[test]
    fn a_fatal_or_failed_dependency_blocks() {
        let g = web_graph();
        let mut s = vec![st(Stopped); 4];
        s[0] = st(Fatal);
        assert_eq!(
            g.verdict(2, &s),
            Verdict::Blocked("blocked: db (healthy) is FATAL".into())
        );
        s[0] = st(Running);
        s[1] = st(Exited);
        assert_eq!(
            g.verdict(2, &s),
            Verdict::Blocked("blocked: migrate (exited) exited unexpectedly".into())
        );
        // ... unless it restarts by itself.
        s[1].restarting = true;
        assert_eq!(
            g.verdict(2, &s),
            Verdict::Waiting("waiting for migrate (exited)".into())
        );
    }

    #[test]
    fn group_targets_need_every_member() {
        let g = Graph {
            edges: vec![vec![], vec![], vec![edge("workers:*", C::Running, &[0, 1])]],
        };
        let s = [st(Running), st(Starting), st(Stopped)];
        assert_eq!(
            g.verdict(2, &s),
            Verdict::Waiting("waiting for workers:* (running)".into())
        );
        let s = [st(Running), st(Running), st(Stopped)];
        assert_eq!(g.verdict(2, &s), Verdict::Ready);
    }

    #[test]
    fn start_x_starts_its_dependencies_first() {
        let g = web_graph();
        let s = vec![st(Stopped); 4];
        assert_eq!(g.start_first(3, &s), vec![0, 1, 2]);
        assert_eq!(g.start_first(0, &s), Vec::<usize>::new());
        // Dependencies that hold or are coming up are left alone.
        let mut s = vec![st(Running), st(Starting), st(Stopped), st(Stopped)];
        assert_eq!(g.start_first(2, &s), Vec::<usize>::new());
        s[1] = Status {
            exited_ok: true,
            ..st(Exited)
        };
        assert_eq!(g.start_first(3, &s), vec![2]);
    }

    #[test]
    fn stop_order_puts_dependents_first_and_keeps_the_rest() {
        let g = web_graph();
        // Given in start order (priority): dependents move ahead of what they depend on.
        assert_eq!(g.stop_order(&[0, 1, 2, 3]), vec![3, 2, 1, 0]);
        // Already in a good order: unchanged.
        assert_eq!(g.stop_order(&[3, 2, 1, 0]), vec![3, 2, 1, 0]);
        // Unrelated nodes keep their relative order.
        let g = Graph {
            edges: vec![vec![], vec![], vec![edge("a", C::Running, &[0])], vec![]],
        };
        assert_eq!(g.stop_order(&[0, 1, 2, 3]), vec![1, 2, 0, 3]);
        // A subset only orders what it lists.
        assert_eq!(g.stop_order(&[0, 1]), vec![0, 1]);
    }
}
