//! The process commands (status, start, stop, restart, signal, pid, clear) and the namespec and
//! result-struct helpers they share with the other command files.

use super::controller::{CmdResult, Controller, Failure, exit, py_str};
use super::help;
use super::transport::CallError;
use crate::wire::{FaultCode, ProcessState};
use crate::xmlrpc::Value;

/// `group:name`, or just `name` when both are equal.
pub fn make_namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

/// `g:*` and `g:` -> (g, None); `g:p` -> (g, Some(p)); `p` -> (p, Some(p)).
pub fn split_namespec(spec: &str) -> (String, Option<String>) {
    match spec.split_once(':') {
        Some((g, p)) if p.is_empty() || p == "*" => (g.to_string(), None),
        Some((g, p)) => (g.to_string(), Some(p.to_string())),
        None => (spec.to_string(), Some(spec.to_string())),
    }
}

/// A start/stop/signal/clear result, from a result struct or a fault on a single name.
pub struct Outcome {
    pub name: String,
    pub group: String,
    pub status: i64,
    pub description: String,
}

impl Outcome {
    pub fn from_struct(v: &Value) -> Outcome {
        Outcome {
            name: v.member_str("name").unwrap_or_default().to_string(),
            group: v.member_str("group").unwrap_or_default().to_string(),
            status: v.member_int("status").unwrap_or(0),
            description: v.member_str("description").unwrap_or_default().to_string(),
        }
    }

    /// A fault on one namespec; a group spec (`g:*`) has no process name (Python's None).
    fn from_fault(spec: &str, code: i64, string: String) -> Outcome {
        let (group, name) = split_namespec(spec);
        Outcome {
            name: name.unwrap_or_else(|| "None".to_string()),
            group,
            status: code,
            description: string,
        }
    }

    fn namespec(&self) -> String {
        make_namespec(&self.group, &self.name)
    }

    fn unknown(&self) -> Failure {
        Failure::Raised(
            "ValueError",
            format!(
                "Unknown result code {} for {}",
                self.status,
                self.namespec()
            ),
        )
    }

    fn start_line(&self) -> Result<String, Failure> {
        let why = match FaultCode::from_code(self.status) {
            Some(FaultCode::Success) => return Ok(format!("{}: started", self.namespec())),
            Some(FaultCode::BadName) => "no such process",
            Some(FaultCode::NoFile) => "no such file",
            Some(FaultCode::NotExecutable) => "file is not executable",
            Some(FaultCode::AlreadyStarted) => "already started",
            Some(FaultCode::SpawnError) => "spawn error",
            Some(FaultCode::AbnormalTermination) => "abnormal termination",
            _ => return Err(self.unknown()),
        };
        Ok(format!("{}: ERROR ({why})", self.namespec()))
    }

    fn signal_line(&self, success: &str) -> Result<String, Failure> {
        let why = match FaultCode::from_code(self.status) {
            Some(FaultCode::Success) => return Ok(format!("{}: {success}", self.namespec())),
            Some(FaultCode::Failed) => return Ok(self.description.clone()),
            Some(FaultCode::BadName) => "no such process",
            Some(FaultCode::BadSignal) => "bad signal name",
            Some(FaultCode::NotRunning) => "not running",
            _ => return Err(self.unknown()),
        };
        Ok(format!("{}: ERROR ({why})", self.namespec()))
    }

    fn clear_line(&self) -> Result<String, Failure> {
        match FaultCode::from_code(self.status) {
            Some(FaultCode::Success) => Ok(format!("{}: cleared", self.namespec())),
            Some(FaultCode::BadName) => Ok(format!("{}: ERROR (no such process)", self.namespec())),
            Some(FaultCode::Failed) => Ok(format!("{}: ERROR (failed)", self.namespec())),
            _ => Err(self.unknown()),
        }
    }
}

/// The items of an array result; any other answer is the server's mistake and aborts the
/// command like the reference's TypeError.
pub fn items(v: Value) -> Result<Vec<Value>, Failure> {
    match v {
        Value::Array(items) => Ok(items),
        other => Err(Failure::Raised(
            "TypeError",
            format!("expected an array from the server, got {}", py_str(&other)),
        )),
    }
}

