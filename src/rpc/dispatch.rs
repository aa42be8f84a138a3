//! Running a call by name: name resolution (UNKNOWN_METHOD) and parameter counts
//! (INCORRECT_PARAMETERS) from the method table, then the implementation. `system.multicall` is
//! run here because it dispatches each of its entries in turn.

use std::time::SystemTime;

use super::backend::Backend;
use super::deferred::{Call, Multicall};
use super::fault::{Fault, FaultCode};
use super::methods::{Namespace, lookup};
use super::params::missing;
use super::supervisor;
use super::system;
use super::wire::Value;

/// Runs one call by name (the path shared by a plain request and each multicall entry).
pub fn call(method: &str, params: &[Value], backend: &mut dyn Backend, now: SystemTime) -> Call {
    let Some(spec) = lookup(method, backend) else {
        return Call::Done(Err(Fault::new(FaultCode::UnknownMethod)));
    };
    if params.len() < spec.required || params.len() > spec.max_params() {
        return Call::Done(Err(Fault::new(FaultCode::IncorrectParameters)));
    }
    run(spec.namespace, spec.name, params, backend, now)
}

/// Runs an implementation by namespace and name. Only `call` and the arity tests come here: the
/// tests skip the table's count check to show that no count can panic a method.
pub(super) fn run(
    namespace: Namespace,
    name: &str,
    params: &[Value],
    backend: &mut dyn Backend,
    now: SystemTime,
) -> Call {
    match namespace {
        Namespace::System if name == "multicall" => multicall(params, backend, now),
        Namespace::System => system::call(name, params, backend),
        Namespace::Main => supervisor::call(name, params, backend, now),
    }
}

/// `system.multicall(calls)`: its entries run in order through `call`.
fn multicall(params: &[Value], backend: &mut dyn Backend, now: SystemTime) -> Call {
    match params.first() {
        Some(Value::Array(calls)) => Multicall::begin(calls.clone(), backend, now, call),
        Some(_) => Call::Done(Err(Fault::new(FaultCode::IncorrectParameters))),
        None => Call::Done(Err(missing())),
    }
}
