//! Our `depends_on=` and restart-policy keys of `[program:x]`: value parsers, and the checks
//! that need every group (unknown names, self-references, cycles, `:healthy` on a program
//! without a health check). The graph helpers here are pure and shared with the daemon's
//! resolver (`process::deps`).

use std::time::Duration;

use super::expand::Expansions;
use super::loader::Loader;
use super::model::{DepCondition, DepTarget, Dependency, GroupConfig, RestartPolicy};

/// Longest duration a restart key accepts (a day: anything longer is a typo).
const MAX_SECONDS: f64 = 86_400.0;

/// `depends_on = NAME[:CONDITION], ...`: NAME is a program, `group:*` or `group:process`;
/// CONDITION is started, running (default), healthy or exited. A trailing `:WORD` is a
/// condition only when WORD is one of those four.
pub fn parse_depends_on(value: &str) -> Result<Vec<Dependency>, String> {
    let mut out: Vec<Dependency> = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        if item.is_empty() {
            if value.trim().is_empty() {
                return Ok(out);
            }
            return Err("empty entry in depends_on".into());
        }
        if item.contains(char::is_whitespace) {
            return Err(format!(
                "entry {item:?} contains white space (separate entries with commas)"
            ));
        }
        let (name, condition) = match item.rsplit_once(':') {
            Some((name, word)) => match condition(word) {
                Some(c) => (name, c),
                None => (item, DepCondition::Running),
            },
            None => (item, DepCondition::Running),
        };
        let target = match name.split_once(':') {
            None if !name.is_empty() => DepTarget::Program(name.to_string()),
            Some((g, "*")) if !g.is_empty() => DepTarget::Group(g.to_string()),
            Some((g, p)) if !g.is_empty() && !p.is_empty() && !p.contains(':') => {
                DepTarget::Process {
                    group: g.to_string(),
                    process: p.to_string(),
                }
            }
            _ => {
                return Err(format!(
                    "bad entry {item:?}: expected NAME, group:*, or group:process, then \
                     optionally :started, :running, :healthy or :exited"
                ));
            }
        };
        let dep = Dependency {
            label: name.to_string(),
            target,
            condition,
        };
        if out.iter().any(|d| d.target == dep.target) {
            return Err(format!("{name} is named twice"));
        }
        out.push(dep);
    }
    Ok(out)
}

fn condition(word: &str) -> Option<DepCondition> {
    match word {
        "started" => Some(DepCondition::Started),
        "running" => Some(DepCondition::Running),
        "healthy" => Some(DepCondition::Healthy),
        "exited" => Some(DepCondition::Exited),
        _ => None,
    }
}

/// Seconds, fractions allowed (`0.5`), from 0 to a day.
pub fn seconds(value: &str) -> Result<Duration, String> {
    let v = value.trim();
    let n: f64 = v
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && !v.contains(['e', 'E', 'x', 'X', 'n', 'N', 'i', 'I']))
        .ok_or_else(|| format!("not a number of seconds: {v:?}"))?;
    if !(0.0..=MAX_SECONDS).contains(&n) {
        return Err(format!("must be between 0 and {MAX_SECONDS} seconds"));
    }
    Ok(Duration::from_secs_f64(n))
}

/// A fraction from 0 to 1, in millionths.
pub fn fraction(value: &str) -> Result<u32, String> {
    let v = value.trim();
    let n: f64 = v
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && !v.contains(['e', 'E', 'n', 'N', 'i', 'I']))
        .ok_or_else(|| format!("not a number: {v:?}"))?;
    if !(0.0..=1.0).contains(&n) {
        return Err("must be between 0 and 1".into());
    }
    Ok((n * 1_000_000.0).round() as u32)
}

/// The restart keys of one program section (invalid values are recorded, defaults kept).
pub(super) fn read_restart(l: &mut Loader, section: &str, exps: &Expansions) -> RestartPolicy {
    let restart_delay = l.typed(section, "restart_delay", exps, Duration::ZERO, seconds);
    let restart_delay_max = l.typed(section, "restart_delay_max", exps, Duration::ZERO, seconds);
    let restart_jitter_ppm = l.typed(section, "restart_jitter", exps, 0, fraction);
    let backoff_max = l.typed_opt(section, "backoff_max", exps, |v| {
        let d = seconds(v)?;
        if d < Duration::from_secs(1) {
            return Err("must be at least 1 second (the first backoff is 1 s)".into());
        }
        Ok(d)
    });
    RestartPolicy {
        restart_delay,
        restart_delay_max,
        restart_jitter_ppm,
        backoff_max,
    }
}

/// `depends_on=` of one program section (an invalid value is recorded; empty then).
pub(super) fn read_depends_on(l: &mut Loader, section: &str, exps: &Expansions) -> Vec<Dependency> {
    l.typed(section, "depends_on", exps, Vec::new(), parse_depends_on)
}

/// A process of the flattened process list: (group, process name, program name).
pub struct Node<'a> {
    pub group: &'a str,
    pub name: &'a str,
    pub program: &'a str,
}

/// Every process of `groups`, in order (the graph's node numbering).
pub fn nodes<'a>(groups: impl IntoIterator<Item = &'a GroupConfig>) -> Vec<Node<'a>> {
    groups
        .into_iter()
        .flat_map(|g| {
            g.processes.iter().map(move |p| Node {
                group: &g.name,
                name: &p.name,
                program: &p.program_name,
            })
        })
        .collect()
}

/// The nodes a target names (empty: unknown).
pub fn targets(nodes: &[Node], target: &DepTarget) -> Vec<usize> {
    let hit = |n: &Node| match target {
        DepTarget::Program(p) => n.program == p,
        DepTarget::Group(g) => n.group == g,
        DepTarget::Process { group, process } => n.group == group && n.name == process,
    };
    (0..nodes.len()).filter(|&i| hit(&nodes[i])).collect()
}