fn show_statuses(c: &Controller, infos: &[Value]) {
    // (group, name) pairs: the namespec is written in place rather than built per line.
    let names: Vec<(&str, &str)> = infos
        .iter()
        .map(|i| {
            (
                i.member_str("group").unwrap_or(""),
                i.member_str("name").unwrap_or(""),
            )
        })
        .collect();
    let namespec_len = |(group, name): (&str, &str)| {
        if group == name {
            name.chars().count()
        } else {
            group.chars().count() + 1 + name.chars().count()
        }
    };
    let width = names
        .iter()
        .map(|n| namespec_len(*n))
        .max()
        .unwrap_or(0)
        .max(30)
        + 3;
    // One write for the whole table: a line per write costs a syscall per process.
    let mut table = String::with_capacity(infos.len() * (width + 48));
    for (i, (info, &(group, name))) in infos.iter().zip(&names).enumerate() {
        if i > 0 {
            table.push('\n');
        }
        if group != name {
            table.push_str(group);
            table.push(':');
        }
        table.push_str(name);
        pad(&mut table, namespec_len((group, name)), width);
        let state = py_text(info.member("statename"));
        table.push_str(&state);
        pad(&mut table, state.chars().count(), 10);
        table.push_str(&py_text(info.member("description")));
    }
    if !infos.is_empty() {
        c.output(&table);
    }
}

/// Spaces after text of `len` characters up to `width` (format's `{:<width$}`).
fn pad(out: &mut String, len: usize, width: usize) {
    for _ in len..width {
        out.push(' ');
    }
}

/// `str()` of an optional member, borrowing when it is already a string.
fn py_text(v: Option<&Value>) -> std::borrow::Cow<'_, str> {
    match v {
        Some(Value::String(s)) => std::borrow::Cow::Borrowed(s),
        Some(other) => std::borrow::Cow::Owned(py_str(other)),
        None => std::borrow::Cow::Borrowed(""),
    }
}

pub fn do_status(c: &mut Controller, arg: &str) -> CmdResult {
    if !c.upcheck()? {
        c.exitstatus = exit::STATUS_UNKNOWN;
        return Ok(());
    }
    let all = items(c.call("supervisor.getAllProcessInfo", &[])?)?;
    let names: Vec<&str> = arg.split_whitespace().collect();
    let matching: Vec<Value> = if names.is_empty() || names.contains(&"all") {
        all
    } else {
        let mut matching = Vec::new();
        for name in names {
            let (group, process) = split_namespec(name);
            let mut found = false;
            for info in &all {
                let same_group = info.member_str("group") == Some(group.as_str());
                let same_name = process
                    .as_deref()
                    .is_none_or(|p| info.member_str("name") == Some(p));
                if same_group && same_name {
                    found = true;
                    matching.push(info.clone());
                }
            }
            if !found {
                match process {
                    None => c.output(&format!("{group}: ERROR (no such group)")),
                    Some(_) => c.output(&format!("{name}: ERROR (no such process)")),
                }
                c.exitstatus = exit::STATUS_UNKNOWN;
            }
        }
        matching
    };
    show_statuses(c, &matching);
    if matching.iter().any(|i| {
        i.member_int("state")
            .and_then(ProcessState::from_code)
            .is_some_and(ProcessState::is_stopped)
    }) {
        c.exitstatus = exit::STATUS_NOT_RUNNING;
    }
    if c.exits_after_command() {
        // The process exits next: freeing thousands of strings one by one would cost a tenth
        // of a 500-process `status` (measured with callgrind), and the kernel frees it all.
        std::mem::forget(matching);
    }
    Ok(())
}

