//! The XML-RPC method layer: `supervisor.*` and `system.*` as the reference publishes them, on
//! top of the `Backend` the daemon implements.
//!
//! The daemon hands each authorised POST body for `/RPC2...` to `handle_request`. A `Reply` is
//! sent as HTTP 200 `text/xml`, `BadRequest` as HTTP 400. A `Pending` call (wait=true) is kept
//! with its connection and `poll`ed after every loop pass that may have changed process states;
//! when `poll` returns bytes they are the 200 reply. Nothing here blocks or reads the clock.

pub mod backend;
mod deferred;
mod dispatch;
pub mod fault;
mod info;
mod methods;
mod params;
mod supervisor;
mod system;
mod wire;

#[cfg(test)]
mod tests;

use std::time::SystemTime;

pub use backend::Backend;
use deferred::{Call, Job};
pub use fault::{Fault, FaultCode};
pub use wire::Value;
use wire::{DecodeError, DecodeOptions};

/// What the HTTP layer should answer.
#[derive(Debug)]
pub enum RpcOutcome {
    /// HTTP 200, `Content-Type: text/xml`, this body (a value or a fault).
    Reply(Vec<u8>),
    /// HTTP 400: the body is not XML-RPC or names no method (already logged).
    BadRequest,
    /// The call waits for process state changes; `poll` it until it yields the reply.
    Pending(PendingCall),
}

/// A call held open (wait=true). Dropping it (e.g. the client went away) cancels nothing: the
/// processes keep starting or stopping, only the reply is lost, like the reference.
#[derive(Debug)]
pub struct PendingCall {
    method: String,
    job: Job,
}

#[cfg(test)]
impl PendingCall {
    pub fn method(&self) -> &str {
        &self.method
    }
}

/// Decodes one request body, runs the method and encodes the reply.
pub fn handle_request(body: &[u8], backend: &mut dyn Backend, now: SystemTime) -> RpcOutcome {
    let text = String::from_utf8_lossy(body);
    let call = match std::str::from_utf8(body)
        .map_err(|_| DecodeError::Invalid("body is not UTF-8".into()))
        .and_then(|t| wire::decode_call(t, &DecodeOptions::server()))
    {
        Ok(call) => call,
        Err(e) => {
            let why = match e {
                DecodeError::NoMethodName => "no method name",
                _ => "unmarshallable",
            };
            log::error!(
                "XML-RPC request data {} is invalid: {why}",
                crate::python::py_repr(&text)
            );
            return RpcOutcome::BadRequest;
        }
    };
    log::trace!("XML-RPC method called: {}()", call.method);
    match dispatch::call(&call.method, &call.params, backend, now) {
        Call::Done(outcome) => RpcOutcome::Reply(reply(&call.method, outcome)),
        Call::Wait(job) => RpcOutcome::Pending(PendingCall {
            method: call.method,
            job,
        }),
    }
}

/// What an in-process call (`call`) produced.
#[derive(Debug)]
pub enum Called {
    /// The method's value or fault.
    Done(Result<Value, Fault>),
    /// The call waits for process state changes; `poll_value` it until it yields the result.
    Pending(PendingCall),
}

/// Runs one method in-process with values, as the reference's web page calls its RPC interface
/// directly: the same table, parameter checks, SHUTDOWN_STATE gate and faults as an XML-RPC
/// request, without XML on either side (and without the request's trace lines).
pub fn call(method: &str, params: &[Value], backend: &mut dyn Backend, now: SystemTime) -> Called {
    match dispatch::call(method, params, backend, now) {
        Call::Done(outcome) => Called::Done(outcome),
        Call::Wait(job) => Called::Pending(PendingCall {
            method: method.to_string(),
            job,
        }),
    }
}

/// Re-evaluates a pending in-process call; `Some` once it has its value or fault.
pub fn poll_value(
    pending: &mut PendingCall,
    backend: &mut dyn Backend,
    now: SystemTime,
) -> Option<Result<Value, Fault>> {
    pending.job.poll(backend, now)
}

/// Re-evaluates a pending call; `Some(body)` once it is complete (send it as HTTP 200).
pub fn poll(
    pending: &mut PendingCall,
    backend: &mut dyn Backend,
    now: SystemTime,
) -> Option<Vec<u8>> {
    let outcome = pending.job.poll(backend, now)?;
    Some(reply(&pending.method, outcome))
}

fn reply(method: &str, outcome: Result<Value, Fault>) -> Vec<u8> {
    match outcome {
        Ok(value) => {
            log::trace!("XML-RPC method {method}() returned successfully");
            encode_value(&value)
        }
        Err(fault) => {
            log::trace!(
                "XML-RPC method {method}() returned fault: [{}] {}",
                fault.code.code(),
                fault.text()
            );
            wire::encode_fault(fault.code.code(), &fault.text()).into_bytes()
        }
    }
}

/// Encodes a result. Methods only build encodable values (ints are clamped when built); should
/// one slip through, it is made encodable rather than failing the whole reply.
fn encode_value(value: &Value) -> Vec<u8> {
    match wire::encode_response(value) {
        Ok(body) => body.into_bytes(),
        Err(e) => {
            log::error!(target: "crit", "XML-RPC result could not be encoded ({e}); sanitised");
            let clean = sanitise(value);
            wire::encode_response(&clean)
                .map(String::into_bytes)
                .unwrap_or_default()
        }
    }
}

fn sanitise(value: &Value) -> Value {
    match value {
        Value::Int(i) => params::int(*i),
        Value::Nil => Value::string(""),
        Value::Array(items) => Value::Array(items.iter().map(sanitise).collect()),
        Value::Struct(members) => Value::Struct(
            members
                .iter()
                .map(|(k, v)| (k.clone(), sanitise(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
