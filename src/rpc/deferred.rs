//! Deferred replies: calls that wait (start/stop with wait=true, group and "all" variants, and a
//! multicall holding one of them) become a `Job` the daemon re-polls after state changes, so the
//! loop never blocks. Semantics follow the reference's callbacks, minus its 50 ms polling.

use std::collections::VecDeque;
use std::time::SystemTime;

use super::backend::{Backend, Hold, ProcessId, ProcessState};
use super::fault::{Fault, FaultCode};
use super::info::result_struct;
use super::params::int;
use super::wire::Value;

/// What a method call produced: a value or fault now, or a job the daemon re-polls (wait=true).
#[derive(Debug)]
pub enum Call {
    Done(Result<Value, Fault>),
    Wait(Job),
}

impl From<Result<Value, Fault>> for Call {
    fn from(r: Result<Value, Fault>) -> Call {
        Call::Done(r)
    }
}

/// The method dispatcher (`dispatch::call`), handed to a multicall so that it can run its
/// entries without this file importing the dispatcher that imports it.
pub type Dispatch = fn(&str, &[Value], &mut dyn Backend, SystemTime) -> Call;

#[derive(Debug)]
pub enum Job {
    /// `startProcess(wait=true)`: done at RUNNING; SPAWN_ERROR once a spawn error is recorded;
    /// ABNORMAL_TERMINATION when the process leaves STARTING/RUNNING otherwise.
    Start { id: ProcessId, name: String },
    /// `stopProcess(wait=true)`: done once the process is in the stopped set.
    Stop { id: ProcessId },
    /// A group or "all" operation waiting for some of its processes.
    Each(Each),
    /// A multicall whose current entry waits.
    Multicall(Multicall),
}

impl Job {
    /// Re-evaluates the job; `Some` when it has its final value or fault.
    pub fn poll(
        &mut self,
        backend: &mut dyn Backend,
        now: SystemTime,
    ) -> Option<Result<Value, Fault>> {
        match self {
            Job::Start { id, name } => {
                let Some(p) = backend.process(id) else {
                    // The group was removed while we waited: it can no longer come up.
                    return Some(Err(Fault::with(
                        FaultCode::AbnormalTermination,
                        name.clone(),
                    )));
                };
                // depends_on: the start is held until its dependencies hold.
                if matches!(p.hold, Hold::Dependencies(_)) {
                    return None;
                }
                if !p.spawnerr.is_empty() {
                    return Some(Err(Fault::with(FaultCode::SpawnError, name.clone())));
                }
                match p.state {
                    ProcessState::Running => Some(Ok(Value::Bool(true))),
                    ProcessState::Starting => None,
                    _ => Some(Err(Fault::with(
                        FaultCode::AbnormalTermination,
                        name.clone(),
                    ))),
                }
            }
            Job::Stop { id } => {
                backend.report_stop_wait(id);
                match backend.process(id) {
                    Some(p) if !p.state.is_stopped() => None,
                    _ => Some(Ok(Value::Bool(true))),
                }
            }
            Job::Each(each) => each.poll(backend, now).map(Ok),
            Job::Multicall(multi) => multi.poll(backend, now).map(Ok),
        }
    }
}

/// The reference's `make_allfunc`: act on each eligible process at once, then collect results
/// (in completion order) from those that wait.
#[derive(Debug, Default)]
pub struct Each {
    waiting: Vec<(ProcessId, Job)>,
    results: Vec<Value>,
}

impl Each {
    /// Acts on every target (in the given order) for which `eligible(state)` holds; returns the
    /// result array at once when nothing waits.
    pub fn begin(
        backend: &mut dyn Backend,
        targets: Vec<ProcessId>,
        eligible: fn(ProcessState) -> bool,
        mut action: impl FnMut(&mut dyn Backend, &ProcessId) -> Call,
        now: SystemTime,
    ) -> Call {
        let mut each = Each::default();
        for id in targets {
            let Some(p) = backend.process(&id) else {
                continue;
            };
            if !eligible(p.state) {
                continue;
            }
            match action(backend, &id) {
                Call::Done(r) => each.push(&id, r.map(|_| ())),
                Call::Wait(job) => each.waiting.push((id, job)),
            }
        }
        match each.poll(backend, now) {
            Some(results) => Call::Done(Ok(results)),
            None => Call::Wait(Job::Each(each)),
        }
    }

