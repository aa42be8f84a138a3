//! The `supervisor.*` methods: argument handling, check order and faults as in the reference's
//! rpcinterface, acting through the `Backend`.
//!
//! Arguments are taken with slice patterns (`let [name, ..] = p else { .. }`), never by index:
//! see `params::missing`.
#![deny(clippy::indexing_slicing)]

use std::path::Path;
use std::time::SystemTime;

use super::backend::{
    AddGroupError, Backend, ClearLogError, CommandProblem, GroupSnapshot, Hold, ProcessId,
    ProcessSnapshot, ProcessState, RemoveGroupError, StdinError,
};
use super::deferred::{Call, Each, Job};
use super::fault::{Fault, FaultCode};
use super::info::{all_config_info, process_info, result_struct};
use super::params::{self, int, missing, python_int, python_str, truthy};
use super::wire::Value;
use crate::logs::{self, ReadError};
use crate::wire::{API_VERSION, SUPERVISOR_VERSION};

type Outcome = Result<Value, Fault>;

fn fault(code: FaultCode, extra: impl Into<String>) -> Fault {
    Fault::with(code, extra)
}

/// `wait` defaults to true; any value is accepted and read by truthiness.
fn wait_flag(params: &[Value], index: usize) -> bool {
    params.get(index).map(truthy).unwrap_or(true)
}

fn shutting_down(b: &dyn Backend) -> bool {
    b.supervisor_state().code() < 1
}

fn gate(b: &dyn Backend) -> Result<(), Fault> {
    if shutting_down(b) {
        Err(Fault::new(FaultCode::ShutdownState))
    } else {
        Ok(())
    }
}

/// Runs a `supervisor.*` method whose parameter count was already checked.
pub fn call(name: &str, p: &[Value], b: &mut dyn Backend, now: SystemTime) -> Call {
    // These three do their own shutdown check, at the point where the reference does.
    match name {
        "sendRemoteCommEvent" => return send_remote_comm_event(p, b).into(),
        "signalProcessGroup" => return signal_process_group(p, b).into(),
        "signalAllProcesses" => return signal_all_processes(p, b).into(),
        _ => {}
    }
    if let Err(f) = gate(b) {
        return Call::Done(Err(f));
    }
    match name {
        "getAPIVersion" | "getVersion" => Ok(Value::string(API_VERSION)).into(),
        "getSupervisorVersion" => Ok(Value::string(SUPERVISOR_VERSION)).into(),
        "getIdentification" => Ok(Value::string(b.identification())).into(),
        "getState" => {
            let state = b.supervisor_state();
            Ok(Value::structure([
                ("statecode", int(i64::from(state.code()))),
                ("statename", Value::string(state.name())),
            ]))
            .into()
        }
        "getPID" => Ok(int(i64::from(b.supervisor_pid()))).into(),
        "readLog" | "readMainLog" => read_main_log(p, b).into(),
        "clearLog" => clear_main_log(b).into(),
        "shutdown" => {
            b.request_shutdown();
            Ok(Value::Bool(true)).into()
        }
        "restart" => {
            b.request_restart();
            Ok(Value::Bool(true)).into()
        }
        "reloadConfig" => reload_config(b).into(),
        "addProcessGroup" => add_group(p, b).into(),
        "removeProcessGroup" => remove_group(p, b).into(),
        "startProcess" => on_process(START, p, b, now),
        "startProcessGroup" => on_named_group(START, p, b, now),
        "startAllProcesses" => on_all(START, p, b, now),
        "stopProcess" => on_process(STOP, p, b, now),
        "stopProcessGroup" => on_named_group(STOP, p, b, now),
        "stopAllProcesses" => on_all(STOP, p, b, now),
        "signalProcess" => signal_process(p, b),
        "getAllConfigInfo" => Ok(all_config_info(b.loaded_config(), &b.groups())).into(),
        "getProcessInfo" => get_process_info(p, b, now).into(),
        "getAllProcessInfo" => Ok(all_process_info(b, now)).into(),
        "readProcessStdoutLog" | "readProcessLog" => read_process_log(p, b, Channel::Stdout).into(),
        "readProcessStderrLog" => read_process_log(p, b, Channel::Stderr).into(),
        "tailProcessStdoutLog" | "tailProcessLog" => tail_process_log(p, b, Channel::Stdout).into(),
        "tailProcessStderrLog" => tail_process_log(p, b, Channel::Stderr).into(),
        "clearProcessLogs" | "clearProcessLog" => clear_process_logs(p, b).into(),
        "clearAllProcessLogs" => Ok(clear_all_process_logs(b)).into(),
        "sendProcessStdin" => send_process_stdin(p, b).into(),
        _ => Call::Done(Err(Fault::new(FaultCode::UnknownMethod))),
    }
}

