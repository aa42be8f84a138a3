//! The daemon-wide commands: avail, reread, update, add, remove, reload, shutdown, version, open.

use super::commands::{do_status, items, make_namespec};
use super::controller::{CmdResult, Controller, Failure, exit, py_str};
use super::help;
use super::transport::CallError;
use crate::wire::FaultCode;
use crate::xmlrpc::Value;

/// Prints `Error: <cmd> accepts no arguments` + help when `arg` is not empty.
fn refuse_args(c: &mut Controller, cmd: &str, arg: &str) -> bool {
    if arg.is_empty() {
        return false;
    }
    c.output(&format!("Error: {cmd} accepts no arguments"));
    c.exitstatus = exit::GENERIC;
    help::show(c, cmd);
    true
}

pub fn do_avail(c: &mut Controller, arg: &str) -> CmdResult {
    if refuse_args(c, "avail", arg) {
        return Ok(());
    }
    match c.call("supervisor.getAllConfigInfo", &[]) {
        Ok(infos) => {
            for info in items(infos)? {
                let name = make_namespec(
                    info.member_str("group").unwrap_or(""),
                    info.member_str("name").unwrap_or(""),
                );
                let inuse = if info
                    .member("inuse")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                {
                    "in use"
                } else {
                    "avail"
                };
                let auto = if info
                    .member("autostart")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                {
                    "auto"
                } else {
                    "manual"
                };
                let prio = format!(
                    "{}:{}",
                    info.member("group_prio").map(py_str).unwrap_or_default(),
                    info.member("process_prio").map(py_str).unwrap_or_default()
                );
                c.output(&format!("{name:<32} {inuse:<9} {auto:<9} {prio}"));
            }
            Ok(())
        }
        Err(e) if e.is_fault(FaultCode::ShutdownState) => {
            c.exitstatus = exit::GENERIC;
            c.output("ERROR: supervisor shutting down");
            Ok(())
        }
        Err(e) => {
            c.exitstatus = exit::GENERIC;
            Err(e.into())
        }
    }
}

/// The `[[added, changed, removed]]` answer of reloadConfig as three name lists.
fn changes(result: &Value) -> Result<[Vec<String>; 3], Failure> {
    let first = items(result.clone())?
        .into_iter()
        .next()
        .unwrap_or(Value::Array(vec![]));
    let lists = items(first)?;
    let mut out: [Vec<String>; 3] = Default::default();
    for (slot, list) in out.iter_mut().zip(lists) {
        *slot = items(list)?.iter().map(py_str).collect();
    }
    Ok(out)
}

pub fn do_reread(c: &mut Controller, arg: &str) -> CmdResult {
    if refuse_args(c, "reread", arg) {
        return Ok(());
    }
    match c.call("supervisor.reloadConfig", &[]) {
        Ok(result) => {
            let [added, changed, removed] = changes(&result)?;
            let mut table: Vec<(String, &str)> = Vec::new();
            for (names, word) in [
                (added, "available"),
                (changed, "changed"),
                (removed, "disappeared"),
            ] {
                for n in names {
                    match table.iter_mut().find(|(k, _)| *k == n) {
                        Some(slot) => slot.1 = word,
                        None => table.push((n, word)),
                    }
                }
            }
            if table.is_empty() {
                c.output("No config updates to processes");
            }
            crate::sort::sort(&mut table);
            for (name, word) in table {
                c.output(&format!("{name}: {word}"));
            }
            Ok(())
        }
        Err(CallError::Fault { code, string }) => {
            c.exitstatus = exit::GENERIC;
            match FaultCode::from_code(code) {
                Some(FaultCode::ShutdownState) => c.output("ERROR: supervisor shutting down"),
                Some(FaultCode::CantReread) => c.output(&format!("ERROR: {string}")),
                _ => return Err(CallError::Fault { code, string }.into()),
            }
            Ok(())
        }
        Err(e) => {
            c.exitstatus = exit::GENERIC;
            Err(e.into())
        }
    }
}

pub fn do_update(c: &mut Controller, arg: &str) -> CmdResult {
    let result = match c.call("supervisor.reloadConfig", &[]) {
        Ok(r) => r,
        Err(e) => {
            c.exitstatus = exit::GENERIC;
            if e.is_fault(FaultCode::ShutdownState) {
                c.output("ERROR: already shutting down");
                return Ok(());
            }
            return Err(e.into());
        }
    };
    let [added, changed, removed] = changes(&result)?;
    let mut wanted: Vec<&str> = Vec::new();
    for w in arg.split_whitespace() {
        if !wanted.contains(&w) {
            wanted.push(w);
        }
    }
    if wanted.contains(&"all") {
        wanted.clear();
    }
    if !wanted.is_empty() {
        let mut groups: Vec<String> = items(c.call("supervisor.getAllProcessInfo", &[])?)?
            .iter()
            .filter_map(|i| i.member_str("group").map(str::to_string))
            .collect();
        groups.extend(added.iter().cloned());
        for g in &wanted {
            if !groups.iter().any(|x| x == g) {
                c.output(&format!("ERROR: no such group: {g}"));
                c.exitstatus = exit::GENERIC;
            }
        }
    }
    let selected = |g: &str| wanted.is_empty() || wanted.contains(&g);
    for g in removed.iter().filter(|g| selected(g)) {
        let results = c.call("supervisor.stopProcessGroup", &[Value::string(g)])?;
        c.output(&format!("{g}: stopped"));
        let failed = items(results)?
            .iter()
            .any(|r| r.member_int("status") == Some(FaultCode::Failed.code()));
        if failed {
            c.output(&format!("{g}: has problems; not removing"));
            c.exitstatus = exit::GENERIC;
            continue;
        }
        c.call("supervisor.removeProcessGroup", &[Value::string(g)])?;
        c.output(&format!("{g}: removed process group"));
    }
    for g in changed.iter().filter(|g| selected(g)) {
        c.call("supervisor.stopProcessGroup", &[Value::string(g)])?;
        c.output(&format!("{g}: stopped"));
        c.call("supervisor.removeProcessGroup", &[Value::string(g)])?;
        c.call("supervisor.addProcessGroup", &[Value::string(g)])?;
        c.output(&format!("{g}: updated process group"));
    }
    for g in added.iter().filter(|g| selected(g)) {
        c.call("supervisor.addProcessGroup", &[Value::string(g)])?;
        c.output(&format!("{g}: added process group"));
    }
    Ok(())
}

