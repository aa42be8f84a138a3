//! No parameter count can panic a method: each one is called directly, bypassing the method
//! table's count check, with every count from zero to its most, and a call missing an argument
//! answers INCORRECT_PARAMETERS (the reference's fault when Python raises TypeError for it).

use super::fake::*;
use crate::rpc::deferred::Call;
use crate::rpc::dispatch;
use crate::rpc::fault::FaultCode;
use crate::rpc::methods::{METHODS, Namespace};
use crate::rpc::wire::Value;

/// Calls the implementation itself, as if the table had let any count through.
fn call_unchecked(namespace: Namespace, name: &str, params: &[Value]) -> Call {
    let mut b = standard();
    dispatch::run(namespace, name, params, &mut b, now())
}

/// A value of a signature type: a real process name for strings, so that only the count is off.
fn sample(signature_type: &str) -> Value {
    match signature_type {
        "int" => Value::Int(0),
        "boolean" => Value::Bool(false),
        "array" => Value::Array(Vec::new()),
        _ => Value::string("sleeper"),
    }
}

fn sample_params(signature: &[&str], count: usize) -> Vec<Value> {
    signature
        .iter()
        .skip(1)
        .take(count)
        .map(|t| sample(t))
        .collect()
}

#[test]
fn every_method_with_too_few_parameters_faults_instead_of_panicking() {
    for spec in METHODS {
        let most = spec.signature.len() - 1;
        for count in 0..=most {
            let params = sample_params(spec.signature, count);
            let outcome = call_unchecked(spec.namespace, spec.name, &params);
            if count < spec.required {
                match outcome {
                    Call::Done(Err(fault)) => assert_eq!(
                        fault.code,
                        FaultCode::IncorrectParameters,
                        "{} with {count} parameters",
                        spec.name
                    ),
                    other => panic!("{} with {count} parameters: {other:?}", spec.name),
                }
            }
        }
    }
}

#[test]
fn the_method_table_agrees_with_the_methods_on_required_counts() {
    // With the required count every method gets past its argument patterns: no method takes
    // more arguments than its table entry promises to check.
    for spec in METHODS {
        let params = sample_params(spec.signature, spec.required);
        if let Call::Done(Err(fault)) = call_unchecked(spec.namespace, spec.name, &params) {
            assert_ne!(
                fault.code,
                FaultCode::IncorrectParameters,
                "{} refuses its required count of well-typed arguments",
                spec.name
            );
        }
    }
}