/// A namespec resolved the reference's way: `g:p` → process, `g:`/`g:*` → whole group,
/// `name` → process `name` of group `name`. Unknown group or process → BAD_NAME (name as given).
fn resolve(
    b: &dyn Backend,
    namespec: &str,
) -> Result<(GroupSnapshot, Option<ProcessSnapshot>), Fault> {
    let (group_name, process_name) = match namespec.split_once(':') {
        Some((g, "" | "*")) => (g, None),
        Some((g, p)) => (g, Some(p)),
        None => (namespec, Some(namespec)),
    };
    let bad_name = || fault(FaultCode::BadName, namespec);
    let group = b.group(group_name).ok_or_else(bad_name)?;
    let Some(process_name) = process_name else {
        return Ok((group, None));
    };
    let process = group
        .processes
        .iter()
        .find(|p| p.id.name == process_name)
        .cloned()
        .ok_or_else(bad_name)?;
    Ok((group, Some(process)))
}

/// A namespec that must name one process (group specs are BAD_NAME too).
fn resolve_process(b: &dyn Backend, namespec: &str) -> Result<ProcessSnapshot, Fault> {
    match resolve(b, namespec)? {
        (_, Some(p)) => Ok(p),
        (_, None) => Err(fault(FaultCode::BadName, namespec)),
    }
}

fn all_in_priority_order(b: &dyn Backend) -> Vec<ProcessId> {
    b.groups()
        .into_iter()
        .flat_map(|g| g.processes.into_iter().map(|p| p.id))
        .collect()
}

fn read_main_log(p: &[Value], b: &mut dyn Backend) -> Outcome {
    let [offset, length, ..] = p else {
        return Err(missing());
    };
    let path = b
        .main_log_path()
        .ok_or_else(|| Fault::new(FaultCode::NoFile))?;
    read_file(&path, offset, length)
}

/// The shared tail of the read*Log methods: existence, then `int()` of the arguments, then read.
fn read_file(path: &Path, offset: &Value, length: &Value) -> Outcome {
    if !path.exists() {
        return Err(fault(FaultCode::NoFile, path.to_string_lossy()));
    }
    let (offset, length) = (python_int(offset)?, python_int(length)?);
    match logs::read_log(path, offset, length) {
        Ok(bytes) => Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        Err(ReadError::NoFile) => Err(fault(FaultCode::NoFile, path.to_string_lossy())),
        Err(ReadError::BadArguments) => Err(Fault::new(FaultCode::BadArguments)),
        Err(ReadError::Failed) => Err(Fault::new(FaultCode::Failed)),
    }
}

fn clear_main_log(b: &mut dyn Backend) -> Outcome {
    match b.clear_main_log() {
        Ok(()) => Ok(Value::Bool(true)),
        Err(ClearLogError::NoFile) => Err(Fault::new(FaultCode::NoFile)),
        Err(ClearLogError::Failed) => Err(Fault::new(FaultCode::Failed)),
    }
}

fn reload_config(b: &mut dyn Backend) -> Outcome {
    let diff = b
        .reload_config()
        .map_err(|msg| fault(FaultCode::CantReread, msg))?;
    let names = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
    Ok(Value::Array(vec![Value::Array(vec![
        names(diff.added),
        names(diff.changed),
        names(diff.removed),
    ])]))
}

fn add_group(p: &[Value], b: &mut dyn Backend) -> Outcome {
    let [name, ..] = p else {
        return Err(missing());
    };
    let name = params::string(name)?;
    match b.add_group(name) {
        Ok(()) => Ok(Value::Bool(true)),
        Err(AddGroupError::NotInConfig) => Err(fault(FaultCode::BadName, name)),
        Err(AddGroupError::AlreadyActive) => Err(fault(FaultCode::AlreadyAdded, name)),
    }
}

fn remove_group(p: &[Value], b: &mut dyn Backend) -> Outcome {
    let [name, ..] = p else {
        return Err(missing());
    };
    let name = params::string(name)?;
    match b.remove_group(name) {
        Ok(()) => Ok(Value::Bool(true)),
        Err(RemoveGroupError::NotActive) => Err(fault(FaultCode::BadName, name)),
        Err(RemoveGroupError::StillRunning) => Err(fault(FaultCode::StillRunning, name)),
    }
}

