//! Reading method parameters the way the reference's Python code does (`int()`, truthiness,
//! `str()`), and building result values that always fit XML-RPC's 32-bit ints.

use super::fault::{Fault, FaultCode};
use super::wire::Value;
use crate::python::py_repr;

/// An int result clamped to the XML-RPC range, so a large value never fails the whole response
/// (the reference answers HTTP 500 there; see docs/differences.md).
pub fn int(value: i64) -> Value {
    Value::Int(value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)))
}

/// An unsigned count (sizes, seconds) as a clamped int.
pub fn uint(value: u64) -> Value {
    int(i64::try_from(value).unwrap_or(i64::MAX))
}

/// Python's `capped_int(float)`: truncate toward zero, then clamp to the XML-RPC range.
pub fn capped_time(seconds: f64) -> i64 {
    let max = f64::from(i32::MAX);
    let min = f64::from(i32::MIN);
    if seconds.is_nan() {
        return 0;
    }
    seconds.trunc().clamp(min, max) as i64
}

fn incorrect() -> Fault {
    Fault::new(FaultCode::IncorrectParameters)
}

/// The fault for a call missing an argument: the reference's `traverse` turns Python's
/// TypeError into INCORRECT_PARAMETERS. The method table checks counts before dispatch; methods
/// still take their arguments with slice patterns that answer this instead of indexing, so a
/// table entry that disagrees with its method can never panic (and abort) the daemon.
pub fn missing() -> Fault {
    incorrect()
}

/// A parameter that must be a string (process and group names, signal names, ...).
/// The reference crashes (HTTP 500) on most non-strings; we answer INCORRECT_PARAMETERS.
pub fn string(value: &Value) -> Result<&str, Fault> {
    value.as_str().ok_or_else(incorrect)
}

/// Python's `int(x)` as applied to offsets and lengths: ints, bools, floats (truncated) and
/// numeric strings (surrounding whitespace, `+`, `_` separators). Out-of-range values saturate.
pub fn python_int(value: &Value) -> Result<i64, Fault> {
    match value {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Double(d) if d.is_finite() => {
            Ok(d.trunc().clamp(i64::MIN as f64, i64::MAX as f64) as i64)
        }
        Value::String(s) => crate::python::int(s, 10)
            .map(|n| n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
            .ok_or_else(incorrect),
        _ => Err(incorrect()),
    }
}

/// Python truthiness, used for the `wait` flags (any type is accepted there).
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Int(i) => *i != 0,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Double(d) => *d != 0.0,
        Value::DateTime(_) => true,
        Value::Base64(b) => !b.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Struct(m) => !m.is_empty(),
        Value::Nil => false,
    }
}

/// Python's `str(x)` of a decoded parameter, for fault extras that echo an argument.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// Python's `repr(x)` of a decoded parameter.
pub fn python_repr(value: &Value) -> String {
    match value {
        Value::Int(i) => i.to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::String(s) => py_repr(s),
        Value::Double(d) => crate::python::float_repr(*d),
        Value::DateTime(t) => format!("<DateTime {t}>"),
        Value::Base64(b) => py_repr(&String::from_utf8_lossy(b)),
        Value::Array(items) => crate::python::list_repr(items.iter().map(python_repr)),
        Value::Struct(members) => {
            let inner: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(k), python_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Nil => "None".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_accepts_what_int_accepts() {
        let cases: &[(Value, Option<i64>)] = &[
            (Value::Int(-5), Some(-5)),
            (Value::Bool(true), Some(1)),
            (Value::Double(-1.9), Some(-1)),
            (Value::Double(f64::NAN), None),
            (Value::string("0"), Some(0)),
            (Value::string(" 12 "), Some(12)),
            (Value::string("+7"), Some(7)),
            (Value::string("-1600"), Some(-1600)),
            (Value::string("1_000"), Some(1000)),
            (Value::string("99999999999999999999999"), Some(i64::MAX)),
            (Value::string("1__0"), None),
            (Value::string("0x10"), None),
            (Value::string(""), None),
            (Value::string("-"), None),
            (Value::string("1.5"), None),
            (Value::Nil, None),
            (Value::Array(vec![]), None),
        ];
        for (v, want) in cases {
            assert_eq!(python_int(v).ok(), *want, "{v:?}");
        }
    }

    #[test]
    fn truthiness_follows_python() {
        let cases = [
            (Value::Bool(false), false),
            (Value::Bool(true), true),
            (Value::Int(0), false),
            (Value::Int(2), true),
            (Value::string(""), false),
            (Value::string("0"), true),
            (Value::Nil, false),
            (Value::Array(vec![]), false),
            (Value::Array(vec![Value::Int(0)]), true),
            (Value::Double(0.0), false),
        ];
        for (v, want) in cases {
            assert_eq!(truthy(&v), want, "{v:?}");
        }
    }

    #[test]
    fn str_and_repr_follow_python() {
        let cases = [
            (Value::Int(5), "5"),
            (Value::Bool(true), "True"),
            (Value::Double(1.0), "1.0"),
            (Value::Double(2.5), "2.5"),
            (Value::Double(1e20), "1e+20"),
            (Value::Double(1e-5), "1e-05"),
            (Value::Double(-0.0), "-0.0"),
            (Value::Nil, "None"),
            (Value::string("x"), "x"),
            (
                Value::Array(vec![Value::Int(1), Value::string("a'b")]),
                "[1, \"a'b\"]",
            ),
            (
                Value::structure([("k", Value::string("v\n"))]),
                "{'k': 'v\\n'}",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(python_str(&v), want, "{v:?}");
        }
    }

    #[test]
    fn results_are_clamped_to_xmlrpc_ints() {
        assert_eq!(int(3 << 30), Value::Int(i64::from(i32::MAX)));
        assert_eq!(int(-(3 << 30)), Value::Int(i64::from(i32::MIN)));
        assert_eq!(uint(u64::MAX), Value::Int(i64::from(i32::MAX)));
        assert_eq!(capped_time(1e12), i64::from(i32::MAX));
        assert_eq!(capped_time(1795460758.9), 1795460758);
        assert_eq!(capped_time(0.0), 0);
    }
}