/// A cycle of `edges` (node -> the nodes it depends on), as the node path `a, b, .., a`;
/// None when the graph is acyclic. Iterative depth-first search (no recursion on config size).
pub fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; edges.len()];
    for root in 0..edges.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // (node, index of the next edge to follow)
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(&to) = edges[node].get(*next) else {
                mark[node] = Mark::Done;
                stack.pop();
                continue;
            };
            *next += 1;
            match mark.get(to).copied() {
                Some(Mark::New) => {
                    mark[to] = Mark::Open;
                    stack.push((to, 0));
                }
                Some(Mark::Open) => {
                    let start = stack.iter().position(|&(n, _)| n == to).unwrap_or(0);
                    let mut path: Vec<usize> = stack[start..].iter().map(|&(n, _)| n).collect();
                    path.push(to);
                    return Some(path);
                }
                _ => {}
            }
        }
    }
    None
}

/// Cross-section checks of `depends_on=` once every group is known.
pub(super) fn validate(l: &mut Loader, groups: &[GroupConfig]) {
    let nodes = nodes(groups);
    let processes: Vec<_> = groups.iter().flat_map(|g| g.processes.iter()).collect();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, p) in processes.iter().enumerate() {
        for dep in &p.extensions.depends_on {
            let found = targets(&nodes, &dep.target);
            let option = Some("depends_on");
            if found.is_empty() {
                // A program whose own section failed has no processes: its errors say enough.
                if let DepTarget::Program(n) = &dep.target
                    && l.doc.has_section(&format!("program:{n}"))
                {
                    continue;
                }
                let what = match &dep.target {
                    DepTarget::Program(n) => format!("unknown program {n}"),
                    DepTarget::Group(g) => format!("unknown group {g}"),
                    DepTarget::Process { group, process } => {
                        format!("unknown process {process} in group {group}")
                    }
                };
                l.error(
                    &p.section,
                    option,
                    format!("names {what}"),
                    Some(&dep.label),
                );
                continue;
            }
            if found.iter().any(|&t| processes[t].section == p.section) {
                l.error(
                    &p.section,
                    option,
                    "a program cannot depend on itself".into(),
                    Some(&dep.label),
                );
                continue;
            }
            if dep.condition == DepCondition::Healthy {
                let no_check = found
                    .iter()
                    .map(|&t| processes[t].section.clone())
                    .find(|s| l.entry(s, "healthcheck").is_none());
                if let Some(target_section) = no_check {
                    l.error(
                        &p.section,
                        option,
                        format!(
                            "{} (healthy): [{target_section}] has no healthcheck",
                            dep.label
                        ),
                        Some(&dep.label),
                    );
                    continue;
                }
            }
            edges[i].extend(found);
        }
    }
    if let Some(cycle) = find_cycle(&edges) {
        let names: Vec<String> = cycle
            .iter()
            .map(|&n| match nodes[n].group == nodes[n].name {
                true => nodes[n].name.to_string(),
                false => format!("{}:{}", nodes[n].group, nodes[n].name),
            })
            .collect();
        let section = cycle
            .first()
            .map(|&n| processes[n].section.clone())
            .unwrap_or_default();
        l.error(
            &section,
            Some("depends_on"),
            format!("dependency cycle: {}", names.join(" -> ")),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(label: &str, target: DepTarget, condition: DepCondition) -> Dependency {
        Dependency {
            label: label.into(),
            target,
            condition,
        }
    }

    #[test]
    fn depends_on_values() {
        use DepCondition::*;
        let prog = |n: &str| DepTarget::Program(n.into());
        assert_eq!(
            parse_depends_on("db:healthy, migrate:exited"),
            Ok(vec![
                dep("db", prog("db"), Healthy),
                dep("migrate", prog("migrate"), Exited)
            ])
        );
        assert_eq!(
            parse_depends_on("cache,workers:*:started,g:p"),
            Ok(vec![
                dep("cache", prog("cache"), Running),
                dep("workers:*", DepTarget::Group("workers".into()), Started),
                dep(
                    "g:p",
                    DepTarget::Process {
                        group: "g".into(),
                        process: "p".into()
                    },
                    Running
                ),
            ])
        );
        assert_eq!(parse_depends_on(""), Ok(vec![]));
        for bad in [
            "db,,web",
            "db web",
            ":running",
            "a:b:c",
            "g:",
            "db,db:exited",
            "db,",
        ] {
            assert!(parse_depends_on(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_and_fractions() {
        assert_eq!(seconds("0.2"), Ok(Duration::from_millis(200)));
        assert_eq!(seconds("8"), Ok(Duration::from_secs(8)));
        for bad in ["-1", "x", "nan", "inf", "1e3", "90000", ""] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        assert_eq!(fraction("0.25"), Ok(250_000));
        assert_eq!(fraction("1"), Ok(1_000_000));
        for bad in ["1.5", "-0.1", "half"] {
            assert!(fraction(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cycles() {
        assert_eq!(find_cycle(&[vec![1], vec![2], vec![]]), None);
        assert_eq!(
            find_cycle(&[vec![1], vec![2], vec![0]]),
            Some(vec![0, 1, 2, 0])
        );
        assert_eq!(find_cycle(&[vec![], vec![1]]), Some(vec![1, 1]));
        // Diamond: shared dependencies are not cycles.
        assert_eq!(find_cycle(&[vec![1, 2], vec![3], vec![3], vec![]]), None);
        assert_eq!(
            find_cycle(&[vec![], vec![2], vec![3], vec![1]]),
            Some(vec![1, 2, 3, 1])
        );
    }
}