/// Starting or stopping: which processes of a group it applies to, and the action on one
/// process (`name` as the caller spelled it, for faults; `wait` until the change is done).
#[derive(Clone, Copy)]
struct Verb {
    eligible: fn(ProcessState) -> bool,
    /// Act on dependents before their dependencies (`depends_on=`; stopping).
    dependents_first: bool,
    /// Cancel the held starts of the targets (`depends_on=`; stopping).
    cancels_held_starts: bool,
    act: fn(&mut dyn Backend, &ProcessId, &str, bool) -> Call,
}

const START: Verb = Verb {
    eligible: is_not_running,
    dependents_first: false,
    cancels_held_starts: false,
    act: start_one,
};

const STOP: Verb = Verb {
    eligible: ProcessState::is_running,
    dependents_first: true,
    cancels_held_starts: true,
    act: stop_one,
};

fn is_not_running(state: ProcessState) -> bool {
    !state.is_running()
}

/// startProcess/stopProcess: a process name, or `group:*` for the whole group.
fn on_process(verb: Verb, p: &[Value], b: &mut dyn Backend, now: SystemTime) -> Call {
    let [name, ..] = p else {
        return Call::Done(Err(missing()));
    };
    let name = match params::string(name) {
        Ok(n) => n,
        Err(f) => return Call::Done(Err(f)),
    };
    let wait = wait_flag(p, 1);
    match resolve(b, name) {
        Err(f) => Call::Done(Err(f)),
        Ok((group, None)) => on_group(verb, &group.name, wait, b, now),
        Ok((_, Some(process))) => (verb.act)(b, &process.id, name, wait),
    }
}

/// startProcessGroup/stopProcessGroup.
fn on_named_group(verb: Verb, p: &[Value], b: &mut dyn Backend, now: SystemTime) -> Call {
    let [group, ..] = p else {
        return Call::Done(Err(missing()));
    };
    match params::string(group) {
        Ok(group) => on_group(verb, group, wait_flag(p, 1), b, now),
        Err(f) => Call::Done(Err(f)),
    }
}

/// startAllProcesses/stopAllProcesses.
fn on_all(verb: Verb, p: &[Value], b: &mut dyn Backend, now: SystemTime) -> Call {
    let mut targets = all_in_priority_order(b);
    if verb.dependents_first {
        targets = b.dependents_first(targets);
    }
    if verb.cancels_held_starts {
        // Held starts are STOPPED, so not eligible: without this they would start later.
        b.cancel_held_starts(&targets);
    }
    let wait = wait_flag(p, 0);
    Each::begin(b, targets, verb.eligible, each_action(verb, wait), now)
}

fn each_action(verb: Verb, wait: bool) -> impl FnMut(&mut dyn Backend, &ProcessId) -> Call {
    move |b, id| (verb.act)(b, id, &id.namespec(), wait)
}

fn on_group(verb: Verb, name: &str, wait: bool, b: &mut dyn Backend, now: SystemTime) -> Call {
    if let Err(f) = gate(b) {
        return Call::Done(Err(f));
    }
    let Some(group) = b.group(name) else {
        return Call::Done(Err(fault(FaultCode::BadName, name)));
    };
    let mut targets = group.processes.into_iter().map(|p| p.id).collect();
    if verb.dependents_first {
        targets = b.dependents_first(targets);
    }
    if verb.cancels_held_starts {
        // Held starts are STOPPED, so not eligible: without this they would start later.
        b.cancel_held_starts(&targets);
    }
    Each::begin(b, targets, verb.eligible, each_action(verb, wait), now)
}

/// startProcess after name resolution: command checks, state checks, spawn, wait.
fn start_one(b: &mut dyn Backend, id: &ProcessId, name: &str, wait: bool) -> Call {
    match b.check_command(id) {
        Ok(()) => {}
        Err(CommandProblem::NotFound(msg)) => {
            return Call::Done(Err(fault(FaultCode::NoFile, msg)));
        }
        Err(CommandProblem::NotExecutable(msg)) => {
            return Call::Done(Err(fault(FaultCode::NotExecutable, msg)));
        }
    }
    let Some(before) = b.process(id) else {
        return Call::Done(Err(fault(FaultCode::BadName, name)));
    };
    if before.state.is_running() {
        return Call::Done(Err(fault(FaultCode::AlreadyStarted, name)));
    }
    if before.state == ProcessState::Unknown {
        return Call::Done(Err(fault(
            FaultCode::Failed,
            format!("{name} is in an unknown process state"),
        )));
    }
    b.start_process(id);
    let Some(after) = b.process(id) else {
        return Call::Done(Err(fault(FaultCode::AbnormalTermination, name)));
    };
    if !after.spawnerr.is_empty() {
        return Call::Done(Err(fault(FaultCode::SpawnError, name)));
    }
    if wait && after.state != ProcessState::Running {
        return Call::Wait(Job::Start {
            id: id.clone(),
            name: name.to_string(),
        });
    }
    Call::Done(Ok(Value::Bool(true)))
}

