//! `help` and the per-command usage texts. The usage column (before the first tab) follows the
//! reference exactly; the descriptions are our own wording.

use super::controller::{CmdResult, Controller};

/// Commands listed by `help`, in the reference's (sorted) order.
const TOPICS: &[&str] = &[
    "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload", "remove",
    "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail", "update",
    "version",
];

/// The help text of one command, None when there is none.
fn text(topic: &str) -> Option<&'static str> {
    Some(match topic {
        "help" => "help\t\tList the available actions\nhelp <action>\tShow help for <action>",
        "add" => "add <name> [...]\tActivate process groups that are in the config but not running",
        "avail" => "avail\t\t\tList every process the config defines",
        "clear" => {
            "clear <name>\t\tEmpty one process's log files.\n\
             clear <name> <name>\tEmpty the log files of several processes\n\
             clear all\t\tEmpty the log files of every process"
        }
        "exit" => "exit\tLeave the supervisor shell.",
        "quit" => "quit\tLeave the supervisor shell.",
        "fg" => "fg <process>\tAttach to a process (its output and input)\n\t\tCtrl-C to exit",
        "maintail" => {
            "maintail -f \tFollow the supervisord main log (Ctrl-C to exit)\n\
             maintail -100\tShow the last 100 bytes of the supervisord main log\n\
             maintail\tShow the last 1600 bytes of the supervisord main log\n"
        }
        "open" => {
            "open <url>\tSwitch to another supervisord.\n\t\t(a UNIX domain socket is written unix:///socket/path)"
        }
        "pid" => {
            "pid\t\t\tShow the PID of supervisord.\n\
             pid <name>\t\tShow the PID of one child process.\n\
             pid all\t\t\tShow the PID of every child process, one per line."
        }
        "reload" => "reload \t\tMake the remote supervisord restart itself.",
        "remove" => "remove <name> [...]\tDeactivate process groups (they must be stopped)",
        "reread" => "reread \t\t\tRe-read the config files; report changes without applying them",
        "restart" => {
            "restart <name>\t\tStop then start one process\n\
             restart <gname>:*\tStop then start every process in a group\n\
             restart <name> <name>\tStop then start several processes or groups\n\
             restart all\t\tStop then start every process\n\
             Note: restart keeps the loaded config; reread and update apply config file changes."
        }
        "shutdown" => "shutdown \tStop the remote supervisord.",
        "signal" => {
            "signal <signal name> <name>\t\tSend a signal to one process\n\
             signal <signal name> <gname>:*\t\tSend a signal to every process in a group\n\
             signal <signal name> <name> <name>\tSend a signal to several processes or groups\n\
             signal <signal name> all\t\tSend a signal to every process"
        }
        "start" => {
            "start <name>\t\tStart one process\n\
             start <gname>:*\t\tStart every process in a group\n\
             start <name> <name>\tStart several processes or groups\n\
             start all\t\tStart every process"
        }
        "status" => {
            "status <name>\t\tShow the state of one process\n\
             status <gname>:*\tShow the state of every process in a group\n\
             status <name> <name>\tShow the state of several processes\n\
             status\t\t\tShow the state of every process"
        }
        "stop" => {
            "stop <name>\t\tStop one process\n\
             stop <gname>:*\t\tStop every process in a group\n\
             stop <name> <name>\tStop several processes or groups\n\
             stop all\t\tStop every process"
        }
        "tail" => {
            "tail [-f] <name> [stdout|stderr] (default stdout)\n\
             Ex:\n\
             tail -f <name>\t\tFollow the process's stdout as it grows\n\
             \t\t\tCtrl-C to exit.\n\
             tail -100 <name>\tShow the last 100 bytes of the process's stdout\n\
             tail <name> stderr\tShow the last 1600 bytes of the process's stderr"
        }
        "update" => {
            "update\t\t\tRe-read the config, then add, remove and restart what changed\n\
             update all\t\tThe same as update with no argument\n\
             update <gname> [...]\tApply config changes to these groups only"
        }
        "version" => "version\t\t\tShow the version of the remote supervisord",
        _ => return None,
    })
}

/// Prints a command's help text (used after argument errors too).
pub fn show(c: &Controller, topic: &str) {
    if let Some(t) = text(topic) {
        c.output(t);
    }
}

pub fn do_help(c: &mut Controller, arg: &str) -> CmdResult {
    let arg = arg.trim();
    if arg.is_empty() {
        c.output("");
        let header = "default commands (type help <topic>):";
        c.output(header);
        c.output(&"=".repeat(header.len()));
        for line in columnize(TOPICS, 79) {
            c.output(&line);
        }
        c.output("");
    } else if text(arg).is_some() {
        show(c, arg);
    } else {
        c.output(&format!("*** No help on {arg}"));
    }
    Ok(())
}

/// Python `cmd.Cmd.columnize`: as few rows as fit in `width`, filled column by column.
fn columnize(words: &[&str], width: usize) -> Vec<String> {
    let size = words.len();
    if size <= 1 {
        return words.iter().map(|w| w.to_string()).collect();
    }
    let mut layout = None;
    for nrows in 1..size {
        let ncols = size.div_ceil(nrows);
        let mut colwidths = Vec::new();
        let mut total: isize = -2;
        for col in 0..ncols {
            let w = (0..nrows)
                .map(|row| row + nrows * col)
                .take_while(|i| *i < size)
                .map(|i| words[i].len())
                .max()
                .unwrap_or(0);
            colwidths.push(w);
            total += w as isize + 2;
            if total > width as isize {
                break;
            }
        }
        if total <= width as isize {
            layout = Some((nrows, ncols, colwidths));
            break;
        }
    }
    let (nrows, ncols, colwidths) = layout.unwrap_or((size, 1, vec![0]));
    (0..nrows)
        .map(|row| {
            let mut texts: Vec<&str> = (0..ncols)
                .map(|col| words.get(row + nrows * col).copied().unwrap_or(""))
                .collect();
            while texts.last() == Some(&"") {
                texts.pop();
            }
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| format!("{t:<w$}", w = colwidths.get(i).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_columns_match_reference() {
        assert_eq!(
            columnize(TOPICS, 79),
            vec![
                "add    exit      open  reload  restart   start   tail   ",
                "avail  fg        pid   remove  shutdown  status  update ",
                "clear  maintail  quit  reread  signal    stop    version",
            ]
        );
    }

    #[test]
    fn every_topic_has_help() {
        for t in TOPICS {
            assert!(text(t).is_some(), "{t}");
        }
    }
}
