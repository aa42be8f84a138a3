//! Running a call by name: name resolution (UNKNOWN_METHOD) and parameter counts
//! (INCORRECT_PARAMETERS) from the method table, then the implementation. `system.multicall` is
//! run here because it dispatches each of its entries in turn.

use std::time::SystemTime;

use super::backend::Backend;
use super::deferred::{Call, Multicall};
use super::fault::{Fault, FaultCode};
use super::methods::{Namespace, lookup};
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
    match spec.namespace {
        Namespace::System if spec.name == "multicall" => multicall(params, backend, now),
        Namespace::System => system::call(spec.name, params, backend),
        Namespace::Main => supervisor::call(spec.name, params, backend, now),
    }
}

/// `system.multicall(calls)`: its entries run in order through `call`.
fn multicall(params: &[Value], backend: &mut dyn Backend, now: SystemTime) -> Call {
    match params {
        [Value::Array(calls)] => Multicall::begin(calls.clone(), backend, now, call),
        _ => Call::Done(Err(Fault::new(FaultCode::IncorrectParameters))),
    }
}
