//! Tab completion for the interactive shell, a pure function of the line, the cursor and the
//! names known from the daemon. Follows the reference's `Controller.complete`: command names for
//! the first word (and after `help`), group names after add/remove/update, process specs
//! (`name`, `group:name`, `group:*`) after the process commands; ours adds `tail`'s
//! stdout/stderr and `signal`'s signal names. Candidates end with a space, as there.

/// The commands offered for the first word (the reference's `vocab`).
pub const COMMANDS: &[&str] = &[
    "add", "avail", "clear", "exit", "fg", "help", "maintail", "open", "pid", "quit", "reload",
    "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
    "update", "version",
];

const SIGNALS: &[&str] = &[
    "HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "STOP", "CONT", "ALRM", "WINCH",
];

/// One process as getAllProcessInfo names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub group: String,
    pub name: String,
}

/// Where the word under the cursor starts and its candidates.
pub fn complete(line: &str, pos: usize, known: &[Known]) -> (usize, Vec<String>) {
    let before = line.get(..pos).unwrap_or(line);
    let start = before.rfind([' ', '\t']).map_or(0, |i| i + 1);
    let text = &before[start..];
    let words: Vec<&str> = before[..start].split_whitespace().collect();
    let candidates: Vec<String> = match words.as_slice() {
        [] | ["help"] => COMMANDS.iter().map(|c| c.to_string()).collect(),
        ["add" | "remove" | "update", ..] => groups(known),
        ["signal"] => SIGNALS.iter().map(|s| s.to_string()).collect(),
        ["tail", rest @ ..] if rest.iter().any(|w| !w.starts_with('-')) => {
            vec!["stdout".into(), "stderr".into()]
        }
        [
            "clear" | "fg" | "pid" | "restart" | "signal" | "start" | "status" | "stop" | "tail",
            ..,
        ] => processes(text, known),
        _ => Vec::new(),
    };
    let matches = candidates
        .into_iter()
        .filter(|c| c.starts_with(text))
        .map(|c| c + " ")
        .collect();
    (start, matches)
}

fn groups(known: &[Known]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in known {
        if !out.contains(&k.group) {
            out.push(k.group.clone());
        }
    }
    out
}

/// The reference's `_complete_processes`: a process alone in its homonymous group is offered
/// by name, others as `group:name` plus `group:*` (all as specs once the text has a colon).
fn processes(text: &str, known: &[Known]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in known {
        if text.contains(':') || k.name != k.group {
            out.push(format!("{}:{}", k.group, k.name));
            let all = format!("{}:*", k.group);
            if !out.contains(&all) {
                out.push(all);
            }
        } else {
            out.push(k.name.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<Known> {
        [
            ("web", "web"),
            ("worker", "worker_0"),
            ("worker", "worker_1"),
        ]
        .iter()
        .map(|(g, n)| Known {
            group: g.to_string(),
            name: n.to_string(),
        })
        .collect()
    }

    #[test]
    fn command_names() {
        assert_eq!(
            complete("sta", 3, &[]),
            (0, vec!["start ".to_string(), "status ".to_string()])
        );
        assert_eq!(complete("", 0, &[]).1.len(), COMMANDS.len());
        assert_eq!(complete("help re", 7, &[]).1.len(), 4);
        assert_eq!(complete("bogus x", 7, &known()).1, Vec::<String>::new());
    }

    #[test]
    fn process_specs() {
        let (start, c) = complete("start w", 7, &known());
        assert_eq!(start, 6);
        assert_eq!(
            c,
            ["web ", "worker:worker_0 ", "worker:* ", "worker:worker_1 "]
        );
        assert_eq!(
            complete("stop worker:", 12, &known()).1,
            ["worker:worker_0 ", "worker:* ", "worker:worker_1 "]
        );
        assert_eq!(complete("stop web:", 9, &known()).1, ["web:web ", "web:* "]);
        // The cursor decides the word, not the line's end.
        assert_eq!(
            complete("stop we xyz", 7, &known()),
            (5, vec!["web ".into()])
        );
    }

    #[test]
    fn groups_tail_and_signal_arguments() {
        assert_eq!(complete("update w", 8, &known()).1, ["web ", "worker "]);
        assert_eq!(
            complete("tail web std", 12, &known()).1,
            ["stdout ", "stderr "]
        );
        assert_eq!(complete("tail -f w", 9, &known()).1[0], "web ");
        assert_eq!(complete("signal US", 9, &known()).1, ["USR1 ", "USR2 "]);
        assert_eq!(complete("signal HUP we", 13, &known()).1, ["web "]);
    }
}
