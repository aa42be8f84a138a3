//! The `system.*` introspection methods (listMethods, methodHelp, methodSignature); multicall
//! runs in `dispatch.rs`. They work in every supervisord state.
//!
//! Arguments are taken with patterns, never by index: see `params::missing`.
#![deny(clippy::indexing_slicing)]

use super::backend::Backend;
use super::deferred::Call;
use super::fault::{Fault, FaultCode};
use super::methods;
use super::params::missing;
use super::wire::Value;

/// Runs a `system.*` method whose parameter count was already checked.
pub fn call(name: &str, p: &[Value], b: &mut dyn Backend) -> Call {
    match name {
        "listMethods" => Call::Done(Ok(Value::Array(
            methods::list_methods(b)
                .into_iter()
                .map(Value::String)
                .collect(),
        ))),
        "methodHelp" => Call::Done(
            first(p)
                .and_then(|name| spec_of(name, b))
                .map(|spec| Value::string(spec.help)),
        ),
        "methodSignature" => {
            Call::Done(first(p).and_then(|name| spec_of(name, b)).map(|spec| {
                Value::Array(spec.signature.iter().map(|t| Value::string(*t)).collect())
            }))
        }
        _ => Call::Done(Err(Fault::new(FaultCode::UnknownMethod))),
    }
}

/// The one argument every `system.*` method with parameters takes.
fn first(p: &[Value]) -> Result<&Value, Fault> {
    p.first().ok_or_else(missing)
}

/// The method a `methodHelp`/`methodSignature` argument names; anything else (including a
/// non-string) is SIGNATURE_UNSUPPORTED, as the reference compares names by equality.
fn spec_of(name: &Value, b: &dyn Backend) -> Result<&'static methods::MethodSpec, Fault> {
    name.as_str()
        .and_then(|n| methods::lookup(n, b))
        .ok_or_else(|| Fault::new(FaultCode::SignatureUnsupported))
}