pub fn do_start(c: &mut Controller, arg: &str) -> CmdResult {
    if !c.upcheck()? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    if names.is_empty() {
        c.output("Error: start requires a process name");
        c.exitstatus = exit::INVALID_ARGS;
        help::show(c, "start");
        return Ok(());
    }
    let ignored = Some(FaultCode::AlreadyStarted.code());
    if names.contains(&"all") {
        for r in items(c.call("supervisor.startAllProcesses", &[])?)? {
            let o = Outcome::from_struct(&r);
            c.output(&o.start_line()?);
            c.set_exitstatus_from_fault(o.status, ignored);
        }
        return Ok(());
    }
    for name in names {
        let (group, process) = split_namespec(name);
        if process.is_none() {
            match c.call("supervisor.startProcessGroup", &[Value::string(&group)]) {
                Ok(results) => {
                    for r in items(results)? {
                        let o = Outcome::from_struct(&r);
                        c.output(&o.start_line()?);
                        c.set_exitstatus_from_fault(o.status, ignored);
                    }
                }
                Err(e) if e.is_fault(FaultCode::BadName) => {
                    c.output(&format!("{group}: ERROR (no such group)"));
                    c.exitstatus = exit::INVALID_ARGS;
                }
                Err(e) => {
                    c.exitstatus = exit::GENERIC;
                    return Err(e.into());
                }
            }
            continue;
        }
        match c.call("supervisor.startProcess", &[Value::string(name)]) {
            Ok(_) => c.output(&format!(
                "{}: started",
                make_namespec(&group, process.as_deref().unwrap_or(""))
            )),
            Err(CallError::Fault { code, string }) => {
                let o = Outcome::from_fault(name, code, string);
                c.output(&o.start_line()?);
                c.set_exitstatus_from_fault(o.status, ignored);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub fn do_stop(c: &mut Controller, arg: &str) -> CmdResult {
    if !c.upcheck()? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    if names.is_empty() {
        c.output("Error: stop requires a process name");
        c.exitstatus = exit::GENERIC;
        help::show(c, "stop");
        return Ok(());
    }
    let ignored = Some(FaultCode::NotRunning.code());
    if names.contains(&"all") {
        for r in items(c.call("supervisor.stopAllProcesses", &[])?)? {
            let o = Outcome::from_struct(&r);
            c.output(&o.signal_line("stopped")?);
            c.set_exitstatus_from_fault(o.status, ignored);
        }
        return Ok(());
    }
    for name in names {
        let (group, process) = split_namespec(name);
        if process.is_none() {
            match c.call("supervisor.stopProcessGroup", &[Value::string(&group)]) {
                Ok(results) => {
                    for r in items(results)? {
                        let o = Outcome::from_struct(&r);
                        c.output(&o.signal_line("stopped")?);
                        c.set_exitstatus_from_fault(o.status, ignored);
                    }
                }
                Err(CallError::Fault { code, string }) => {
                    c.exitstatus = exit::GENERIC;
                    if code != FaultCode::BadName.code() {
                        return Err(CallError::Fault { code, string }.into());
                    }
                    c.output(&format!("{group}: ERROR (no such group)"));
                }
                Err(e) => return Err(e.into()),
            }
            continue;
        }
        match c.call("supervisor.stopProcess", &[Value::string(name)]) {
            Ok(_) => c.output(&format!(
                "{}: stopped",
                make_namespec(&group, process.as_deref().unwrap_or(""))
            )),
            Err(CallError::Fault { code, string }) => {
                let o = Outcome::from_fault(name, code, string);
                c.output(&o.signal_line("stopped")?);
                c.set_exitstatus_from_fault(o.status, ignored);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub fn do_restart(c: &mut Controller, arg: &str) -> CmdResult {
    if !c.upcheck()? {
        return Ok(());
    }
    if arg.split_whitespace().next().is_none() {
        c.output("Error: restart requires a process name");
        c.exitstatus = exit::GENERIC;
        help::show(c, "restart");
        return Ok(());
    }
    do_stop(c, arg)?;
    do_start(c, arg)
}

pub fn do_signal(c: &mut Controller, arg: &str) -> CmdResult {
    if !c.upcheck()? {
        return Ok(());
    }
    let args: Vec<&str> = arg.split_whitespace().collect();
    if args.len() < 2 {
        c.output("Error: signal requires a signal name and a process name");
        help::show(c, "signal");
        c.exitstatus = exit::GENERIC;
        return Ok(());
    }
    let sig = Value::string(args[0]);
    let names = &args[1..];
    if names.contains(&"all") {
        for r in items(c.call("supervisor.signalAllProcesses", std::slice::from_ref(&sig))?)? {
            let o = Outcome::from_struct(&r);
            c.output(&o.signal_line("signalled")?);
            c.set_exitstatus_from_fault(o.status, None);
        }
        return Ok(());
    }
    for name in names {
        let (group, process) = split_namespec(name);
        if process.is_none() {
            match c.call(
                "supervisor.signalProcessGroup",
                &[Value::string(&group), sig.clone()],
            ) {
                Ok(results) => {
                    for r in items(results)? {
                        let o = Outcome::from_struct(&r);
                        c.output(&o.signal_line("signalled")?);
                        c.set_exitstatus_from_fault(o.status, None);
                    }
                }
                Err(e) if e.is_fault(FaultCode::BadName) => {
                    c.output(&format!("{group}: ERROR (no such group)"));
                    c.exitstatus = exit::GENERIC;
                }
                Err(e) => return Err(e.into()),
            }
            continue;
        }
        match c.call(
            "supervisor.signalProcess",
            &[Value::string(*name), sig.clone()],
        ) {
            Ok(_) => c.output(&format!(
                "{}: signalled",
                make_namespec(&group, process.as_deref().unwrap_or(""))
            )),
            Err(CallError::Fault { code, string }) => {
                let o = Outcome::from_fault(name, code, string);
                c.output(&o.signal_line("signalled")?);
                c.set_exitstatus_from_fault(o.status, None);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub fn do_pid(c: &mut Controller, arg: &str) -> CmdResult {
    if !c.upcheck()? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    if names.is_empty() {
        let pid = c.call("supervisor.getPID", &[])?;
        c.output(&py_str(&pid));
    } else if names.contains(&"all") {
        for info in items(c.call("supervisor.getAllProcessInfo", &[])?)? {
            c.output(&info.member("pid").map(py_str).unwrap_or_default());
        }
    } else {
        for name in names {
            match c.call("supervisor.getProcessInfo", &[Value::string(name)]) {
                Ok(info) => {
                    let pid = info.member("pid").cloned().unwrap_or(Value::Int(0));
                    c.output(&py_str(&pid));
                    if pid == Value::Int(0) {
                        c.exitstatus = exit::NOT_RUNNING;
                    }
                }
                Err(CallError::Fault { code, string }) => {
                    c.exitstatus = exit::GENERIC;
                    if code != FaultCode::BadName.code() {
                        return Err(CallError::Fault { code, string }.into());
                    }
                    c.output(&format!("No such process {name}"));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

pub fn do_clear(c: &mut Controller, arg: &str) -> CmdResult {
    if !c.upcheck()? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    if names.is_empty() {
        c.output("Error: clear requires a process name");
        c.exitstatus = exit::GENERIC;
        help::show(c, "clear");
        return Ok(());
    }
    if names.contains(&"all") {
        for r in items(c.call("supervisor.clearAllProcessLogs", &[])?)? {
            let o = Outcome::from_struct(&r);
            c.output(&o.clear_line()?);
            c.set_exitstatus_from_fault(o.status, None);
        }
        return Ok(());
    }
    for name in names {
        let (group, process) = split_namespec(name);
        match c.call("supervisor.clearProcessLogs", &[Value::string(name)]) {
            Ok(_) => c.output(&format!(
                "{}: cleared",
                make_namespec(&group, process.as_deref().unwrap_or("None"))
            )),
            Err(CallError::Fault { code, string }) => {
                let o = Outcome::from_fault(name, code, string);
                c.output(&o.clear_line()?);
                c.set_exitstatus_from_fault(o.status, None);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespecs() {
        let cases = [
            ("a", ("a", Some("a"))),
            ("g:p", ("g", Some("p"))),
            ("g:*", ("g", None)),
            ("g:", ("g", None)),
            ("g:p:q", ("g", Some("p:q"))),
        ];
        for (spec, (g, p)) in cases {
            assert_eq!(
                split_namespec(spec),
                (g.to_string(), p.map(str::to_string)),
                "{spec}"
            );
        }
        assert_eq!(make_namespec("a", "a"), "a");
        assert_eq!(make_namespec("g", "p"), "g:p");
    }
}
