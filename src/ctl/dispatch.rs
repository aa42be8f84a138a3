//! Running one command line: `cmd.Cmd.parseline`, the command table, and the retry with
//! credentials after a 401 (`onecmd`). The shell loop and the one-shot command line both call it.

use super::controller::{Controller, Failure, Flow, exit};
use super::transport::CallError;
use super::{admin, commands, help, tail};

pub type Command = fn(&mut Controller, &str) -> Result<Flow, Failure>;

/// The command table; `None` = unknown syntax.
pub fn lookup(cmd: &str) -> Option<Command> {
    Some(match cmd {
        "help" => |c, a| help::do_help(c, a).map(|_| Flow::Continue),
        "EOF" | "quit" | "exit" => |c, _| {
            c.output("");
            Ok(Flow::Quit)
        },
        "status" => |c, a| commands::do_status(c, a).map(|_| Flow::Continue),
        "start" => |c, a| commands::do_start(c, a).map(|_| Flow::Continue),
        "stop" => |c, a| commands::do_stop(c, a).map(|_| Flow::Continue),
        "restart" => |c, a| commands::do_restart(c, a).map(|_| Flow::Continue),
        "signal" => |c, a| commands::do_signal(c, a).map(|_| Flow::Continue),
        "pid" => |c, a| commands::do_pid(c, a).map(|_| Flow::Continue),
        "clear" => |c, a| commands::do_clear(c, a).map(|_| Flow::Continue),
        "avail" => |c, a| admin::do_avail(c, a).map(|_| Flow::Continue),
        "reread" => |c, a| admin::do_reread(c, a).map(|_| Flow::Continue),
        "update" => |c, a| admin::do_update(c, a).map(|_| Flow::Continue),
        "add" => |c, a| admin::do_add(c, a).map(|_| Flow::Continue),
        "remove" => |c, a| admin::do_remove(c, a).map(|_| Flow::Continue),
        "reload" => |c, a| admin::do_reload(c, a).map(|_| Flow::Continue),
        "shutdown" => |c, a| admin::do_shutdown(c, a).map(|_| Flow::Continue),
        "version" => |c, a| admin::do_version(c, a).map(|_| Flow::Continue),
        "open" => |c, a| admin::do_open(c, a).map(|_| Flow::Continue),
        "tail" => |c, a| tail::do_tail(c, a).map(|_| Flow::Continue),
        "maintail" => |c, a| tail::do_maintail(c, a).map(|_| Flow::Continue),
        "fg" => |c, a| tail::do_fg(c, a).map(|_| Flow::Continue),
        _ => return None,
    })
}

/// Runs one command line; `Flow::Quit` for quit/exit/EOF.
pub fn onecmd(c: &mut Controller, line: &str) -> Flow {
    let Some((cmd, arg, line)) = parseline(line) else {
        return Flow::Continue;
    };
    let Some(command) = lookup(&cmd) else {
        c.output(&format!("*** Unknown syntax: {line}"));
        c.exitstatus = exit::GENERIC;
        return Flow::Continue;
    };
    match command(c, &arg) {
        Ok(flow) => flow,
        Err(Failure::Call(CallError::Protocol { status: 401, .. })) => {
            c.output("Server requires authentication");
            if c.options.interactive {
                if c.prompt_credentials().is_err() {
                    return Flow::Quit;
                }
                return onecmd(c, &line);
            }
            c.exitstatus = exit::GENERIC;
            // The reference runs the command a second time here; its error is what shows.
            match command(c, &arg) {
                Ok(flow) => flow,
                Err(f) => {
                    c.report(f);
                    Flow::Continue
                }
            }
        }
        Err(f) => {
            c.report(f);
            Flow::Continue
        }
    }
}

/// `cmd.Cmd.parseline`: (command word, stripped argument, stripped line); None for a blank line.
/// `?x` means `help x`; the command word is the leading run of letters, digits and `_`.
pub fn parseline(line: &str) -> Option<(String, String, String)> {
    let mut line = line.trim().to_string();
    if line.is_empty() {
        return None;
    }
    if let Some(rest) = line.strip_prefix('?') {
        line = format!("help {rest}");
    }
    let end = line
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(line.len());
    let cmd = line[..end].to_string();
    let arg = line[end..].trim().to_string();
    Some((cmd, arg, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parseline_like_cmd_module() {
        let cases = [
            ("", None),
            ("   ", None),
            ("status", Some(("status", "", "status"))),
            ("  stop  a b  ", Some(("stop", "a b", "stop  a b"))),
            ("?start", Some(("help", "start", "help start"))),
            ("start-all", Some(("start", "-all", "start-all"))),
            ("!ls", Some(("", "!ls", "!ls"))),
        ];
        for (input, want) in cases {
            let want = want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
            assert_eq!(parseline(input), want, "{input:?}");
        }
    }
}