pub fn do_add(c: &mut Controller, arg: &str) -> CmdResult {
    for name in arg.split_whitespace() {
        match c.call("supervisor.addProcessGroup", &[Value::string(name)]) {
            Ok(_) => c.output(&format!("{name}: added process group")),
            Err(e) if e.is_fault(FaultCode::ShutdownState) => {
                c.output("ERROR: shutting down");
                c.exitstatus = exit::GENERIC;
            }
            Err(e) if e.is_fault(FaultCode::AlreadyAdded) => {
                c.output("ERROR: process group already active");
            }
            Err(e) if e.is_fault(FaultCode::BadName) => {
                c.output(&format!("ERROR: no such process/group: {name}"));
                c.exitstatus = exit::GENERIC;
            }
            Err(e) => {
                c.exitstatus = exit::GENERIC;
                return Err(e.into());
            }
        }
    }
    Ok(())
}

pub fn do_remove(c: &mut Controller, arg: &str) -> CmdResult {
    for name in arg.split_whitespace() {
        match c.call("supervisor.removeProcessGroup", &[Value::string(name)]) {
            Ok(_) => c.output(&format!("{name}: removed process group")),
            Err(e) => {
                c.exitstatus = exit::GENERIC;
                match e {
                    e if e.is_fault(FaultCode::StillRunning) => {
                        c.output(&format!("ERROR: process/group still running: {name}"))
                    }
                    e if e.is_fault(FaultCode::BadName) => {
                        c.output(&format!("ERROR: no such process/group: {name}"))
                    }
                    other => return Err(other.into()),
                }
            }
        }
    }
    Ok(())
}

/// In interactive mode, asks `question` and says whether the answer starts with y/Y.
fn confirmed(c: &mut Controller, question: &str) -> Result<bool, Failure> {
    if !c.options.interactive {
        return Ok(true);
    }
    Ok(c.ask(question)?.to_lowercase().starts_with('y'))
}

pub fn do_reload(c: &mut Controller, arg: &str) -> CmdResult {
    if refuse_args(c, "reload", arg) {
        return Ok(());
    }
    if !confirmed(c, "Really restart the remote supervisord process y/N? ")? {
        return Ok(());
    }
    match c.call("supervisor.restart", &[]) {
        Ok(_) => c.output("Restarted supervisord"),
        Err(e) => {
            c.exitstatus = exit::GENERIC;
            if e.is_fault(FaultCode::ShutdownState) {
                c.output("ERROR: already shutting down");
            } else {
                return Err(e.into());
            }
        }
    }
    Ok(())
}

pub fn do_shutdown(c: &mut Controller, arg: &str) -> CmdResult {
    if refuse_args(c, "shutdown", arg) {
        return Ok(());
    }
    if !confirmed(c, "Really shut the remote supervisord process down y/N? ")? {
        return Ok(());
    }
    match c.call("supervisor.shutdown", &[]) {
        Ok(_) => c.output("Shut down"),
        Err(e) if e.is_fault(FaultCode::ShutdownState) => c.output("ERROR: already shutting down"),
        Err(CallError::Io(e)) => {
            c.exitstatus = exit::GENERIC;
            let url = c.options.serverurl.clone();
            match e.raw_os_error() {
                Some(libc::ECONNREFUSED) => c.output(&format!(
                    "ERROR: {url} refused connection (already shut down?)"
                )),
                Some(libc::ENOENT) => {
                    c.output(&format!("ERROR: {url} no such file (already shut down?)"))
                }
                _ => return Err(CallError::Io(e).into()),
            }
        }
        Err(e) => {
            c.exitstatus = exit::GENERIC;
            return Err(e.into());
        }
    }
    Ok(())
}

pub fn do_version(c: &mut Controller, arg: &str) -> CmdResult {
    if refuse_args(c, "version", arg) {
        return Ok(());
    }
    if !c.upcheck()? {
        return Ok(());
    }
    let v = c.call("supervisor.getSupervisorVersion", &[])?;
    c.output(&py_str(&v));
    Ok(())
}

/// The lower-cased URL scheme as Python's urlparse finds it (empty when there is none).
fn url_scheme(url: &str) -> String {
    match url.split_once(':') {
        Some((s, _))
            if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            s.to_ascii_lowercase()
        }
        _ => String::new(),
    }
}

pub fn do_open(c: &mut Controller, arg: &str) -> CmdResult {
    let url = arg.trim();
    if !matches!(url_scheme(url).as_str(), "unix" | "http") {
        c.output("ERROR: url must be http:// or unix://");
        c.exitstatus = exit::GENERIC;
        return Ok(());
    }
    c.options.serverurl = url.to_string();
    c.client.serverurl = url.to_string();
    c.client.reset();
    let before = c.exitstatus;
    do_status(c, "")?;
    c.exitstatus = before;
    Ok(())
}