    fn push(&mut self, id: &ProcessId, outcome: Result<(), Fault>) {
        self.results
            .push(result_struct(&id.group, &id.name, &outcome));
    }

    fn poll(&mut self, backend: &mut dyn Backend, now: SystemTime) -> Option<Value> {
        let mut still = Vec::with_capacity(self.waiting.len());
        for (id, mut job) in std::mem::take(&mut self.waiting) {
            match job.poll(backend, now) {
                Some(r) => self.push(&id, r.map(|_| ())),
                None => still.push((id, job)),
            }
        }
        self.waiting = still;
        if self.waiting.is_empty() {
            Some(Value::Array(std::mem::take(&mut self.results)))
        } else {
            None
        }
    }
}

/// `system.multicall`: calls run in order; one that waits holds back the rest.
#[derive(Debug)]
pub struct Multicall {
    dispatch: Dispatch,
    remaining: VecDeque<Value>,
    current: Option<Box<Job>>,
    results: Vec<Value>,
}

impl Multicall {
    pub fn begin(
        calls: Vec<Value>,
        backend: &mut dyn Backend,
        now: SystemTime,
        dispatch: Dispatch,
    ) -> Call {
        let mut multi = Multicall {
            dispatch,
            remaining: calls.into(),
            current: None,
            results: Vec::new(),
        };
        match multi.poll(backend, now) {
            Some(results) => Call::Done(Ok(results)),
            None => Call::Wait(Job::Multicall(multi)),
        }
    }

    fn poll(&mut self, backend: &mut dyn Backend, now: SystemTime) -> Option<Value> {
        if let Some(job) = self.current.as_mut() {
            let outcome = job.poll(backend, now)?;
            self.results.push(entry(outcome));
            self.current = None;
        }
        while self.current.is_none() {
            let Some(next) = self.remaining.pop_front() else {
                break;
            };
            match run_one(&next, backend, now, self.dispatch) {
                Call::Done(outcome) => self.results.push(entry(outcome)),
                Call::Wait(job) => self.current = Some(Box::new(job)),
            }
        }
        if self.current.is_some() {
            None
        } else {
            Some(Value::Array(std::mem::take(&mut self.results)))
        }
    }
}

/// A multicall result entry: the bare value, or a fault struct.
fn entry(outcome: Result<Value, Fault>) -> Value {
    match outcome {
        Ok(v) => v,
        Err(f) => Value::structure([
            ("faultCode", int(f.code.code())),
            ("faultString", Value::string(f.text())),
        ]),
    }
}

fn run_one(call: &Value, backend: &mut dyn Backend, now: SystemTime, dispatch: Dispatch) -> Call {
    if call.as_struct().is_none() {
        return Call::Done(Err(Fault::new(FaultCode::IncorrectParameters)));
    }
    let name = match call.member("methodName") {
        None | Some(Value::Nil) => {
            return Call::Done(Err(Fault::with(
                FaultCode::IncorrectParameters,
                "No methodName",
            )));
        }
        Some(Value::String(name)) => name.as_str(),
        // The reference fails inside its name lookup and reports the Python exception.
        Some(other) => {
            return Call::Done(Err(Fault::with(
                FaultCode::Failed,
                format!(
                    "<class 'AttributeError'>:'{}' object has no attribute 'split'",
                    python_type_name(other)
                ),
            )));
        }
    };
    if name == "system.multicall" {
        return Call::Done(Err(Fault::with(
            FaultCode::IncorrectParameters,
            "Recursive system.multicall forbidden",
        )));
    }
    let params: &[Value] = match call.member("params") {
        None => &[],
        Some(Value::Array(items)) => items,
        Some(_) => return Call::Done(Err(Fault::new(FaultCode::IncorrectParameters))),
    };
    dispatch(name, params, backend, now)
}

/// The Python type a decoded value has on the reference's server side.
fn python_type_name(value: &Value) -> &'static str {
    match value {
        Value::Int(_) => "int",
        Value::Bool(_) => "bool",
        Value::String(_) | Value::Base64(_) => "str",
        Value::Double(_) => "float",
        Value::DateTime(_) => "datetime.datetime",
        Value::Array(_) => "list",
        Value::Struct(_) => "dict",
        Value::Nil => "NoneType",
    }
}