/// stopProcess after name resolution.
fn stop_one(b: &mut dyn Backend, id: &ProcessId, name: &str, wait: bool) -> Call {
    let Some(before) = b.process(id) else {
        return Call::Done(Err(fault(FaultCode::BadName, name)));
    };
    // A held start or restart (our keys) is not running, but a stop cancels it.
    if !before.state.is_running() && before.hold == Hold::None {
        return Call::Done(Err(fault(FaultCode::NotRunning, name)));
    }
    if let Err(msg) = b.stop_process(id) {
        return Call::Done(Err(fault(FaultCode::Failed, msg)));
    }
    let stopped = b.process(id).is_none_or(|p| p.state.is_stopped());
    if wait && !stopped {
        return Call::Wait(Job::Stop { id: id.clone() });
    }
    Call::Done(Ok(Value::Bool(true)))
}

/// The reference's `signal_number`: an int (or numeric string) that is 0 or a named signal, or
/// a signal name with or without `SIG`. Err = BAD_SIGNAL with the argument as given.
fn parse_signal(value: &Value) -> Result<i32, Fault> {
    let bad = || fault(FaultCode::BadSignal, python_str(value));
    let num = match value {
        Value::String(s) => crate::signals::parse(s).map_err(|_| bad())?,
        Value::Int(_) | Value::Bool(_) | Value::Double(_) => {
            let n = python_int(value).map_err(|_| bad())?;
            i32::try_from(n).map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    // Python only knows the named signal numbers (and 0), not every number up to SIGRTMAX.
    if num == 0 || crate::signals::name(num).is_some() {
        Ok(num)
    } else {
        Err(bad())
    }
}

fn signal_process(p: &[Value], b: &mut dyn Backend) -> Call {
    let [name, signal, ..] = p else {
        return Call::Done(Err(missing()));
    };
    let name = match params::string(name) {
        Ok(n) => n,
        Err(f) => return Call::Done(Err(f)),
    };
    let process = match resolve(b, name) {
        Err(f) => return Call::Done(Err(f)),
        Ok((group, None)) => return signal_group(&group.name, signal, b).into(),
        Ok((_, Some(process))) => process,
    };
    signal_one(b, &process.id, name, signal).into()
}

fn signal_one(b: &mut dyn Backend, id: &ProcessId, name: &str, signal: &Value) -> Outcome {
    let sig = parse_signal(signal)?;
    let state = b.process(id).map(|p| p.state);
    if !state.is_some_and(ProcessState::is_signallable) {
        return Err(fault(FaultCode::NotRunning, name));
    }
    b.signal_process(id, sig)
        .map_err(|msg| fault(FaultCode::Failed, msg))?;
    Ok(Value::Bool(true))
}

/// Signals every signallable target at once (nothing waits).
fn signal_each(b: &mut dyn Backend, targets: Vec<ProcessId>, signal: &Value) -> Value {
    let mut results = Vec::new();
    for id in targets {
        let eligible = b.process(&id).is_some_and(|p| p.state.is_signallable());
        if eligible {
            let outcome = signal_one(b, &id, &id.namespec(), signal).map(|_| ());
            results.push(result_struct(&id.group, &id.name, &outcome));
        }
    }
    Value::Array(results)
}

/// signalProcessGroup: the group is looked up before the shutdown check, BAD_NAME after it.
fn signal_group(name: &str, signal: &Value, b: &mut dyn Backend) -> Outcome {
    let group = b.group(name);
    gate(b)?;
    let group = group.ok_or_else(|| fault(FaultCode::BadName, name))?;
    let targets = group.processes.into_iter().map(|p| p.id).collect();
    Ok(signal_each(b, targets, signal))
}

fn signal_process_group(p: &[Value], b: &mut dyn Backend) -> Outcome {
    let [name, signal, ..] = p else {
        return Err(missing());
    };
    signal_group(params::string(name)?, signal, b)
}

/// signalAllProcesses: the reference signals first and checks for shutdown afterwards.
fn signal_all_processes(p: &[Value], b: &mut dyn Backend) -> Outcome {
    let [signal, ..] = p else {
        return Err(missing());
    };
    let targets = all_in_priority_order(b);
    let results = signal_each(b, targets, signal);
    gate(b)?;
    Ok(results)
}

fn get_process_info(p: &[Value], b: &mut dyn Backend, now: SystemTime) -> Outcome {
    let [name, ..] = p else {
        return Err(missing());
    };
    let name = params::string(name)?;
    let process = resolve_process(b, name)?;
    Ok(process_info(&process.id.group, &process, now))
}

fn all_process_info(b: &dyn Backend, now: SystemTime) -> Value {
    let mut groups = b.groups();
    crate::sort::sort_by(&mut groups, |a, b| a.name.cmp(&b.name));
    let mut out = Vec::new();
    for mut g in groups {
        crate::sort::sort_by(&mut g.processes, |a, b| a.id.name.cmp(&b.id.name));
        for p in &g.processes {
            out.push(process_info(&g.name, p, now));
        }
    }
    Value::Array(out)
}

#[derive(Debug, Clone, Copy)]
enum Channel {
    Stdout,
    Stderr,
}

fn channel_log(p: &ProcessSnapshot, channel: Channel) -> Option<&Path> {
    match channel {
        Channel::Stdout => p.stdout_logfile.as_deref(),
        Channel::Stderr => p.stderr_logfile.as_deref(),
    }
}

fn read_process_log(p: &[Value], b: &mut dyn Backend, channel: Channel) -> Outcome {
    let [name, offset, length, ..] = p else {
        return Err(missing());
    };
    let name = params::string(name)?;
    let process = resolve_process(b, name)?;
    let path = channel_log(&process, channel).ok_or_else(|| Fault::new(FaultCode::NoFile))?;
    read_file(path, offset, length)
}

fn tail_process_log(p: &[Value], b: &mut dyn Backend, channel: Channel) -> Outcome {
    let [name, offset, length, ..] = p else {
        return Err(missing());
    };
    let name = params::string(name)?;
    let process = resolve_process(b, name)?;
    let empty = || Value::Array(vec![Value::string(""), Value::Int(0), Value::Bool(false)]);
    let Some(path) = channel_log(&process, channel) else {
        return Ok(empty());
    };
    if !path.exists() {
        return Ok(empty());
    }
    let (offset, length) = (python_int(offset)?, python_int(length)?);
    let tail = logs::tail_log(path, offset, length);
    Ok(Value::Array(vec![
        Value::String(String::from_utf8_lossy(&tail.data).into_owned()),
        int(tail.offset),
        Value::Bool(tail.overflow),
    ]))
}

fn clear_process_logs(p: &[Value], b: &mut dyn Backend) -> Outcome {
    let [name, ..] = p else {
        return Err(missing());
    };
    let name = params::string(name)?;
    let process = resolve_process(b, name)?;
    b.clear_process_logs(&process.id)
        .map_err(|_| fault(FaultCode::Failed, name))?;
    Ok(Value::Bool(true))
}

fn clear_all_process_logs(b: &mut dyn Backend) -> Value {
    let mut results = Vec::new();
    for id in all_in_priority_order(b) {
        let outcome = b
            .clear_process_logs(&id)
            .map_err(|_| fault(FaultCode::Failed, id.namespec()));
        results.push(result_struct(&id.group, &id.name, &outcome));
    }
    Value::Array(results)
}

fn send_process_stdin(p: &[Value], b: &mut dyn Backend) -> Outcome {
    let [name, chars, ..] = p else {
        return Err(missing());
    };
    let chars = match chars {
        Value::String(s) => s.as_str(),
        other => return Err(fault(FaultCode::IncorrectParameters, python_str(other))),
    };
    let name = params::string(name)?;
    let process = resolve_process(b, name)?;
    if process.pid == 0 || process.killing {
        return Err(fault(FaultCode::NotRunning, name));
    }
    match b.write_stdin(&process.id, chars.as_bytes()) {
        Ok(()) => Ok(Value::Bool(true)),
        Err(StdinError::Closed) => Err(fault(FaultCode::NoFile, name)),
        Err(StdinError::Failed(msg)) => Err(fault(FaultCode::Failed, msg)),
    }
}

/// Never faults and works during shutdown; non-string arguments are formatted like Python's `%s`.
fn send_remote_comm_event(p: &[Value], b: &mut dyn Backend) -> Outcome {
    let [kind, data, ..] = p else {
        return Err(missing());
    };
    b.remote_comm_event(&python_str(kind), &python_str(data));
    Ok(Value::Bool(true))
}
